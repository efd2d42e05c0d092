//! notify: what each notice becomes in Slack, and how Slack's failures map to retries.

use nightowl_plugin_sdk_channel::http::{Auth, HttpError};
use nightowl_plugin_sdk_channel::incidents::OpError;
use nightowl_plugin_sdk_channel::testing::{self, Op};
use nightowl_plugin_sdk_channel::{
    AlertEvent, AlertNotice, Channel, Delivery, Destination, Error, HandoffNotice, Notification, Subject,
    http,
};
use nightowl_plugin_slack::Slack;
use serde_json::{Value, json};

use crate::common::{ALERT_ID, ALERT_URL, RUNBOOK, action_ids, alert, api, host, ok, person, refused, texts};

fn notice(event: AlertEvent, tier: u32, to: Destination, previous: Option<&str>) -> Notification {
    Notification {
        subject: Subject::Alert(AlertNotice {
            event,
            alert: alert().alert,
            tier,
        }),
        destination: to,
        previous_external_id: previous.map(Into::into),
        attempt: 1,
    }
}

fn to_channel(id: &str) -> Destination {
    Destination::Group(id.into())
}

fn posted(channel: &str, ts: &str) -> http::Response {
    ok(json!({"channel": channel, "ts": ts}))
}

/// The bodies of the requests sent, with their URLs.
fn sent() -> Vec<(String, Value)> {
    testing::requests()
        .into_iter()
        .map(|r| (r.url.clone(), r.body_json().unwrap()))
        .collect()
}

