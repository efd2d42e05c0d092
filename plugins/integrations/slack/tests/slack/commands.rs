//! `/commands`: the `/nightowl` slash command, based on the Bolt sample body with our command text.

use nightowl_plugin_sdk_channel::incidents::{Actor, Fragment, KbHit, KbMatch, RosterOnCall, Shift};
use nightowl_plugin_sdk_channel::testing::{self, Call, Host};
use nightowl_plugin_sdk_channel::{Channel, Response};
use nightowl_plugin_slack::Slack;
use serde_json::Value;

use crate::common::{ALERT_ID, ALERT_URL, alert, fixture, form, host, person, signed};

/// The Bolt sample slash command, as `/nightowl <text>` (or as sent when `text` is `None`).
fn slash(text: Option<&str>) -> Response {
    let mut pairs: Vec<(String, String)> =
        form_urlencoded::parse(fixture("slash_command_bolt_python.form.txt").as_bytes())
            .into_owned()
            .collect();
    if let Some(text) = text {
        for (k, v) in &mut pairs {
            match k.as_str() {
                "command" => *v = "/nightowl".into(),
                "text" => *v = text.into(),
                _ => {}
            }
        }
    }
    let resp = Slack::handle_inbound(&signed(
        "/commands",
        "application/x-www-form-urlencoded",
        &form(&pairs),
    ))
    .unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    resp
}

fn answer(resp: &Response) -> (String, String) {
    let body: Value = resp.body_json().unwrap();
    (
        body["response_type"].as_str().unwrap().to_string(),
        body["text"].as_str().unwrap().to_string(),
    )
}

fn caller() -> Actor {
    // The Bolt sample's user_id.
    Actor::new("slack", "W111")
}

#[test]
fn an_unknown_subcommand_answers_the_usage_privately() {
    host().install();
    // The sample as sent: `/hello-world Hi`.
    let (kind, text) = answer(&slash(None));
    assert_eq!(kind, "ephemeral");
    assert!(text.starts_with("Unknown command `Hi`."), "{text}");
    assert!(
        text.contains("`/hello-world search <words>`"),
        "usage names the command as registered: {text}"
    );
    for (input, unknown) in [("", false), ("help", false), ("frobnicate now", true)] {
        let (kind, text) = answer(&slash(Some(input)));
        assert_eq!(kind, "ephemeral");
        assert_eq!(text.starts_with("Unknown command"), unknown, "{input:?}");
        for sub in [
            "search <words>",
            "oncall [roster]",
            "ack <#number>",
            "resolve <#number> [notes]",
            "roster [name]",
            "help",
        ] {
            assert!(text.contains(&format!("`/nightowl {sub}`")), "{input:?}: {text}");
        }
    }
    assert!(testing::calls().is_empty());
}

fn hit(n: u32, fragments: Vec<Fragment>) -> KbMatch {
    KbMatch {
        hit: KbHit {
            incident_id: format!("inc-{n}"),
            title: format!("Incident {n}"),
            solution: Some(format!("Fix {n}")),
            url: format!("https://nightowl.example.com/incidents/inc-{n}"),
            score: 1.0 / n as f32,
        },
        fragments,
    }
}

fn frag(text: &str, highlighted: bool) -> Fragment {
    Fragment {
        text: text.into(),
        highlighted,
    }
}

