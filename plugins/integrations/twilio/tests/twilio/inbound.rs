//! Callbacks: the digit of a call, SMS replies, call status.

use nightowl_plugin_sdk_channel::incidents::{Actor, DeliveryOutcome};
use nightowl_plugin_sdk_channel::testing::{self, Call};
use nightowl_plugin_sdk_channel::{Channel, Response};
use nightowl_plugin_twilio::Twilio;
use nightowl_plugin_twilio::sms::{self, Action, Reply};

use crate::common::{ALERT_ID, ALICE, alert, host, signed, xml_elements, xml_texts};

fn body(resp: &Response) -> String {
    String::from_utf8(resp.body.clone()).unwrap()
}

fn press(digits: &str, path: &str) -> Response {
    let query = format!("tenant=acme&alert={ALERT_ID}");
    Twilio::handle_inbound(&signed(
        path,
        &query,
        &[("Digits", digits), ("To", ALICE), ("Direction", "outbound-api")],
    ))
    .unwrap()
}

#[test]
fn each_digit_acts_as_the_callee() {
    for (digit, path, status, call) in [
        ("4", "/acknowledge", "acknowledged", "ack"),
        ("5", "/escalate", "firing", "esc"),
        ("6", "/acknowledge", "resolved", "res"),
    ] {
        host("phone")
            .alert(alert("Disk full"))
            .link("twilio", ALICE)
            .install();
        let resp = press(digit, path);
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("content-type"), Some("text/xml; charset=utf-8"));
        assert_eq!(testing::alert(ALERT_ID).unwrap().alert.status, status);
        let by = Actor::new("twilio", ALICE);
        let made = &testing::calls()[0];
        match (call, made) {
            ("ack", Call::Acknowledge { alert, by: b, .. })
            | ("esc", Call::Escalate { alert, by: b, .. })
            | ("res", Call::Resolve { alert, by: b, .. }) => {
                assert_eq!(alert, ALERT_ID);
                assert_eq!(b, &by);
            }
            other => panic!("{other:?}"),
        }
        let xml = body(&resp);
        assert_eq!(xml_elements(&xml), ["Response", "Say", "Hangup"]);
    }
}

#[test]
fn an_unknown_digit_repeats_the_menu_and_star_repeats_the_alert() {
    host("phone")
        .alert(alert("Disk full"))
        .link("twilio", ALICE)
        .install();
    let xml = body(&press("9", "/acknowledge"));
    assert!(xml_elements(&xml).contains(&"Gather".to_string()));
    assert!(
        xml_texts(&xml, "Say")
            .iter()
            .any(|s| s.contains("Press 4 to acknowledge"))
    );
    let xml = body(&press("*", "/acknowledge"));
    assert!(xml_texts(&xml, "Say")[0].starts_with("NightOwl alert 1234. Severity critical. Disk full."));
    assert!(
        testing::calls()
            .iter()
            .all(|c| matches!(c, Call::AlertDetails(_)))
    );
    assert_eq!(testing::alert(ALERT_ID).unwrap().alert.status, "firing");
}

#[test]
fn a_number_that_may_not_act_is_told_so_and_nothing_changes() {
    host("phone").alert(alert("Disk full")).install();
    let xml = body(&press("4", "/acknowledge"));
    assert!(xml_texts(&xml, "Say")[0].contains("may not change alerts"));
    assert_eq!(testing::alert(ALERT_ID).unwrap().alert.status, "firing");
}

#[test]
fn every_reply_form_is_understood() {
    use Action::*;
    for (text, expected) in [
        ("1234a", Reply::Act(Acknowledge, 1234)),
        ("1234A", Reply::Act(Acknowledge, 1234)),
        (" 1234 a ", Reply::Act(Acknowledge, 1234)),
        ("ack 1234", Reply::Act(Acknowledge, 1234)),
        ("ACK #1234", Reply::Act(Acknowledge, 1234)),
        ("a #1234", Reply::Act(Acknowledge, 1234)),
        ("acknowledge 1234", Reply::Act(Acknowledge, 1234)),
        ("1234e", Reply::Act(Escalate, 1234)),
        ("esc 1234", Reply::Act(Escalate, 1234)),
        ("Escalate #1234", Reply::Act(Escalate, 1234)),
        ("1234r", Reply::Act(Resolve, 1234)),
        ("resolve  1234", Reply::Act(Resolve, 1234)),
        ("r#1234", Reply::Act(Resolve, 1234)),
        ("a", Reply::Bare(Acknowledge)),
        (" ACK ", Reply::Bare(Acknowledge)),
        ("esc", Reply::Bare(Escalate)),
        ("resolve", Reply::Bare(Resolve)),
        ("hello", Reply::Unknown),
        ("1234", Reply::Unknown),
        ("1234x", Reply::Unknown),
        ("", Reply::Unknown),
    ] {
        assert_eq!(sms::parse_reply(text), expected, "{text:?}");
    }
}

