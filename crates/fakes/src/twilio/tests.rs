//! FakeTwilio over real HTTPS: a reqwest client that trusts only the test CA calls it as the Twilio
//! plugin would (form body, basic auth), and the fake checks, answers, records and fails like Twilio.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use super::{ACCOUNT_SID, Failure, FakeTwilio, Resource};
use crate::TestCa;

const TOKEN: &str = "twilio-auth-token";
const FROM: &str = "+15005550001";
const TO: &str = "+15005550006";

/// A client that trusts the test CA and nothing else.
fn client() -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(TestCa::shared().pem().as_bytes()).unwrap();
    reqwest::Client::builder()
        .add_root_certificate(ca)
        .tls_built_in_root_certs(false)
        .https_only(true)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// What the plugin sends for a call: the alert, the menu in a `<Gather>`, goodbye, hang up; `title`
/// escaped as the plugin's XML writer escapes text.
fn call_twiml(title: &str) -> String {
    let escaped = title
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;");
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#,
            r#"<Say voice="alice" language="en-US">NightOwl alert 7. Severity critical. {}.</Say>"#,
            r#"<Gather input="dtmf" numDigits="1" timeout="8" "#,
            r#"action="https://nightowl.example/api/v1/twilio/acknowledge?tenant=acme&amp;alert=a1" method="POST">"#,
            r#"<Say voice="alice" language="en-US">Press 4 to acknowledge, 5 to escalate, 6 to resolve, or star to repeat.</Say>"#,
            r#"</Gather><Say voice="alice" language="en-US">No input received. Goodbye.</Say><Hangup/></Response>"#,
        ),
        escaped
    )
}

/// The call request's fields as the plugin orders them.
fn call_fields(twiml: &str) -> Vec<(&'static str, String)> {
    vec![
        ("To", TO.into()),
        ("From", FROM.into()),
        ("Twiml", twiml.into()),
        ("Timeout", "30".into()),
        (
            "StatusCallback",
            "https://nightowl.example/api/v1/twilio/status?tenant=acme&alert=a1".into(),
        ),
        ("StatusCallbackMethod", "POST".into()),
        ("StatusCallbackEvent", "answered".into()),
        ("StatusCallbackEvent", "completed".into()),
    ]
}

/// POSTs `fields` as a form to `resource` with basic auth `(user, password)`; answers status,
/// `Retry-After` and JSON.
async fn create(
    twilio: &FakeTwilio,
    resource: Resource,
    auth: Option<(&str, &str)>,
    fields: &[(&str, String)],
) -> (StatusCode, Option<String>, Value) {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields.iter().map(|(k, v)| (*k, v.as_str())))
        .finish();
    let mut req = client()
        .post(twilio.resource_url(resource))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some((user, password)) = auth {
        req = req.basic_auth(user, Some(password));
    }
    let resp = req.send().await.expect("the fake answers");
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry_after, resp.json().await.expect("a JSON answer"))
}

const AUTH: Option<(&str, &str)> = Some((ACCOUNT_SID, TOKEN));

fn sms_fields(body: &str) -> Vec<(&'static str, String)> {
    vec![("To", TO.into()), ("From", FROM.into()), ("Body", body.into())]
}

