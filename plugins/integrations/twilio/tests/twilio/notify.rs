//! notify: what a page becomes on the wire (a call with inline TwiML, an SMS), status updates, and
//! how Twilio's failures map to retries.

use nightowl_plugin_sdk_channel::http::{self, Auth, HttpError};
use nightowl_plugin_sdk_channel::testing;
use nightowl_plugin_sdk_channel::{
    AlertEvent, AlertNotice, Channel, Destination, Error, Notification, Subject,
};
use nightowl_plugin_twilio::{Twilio, sms};
use serde_json::json;

use crate::common::{
    ALERT_ID, ALICE, CALLS, FROM, MESSAGES, SID, alert, alice, host, xml_attr, xml_elements, xml_texts,
};

fn page(event: AlertEvent, title: &str, previous: Option<&str>) -> Notification {
    Notification {
        subject: Subject::Alert(AlertNotice {
            event,
            alert: alert(title).alert,
            tier: 1,
        }),
        destination: Destination::Person(alice()),
        previous_external_id: previous.map(Into::into),
        attempt: 1,
    }
}

fn created(sid: &str) -> http::Response {
    http::Response::json(201, &json!({"sid": sid, "status": "queued"}))
}

fn fields(req: &http::Request) -> Vec<(String, String)> {
    form_urlencoded::parse(&req.body).into_owned().collect()
}

fn field(req: &http::Request, name: &str) -> String {
    fields(req)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no field {name}"))
}

const HOSTILE: &str = "Disk full</Say><Dial>+19005550199</Dial><Say>&amp; \"quoted\"";

#[test]
fn a_phone_page_is_a_call_whose_twiml_speaks_the_alert_with_the_hostile_title_escaped() {
    host("phone")
        .alert(alert(HOSTILE))
        .http(CALLS, created("CA0001"))
        .install();
    let d = Twilio::notify(&page(AlertEvent::Triggered, HOSTILE, None)).unwrap();
    assert_eq!(d.external_id.as_deref(), Some("CA0001"));

    let req = &testing::requests()[0];
    assert_eq!(req.url, CALLS);
    assert_eq!(req.auth, Auth::Basic(SID.into(), "auth_token".into()));
    assert_eq!(field(req, "To"), ALICE);
    assert_eq!(field(req, "From"), FROM);
    assert_eq!(
        field(req, "StatusCallback"),
        format!("https://nightowl.example.com/api/v1/twilio/status?tenant=acme&alert={ALERT_ID}")
    );
    let twiml = field(req, "Twiml");
    assert_eq!(
        xml_elements(&twiml),
        ["Response", "Say", "Gather", "Say", "Say", "Hangup"]
    );
    let said = xml_texts(&twiml, "Say");
    assert_eq!(
        said[0],
        format!(
            "NightOwl alert 1234. Severity critical. {HOSTILE}. Service checkout-api. Suggested fix: Restart the payment worker."
        )
    );
    assert!(said[1].contains("Press 4 to acknowledge, 5 to escalate, 6 to resolve"));
    assert_eq!(said[2], "No input received. Goodbye.");
    assert_eq!(
        xml_attr(&twiml, "Gather", "action").unwrap(),
        format!("https://nightowl.example.com/api/v1/twilio/acknowledge?tenant=acme&alert={ALERT_ID}")
    );
    assert_eq!(xml_attr(&twiml, "Gather", "numDigits").as_deref(), Some("1"));
    assert!(!twiml.contains("<Dial>"));
}

#[test]
fn an_sms_page_fits_one_segment_with_the_reply_codes() {
    host("sms")
        .alert(alert("Checkout latency above SLO"))
        .http(MESSAGES, created("SM0001"))
        .install();
    let d = Twilio::notify(&page(AlertEvent::Triggered, "", None)).unwrap();
    assert_eq!(d.external_id.as_deref(), Some("SM0001"));
    let req = &testing::requests()[0];
    assert_eq!(field(req, "To"), ALICE);
    assert_eq!(field(req, "From"), FROM);
    assert_eq!(
        field(req, "Body"),
        "#1234 CRITICAL checkout-api: Checkout latency above SLO Reply 1234a to ack, 1234e to escalate, 1234r to resolve"
    );
}

#[test]
fn a_long_title_is_cut_to_keep_the_sms_in_one_segment() {
    let long = "Checkout latency above SLO in every region ".repeat(5);
    let text = sms::alert_text(1234, "critical", Some("checkout-api"), &long);
    assert!(sms::cost(&text) <= 160, "{text}");
    assert_eq!(sms::segments(&text), 1);
    assert!(text.contains("... Reply 1234a to ack"), "{text}");

    let unicode = "Zahlungsdienst überlastet – Warteschlange wächst ".repeat(3);
    let text = sms::alert_text(1234, "critical", Some("checkout-api"), &unicode);
    assert!(!sms::is_gsm7(&text));
    assert!(text.contains("… Reply 1234a"), "{text}");
    assert!(sms::segments(&text) <= 2, "{text}");
}