fn reply(from: &str, text: &str) -> String {
    let resp =
        Twilio::handle_inbound(&signed("/sms", "tenant=acme", &[("From", from), ("Body", text)])).unwrap();
    assert_eq!(resp.status, 200);
    let xml = body(&resp);
    assert_eq!(xml_elements(&xml), ["Response", "Message"]);
    xml_texts(&xml, "Message").remove(0)
}

#[test]
fn sms_replies_act_on_the_numbered_alert() {
    for (text, status) in [
        ("1234a", "acknowledged"),
        ("esc #1234", "firing"),
        ("R 1234", "resolved"),
    ] {
        host("sms")
            .alert(alert("Disk full"))
            .link("twilio", ALICE)
            .install();
        let answer = reply(ALICE, text);
        assert!(answer.starts_with("#1234 "), "{answer}");
        assert_eq!(testing::alert(ALERT_ID).unwrap().alert.status, status);
        assert_eq!(testing::calls().len(), 1);
    }
}

#[test]
fn a_bare_reply_asks_the_host_for_the_last_alert_and_unknown_replies_get_help() {
    host("sms")
        .alert(alert("Disk full"))
        .link("twilio", ALICE)
        .install();
    // The host names the alert it last paged the number about ("last"); the test double knows of
    // none, so the person is asked which alert.
    assert!(reply(ALICE, "ack").contains("which alert"));
    let calls = testing::calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(format!("{:?}", calls[0]).contains("\"last\""), "{calls:?}");
    assert!(reply(ALICE, "what is up").contains("1234a to acknowledge"));
    assert_eq!(testing::calls().len(), 1, "an unknown reply asks nothing");
    assert_eq!(testing::alert(ALERT_ID).unwrap().alert.status, "firing");
}

#[test]
fn an_unknown_number_learns_nothing_about_alerts() {
    host("sms")
        .alert(alert("Disk full"))
        .link("twilio", ALICE)
        .install();
    let answer = reply("+15550000000", "1234a");
    assert!(answer.contains("may not act"), "{answer}");
    assert!(!answer.contains("Disk full") && !answer.contains("checkout"));
    assert_eq!(testing::alert(ALERT_ID).unwrap().alert.status, "firing");
}

#[test]
fn a_call_status_tells_the_host_how_the_page_ended_and_is_answered_with_empty_twiml() {
    let query = format!("tenant=acme&alert={ALERT_ID}");
    for (fields, reported) in [
        (
            vec![("CallSid", "CA1"), ("CallStatus", "no-answer")],
            Some(("CA1", DeliveryOutcome::NotAnswered, "no-answer")),
        ),
        (
            vec![("CallSid", "CA2"), ("CallStatus", "busy")],
            Some(("CA2", DeliveryOutcome::NotAnswered, "busy")),
        ),
        (
            vec![("CallSid", "CA3"), ("CallStatus", "completed")],
            Some(("CA3", DeliveryOutcome::Answered, "completed")),
        ),
        (
            vec![("MessageSid", "SM1"), ("MessageStatus", "undelivered")],
            Some(("SM1", DeliveryOutcome::NotAnswered, "undelivered")),
        ),
        // Voicemail picked up: not the person.
        (
            vec![
                ("CallSid", "CA5"),
                ("CallStatus", "in-progress"),
                ("AnsweredBy", "machine_start"),
            ],
            Some((
                "CA5",
                DeliveryOutcome::NotAnswered,
                "in-progress, answered by machine_start",
            )),
        ),
        (
            vec![
                ("CallSid", "CA6"),
                ("CallStatus", "in-progress"),
                ("AnsweredBy", "human"),
            ],
            Some(("CA6", DeliveryOutcome::Answered, "in-progress")),
        ),
        // Twilio's intermediate states say nothing yet.
        (vec![("CallSid", "CA4"), ("CallStatus", "ringing")], None),
        (vec![("MessageSid", "SM2"), ("MessageStatus", "sent")], None),
    ] {
        host("phone").install();
        let resp = Twilio::handle_inbound(&signed("/status", &query, &fields)).unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(xml_elements(&body(&resp)), ["Response"]);
        let expected: Vec<Call> = reported
            .into_iter()
            .map(|(sid, outcome, detail)| Call::ReportDelivery {
                external_id: sid.into(),
                outcome,
                detail: detail.into(),
            })
            .collect();
        assert_eq!(testing::calls(), expected, "{fields:?}");
    }
}

#[test]
fn an_unsigned_call_status_reports_nothing() {
    host("phone").install();
    let query = format!("tenant=acme&alert={ALERT_ID}");
    let mut req = signed(
        "/status",
        &query,
        &[("CallSid", "CA1"), ("CallStatus", "no-answer")],
    );
    req.body = b"CallSid=CA1&CallStatus=busy".to_vec();
    let resp = Twilio::handle_inbound(&req).unwrap();
    assert_eq!(resp.status, 403);
    assert!(testing::calls().is_empty());
}
