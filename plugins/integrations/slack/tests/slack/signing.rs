//! Every callback is checked against Slack's `v0` signature before anything else happens.

use nightowl_plugin_sdk_channel::testing::{self, Host};
use nightowl_plugin_sdk_channel::{Channel, Error, Request};
use nightowl_plugin_slack::Slack;
use serde_json::Value;

use crate::common::{SIGNING_SECRET, fixture, host, signed};

/// Slack's documented request: its raw body and headers, at the vector's clock.
fn vector() -> (Value, Request) {
    let v: Value = serde_json::from_str(&fixture("signing_vector_slack_docs.json")).unwrap();
    let body = fixture("signing_vector_slack_docs.raw_body.txt");
    assert_eq!(
        body,
        v["raw_body"].as_str().unwrap(),
        "the two fixture files agree"
    );
    let req = Request {
        method: "POST".into(),
        path: "/commands".into(),
        headers: vec![
            (
                "x-slack-request-timestamp".into(),
                v["headers"]["X-Slack-Request-Timestamp"].as_str().unwrap().into(),
            ),
            (
                "x-slack-signature".into(),
                v["headers"]["X-Slack-Signature"].as_str().unwrap().into(),
            ),
            ("content-type".into(), "application/x-www-form-urlencoded".into()),
        ],
        body: body.into_bytes(),
        ..Request::default()
    };
    (v, req)
}

fn at(v: &Value, offset: i64) -> Host {
    assert_eq!(v["signing_secret"], SIGNING_SECRET);
    Host::new()
        .secret("signing_secret", v["signing_secret"].as_str().unwrap())
        .now(v["verifier_clock_now_for_test"].as_i64().unwrap() + offset)
}

#[test]
fn slacks_documented_request_is_accepted() {
    let (v, req) = vector();
    at(&v, 0).install();
    let resp = Slack::handle_inbound(&req).expect("the documented vector verifies");
    assert_eq!(resp.status, 200);
}

#[test]
fn a_body_changed_after_signing_is_refused() {
    let (v, mut req) = vector();
    at(&v, 0).install();
    req.body = v["negative_cases_from_same_test_file"]["body_with_suffix_------_must_fail"]
        .as_str()
        .unwrap()
        .as_bytes()
        .to_vec();
    assert!(matches!(Slack::handle_inbound(&req), Err(Error::Unauthorized(_))));
}

#[test]
fn a_wrong_signature_is_refused() {
    let (v, mut req) = vector();
    at(&v, 0).install();
    let sig = req.header("x-slack-signature").unwrap().replace("v0=a2", "v0=b2");
    req.headers[1].1 = sig;
    assert!(matches!(Slack::handle_inbound(&req), Err(Error::Unauthorized(_))));
    req.headers[1].1 = "v1=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503".into();
    assert!(matches!(Slack::handle_inbound(&req), Err(Error::Unauthorized(_))));
    req.headers[1].1 = "v0=not-hex".into();
    assert!(matches!(Slack::handle_inbound(&req), Err(Error::Unauthorized(_))));
}

#[test]
fn a_timestamp_more_than_five_minutes_away_is_a_replay() {
    let (v, req) = vector();
    for offset in [-301, 301, 3600] {
        at(&v, offset).install();
        let err = Slack::handle_inbound(&req).unwrap_err();
        assert!(
            matches!(&err, Error::Unauthorized(m) if m.contains("5 minutes")),
            "{offset}: {err:?}"
        );
    }
    for offset in [-300, 300] {
        at(&v, offset).install();
        assert!(
            Slack::handle_inbound(&req).is_ok(),
            "{offset} s is within the window"
        );
    }
}

#[test]
fn missing_signature_headers_are_refused() {
    let (v, req) = vector();
    at(&v, 0).install();
    for missing in ["x-slack-request-timestamp", "x-slack-signature"] {
        let mut r = req.clone();
        r.headers.retain(|(k, _)| k != missing);
        let err = Slack::handle_inbound(&r).unwrap_err();
        assert!(
            matches!(&err, Error::Unauthorized(m) if m.contains(missing)),
            "{err:?}"
        );
    }
}

#[test]
fn nothing_is_done_for_an_unsigned_request() {
    host().link("slack", "W111").install();
    // A url_verification and a button click, valid but unsigned.
    let mut check = signed(
        "/events",
        "application/json",
        &fixture("url_verification_slack_docs.json"),
    );
    check.headers.retain(|(k, _)| k != "x-slack-signature");
    assert!(matches!(
        Slack::handle_inbound(&check),
        Err(Error::Unauthorized(_))
    ));
    let mut click = signed(
        "/interactions",
        "application/x-www-form-urlencoded",
        &fixture("block_actions_bolt_python.form.txt"),
    );
    click.headers[2].1 = "v0=00".into();
    assert!(matches!(
        Slack::handle_inbound(&click),
        Err(Error::Unauthorized(_))
    ));
    assert!(testing::requests().is_empty());
    assert!(testing::calls().is_empty());
}

#[test]
fn without_the_signing_secret_nothing_verifies() {
    Host::new().now(crate::common::NOW).install();
    let (_, req) = vector();
    assert!(matches!(Slack::handle_inbound(&req), Err(Error::Internal(m)) if m.contains("signing_secret")));
}

#[test]
fn an_unknown_path_is_refused_after_the_signature() {
    host().install();
    let req = signed("/elsewhere", "application/json", "{}");
    assert!(matches!(
        Slack::handle_inbound(&req),
        Err(Error::InvalidPayload(_))
    ));
}

#[test]
fn a_signed_callback_from_another_workspace_is_refused_when_the_tenant_names_its_own() {
    let body = crate::common::form(&[
        ("team_id".into(), "T0OTHER".into()),
        ("user_id".into(), "U1".into()),
        ("command".into(), "/nightowl".into()),
        ("text".into(), "help".into()),
    ]);
    host().config("team_id", "T0ACME").install();
    let req = signed("/commands", "application/x-www-form-urlencoded", &body);
    match Slack::handle_inbound(&req) {
        Err(Error::Unauthorized(why)) => assert!(why.contains("T0OTHER"), "{why}"),
        other => panic!("refused: {other:?}"),
    }
    // The tenant's own workspace, and a tenant that named none, are answered.
    let own = body.replace("T0OTHER", "T0ACME");
    host().config("team_id", "T0ACME").install();
    assert!(Slack::handle_inbound(&signed("/commands", "application/x-www-form-urlencoded", &own)).is_ok());
    host().install();
    assert!(Slack::handle_inbound(&signed("/commands", "application/x-www-form-urlencoded", &body)).is_ok());
}