#[test]
fn search_shows_the_top_three_with_matched_words_in_bold() {
    host()
        .kb(hit(
            1,
            vec![
                frag("the ", false),
                frag("disk", true),
                frag(" was ", false),
                frag("full ", true),
                frag("again", false),
            ],
        ))
        .kb(hit(2, vec![]))
        .kb(hit(3, vec![]))
        .kb(hit(4, vec![]))
        .install();
    let resp = slash(Some("search disk full"));
    assert_eq!(
        testing::calls(),
        [Call::SearchKbHighlighted {
            query: "disk full".into(),
            limit: 3
        }]
    );
    let body: Value = resp.body_json().unwrap();
    assert_eq!(body["response_type"], "ephemeral");
    assert_eq!(body["text"], "Knowledge base: 3 matches for “disk full”");
    let sections: Vec<&str> = body["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["text"]["text"].as_str())
        .collect();
    assert_eq!(sections.len(), 4, "title and three hits: {sections:?}");
    assert_eq!(
        sections[1],
        "*<https://nightowl.example.com/incidents/inc-1|Incident 1>*\nthe *disk* was *full* again\n_Solution:_ Fix 1"
    );
    assert!(sections[3].starts_with("*<https://nightowl.example.com/incidents/inc-3|Incident 3>*"));
}

#[test]
fn search_without_words_or_hits_says_so() {
    host().install();
    let (_, text) = answer(&slash(Some("search")));
    assert_eq!(text, "Usage: `/nightowl search <words>`");
    let (_, text) = answer(&slash(Some("search <b>nothing</b>")));
    assert_eq!(
        text,
        "No knowledge-base incident matches “&lt;b&gt;nothing&lt;/b&gt;”."
    );
}

fn payments() -> RosterOnCall {
    RosterOnCall {
        roster_id: "r-1".into(),
        roster: "Payments".into(),
        timezone: "Europe/Berlin".into(),
        primary: Some(person("Alice", Some("U1"))),
        secondary: Some(person("Bob", None)),
        until: Some("2025-01-14T09:00:00+01:00".into()),
    }
}

fn search_roster() -> RosterOnCall {
    RosterOnCall {
        roster_id: "r-2".into(),
        roster: "Search".into(),
        timezone: "America/New_York".into(),
        primary: None,
        secondary: None,
        until: None,
    }
}

#[test]
fn oncall_names_primary_and_secondary_until_when_in_the_rosters_time() {
    host().roster(payments()).roster(search_roster()).install();
    let (kind, text) = answer(&slash(Some("oncall")));
    assert_eq!(kind, "ephemeral");
    assert_eq!(
        text,
        "*Payments* (Europe/Berlin)\nPrimary: <@U1> until Tue 14 Jan 09:00 (+01:00)\nSecondary: Bob\n\n\
         *Search* (America/New_York)\nPrimary: nobody"
    );
    let (_, text) = answer(&slash(Some("oncall payments")));
    assert!(
        text.starts_with("*Payments*") && !text.contains("Search"),
        "{text}"
    );
    let (_, text) = answer(&slash(Some("oncall Billing")));
    assert_eq!(text, "There is no roster “Billing”.");
    assert_eq!(
        testing::calls(),
        [
            Call::RostersOnCall(None),
            Call::RostersOnCall(Some("payments".into())),
            Call::RostersOnCall(Some("Billing".into())),
        ]
    );
}

#[test]
fn ack_acknowledges_as_the_caller_and_tells_the_channel() {
    host().alert(alert()).link("slack", "W111").install();
    let (kind, text) = answer(&slash(Some("ack #42")));
    assert_eq!(kind, "in_channel");
    assert_eq!(
        text,
        format!(":eyes: <@W111> acknowledged <{ALERT_URL}|#42 Disk full on db-1>.")
    );
    assert_eq!(
        testing::calls()[0],
        Call::Acknowledge {
            alert: "#42".into(),
            by: caller(),
            note: None
        }
    );
    assert_eq!(testing::alert(ALERT_ID).unwrap().alert.status, "acknowledged");
}

#[test]
fn resolve_passes_the_notes() {
    host().alert(alert()).link("slack", "W111").install();
    let (kind, text) = answer(&slash(Some("resolve 42 rotated the logs <again>")));
    assert_eq!(kind, "in_channel");
    assert!(
        text.starts_with(&format!(
            ":white_check_mark: <@W111> resolved <{ALERT_URL}|#42 Disk full on db-1>."
        )),
        "{text}"
    );
    assert!(text.ends_with("\n> rotated the logs &lt;again&gt;"), "{text}");
    assert_eq!(
        testing::calls()[0],
        Call::Resolve {
            alert: "42".into(),
            by: caller(),
            note: Some("rotated the logs <again>".into())
        }
    );
}

#[test]
fn an_unlinked_caller_is_told_to_link_their_account_and_nothing_changes() {
    host().alert(alert()).install();
    for command in ["ack #42", "resolve #42 done"] {
        let (kind, text) = answer(&slash(Some(command)));
        assert_eq!(kind, "ephemeral", "{command}");
        assert!(
            text.contains("ask a NightOwl admin to set your Slack member ID `W111`"),
            "{command}: {text}"
        );
    }
    assert_eq!(testing::alert(ALERT_ID).unwrap().alert.status, "firing");
}

#[test]
fn ack_of_an_unknown_or_missing_alert_says_what_is_wrong() {
    Host::new()
        .now(crate::common::NOW)
        .secret("signing_secret", crate::common::SIGNING_SECRET)
        .link("slack", "W111")
        .install();
    let (kind, text) = answer(&slash(Some("ack #7")));
    assert_eq!(
        (kind.as_str(), text.as_str()),
        ("ephemeral", "Could not acknowledge #7: there is no alert #7.")
    );
    let (_, text) = answer(&slash(Some("ack")));
    assert_eq!(text, "Usage: `/nightowl ack <#number>`");
    let (_, text) = answer(&slash(Some("resolve")));
    assert_eq!(text, "Usage: `/nightowl resolve <#number> [notes]`");
}

fn shifts() -> Vec<Shift> {
    vec![
        Shift {
            responder: person("Alice", Some("U1")),
            start: "2025-01-13T09:00:00+01:00".into(),
            end: "2025-01-14T09:00:00+01:00".into(),
        },
        Shift {
            responder: person("Bob", None),
            start: "2025-03-29T09:00:00+01:00".into(),
            end: "2025-03-30T09:00:00+02:00".into(),
        },
    ]
}

#[test]
fn roster_lists_the_next_shifts_in_the_rosters_own_offset() {
    host().roster(payments()).shifts("Payments", shifts()).install();
    let (kind, text) = answer(&slash(Some("roster Payments")));
    assert_eq!(kind, "ephemeral");
    assert_eq!(
        text,
        "*Next shifts of Payments*\n\
         • Mon 13 Jan 09:00–Tue 14 Jan 09:00 (+01:00): <@U1>\n\
         • Sat 29 Mar 09:00 (+01:00)–Sun 30 Mar 09:00 (+02:00): Bob"
    );
    assert_eq!(
        testing::calls(),
        [Call::UpcomingShifts {
            roster: "Payments".into(),
            count: 5
        }]
    );
}

#[test]
fn roster_without_a_name_uses_the_only_roster_or_asks_which() {
    host().roster(payments()).shifts("Payments", shifts()).install();
    let (_, text) = answer(&slash(Some("roster")));
    assert!(text.starts_with("*Next shifts of Payments*"), "{text}");

    host().roster(payments()).roster(search_roster()).install();
    let (_, text) = answer(&slash(Some("roster")));
    assert_eq!(
        text,
        "Which roster? `/nightowl roster <name>`, with one of: `Payments`, `Search`"
    );
    let (_, text) = answer(&slash(Some("roster Billing")));
    assert_eq!(text, "There is no roster “Billing”.");
}

#[test]
fn slacks_certificate_check_is_answered_empty() {
    host().install();
    let resp = Slack::handle_inbound(&signed(
        "/commands",
        "application/x-www-form-urlencoded",
        "ssl_check=1&token=verification_token",
    ))
    .unwrap();
    assert_eq!((resp.status, resp.body.len()), (200, 0));
}