#[test]
fn a_new_alert_is_posted_with_everything_and_its_buttons() {
    host()
        .alert(alert())
        .http(&api("chat.postMessage"), posted("C1", "1531420618.000100"))
        .install();
    let d = Slack::notify(&notice(AlertEvent::Triggered, 1, to_channel("C1"), None)).unwrap();
    assert_eq!(d.external_id.as_deref(), Some("C1:1531420618.000100"));

    let requests = testing::requests();
    assert_eq!(requests.len(), 1);
    let req = &requests[0];
    assert_eq!(req.url, "https://slack.com/api/chat.postMessage");
    assert_eq!(
        req.auth,
        Auth::Bearer("bot_token".into()),
        "the host adds the token"
    );
    assert!(req.header_value("authorization").is_none());
    let body = req.body_json().unwrap();
    assert_eq!(body["channel"], "C1");
    assert_eq!(
        body["text"],
        ":red_circle: Critical: #42 Disk full on db-1 (payments)"
    );
    assert_eq!(body["blocks"][0]["type"], "header");
    assert_eq!(body["blocks"][0]["text"]["text"], "#42 Disk full on db-1");

    let shown = texts(&body["blocks"]);
    for expected in [
        "*Severity*\n:red_circle: Critical · P1",
        "*Status*\n:fire: Firing",
        "*Service*\npayments",
        "*Cluster*\nprod-eu",
        "*Namespace*\ndb",
        "*On call*\n<@U1> (primary), Bob",
        "/var is 99% full",
        "*Suggested solution* :warning: _unreviewed (suggested by an agent)_\nRotate the logs: `logrotate -f /etc/logrotate.conf`",
        "<https://nightowl.example.com/incidents/inc-7|Knowledge base: Disk full from unrotated logs>",
        &format!("<{ALERT_URL}|Open #42 in NightOwl>"),
        "<https://prometheus.example.com/graph?g0.expr=disk|Source>",
    ] {
        assert!(shown.contains(expected), "missing {expected:?} in\n{shown}");
    }

    assert_eq!(
        action_ids(&body["blocks"]),
        ["ack", "escalate", "runbook", "kb_add"]
    );
    let actions = body["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "actions")
        .unwrap();
    for button in actions["elements"].as_array().unwrap() {
        assert_eq!(button["value"], ALERT_ID, "{button}");
    }
    assert_eq!(actions["elements"][2]["url"], RUNBOOK);
    assert_eq!(
        texts(&actions["elements"]),
        "Acknowledge\nEscalate\nView runbook\nAdd to knowledge base"
    );
    assert_eq!(testing::calls(), [testing::Call::AlertDetails(ALERT_ID.into())]);
}

#[test]
fn a_reviewed_fix_is_not_marked_and_no_fix_says_so() {
    let mut reviewed = alert();
    reviewed.solution_reviewed = true;
    let mut unknown = alert();
    unknown.alert.id = "other".into();
    unknown.alert.suggested_solution = None;
    unknown.matched_incident = None;
    unknown.runbook_url = None;
    host()
        .alert(reviewed)
        .alert(unknown.clone())
        .http(&api("chat.postMessage"), posted("C1", "1.1"))
        .install();
    Slack::notify(&notice(AlertEvent::Triggered, 1, to_channel("C1"), None)).unwrap();
    let mut n = notice(AlertEvent::Triggered, 1, to_channel("C1"), None);
    if let Subject::Alert(a) = &mut n.subject {
        a.alert = unknown.alert;
    }
    Slack::notify(&n).unwrap();
    let bodies = sent();
    let first = texts(&bodies[0].1["blocks"]);
    assert!(first.contains("*Suggested solution*\nRotate the logs"), "{first}");
    assert!(!first.contains("unreviewed"), "{first}");
    let second = texts(&bodies[1].1["blocks"]);
    assert!(
        second.contains("*Suggested solution*\nNo known fix yet"),
        "{second}"
    );
    assert_eq!(
        action_ids(&bodies[1].1["blocks"]),
        ["ack", "escalate", "kb_add"],
        "no runbook, no button"
    );
}

#[test]
fn an_alert_title_cannot_mention_everyone_or_forge_links() {
    let mut a = alert();
    a.alert.title = "<!channel> disk <https://evil.example|full>".into();
    host()
        .alert(a)
        .http(&api("chat.postMessage"), posted("C1", "1.1"))
        .install();
    Slack::notify(&notice(AlertEvent::Triggered, 1, to_channel("C1"), None)).unwrap();
    let (_, body) = &sent()[0];
    let text = body["text"].as_str().unwrap();
    assert!(
        text.contains("&lt;!channel&gt; disk &lt;https://evil.example|full&gt;"),
        "{text}"
    );
    // Slack reads mentions and links in mrkdwn only (plain_text, as in the header, is shown as is).
    let mut mrkdwn = vec![text.to_string()];
    collect_mrkdwn(&body["blocks"], &mut mrkdwn);
    assert!(mrkdwn.len() > 5);
    for t in &mrkdwn {
        assert!(!t.contains("<!channel>") && !t.contains("<https://evil"), "{t}");
    }
}

fn collect_mrkdwn(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) if map.get("type") == Some(&json!("mrkdwn")) => {
            out.push(map["text"].as_str().unwrap().to_string());
        }
        Value::Object(map) => map.values().for_each(|v| collect_mrkdwn(v, out)),
        Value::Array(items) => items.iter().for_each(|v| collect_mrkdwn(v, out)),
        _ => {}
    }
}

#[test]
fn an_empty_group_goes_to_the_default_channel_and_none_is_a_permanent_error() {
    host()
        .alert(alert())
        .config("default_channel", "C0DEFAULT")
        .http(&api("chat.postMessage"), posted("C0DEFAULT", "1.1"))
        .install();
    let d = Slack::notify(&notice(AlertEvent::Triggered, 1, to_channel(""), None)).unwrap();
    assert_eq!(d.external_id.as_deref(), Some("C0DEFAULT:1.1"));
    assert_eq!(sent()[0].1["channel"], "C0DEFAULT");

    host().alert(alert()).install();
    let err = Slack::notify(&notice(AlertEvent::Triggered, 1, to_channel(" "), None)).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidPayload(m) if m.contains("default_channel")),
        "{err:?}"
    );
    assert!(testing::requests().is_empty());
}

