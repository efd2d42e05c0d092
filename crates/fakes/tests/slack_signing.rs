//! The Slack request helpers against Slack's published samples (`tests/fixtures/slack`): the signing
//! vector, and bodies with the same fields as real slash commands, clicks and url_verification.

use std::path::Path;

use nightowl_fakes::slack_signing::{
    self, BlockAction, Enterprise, FORM, SignedRequest, SlashCommand, ViewSubmission, sign,
};
use serde_json::Value;

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/slack")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json_fixture(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).unwrap()
}

fn pairs(form: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(form.trim_end().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The JSON in an interaction form's `payload` field.
fn payload_of(form: &str) -> Value {
    let (_, payload) = pairs(form)
        .into_iter()
        .find(|(k, _)| k == "payload")
        .expect("a payload field");
    serde_json::from_str(&payload).unwrap()
}

#[test]
fn sign_matches_slacks_published_vector() {
    let vector = json_fixture("signing_vector_slack_docs.json");
    let raw_body = fixture("signing_vector_slack_docs.raw_body.txt");
    assert_eq!(raw_body, vector["raw_body"].as_str().unwrap());
    let secret = vector["signing_secret"].as_str().unwrap();
    let timestamp: i64 = vector["headers"]["X-Slack-Request-Timestamp"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let expected = vector["expected_signature"].as_str().unwrap();

    assert_eq!(sign(secret, timestamp, &raw_body), expected);
    assert_eq!(expected, vector["headers"]["X-Slack-Signature"]);
    let signed = SignedRequest::new(secret, timestamp, FORM, raw_body);
    assert_eq!(signed.signature, expected);

    let tampered = vector["negative_cases_from_same_test_file"]["body_with_suffix_------_must_fail"]
        .as_str()
        .unwrap();
    assert_ne!(sign(secret, timestamp, tampered), expected);
}

#[test]
fn slash_command_has_the_fields_slack_sends() {
    let real = pairs(&fixture("slash_command_bolt_python.form.txt"));
    let field = |name: &str| {
        real.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("fixture has {name}"))
    };
    let built = SlashCommand {
        token: field("token"),
        team_id: field("team_id"),
        team_domain: field("team_domain"),
        enterprise: Some(Enterprise {
            id: field("enterprise_id"),
            name: field("enterprise_name"),
        }),
        channel_id: field("channel_id"),
        channel_name: field("channel_name"),
        user_id: field("user_id"),
        user_name: field("user_name"),
        command: field("command"),
        text: field("text"),
        api_app_id: None,
        response_url: field("response_url"),
        trigger_id: field("trigger_id"),
    };
    assert_eq!(pairs(&built.form()), real);
}

#[test]
fn block_action_payload_has_the_shape_slack_sends() {
    let real = json_fixture("block_actions_bolt_python.payload.json");
    assert_eq!(payload_of(&fixture("block_actions_bolt_python.form.txt")), real);
    let s = |pointer: &str| real.pointer(pointer).and_then(Value::as_str).unwrap().to_owned();
    let built = BlockAction {
        token: s("/token"),
        api_app_id: s("/api_app_id"),
        team_id: s("/team/id"),
        team_domain: s("/team/domain"),
        enterprise: Some(Enterprise {
            id: s("/team/enterprise_id"),
            name: s("/team/enterprise_name"),
        }),
        user_id: s("/user/id"),
        user_name: s("/user/username"),
        channel_id: s("/channel/id"),
        channel_name: s("/channel/name"),
        message_ts: s("/container/message_ts"),
        is_ephemeral: true,
        trigger_id: s("/trigger_id"),
        response_url: s("/response_url"),
        action_id: s("/actions/0/action_id"),
        block_id: s("/actions/0/block_id"),
        button_text: s("/actions/0/text/text"),
        value: s("/actions/0/value"),
        action_ts: s("/actions/0/action_ts"),
    };
    assert_eq!(built.payload(), real);
    assert_eq!(payload_of(&built.form()), real);
}

#[test]
fn a_click_on_a_channel_message_names_the_message() {
    let click = BlockAction::new("ack", "alert-7", "1700000000.000100");
    let payload = payload_of(&click.form());
    assert_eq!(payload["container"]["is_ephemeral"], false);
    assert_eq!(payload["message"]["ts"], "1700000000.000100");
    assert_eq!(payload["actions"][0]["action_id"], "ack");
    assert_eq!(payload["actions"][0]["value"], "alert-7");
}

#[test]
fn url_verification_is_the_documented_body() {
    let real = json_fixture("url_verification_slack_docs.json");
    let built = slack_signing::url_verification(
        real["token"].as_str().unwrap(),
        real["challenge"].as_str().unwrap(),
    );
    assert_eq!(serde_json::from_str::<Value>(&built).unwrap(), real);
}

#[test]
fn view_submission_form_carries_the_payload() {
    let submission = ViewSubmission::new("kb_add", "meta").input("title", "value", "a & b = c");
    let signed = submission.signed("secret", 1_700_000_000);
    assert_eq!(signed.content_type, FORM);
    assert_eq!(signed.signature, sign("secret", 1_700_000_000, &signed.body));
    let payload = payload_of(&signed.body);
    assert_eq!(payload["type"], "view_submission");
    assert_eq!(
        payload["view"]["state"]["values"]["title"]["value"]["value"],
        "a & b = c"
    );
}