#[test]
fn a_person_without_a_phone_is_a_permanent_error_naming_them() {
    host("sms").alert(alert("x")).install();
    let mut n = page(AlertEvent::Triggered, "x", None);
    let mut bob = alice();
    bob.name = "Bob".into();
    bob.phone = None;
    n.destination = Destination::Person(bob);
    match Twilio::notify(&n) {
        Err(Error::InvalidPayload(m)) => assert!(m.contains("Bob"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(testing::requests().is_empty());
}

#[test]
fn status_updates_are_a_short_sms_and_no_call() {
    let mut acked = alert("Disk full");
    acked.acknowledged_by = Some("Alice".into());
    host("sms")
        .alert(acked.clone())
        .http(MESSAGES, created("SM0002"))
        .install();
    Twilio::notify(&page(AlertEvent::Acknowledged, "Disk full", Some("SM0001"))).unwrap();
    assert_eq!(
        field(&testing::requests()[0], "Body"),
        "#1234 acknowledged by Alice"
    );

    host("phone").alert(acked).install();
    let d = Twilio::notify(&page(AlertEvent::Resolved, "Disk full", Some("CA0001"))).unwrap();
    assert_eq!(d.external_id, None);
    assert_eq!(d.details[0].0, "skipped");
    assert!(testing::requests().is_empty(), "no call for an update");
}

#[test]
fn twilio_5xx_429_and_timeouts_are_retried() {
    for answer in [
        Ok(http::Response::json(
            500,
            &json!({"code": 20500, "message": "Internal Server Error"}),
        )),
        Ok(http::Response::json(
            429,
            &json!({"code": 20429, "message": "Too Many Requests"}),
        )),
        Err(HttpError::Timeout),
    ] {
        let h = host("phone").alert(alert("x"));
        match answer {
            Ok(r) => h.http(CALLS, r),
            Err(e) => h.http_error(CALLS, e),
        }
        .install();
        assert!(matches!(
            Twilio::notify(&page(AlertEvent::Triggered, "x", None)),
            Err(Error::Upstream(_))
        ));
    }
}

#[test]
fn an_invalid_number_or_bad_credentials_fail_permanently_naming_the_code() {
    host("sms")
        .alert(alert("x"))
        .http(
            MESSAGES,
            http::Response::json(400, &json!({"code": 21211, "message": "The 'To' number +1 is not a valid phone number.", "status": 400})),
        )
        .install();
    match Twilio::notify(&page(AlertEvent::Triggered, "x", None)) {
        Err(Error::InvalidPayload(m)) => assert!(m.contains("21211"), "{m}"),
        other => panic!("{other:?}"),
    }
    host("sms")
        .alert(alert("x"))
        .http(
            MESSAGES,
            http::Response::json(401, &json!({"code": 20003, "message": "Authenticate"})),
        )
        .install();
    match Twilio::notify(&page(AlertEvent::Triggered, "x", None)) {
        Err(Error::Unauthorized(m)) => assert!(m.contains("20003"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_page_standing_for_a_storm_counts_the_rest_by_voice_and_by_sms() {
    host("phone")
        .config("nightowl.bundle.more", "28")
        .config("nightowl.bundle.worst_severity", "critical")
        .config("nightowl.bundle.numbers", "1235,1236")
        .alert(alert("Disk full"))
        .http(CALLS, created("CA0002"))
        .install();
    Twilio::notify(&page(AlertEvent::Triggered, "Disk full", None)).unwrap();
    let twiml = field(&testing::requests()[0], "Twiml");
    let said = xml_texts(&twiml, "Say");
    assert!(
        said[0].ends_with("And 28 more alerts, the worst critical."),
        "{}",
        said[0]
    );
    assert!(
        said[1].starts_with(
            "Press 4 to acknowledge all 29 alerts, 5 to escalate them all, 6 to resolve alert 1234 only"
        ),
        "{}",
        said[1]
    );
    // The count rides in the signed callback URL, so `*` repeats it.
    assert_eq!(
        xml_attr(&twiml, "Gather", "action").unwrap(),
        format!(
            "https://nightowl.example.com/api/v1/twilio/acknowledge?tenant=acme&alert={ALERT_ID}&more=28&worst=critical"
        )
    );

    host("sms")
        .config("nightowl.bundle.more", "28")
        .config("nightowl.bundle.worst_severity", "critical")
        .alert(alert("Checkout latency above SLO"))
        .http(MESSAGES, created("SM0002"))
        .install();
    Twilio::notify(&page(AlertEvent::Triggered, "", None)).unwrap();
    let req = &testing::requests()[0];
    let body = field(req, "Body");
    assert!(
        body.starts_with("#1234 CRITICAL checkout-api: Checkout latency"),
        "{body}"
    );
    assert!(
        body.ends_with(
            " +28 more, worst CRITICAL. Reply 1234a to ack all 29, 1234e to escalate all, 1234r to resolve #1234"
        ),
        "{body}"
    );
    assert_eq!(sms::segments(&body), 1, "{body}");
    // A page asks for its delivery report.
    assert_eq!(
        field(req, "StatusCallback"),
        format!("https://nightowl.example.com/api/v1/twilio/status?tenant=acme&alert={ALERT_ID}")
    );
}

#[test]
fn a_later_tiers_page_calls_again_but_a_status_notice_never_calls() {
    // Tier 2 pages the person a second time: the host says it is a page (`alert`), so the phone rings
    // although an earlier call about the alert exists.
    host("phone")
        .config("nightowl.kind", "alert")
        .alert(alert("Disk full"))
        .http(CALLS, created("CA0003"))
        .install();
    let d = Twilio::notify(&page(AlertEvent::Escalated, "Disk full", Some("CA0001"))).unwrap();
    assert_eq!(d.external_id.as_deref(), Some("CA0003"));
    assert_eq!(testing::requests().len(), 1);

    // The same event as a notice to a conversation that had the page: no call.
    host("phone")
        .config("nightowl.kind", "update")
        .alert(alert("Disk full"))
        .install();
    let d = Twilio::notify(&page(AlertEvent::Escalated, "Disk full", Some("CA0001"))).unwrap();
    assert_eq!(d.external_id, None);
    assert!(testing::requests().is_empty());
}