#[test]
fn a_person_gets_a_direct_message() {
    host()
        .alert(alert())
        .http(&api("conversations.open"), ok(json!({"channel": {"id": "D9"}})))
        .http(&api("chat.postMessage"), posted("D9", "2.2"))
        .install();
    let to = Destination::Person(person("Carol", Some("U9")));
    let d = Slack::notify(&notice(AlertEvent::Triggered, 1, to, None)).unwrap();
    assert_eq!(d.external_id.as_deref(), Some("D9:2.2"));
    let bodies = sent();
    assert_eq!(bodies[0], (api("conversations.open"), json!({"users": "U9"})));
    assert_eq!(bodies[1].0, api("chat.postMessage"));
    assert_eq!(bodies[1].1["channel"], "D9");
}

#[test]
fn a_person_on_a_slack_channel_tier_is_mentioned_in_the_team_channel() {
    host()
        .alert(alert())
        .config("nightowl.channel", "slack_channel")
        .config("default_channel", "C0TEAM")
        .http(&api("chat.postMessage"), posted("C0TEAM", "6.6"))
        .install();
    let to = Destination::Person(person("Carol", Some("U9")));
    let d = Slack::notify(&notice(AlertEvent::Triggered, 1, to.clone(), None)).unwrap();
    assert_eq!(d.external_id.as_deref(), Some("C0TEAM:6.6"));
    let bodies = sent();
    assert_eq!(bodies.len(), 1, "no DM is opened");
    let body = &bodies[0].1;
    assert_eq!(body["channel"], "C0TEAM");
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .starts_with("<@U9>: :red_circle: Critical"),
        "{body}"
    );
    assert_eq!(body["blocks"][0]["elements"][0]["text"], ":bell: For <@U9>");

    host()
        .alert(alert())
        .config("nightowl.channel", "slack_channel")
        .install();
    let err = Slack::notify(&notice(AlertEvent::Triggered, 1, to, None)).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidPayload(m) if m.contains("default_channel")),
        "{err:?}"
    );
}

#[test]
fn a_person_without_a_slack_id_is_a_permanent_error_naming_them() {
    host().alert(alert()).install();
    let to = Destination::Person(person("Dave", None));
    let err = Slack::notify(&notice(AlertEvent::Triggered, 1, to, None)).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidPayload(m) if m.contains("Dave") && m.contains("slack_user_id")),
        "{err:?}"
    );
    assert!(testing::requests().is_empty());
}

#[test]
fn acknowledged_edits_the_message_without_ack_and_escalate_and_replies_in_its_thread() {
    let mut a = alert();
    a.alert.status = "acknowledged".into();
    a.acknowledged_by = Some("Alice Smith".into());
    a.acknowledged_at = Some("2018-07-12T18:40:00Z".into());
    host()
        .alert(a)
        .http(&api("chat.update"), ok(json!({"channel": "C1", "ts": "1.1"})))
        .http(&api("chat.postMessage"), posted("C1", "1.2"))
        .install();
    let d = Slack::notify(&notice(
        AlertEvent::Acknowledged,
        1,
        to_channel("C1"),
        Some("C1:1.1"),
    ))
    .unwrap();
    assert_eq!(
        d,
        Delivery {
            external_id: Some("C1:1.1".into()),
            details: vec![
                ("updated".into(), "C1:1.1".into()),
                ("thread_reply".into(), "C1:1.2".into())
            ],
        },
        "the external id stays the top-level message's"
    );
    let bodies = sent();
    assert_eq!(bodies.len(), 2);
    let (url, update) = &bodies[0];
    assert_eq!(url, &api("chat.update"));
    assert_eq!((&update["channel"], &update["ts"]), (&json!("C1"), &json!("1.1")));
    assert_eq!(action_ids(&update["blocks"]), ["runbook", "kb_add"]);
    let status = ":eyes: Acknowledged by Alice Smith · <!date^1531420800^{date_short_pretty} at {time}|Thu 12 Jul 18:40 (+00:00)>";
    assert!(
        texts(&update["blocks"]).contains(status),
        "{}",
        texts(&update["blocks"])
    );
    assert!(texts(&update["blocks"]).contains("*Status*\n:eyes: Acknowledged"));
    assert!(update["text"].as_str().unwrap().ends_with("— acknowledged"));

    let (url, reply) = &bodies[1];
    assert_eq!(url, &api("chat.postMessage"));
    assert_eq!(reply["channel"], "C1");
    assert_eq!(reply["thread_ts"], "1.1");
    assert_eq!(reply["text"], status);
}