#[tokio::test]
async fn a_good_call_is_created_recorded_and_answered_like_twilio() {
    let twilio = FakeTwilio::start(ACCOUNT_SID, TOKEN).await;
    let twiml = call_twiml("Disk full on db-1");
    let (status, _, answer) = create(&twilio, Resource::Calls, AUTH, &call_fields(&twiml)).await;

    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let sid = answer["sid"].as_str().unwrap();
    assert!(sid.starts_with("CA") && sid.len() == 34, "{sid}");
    assert!(sid[2..].bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(answer["account_sid"], ACCOUNT_SID);
    assert_eq!(
        (answer["to"].as_str(), answer["from"].as_str()),
        (Some(TO), Some(FROM))
    );
    assert_eq!(answer["status"], "queued");
    assert_eq!(answer["direction"], "outbound-api");
    assert_eq!(answer["api_version"], "2010-04-01");
    assert!(answer["date_created"].as_str().unwrap().ends_with(" +0000"));
    assert_eq!(
        answer["uri"],
        format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{sid}.json")
    );

    let calls = twilio.wait_for(Resource::Calls, 1, Duration::from_secs(5)).await;
    let call = &calls[0];
    assert_eq!(
        call.path,
        format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json")
    );
    assert_eq!(call.field("Twiml"), Some(twiml.as_str()));
    assert_eq!(call.fields("StatusCallbackEvent"), ["answered", "completed"]);
    assert_eq!(call.sid(), Some(sid));
    assert_eq!(call.answer.as_ref().unwrap().body, answer);
    let menu = call.twiml().unwrap();
    assert_eq!(menu.verb_names(), ["Say", "Gather", "Say", "Hangup"]);
    assert_eq!(
        menu.gathers()[0].action.as_deref(),
        Some("https://nightowl.example/api/v1/twilio/acknowledge?tenant=acme&alert=a1")
    );

    let placed = twilio.phone_call(sid).unwrap();
    assert_eq!(placed.timeout, Some(30));
    assert_eq!(placed.status_callback_method.as_deref(), Some("POST"));
    assert_eq!(placed.twiml().unwrap(), menu);
    assert_eq!(twilio.count(Resource::Calls), 1);
    assert_eq!(twilio.count(Resource::Messages), 0);
}

#[tokio::test]
async fn wrong_or_missing_credentials_are_401_authenticate() {
    let twilio = FakeTwilio::start(ACCOUNT_SID, TOKEN).await;
    let fields = sms_fields("hi");
    for auth in [Some((ACCOUNT_SID, "wrong-token")), Some(("ACother", TOKEN)), None] {
        let (status, _, answer) = create(&twilio, Resource::Messages, auth, &fields).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(
            answer,
            serde_json::json!({
                "code": 20003,
                "message": "Authenticate",
                "more_info": "https://www.twilio.com/docs/errors/20003",
                "status": 401,
            })
        );
    }
    let requests = twilio.messages();
    assert_eq!(requests.len(), 3);
    assert!(requests[0].header("authorization").unwrap().starts_with("Basic "));
    assert!(twilio.text_messages().is_empty());
}

#[tokio::test]
async fn another_accounts_path_is_not_found() {
    let twilio = FakeTwilio::start(ACCOUNT_SID, TOKEN).await;
    let other = "ACffffffffffffffffffffffffffffffff";
    let resp = client()
        .post(format!(
            "{}/2010-04-01/Accounts/{other}/Messages.json",
            twilio.api_url()
        ))
        .basic_auth(ACCOUNT_SID, Some(TOKEN))
        .form(&[("To", TO), ("From", FROM), ("Body", "hi")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(answer["code"], 20404);

    let unknown = client()
        .post(format!(
            "{}/2010-04-01/Accounts/{ACCOUNT_SID}/Faxes.json",
            twilio.api_url()
        ))
        .basic_auth(ACCOUNT_SID, Some(TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let listing = client()
        .get(twilio.resource_url(Resource::Calls))
        .basic_auth(ACCOUNT_SID, Some(TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(listing.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(twilio.requests().len(), 3);
}

#[tokio::test]
async fn a_call_without_to_is_21201() {
    let twilio = FakeTwilio::start(ACCOUNT_SID, TOKEN).await;
    let mut fields = call_fields(&call_twiml("x"));
    fields.retain(|(k, _)| *k != "To");
    let (status, _, answer) = create(&twilio, Resource::Calls, AUTH, &fields).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["code"], 21201);
    assert_eq!(answer["message"], "No 'To' number is specified");
    assert_eq!(answer["more_info"], "https://www.twilio.com/docs/errors/21201");
    assert_eq!(answer["status"], 400);

    let mut no_from = call_fields(&call_twiml("x"));
    no_from.retain(|(k, _)| *k != "From");
    let (_, _, answer) = create(&twilio, Resource::Calls, AUTH, &no_from).await;
    assert_eq!(answer["code"], 21213);

    let mut bad_to = call_fields(&call_twiml("x"));
    bad_to[0].1 = "555-0006".into();
    let (_, _, answer) = create(&twilio, Resource::Calls, AUTH, &bad_to).await;
    assert_eq!(answer["code"], 21211);
    assert!(twilio.phone_calls().is_empty());
}

#[tokio::test]
async fn a_json_body_is_read_as_no_parameters() {
    let twilio = FakeTwilio::start(ACCOUNT_SID, TOKEN).await;
    let resp = client()
        .post(twilio.resource_url(Resource::Messages))
        .basic_auth(ACCOUNT_SID, Some(TOKEN))
        .json(&serde_json::json!({"To": TO, "From": FROM, "Body": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(answer["code"], 21604);
    assert!(twilio.messages()[0].form.is_empty());
}

#[tokio::test]
async fn invalid_twiml_is_refused() {
    let twilio = FakeTwilio::start(ACCOUNT_SID, TOKEN).await;
    let unescaped = format!(
        r#"<Response><Say>NightOwl alert: {}</Say><Hangup/></Response>"#,
        "Disk & memory"
    );
    let (status, _, answer) = create(&twilio, Resource::Calls, AUTH, &call_fields(&unescaped)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["code"], 12100, "{answer}");

    let messaging = "<Response><Message>hi</Message></Response>";
    let (status, _, answer) = create(&twilio, Resource::Calls, AUTH, &call_fields(messaging)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["code"], 12200, "{answer}");

    let long = call_twiml(&"very long title ".repeat(300));
    let (_, _, answer) = create(&twilio, Resource::Calls, AUTH, &call_fields(&long)).await;
    assert_eq!(answer["code"], 32018);
    assert!(twilio.phone_calls().is_empty());
    assert!(twilio.calls().iter().all(|c| c.sid().is_none()));
}

#[tokio::test]
async fn a_hostile_title_stays_text_of_its_say() {
    let twilio = FakeTwilio::start(ACCOUNT_SID, TOKEN).await;
    let title = r#"</Say><Dial>+15550000000</Dial><Say> & <b> "quoted" 'single'"#;
    let (status, _, _) = create(&twilio, Resource::Calls, AUTH, &call_fields(&call_twiml(title))).await;
    assert_eq!(status, StatusCode::CREATED);
    let twiml = twilio.calls()[0].twiml().unwrap();
    assert!(twiml.says()[0].contains(title), "{:?}", twiml.says());
    assert_eq!(twiml.count("Dial"), 0);
    assert_eq!(twiml.count("b"), 0);
    assert!(twiml.has_hangup());
}

#[tokio::test]
async fn sms_segments_are_counted_like_twilio() {
    let twilio = FakeTwilio::start(ACCOUNT_SID, TOKEN).await;
    for (body, segments) in [
        ("#7 critical: Disk full on db-1. Reply 7a to ack.".to_owned(), "1"),
        ("a".repeat(160), "1"),
        ("a".repeat(161), "2"),
        ("{".repeat(80), "1"),
        ("{".repeat(81), "2"),
        (format!("{} ✓", "a".repeat(68)), "1"),
        (format!("{} ✓", "a".repeat(69)), "2"),
    ] {
        let (status, _, answer) = create(&twilio, Resource::Messages, AUTH, &sms_fields(&body)).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        assert_eq!(answer["num_segments"], segments, "{body:?}");
        assert_eq!(answer["body"], body.as_str());
        assert_eq!(answer["status"], "queued");
        assert_eq!(answer["direction"], "outbound-api");
        let sid = answer["sid"].as_str().unwrap();
        assert!(sid.starts_with("SM") && sid.len() == 34, "{sid}");
        assert_eq!(twilio.text_message(sid).unwrap().body, body);
    }
    let (status, _, answer) = create(&twilio, Resource::Messages, AUTH, &sms_fields(&"a".repeat(1601))).await;
    assert_eq!(
        (status, &answer["code"]),
        (StatusCode::BAD_REQUEST, &21617.into())
    );
    let (_, _, answer) = create(&twilio, Resource::Messages, AUTH, &sms_fields("")).await;
    assert_eq!(answer["code"], 21602);
}

#[tokio::test]
async fn a_scripted_server_error_is_answered_once_then_requests_pass() {
    let twilio = FakeTwilio::start(ACCOUNT_SID, TOKEN).await;
    twilio.fail_next(Some(Resource::Messages), Failure::ServerError, 1);
    // Calls are not affected.
    let (status, _, _) = create(&twilio, Resource::Calls, AUTH, &call_fields(&call_twiml("x"))).await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, _, error) = create(&twilio, Resource::Messages, AUTH, &sms_fields("hi")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(error["code"], 20500);
    let (status, _, created) = create(&twilio, Resource::Messages, AUTH, &sms_fields("hi")).await;
    assert_eq!(status, StatusCode::CREATED);
    let statuses: Vec<u16> = twilio
        .messages()
        .iter()
        .map(|c| c.answer.as_ref().unwrap().status)
        .collect();
    assert_eq!(statuses, [500, 201]);
    assert_eq!(twilio.text_messages().len(), 1);
    assert_eq!(twilio.text_messages()[0].sid, created["sid"].as_str().unwrap());
}

#[tokio::test]
async fn rate_limits_and_scripted_errors_carry_twilios_codes() {
    let twilio = FakeTwilio::start(ACCOUNT_SID, TOKEN).await;
    twilio.fail_next(None, Failure::RateLimited { retry_after_secs: 2 }, 1);
    twilio.fail_next(
        None,
        Failure::Error {
            status: 400,
            code: 21610,
            message: "Attempt to send to unsubscribed recipient".into(),
        },
        1,
    );
    let (status, retry_after, limited) = create(&twilio, Resource::Messages, AUTH, &sms_fields("hi")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after.as_deref(), Some("2"));
    assert_eq!(limited["code"], 20429);
    let (status, _, error) = create(&twilio, Resource::Calls, AUTH, &call_fields(&call_twiml("x"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["code"], 21610);
    assert_eq!(error["message"], "Attempt to send to unsubscribed recipient");
    assert_eq!(twilio.requests()[0].answer.as_ref().unwrap().retry_after, Some(2));
}

#[tokio::test]
async fn a_stall_runs_the_client_into_its_timeout_then_the_call_is_made() {
    let twilio = FakeTwilio::start(ACCOUNT_SID, TOKEN).await;
    twilio.fail_next(
        Some(Resource::Calls),
        Failure::Stall(Duration::from_millis(800)),
        1,
    );
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(
            call_fields(&call_twiml("x"))
                .iter()
                .map(|(k, v)| (*k, v.as_str())),
        )
        .finish();
    let impatient = client()
        .post(twilio.resource_url(Resource::Calls))
        .basic_auth(ACCOUNT_SID, Some(TOKEN))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .timeout(Duration::from_millis(200))
        .send()
        .await;
    assert!(impatient.unwrap_err().is_timeout());
    let calls = twilio.wait_for(Resource::Calls, 1, Duration::from_secs(1)).await;
    assert!(calls[0].answer.is_none(), "still stalled");

    // Once the stall is over the request is done as usual, as Twilio may have placed a call the
    // client no longer waited for.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while twilio.calls()[0].answer.is_none() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let call = &twilio.calls()[0];
    assert_eq!(call.answer.as_ref().map(|a| a.status), Some(201));
    assert_eq!(twilio.phone_calls().len(), 1);
}

#[tokio::test]
#[should_panic(expected = "1 request(s) to Messages.json expected")]
async fn wait_for_names_what_arrived_when_too_little_did() {
    let twilio = FakeTwilio::start(ACCOUNT_SID, TOKEN).await;
    create(&twilio, Resource::Calls, AUTH, &call_fields(&call_twiml("x"))).await;
    twilio
        .wait_for(Resource::Messages, 1, Duration::from_millis(100))
        .await;
}
