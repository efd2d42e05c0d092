//! `/events`: the URL check is answered, everything else acknowledged and ignored.

use nightowl_plugin_sdk_channel::Channel;
use nightowl_plugin_sdk_channel::testing;
use nightowl_plugin_slack::Slack;
use serde_json::Value;

use crate::common::{fixture, host, signed};

#[test]
fn url_verification_answers_the_challenge_as_slack_documents() {
    host().install();
    let resp = Slack::handle_inbound(&signed(
        "/events",
        "application/json",
        &fixture("url_verification_slack_docs.json"),
    ))
    .unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    // One of the answers Slack's documentation lists: the JSON one.
    let documented = fixture("url_verification_expected_responses.txt");
    let expected: Value = documented
        .lines()
        .find(|l| l.starts_with("{\"challenge\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .expect("the documented JSON answer");
    assert_eq!(resp.body_json().unwrap(), expected);
}

#[test]
fn event_callbacks_are_acknowledged_and_ignored() {
    host().install();
    let body = r#"{"type":"event_callback","event":{"type":"app_mention","text":"<@U0> hi"}}"#;
    let resp = Slack::handle_inbound(&signed("/events", "application/json", body)).unwrap();
    assert_eq!((resp.status, resp.body.len()), (200, 0));
    assert!(testing::requests().is_empty() && testing::calls().is_empty());
}