#[test]
fn resolved_keeps_add_to_knowledge_base_and_the_runbook() {
    let mut a = alert();
    a.alert.status = "resolved".into();
    a.acknowledged_by = Some("Alice Smith".into());
    a.resolved_by = Some("Bob Jones".into());
    a.resolved_at = Some("2018-07-12T19:00:00Z".into());
    a.matched_incident = None;
    host()
        .alert(a)
        .http(&api("chat.update"), ok(json!({})))
        .http(&api("chat.postMessage"), posted("C1", "1.3"))
        .install();
    Slack::notify(&notice(AlertEvent::Resolved, 1, to_channel("C1"), Some("C1:1.1"))).unwrap();
    let bodies = sent();
    assert_eq!(action_ids(&bodies[0].1["blocks"]), ["runbook", "kb_add"]);
    let shown = texts(&bodies[0].1["blocks"]);
    assert!(shown.contains(":eyes: Acknowledged by Alice Smith"), "{shown}");
    assert!(
        shown.contains(":white_check_mark: Resolved by Bob Jones · <!date^1531422000^"),
        "{shown}"
    );
    let reply = bodies[1].1["text"].as_str().unwrap();
    assert!(
        reply.starts_with(":white_check_mark: Resolved by Bob Jones"),
        "{reply}"
    );
    assert!(
        reply.contains("*Add to knowledge base*"),
        "no KB match yet: invite to add it: {reply}"
    );
    assert_eq!(bodies[1].1["thread_ts"], "1.1");
}

#[test]
fn later_tiers_escalations_and_repeats_only_reply_in_the_thread() {
    host()
        .alert(alert())
        .http(&api("chat.postMessage"), posted("C1", "1.9"))
        .install();
    for (event, tier, says) in [
        (AlertEvent::Triggered, 2, "notifying escalation tier 2"),
        (AlertEvent::Escalated, 3, "Escalated to tier 3"),
        (AlertEvent::Reminder, 1, "Fired again: 3 occurrences so far"),
    ] {
        let d = Slack::notify(&notice(event, tier, to_channel("C1"), Some("C1:1.1"))).unwrap();
        assert_eq!(d.external_id.as_deref(), Some("C1:1.1"));
        let (url, body) = sent().pop().unwrap();
        assert_eq!(url, api("chat.postMessage"));
        assert_eq!(body["thread_ts"], "1.1", "{event:?}");
        assert!(body["text"].as_str().unwrap().contains(says), "{event:?}: {body}");
        assert!(body.get("blocks").is_none());
    }
    assert_eq!(testing::requests().len(), 3, "no chat.update, no new post");
}

#[test]
fn a_reminder_without_an_earlier_message_posts_nothing() {
    host().alert(alert()).install();
    let d = Slack::notify(&notice(AlertEvent::Reminder, 1, to_channel("C1"), None)).unwrap();
    assert_eq!(d.external_id, None);
    assert!(testing::requests().is_empty());
}

