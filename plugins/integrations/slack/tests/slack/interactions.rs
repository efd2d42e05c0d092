//! `/interactions`: buttons and the knowledge-base form, based on the Bolt `block_actions` sample.

use nightowl_plugin_sdk_channel::incidents::{Actor, IncidentDraft, OpError};
use nightowl_plugin_sdk_channel::testing::{self, Call, Op};
use nightowl_plugin_sdk_channel::{Channel, Response};
use nightowl_plugin_slack::Slack;
use serde_json::{Value, json};

use crate::common::{ALERT_ID, alert, api, fixture, form, host, ok, refused, texts};

const RESPONSE_URL: &str = "https://hooks.slack.com/actions/T111/111/random-value";

/// The Bolt sample payload with its one action changed.
fn click(action_id: &str, value: &str) -> Value {
    let mut p: Value = serde_json::from_str(&fixture("block_actions_bolt_python.payload.json")).unwrap();
    p["actions"][0]["action_id"] = json!(action_id);
    p["actions"][0]["value"] = json!(value);
    p
}

fn send(payload: &Value) -> Response {
    send_body(&form(&[("payload".into(), payload.to_string())]))
}

fn send_body(body: &str) -> Response {
    Slack::handle_inbound(&crate::common::signed(
        "/interactions",
        "application/x-www-form-urlencoded",
        body,
    ))
    .unwrap()
}

fn clicker() -> Actor {
    Actor::new("slack", "W111")
}

#[test]
fn the_bolt_sample_click_is_an_unknown_action_and_ignored() {
    host().link("slack", "W111").install();
    let resp = send_body(&fixture("block_actions_bolt_python.form.txt"));
    assert_eq!((resp.status, resp.body.len()), (200, 0));
    assert!(testing::calls().is_empty() && testing::requests().is_empty());
}

#[test]
fn acknowledge_acts_as_the_clicker_and_answers_an_empty_200() {
    host().alert(alert()).link("slack", "W111").install();
    let resp = send(&click("ack", ALERT_ID));
    assert_eq!((resp.status, resp.body.len()), (200, 0));
    assert_eq!(
        testing::calls(),
        [Call::Acknowledge {
            alert: ALERT_ID.into(),
            by: clicker(),
            note: None
        }]
    );
    assert!(
        testing::requests().is_empty(),
        "the host's status notice edits the message, not the click"
    );
}

#[test]
fn escalate_acts_as_the_clicker() {
    host().alert(alert()).link("slack", "W111").install();
    let resp = send(&click("escalate", ALERT_ID));
    assert_eq!(resp.status, 200);
    assert_eq!(
        testing::calls(),
        [Call::Escalate {
            alert: ALERT_ID.into(),
            by: clicker(),
            reason: None
        }]
    );
}

#[test]
fn an_unlinked_clicker_is_told_privately_and_nothing_changes() {
    host().alert(alert()).http(RESPONSE_URL, ok(json!({}))).install();
    for action in ["ack", "escalate"] {
        let resp = send(&click(action, ALERT_ID));
        assert_eq!((resp.status, resp.body.len()), (200, 0));
    }
    let requests = testing::requests();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert_eq!(r.url, RESPONSE_URL);
        let body = r.body_json().unwrap();
        assert_eq!(body["response_type"], "ephemeral");
        assert_eq!(body["replace_original"], false);
        let text = body["text"].as_str().unwrap();
        assert!(
            text.contains("ask a NightOwl admin to set your Slack member ID `W111`"),
            "{text}"
        );
    }
    assert_eq!(testing::alert(ALERT_ID).unwrap().alert.status, "firing");
}

#[test]
fn acknowledging_a_resolved_alert_says_why_privately() {
    let mut a = alert();
    a.alert.status = "resolved".into();
    host()
        .alert(a)
        .link("slack", "W111")
        .http(RESPONSE_URL, ok(json!({})))
        .install();
    send(&click("ack", ALERT_ID));
    let body = testing::requests()[0].body_json().unwrap();
    assert_eq!(
        body["text"],
        "Could not acknowledge this alert: alert #42 is already resolved."
    );
}

#[test]
fn the_runbook_link_button_is_ignored() {
    host().alert(alert()).link("slack", "W111").install();
    let resp = send(&click("runbook", ALERT_ID));
    assert_eq!((resp.status, resp.body.len()), (200, 0));
    assert!(testing::calls().is_empty() && testing::requests().is_empty());
}