#[test]
fn a_status_change_without_an_earlier_message_is_posted_anew() {
    let mut a = alert();
    a.alert.status = "acknowledged".into();
    host()
        .alert(a)
        .http(&api("chat.postMessage"), posted("C1", "5.5"))
        .install();
    let d = Slack::notify(&notice(
        AlertEvent::Acknowledged,
        1,
        to_channel("C1"),
        Some("garbage"),
    ))
    .unwrap();
    assert_eq!(d.external_id.as_deref(), Some("C1:5.5"));
    let (_, body) = &sent()[0];
    assert!(body.get("thread_ts").is_none());
    assert_eq!(action_ids(&body["blocks"]), ["runbook", "kb_add"]);
}

#[test]
fn without_alert_details_the_summary_still_goes_out() {
    host()
        .fail(Op::AlertDetails, OpError::Internal("db down".into()))
        .http(&api("chat.postMessage"), posted("C1", "1.1"))
        .install();
    Slack::notify(&notice(AlertEvent::Triggered, 1, to_channel("C1"), None)).unwrap();
    let (_, body) = &sent()[0];
    assert_eq!(body["blocks"][0]["text"]["text"], "Disk full on db-1");
    assert!(
        texts(&body["blocks"]).contains("unreviewed"),
        "unknown review state is not claimed reviewed"
    );
}

fn failing_post(answer: Result<http::Response, HttpError>) -> Error {
    let h = host().alert(alert());
    match answer {
        Ok(r) => h.http(&api("chat.postMessage"), r),
        Err(e) => h.http_error(&api("chat.postMessage"), e),
    }
    .install();
    Slack::notify(&notice(AlertEvent::Triggered, 1, to_channel("C1"), None)).unwrap_err()
}

#[test]
fn slack_refusals_that_will_not_pass_are_permanent_and_named() {
    for reason in [
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_blocks",
    ] {
        assert_eq!(
            failing_post(Ok(refused(reason))),
            Error::InvalidPayload(format!("slack chat.postMessage: {reason}"))
        );
    }
    for reason in ["invalid_auth", "token_revoked", "account_inactive"] {
        assert_eq!(
            failing_post(Ok(refused(reason))),
            Error::Unauthorized(format!("slack chat.postMessage: {reason}"))
        );
    }
    let missing = http::Response::json(
        200,
        &json!({"ok": false, "error": "missing_scope", "needed": "chat:write"}),
    );
    assert_eq!(
        failing_post(Ok(missing)),
        Error::Unauthorized("slack chat.postMessage: missing_scope (needs scope chat:write)".into())
    );
}

#[test]
fn rate_limits_server_errors_and_network_failures_are_retried() {
    let limited = http::Response::json(429, &json!({"ok": false, "error": "ratelimited"}))
        .with_header("Retry-After", "30");
    assert_eq!(
        failing_post(Ok(limited)),
        Error::Upstream("slack chat.postMessage: rate_limited (HTTP 429, retry after 30 s)".into())
    );
    assert_eq!(
        failing_post(Ok(refused("rate_limited"))),
        Error::Upstream("slack chat.postMessage: rate_limited".into())
    );
    assert_eq!(
        failing_post(Ok(http::Response::new(503, "upstream connect error"))),
        Error::Upstream("slack chat.postMessage: HTTP 503".into())
    );
    assert_eq!(
        failing_post(Err(HttpError::Timeout)),
        Error::Upstream("slack chat.postMessage: timed out".into())
    );
    assert!(matches!(
        failing_post(Err(HttpError::Connection("connection reset".into()))),
        Error::Upstream(m) if m.starts_with("slack chat.postMessage:") && m.contains("connection reset")
    ));
    // The host refusing the request (host not granted, token not set) is not going to pass.
    assert!(matches!(
        failing_post(Err(HttpError::Denied("slack.com is not granted".into()))),
        Error::Internal(m) if m.contains("slack.com is not granted")
    ));
}

#[test]
fn a_failed_edit_is_reported_with_its_method() {
    let mut a = alert();
    a.alert.status = "resolved".into();
    host()
        .alert(a)
        .http(&api("chat.update"), refused("message_not_found"))
        .install();
    let err = Slack::notify(&notice(AlertEvent::Resolved, 1, to_channel("C1"), Some("C1:1.1"))).unwrap_err();
    assert_eq!(
        err,
        Error::InvalidPayload("slack chat.update: message_not_found".into())
    );
    assert_eq!(
        testing::requests().len(),
        1,
        "no thread reply after a failed edit"
    );
}

#[test]
fn the_api_base_url_setting_points_calls_elsewhere() {
    host()
        .alert(alert())
        .config("api_base_url", "https://slack.test/api/")
        .http("https://slack.test/api/chat.postMessage", posted("C1", "1.1"))
        .install();
    Slack::notify(&notice(AlertEvent::Triggered, 1, to_channel("C1"), None)).unwrap();
    assert_eq!(
        testing::requests()[0].url,
        "https://slack.test/api/chat.postMessage"
    );
}

fn handoff() -> HandoffNotice {
    HandoffNotice {
        roster: "Payments".into(),
        shift_start: "2018-07-11T09:00:00+02:00".into(),
        shift_end: "2018-07-12T09:00:00+02:00".into(),
        alerts: vec![alert().alert],
        summary:
            "**Shift summary for Payments** (2018-07-11T07:00:00+00:00 to 2018-07-12T07:00:00+00:00)\n\n\
                  1 alert(s) raised during your shift:\n- [critical] Disk full on db-1 (firing)\n\n\
                  1 alert(s) still open, handed over to Bob.\n"
                .into(),
    }
}

#[test]
fn handoff_notices_render_the_summary_and_link_the_alerts() {
    host()
        .http(&api("conversations.open"), ok(json!({"channel": {"id": "D1"}})))
        .http(&api("chat.postMessage"), posted("D1", "3.3"))
        .install();
    for (subject, title) in [
        (Subject::HandoffOutgoing(handoff()), "Shift summary: Payments"),
        (Subject::HandoffIncoming(handoff()), "You are on call: Payments"),
    ] {
        let d = Slack::notify(&Notification {
            subject,
            destination: Destination::Person(person("Alice", Some("U1"))),
            previous_external_id: None,
            attempt: 1,
        })
        .unwrap();
        assert_eq!(d.external_id.as_deref(), Some("D1:3.3"));
        let (_, body) = sent().pop().unwrap();
        assert_eq!(body["channel"], "D1");
        assert_eq!(body["text"], title);
        let shown = texts(&body["blocks"]);
        assert!(
            shown.contains("*Shift summary for Payments* (2018-07-11T07:00:00+00:00"),
            "{shown}"
        );
        assert!(
            shown.contains("raised during your shift:\n• [critical] Disk full on db-1 (firing)"),
            "{shown}"
        );
        assert!(
            shown.contains(&format!(
                "• <{ALERT_URL}|Disk full on db-1> · :red_circle: Critical · firing"
            )),
            "{shown}"
        );
        assert!(shown.contains("Shift: <!date^1531292400^"), "{shown}");
    }
}

#[test]
fn on_call_changes_name_people_and_mention_those_slack_knows() {
    host()
        .http(&api("chat.postMessage"), posted("C0TEAM", "4.4"))
        .install();
    Slack::notify(&Notification {
        subject: Subject::OncallChanged {
            roster: "Payments".into(),
            previous: Some(person("Alice", None)),
            current: Some(person("Bob", Some("U2"))),
        },
        destination: to_channel("C0TEAM"),
        previous_external_id: None,
        attempt: 1,
    })
    .unwrap();
    let (_, body) = sent().pop().unwrap();
    assert_eq!(body["text"], "On-call for Payments is now <@U2> (was Alice)");
    assert!(texts(&body["blocks"]).contains("On-call for Payments is now <@U2> (was Alice)"));
}