#[test]
fn add_to_knowledge_base_opens_the_form_filled_from_the_alert() {
    host()
        .alert(alert())
        .http(&api("views.open"), ok(json!({})))
        .install();
    let resp = send(&click("kb_add", ALERT_ID));
    assert_eq!((resp.status, resp.body.len()), (200, 0));
    let requests = testing::requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].url, api("views.open"));
    let body = requests[0].body_json().unwrap();
    assert_eq!(body["trigger_id"], "111.222.valid");
    let view = &body["view"];
    assert_eq!(view["type"], "modal");
    assert_eq!(view["callback_id"], "kb_add");
    let meta: Value = serde_json::from_str(view["private_metadata"].as_str().unwrap()).unwrap();
    assert_eq!(
        meta,
        json!({"alert_id": ALERT_ID, "alert_number": 42, "channel_id": "C111", "user_id": "W111"})
    );
    let block = |id: &str| -> Value {
        view["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["block_id"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(block("title")["element"]["initial_value"], "Disk full on db-1");
    assert_eq!(block("title")["optional"], false);
    assert_eq!(
        block("severity")["element"]["initial_option"]["value"],
        "critical"
    );
    assert_eq!(block("services")["element"]["initial_value"], "payments");
    assert_eq!(
        block("error_patterns")["element"]["initial_value"],
        "DiskFull\nDisk full on db-1"
    );
    assert_eq!(block("symptoms")["element"]["initial_value"], "/var is 99% full");
    for empty in ["root_cause", "solution"] {
        assert_eq!(block(empty)["type"], "input", "{empty}");
        assert!(block(empty)["element"].get("initial_value").is_none(), "{empty}");
        assert_eq!(block(empty)["optional"], true);
    }
    assert!(texts(&view["blocks"]).contains("From alert <https://nightowl.example.com/alerts/"));
}

#[test]
fn a_form_that_cannot_open_is_told_privately() {
    host()
        .alert(alert())
        .http(&api("views.open"), refused("expired_trigger_id"))
        .http(RESPONSE_URL, ok(json!({})))
        .install();
    let resp = send(&click("kb_add", ALERT_ID));
    assert_eq!(resp.status, 200);
    let told = testing::requests()[1].body_json().unwrap();
    assert_eq!(
        told["text"],
        "Could not open the knowledge-base form (slack views.open: expired_trigger_id)."
    );
}

/// The form as submitted, with what the person typed.
fn submission(title: &str, solution: Option<&str>) -> Value {
    let text = |v: Option<&str>| json!({"value": {"type": "plain_text_input", "value": v}});
    json!({
        "type": "view_submission",
        "team": {"id": "T111", "domain": "workspace-domain"},
        "user": {"id": "W111", "username": "primary-owner", "team_id": "T111"},
        "api_app_id": "A111",
        "trigger_id": "111.333.valid",
        "view": {
            "id": "V111",
            "type": "modal",
            "callback_id": "kb_add",
            "private_metadata": json!({"alert_id": ALERT_ID, "alert_number": 42, "channel_id": "C111", "user_id": "W111"}).to_string(),
            "state": {"values": {
                "title": text(Some(title)),
                "severity": {"value": {"type": "static_select", "selected_option": {"text": {"type": "plain_text", "text": "Major"}, "value": "major"}}},
                "services": text(Some("payments, ledger ,")),
                "error_patterns": text(Some("DiskFull\n\nDisk full on db-1\n")),
                "symptoms": text(Some("/var is 99% full")),
                "root_cause": text(None),
                "solution": text(solution),
            }},
        },
    })
}

#[test]
fn submitting_the_form_creates_the_linked_incident_and_confirms_privately() {
    host()
        .alert(alert())
        .link("slack", "W111")
        .http(&api("chat.postEphemeral"), ok(json!({"message_ts": "1.1"})))
        .install();
    let resp = send(&submission(
        " Disk full from unrotated logs ",
        Some("Rotate the logs"),
    ));
    assert_eq!(
        (resp.status, resp.body.len()),
        (200, 0),
        "an empty 200 closes the form"
    );
    assert_eq!(
        testing::calls(),
        [Call::CreateIncident {
            draft: IncidentDraft {
                title: "Disk full from unrotated logs".into(),
                severity: "major".into(),
                services: vec!["payments".into(), "ledger".into()],
                error_patterns: vec!["DiskFull".into(), "Disk full on db-1".into()],
                symptoms: Some("/var is 99% full".into()),
                root_cause: None,
                solution: Some("Rotate the logs".into()),
            },
            by: clicker(),
            link_alert: Some(ALERT_ID.into()),
        }]
    );
    let requests = testing::requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].url, api("chat.postEphemeral"));
    assert_eq!(
        requests[0].body_json().unwrap(),
        json!({
            "channel": "C111",
            "user": "W111",
            "text": ":books: Added <https://nightowl.test/incidents/inc-1|Disk full from unrotated logs> to the knowledge base and linked #42 to it.",
        })
    );
}

#[test]
fn a_form_without_a_title_stays_open_with_the_reason() {
    host().alert(alert()).link("slack", "W111").install();
    let resp = send(&submission("   ", None));
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.body_json().unwrap(),
        json!({"response_action": "errors", "errors": {"title": "Give the incident a title."}})
    );
    assert!(testing::calls().is_empty());
}

#[test]
fn a_form_from_an_unlinked_person_stays_open_with_the_reason() {
    host().alert(alert()).install();
    let resp = send(&submission("Disk full", None));
    let body = resp.body_json().unwrap();
    assert_eq!(body["response_action"], "errors");
    let why = body["errors"]["title"].as_str().unwrap();
    assert!(why.contains("Slack member ID (W111)"), "{why}");
    assert!(testing::requests().is_empty(), "no confirmation");
}

#[test]
fn a_host_failure_on_submission_is_not_shown_in_detail() {
    host()
        .alert(alert())
        .link("slack", "W111")
        .fail(Op::CreateIncident, OpError::Internal("pool timed out".into()))
        .install();
    let body = send(&submission("Disk full", None)).body_json().unwrap();
    assert_eq!(
        body["errors"]["title"],
        "NightOwl could not save it just now. Try again."
    );
}

#[test]
fn other_payload_types_are_acknowledged() {
    host().install();
    let resp = send(&json!({"type": "view_closed", "user": {"id": "W111"}}));
    assert_eq!((resp.status, resp.body.len()), (200, 0));
    let err = Slack::handle_inbound(&crate::common::signed(
        "/interactions",
        "application/x-www-form-urlencoded",
        "nopayload=1",
    ))
    .unwrap_err();
    assert!(matches!(
        err,
        nightowl_plugin_sdk_channel::Error::InvalidPayload(_)
    ));
}
