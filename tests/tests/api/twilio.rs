//! Twilio end to end: the real host with the compiled `twilio` plugin, a local fake of Twilio's REST
//! API (basic auth, form fields, TwiML checked as Twilio checks them), and Twilio's callbacks signed
//! in the test with Twilio's algorithm for the public URL NightOwl is configured with.

use std::collections::BTreeMap;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use nightowl::worker::{self, Scope, WorkerHandle};
use nightowl_fakes::TestCa;
use nightowl_fakes::twilio::{Failure, FakeTwilio, Resource, Twiml};
use nightowl_fakes::twilio_signing::TwilioCallback;
use nightowl_tests::{TestApp, TestTenant, checkout_on_call, send, until};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "primary-auth-token-0001";
const SECONDARY: &str = "secondary-auth-token-0002";
const FROM: &str = "+15005550006";
/// Where NightOwl says it is (`NIGHTOWL_PUBLIC_URL`): what Twilio signs.
const PUBLIC: &str = "https://nightowl.example.com";
const WAIT: StdDuration = StdDuration::from_secs(15);

const ALICE: &str = "+14155550100";
const BOB: &str = "+14155550101";
const RITA: &str = "+14155550109";

/// 14:00 in Berlin on a Wednesday in June (12:00 UTC): Bob is primary, Alice secondary.
fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-06-10T12:00:00Z")
        .unwrap()
        .to_utc()
}

struct Live {
    twilio: FakeTwilio,
    app: TestApp,
    t: TestTenant,
    _w: WorkerHandle,
}

impl Live {
    fn slug(&self) -> String {
        self.t.tenant.slug.as_str().to_owned()
    }

    fn schema(&self) -> String {
        self.t.tenant.slug.schema()
    }
}

async fn ok(app: &TestApp, t: &TestTenant, method: Method, path: &str, body: Value) -> Value {
    let (status, v) = send(app.as_key(&t.admin_key, method.clone(), path).json(&body)).await;
    assert!(status.is_success(), "{method} {path}: {status} {v}");
    v
}

/// The compiled plugins, with `localhost` added to the Twilio plugin's allowed hosts (the fake runs
/// there).
fn plugins_with_local_twilio() -> std::path::PathBuf {
    let dir = nightowl_tests::plugin_dir(&["generic", "twilio"]);
    let manifest = dir.join("twilio/plugin.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let patched = text.replace(
        "allowed_hosts = [\"api.twilio.com\"]",
        "allowed_hosts = [\"api.twilio.com\", \"localhost\"]",
    );
    assert_ne!(patched, text, "the Twilio manifest lists its hosts as expected");
    std::fs::write(&manifest, patched).unwrap();
    dir
}

async fn app() -> TestApp {
    let dir = plugins_with_local_twilio();
    TestApp::spawn_custom(10, &["generic", "twilio"], |c| {
        c.plugin_dir = dir;
        c.plugin_http_allow_loopback = true;
        c.plugin_http_ca_file = Some(TestCa::pem_file().to_owned());
        c.public_url = PUBLIC.to_owned();
    })
    .await
}

/// Configures the Twilio plugin of a tenant.
async fn configure(app: &TestApp, t: &TestTenant, settings: Value) {
    ok(
        app,
        t,
        Method::PUT,
        "/api/v1/admin/plugins/twilio/config",
        json!({ "settings": settings }),
    )
    .await;
}

/// A team reached through Twilio: Alice and Bob (engineers; Bob primary at [`t0`], Alice
/// secondary), Carol leads, Rita is read-only; everyone has a phone number. The worker runs.
async fn live(tiers: Value) -> Live {
    let twilio = FakeTwilio::start(SID, TOKEN).await;
    let app = app().await;
    app.clock.set(t0());
    let t = app.tenant().await;
    let mut users = BTreeMap::new();
    for (name, role, phone) in [
        ("Alice", "engineer", ALICE),
        ("Bob", "engineer", BOB),
        ("Carol", "manager", "+14155550102"),
        ("Rita", "readonly", RITA),
    ] {
        let u = ok(
            &app,
            &t,
            Method::POST,
            "/api/v1/users",
            json!({"email": format!("{}@acme.example", name.to_lowercase()), "display_name": name,
                   "role": role, "phone": phone, "timezone": "Europe/Berlin"}),
        )
        .await;
        users.insert(name, u["id"].as_str().unwrap().to_owned());
    }
    let members = [users["Alice"].as_str(), users["Bob"].as_str()];
    checkout_on_call(&app, &t, tiers, 0, "Europe/Berlin", &members, &users["Carol"]).await;
    configure(
        &app,
        &t,
        json!({"account_sid": SID, "auth_token": TOKEN, "secondary_auth_token": SECONDARY,
               "from_number": FROM, "api_base_url": twilio.api_url()}),
    )
    .await;
    let w = worker::spawn_scoped(app.state.clone(), "w1", Scope::Only(vec![t.tenant.slug.clone()]));
    Live {
        twilio,
        app,
        t,
        _w: w,
    }
}

async fn alert(app: &TestApp, t: &TestTenant, fingerprint: &str, title: &str) -> (String, i64) {
    let v = ok(
        app,
        t,
        Method::POST,
        "/api/v1/webhooks/generic",
        json!({"title": title, "fingerprint": fingerprint, "severity": "critical", "service": "checkout"}),
    )
    .await;
    let id = v["alerts"][0]["id"].as_str().unwrap().to_owned();
    let a = get_alert(app, t, &id).await;
    (id, a["number"].as_i64().unwrap())
}

async fn get_alert(app: &TestApp, t: &TestTenant, id: &str) -> Value {
    send(app.as_key(&t.admin_key, Method::GET, &format!("/api/v1/alerts/{id}")))
        .await
        .1
}

async fn escalation(app: &TestApp, t: &TestTenant, id: &str) -> Value {
    ok(
        app,
        t,
        Method::GET,
        &format!("/api/v1/alerts/{id}/escalation"),
        Value::Null,
    )
    .await
}

fn actions(escalation: &Value) -> Vec<String> {
    escalation["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

async fn notifications(app: &TestApp, t: &TestTenant, id: &str) -> Vec<Value> {
    ok(
        app,
        t,
        Method::GET,
        &format!("/api/v1/alerts/{id}/notifications"),
        Value::Null,
    )
    .await
    .as_array()
    .unwrap()
    .clone()
}

/// Posts a signed callback to NightOwl: signed for its public URL, sent to the test server.
async fn post(app: &TestApp, callback: &TwilioCallback, token: &str) -> (StatusCode, String) {
    let signed = callback.signed(token);
    let mut req = app.request(Method::POST, &signed.path_and_query());
    for (name, value) in signed.headers() {
        req = req.header(name, value);
    }
    let response = req.body(signed.body).send().await.unwrap();
    let status = response.status();
    (status, response.text().await.unwrap())
}

fn url(path: &str, tenant: &str, alert: &str) -> String {
    format!("{PUBLIC}/api/v1/twilio/{path}?tenant={tenant}&alert={alert}")
}

/// The `<Say>` texts of a TwiML answer.
fn says(xml: &str) -> Vec<String> {
    Twiml::parse(xml)
        .unwrap_or_else(|e| panic!("{e}: {xml}"))
        .says()
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// The digit pressed during the call NightOwl placed to `to`, posted to the call's Gather action.
fn digit(action: &str, call_sid: &str, to: &str, digits: &str) -> TwilioCallback {
    TwilioCallback::gather(action, call_sid, FROM, to, digits)
}

#[tokio::test]
async fn a_phone_page_reads_the_alert_and_each_digit_acts_as_the_person_called() {
    let live = live(json!([
        {"timeout_minutes": 5, "notify_via": ["phone"], "targets": ["oncall_primary"]},
        {"timeout_minutes": 5, "notify_via": ["log"], "targets": ["oncall_secondary"]}
    ]))
    .await;
    let Live { twilio, app, t, .. } = &live;
    let slug = live.slug();
    let hostile = "Disk full</Say><Dial>+19005550199</Dial><Say> & \"quoted\" <b>";
    let (id, number) = alert(app, t, "call-1", hostile).await;

    let request = twilio.wait_for(Resource::Calls, 1, WAIT).await.remove(0);
    let answer = request.answer.clone().unwrap();
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(request.field("To"), Some(BOB));
    assert_eq!(request.field("From"), Some(FROM));
    assert_eq!(
        request.field("StatusCallback"),
        Some(url("status", &slug, &id).as_str())
    );
    let twiml = request.twiml().expect("valid TwiML");
    assert_eq!(twiml.count("Dial"), 0, "the title is text, not TwiML");
    let spoken = twiml.says();
    assert!(
        spoken[0].starts_with(&format!("NightOwl alert {number}. Severity critical. {hostile}.")),
        "{spoken:?}"
    );
    let gather = &twiml.gathers()[0];
    assert_eq!(gather.num_digits, Some(1));
    let action = gather.action.clone().unwrap();
    assert_eq!(action, url("acknowledge", &slug, &id));
    assert!(gather.says[0].contains("Press 4 to acknowledge, 5 to escalate, 6 to resolve"));
    let call_sid = answer.body["sid"].as_str().unwrap().to_owned();

    // An unknown digit: the menu again, nothing changes.
    let (status, xml) = post(app, &digit(&action, &call_sid, BOB, "9"), TOKEN).await;
    assert_eq!(status, StatusCode::OK, "{xml}");
    assert!(says(&xml)[0].contains("not an option"), "{xml}");
    assert_eq!(Twiml::parse(&xml).unwrap().gathers().len(), 1);
    assert_eq!(get_alert(app, t, &id).await["status"], "firing");

    // 4: acknowledged by Bob, the escalation stops, the answer says so.
    let (status, xml) = post(app, &digit(&action, &call_sid, BOB, "4"), TOKEN).await;
    assert_eq!(status, StatusCode::OK, "{xml}");
    assert!(says(&xml)[0].contains("acknowledged"), "{xml}");
    let a = get_alert(app, t, &id).await;
    assert_eq!(a["status"], "acknowledged");
    assert_eq!(a["acknowledged_by"], "bob@acme.example via twilio");
    assert_eq!(escalation(app, t, &id).await["state"], "stopped");

    // 5 on the next alert's call: the next tier fires now.
    app.clock.advance(Duration::seconds(61));
    let (second, _) = alert(app, t, "call-2", "Checkout latency above SLO").await;
    let request = twilio.wait_for(Resource::Calls, 2, WAIT).await.remove(1);
    let action = request.twiml().unwrap().gathers()[0].action.clone().unwrap();
    let sid = request.sid().unwrap().to_owned();
    let (status, xml) = post(app, &digit(&action, &sid, BOB, "5"), TOKEN).await;
    assert_eq!(status, StatusCode::OK, "{xml}");
    assert!(says(&xml)[0].contains("escalated"), "{xml}");
    until("tier 2 fires", || async {
        let e = escalation(app, t, &second).await;
        e["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "notified" && e["tier"] == 2)
    })
    .await;
    assert!(actions(&escalation(app, t, &second).await).contains(&"escalated".to_owned()));

    // 6 on the third: resolved.
    app.clock.advance(Duration::seconds(61));
    let (third, _) = alert(app, t, "call-3", "Queue depth growing").await;
    let request = twilio.wait_for(Resource::Calls, 3, WAIT).await.remove(2);
    let action = request.twiml().unwrap().gathers()[0].action.clone().unwrap();
    let sid = request.sid().unwrap().to_owned();
    let (status, xml) = post(app, &digit(&action, &sid, BOB, "6"), TOKEN).await;
    assert_eq!(status, StatusCode::OK, "{xml}");
    assert!(says(&xml)[0].contains("resolved"), "{xml}");
    let a = get_alert(app, t, &third).await;
    assert_eq!(a["status"], "resolved");
    assert_eq!(a["resolved_by"], "bob@acme.example via twilio");
    // Nobody is called about status changes.
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    assert_eq!(twilio.count(Resource::Calls), 3);
}

/// The text of an SMS answer (`<Response><Message>…</Message></Response>`).
fn message(xml: &str) -> String {
    let start = xml.find("<Message>").map(|i| i + "<Message>".len());
    let end = xml.find("</Message>");
    match (start, end) {
        (Some(s), Some(e)) => xml[s..e].to_owned(),
        _ => panic!("no <Message> in {xml}"),
    }
}

#[tokio::test]
async fn sms_pages_each_reply_form_acts_and_strangers_learn_nothing() {
    let live = live(json!([
        {"timeout_minutes": 5, "notify_via": ["sms"], "targets": ["oncall_primary"]}
    ]))
    .await;
    let Live { twilio, app, t, .. } = &live;
    let slug = live.slug();
    // One SMS per alert in this test: no paging-storm interval for SMS.
    ok(
        app,
        t,
        Method::PUT,
        "/api/v1/admin/config",
        json!({"page_interval_secs": {"phone": 60, "sms": 0}}),
    )
    .await;
    let sms_url = format!("{PUBLIC}/api/v1/twilio/sms?tenant={slug}");
    let reply = |from: &str, body: &str| TwilioCallback::sms(&sms_url, from, FROM, body);

    let (first, n1) = alert(app, t, "sms-1", "Checkout 5xx rate above 5%").await;
    let page = twilio.wait_for(Resource::Messages, 1, WAIT).await.remove(0);
    assert_eq!(page.answer.as_ref().unwrap().status, 201);
    assert_eq!(page.field("To"), Some(BOB));
    assert_eq!(
        page.field("Body"),
        Some(
            format!(
                "#{n1} CRITICAL checkout: Checkout 5xx rate above 5% Reply {n1}a to ack, {n1}e to escalate, {n1}r to resolve"
            )
            .as_str()
        )
    );
    assert_eq!(
        page.field("StatusCallback"),
        Some(url("status", &slug, &first).as_str())
    );

    // Strangers and read-only people change nothing and learn nothing.
    for (from, text) in [("+14155550999", format!("{n1}a")), (RITA, format!("ack {n1}"))] {
        let (status, xml) = post(app, &reply(from, &text), TOKEN).await;
        assert_eq!(status, StatusCode::OK, "{xml}");
        let said = message(&xml);
        assert!(said.contains("may not act"), "{said}");
        assert!(!said.contains("Checkout 5xx"), "{said}");
    }
    let (_, xml) = post(app, &reply("+14155550999", "what is going on"), TOKEN).await;
    assert!(message(&xml).contains("reply with the alert number"), "{xml}");
    assert!(!xml.contains("Checkout"), "{xml}");
    assert_eq!(get_alert(app, t, &first).await["status"], "firing");

    // Each reply form, from Bob's number.
    let forms = [
        ("{n}a", "acknowledged"),
        ("ACK {n}", "acknowledged"),
        ("a #{n}", "acknowledged"),
        (" {n} A ", "acknowledged"),
        ("{n}r", "resolved"),
        ("resolve #{n}", "resolved"),
        ("res {n}", "resolved"),
    ];
    for (i, (form, expected)) in forms.iter().enumerate() {
        let (id, n) = alert(app, t, &format!("sms-form-{i}"), "Checkout 5xx rate above 5%").await;
        let text = form.replace("{n}", &n.to_string());
        let (status, xml) = post(app, &reply(BOB, &text), TOKEN).await;
        assert_eq!(status, StatusCode::OK, "{xml}");
        assert!(message(&xml).contains(expected), "{text}: {xml}");
        let a = get_alert(app, t, &id).await;
        assert_eq!(a["status"], *expected, "{text}");
        assert!(
            a["acknowledged_by"] == "bob@acme.example via twilio"
                || a["resolved_by"] == "bob@acme.example via twilio",
            "{text}: {a}"
        );
    }
    for (i, form) in ["{n}e", "esc {n}", "E #{n}"].iter().enumerate() {
        let (id, n) = alert(app, t, &format!("sms-esc-{i}"), "Checkout 5xx rate above 5%").await;
        let text = form.replace("{n}", &n.to_string());
        let (_, xml) = post(app, &reply(BOB, &text), TOKEN).await;
        assert!(message(&xml).contains("escalated"), "{text}: {xml}");
        assert!(
            actions(&escalation(app, t, &id).await).contains(&"escalated".to_owned()),
            "{text}"
        );
    }

    // A bare `a`: the last alert paged to Bob.
    app.clock.advance(Duration::seconds(1));
    let (last, _) = alert(app, t, "sms-last", "Queue depth growing").await;
    until("the last alert's page is sent", || async {
        notifications(app, t, &last)
            .await
            .iter()
            .any(|n| n["status"] == "sent")
    })
    .await;
    let (_, xml) = post(app, &reply(BOB, "a"), TOKEN).await;
    assert!(message(&xml).contains("acknowledged"), "{xml}");
    assert_eq!(get_alert(app, t, &last).await["status"], "acknowledged");
    assert_eq!(get_alert(app, t, &first).await["status"], "firing");
}

#[tokio::test]
async fn forged_swapped_or_foreign_callbacks_get_403_and_the_secondary_token_verifies() {
    let live = live(json!([
        {"timeout_minutes": 5, "notify_via": ["phone"], "targets": ["oncall_primary"]}
    ]))
    .await;
    let Live { app, t, .. } = &live;
    let slug = live.slug();
    let other = app.tenant().await;
    configure(
        app,
        &other,
        json!({"account_sid": SID, "auth_token": "other-tenant-token-0003", "from_number": FROM}),
    )
    .await;
    let (id, _) = alert(app, t, "sig-1", "Checkout 5xx rate above 5%").await;
    let (decoy, _) = alert(app, t, "sig-2", "Another alert").await;
    let ack = digit(&url("acknowledge", &slug, &id), "CA1", BOB, "4");

    let forged = ack.signed("not-the-auth-token-000");
    let mut unsigned = ack.signed(TOKEN);
    unsigned.signature = String::new();
    // Signed for alert A, sent with alert B in the URL.
    let mut swapped = ack.signed(TOKEN);
    swapped.url = url("acknowledge", &slug, &decoy);
    // Signed, then the digit changed.
    let mut tampered = ack.signed(TOKEN);
    tampered.body = tampered.body.replace("Digits=4", "Digits=6");
    // Signed with the other tenant's token, or sent to the other tenant with this one's.
    let foreign = ack.signed("other-tenant-token-0003");
    let mut elsewhere = ack.signed(TOKEN);
    elsewhere.url = url("acknowledge", other.tenant.slug.as_str(), &id);
    for (what, signed) in [
        ("forged", forged),
        ("unsigned", unsigned),
        ("alert swapped", swapped),
        ("body changed", tampered),
        ("another tenant's token", foreign),
        ("sent to another tenant", elsewhere),
    ] {
        let mut req = app.request(Method::POST, &signed.path_and_query());
        for (name, value) in signed.headers() {
            if !(name == "x-twilio-signature" && value.is_empty()) {
                req = req.header(name, value);
            }
        }
        let (status, body) = send(req.body(signed.body)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {body}");
        assert_eq!(body["code"], "invalid_signature", "{what}: {body}");
    }
    for alert in [&id, &decoy] {
        assert_eq!(get_alert(app, t, alert).await["status"], "firing");
    }
    let audited: i64 = sqlx::query_scalar(&format!(
        "select count(*) from {}.audit_log where resource_type = 'alerts'",
        live.schema()
    ))
    .fetch_one(app.db())
    .await
    .unwrap();
    assert_eq!(audited, 0);

    // Mid-rotation, Twilio signs with the new token: the secondary one verifies.
    let (status, xml) = post(app, &ack, SECONDARY).await;
    assert_eq!(status, StatusCode::OK, "{xml}");
    assert_eq!(get_alert(app, t, &id).await["status"], "acknowledged");
}

#[tokio::test]
async fn twilio_failing_twice_moves_to_the_next_tier_and_an_unanswered_call_waits_for_the_deadline() {
    let live = live(json!([
        {"timeout_minutes": 5, "notify_via": ["phone"], "targets": ["oncall_primary"]},
        {"timeout_minutes": 5, "notify_via": ["sms"], "targets": ["oncall_secondary"]}
    ]))
    .await;
    let Live { twilio, app, t, .. } = &live;
    let slug = live.slug();
    twilio.fail_next(Some(Resource::Calls), Failure::ServerError, 2);
    let (id, _) = alert(app, t, "fail-1", "Checkout 5xx rate above 5%").await;
    let first = twilio.wait_for(Resource::Calls, 1, WAIT).await;
    assert_eq!(first[0].answer.as_ref().unwrap().status, 500);
    until("the page waits for its retry", || async {
        notifications(app, t, &id)
            .await
            .iter()
            .any(|n| n["status"] == "pending" && n["attempts"] == 1)
    })
    .await;
    assert_eq!(twilio.count(Resource::Messages), 0, "no next tier yet");
    // The retry, 30 s later, fails too: the next tier (an SMS to Alice) goes out at once.
    app.clock.advance(Duration::seconds(30));
    let second = twilio.wait_for(Resource::Calls, 2, WAIT).await;
    assert_eq!(second[1].answer.as_ref().unwrap().status, 500);
    let sms = twilio.wait_for(Resource::Messages, 1, WAIT).await.remove(0);
    assert_eq!(sms.field("To"), Some(ALICE));
    let pages = notifications(app, t, &id).await;
    let call = pages.iter().find(|n| n["channel"] == "phone").unwrap();
    assert_eq!(call["status"], "failed");
    assert_eq!(call["attempts"], 2);
    assert!(actions(&escalation(app, t, &id).await).contains(&"delivery_failed".to_owned()));

    // A call that rings out: not answered, and the escalation waits for the tier's deadline.
    app.clock.advance(Duration::seconds(61));
    let (id, _) = alert(app, t, "fail-2", "Queue depth growing").await;
    let call = twilio.wait_for(Resource::Calls, 3, WAIT).await.remove(2);
    assert_eq!(call.answer.as_ref().unwrap().status, 201);
    let sid = call.sid().unwrap().to_owned();
    until("the call is stored as sent", || async {
        notifications(app, t, &id)
            .await
            .iter()
            .any(|n| n["status"] == "sent")
    })
    .await;
    let status = TwilioCallback::call_status(&url("status", &slug, &id), &sid, FROM, BOB, "no-answer");
    let (code, body) = post(app, &status, TOKEN).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let pages = notifications(app, t, &id).await;
    let page = pages.iter().find(|n| n["channel"] == "phone").unwrap();
    assert_eq!(page["status"], "failed", "{page}");
    assert_eq!(page["last_error"], "not answered: no-answer");
    let e = escalation(app, t, &id).await;
    assert!(actions(&e).contains(&"not_answered".to_owned()), "{e}");
    assert_eq!(e["state"], "active");
    assert_eq!(e["next_tier"], 2);
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    assert_eq!(
        twilio.count(Resource::Messages),
        1,
        "tier 2 waits for its deadline"
    );
    // The same report again changes nothing.
    let (code, _) = post(app, &status, TOKEN).await;
    assert_eq!(code, StatusCode::OK);
    let again = escalation(app, t, &id).await;
    assert_eq!(actions(&again).iter().filter(|a| *a == "not_answered").count(), 1);
    app.clock.advance(Duration::minutes(5));
    let sms = twilio.wait_for(Resource::Messages, 2, WAIT).await.remove(1);
    assert_eq!(sms.field("To"), Some(ALICE));
}

#[tokio::test]
async fn a_paging_storm_calls_once_a_minute_and_the_digit_acknowledges_every_alert_the_call_covered() {
    let live = live(json!([
        {"timeout_minutes": 30, "notify_via": ["phone"], "targets": ["oncall_primary"]}
    ]))
    .await;
    let Live { twilio, app, t, .. } = &live;
    let schema = live.schema();
    // 30 critical alerts in 10 seconds for one service. The first call goes out before the second
    // alert arrives (pages already queued when a call goes out ride along with it).
    let mut alerts = vec![alert(app, t, "storm-0", "Node 0 down").await];
    let first = twilio.wait_for(Resource::Calls, 1, WAIT).await.remove(0);
    for i in 1..30 {
        app.clock.advance(Duration::milliseconds(333));
        alerts.push(alert(app, t, &format!("storm-{i}"), &format!("Node {i} down")).await);
    }
    // The other 29 wait for the minute to pass.
    until("the other pages wait for the interval", || async {
        let waiting: i64 = sqlx::query_scalar(&format!(
            "select count(*) from {schema}.notification_outbox
             where kind = 'alert' and status = 'pending' and handed_at is null and attempts = 0"
        ))
        .fetch_one(app.db())
        .await
        .unwrap();
        waiting == 29
    })
    .await;
    assert_eq!(twilio.count(Resource::Calls), 1);

    app.clock.advance(Duration::seconds(60));
    let second = twilio.wait_for(Resource::Calls, 2, WAIT).await.remove(1);
    let twiml = second.twiml().unwrap();
    let said = twiml.says();
    assert!(
        said[0].ends_with("And 28 more alerts, the worst critical."),
        "{said:?}"
    );
    assert!(
        twiml.gathers()[0].says[0].starts_with("Press 4 to acknowledge all 29 alerts"),
        "{said:?}"
    );
    // The outbox shows which notifications went out folded into which delivery.
    let carrier_alert = alerts
        .iter()
        .find(|(id, _)| second.field("StatusCallback").unwrap().contains(id.as_str()))
        .unwrap()
        .clone();
    let carrier = notifications(app, t, &carrier_alert.0).await;
    let carrier = carrier.iter().find(|n| n["kind"] == "alert").unwrap().clone();
    assert_eq!(carrier["covers"].as_array().unwrap().len(), 28, "{carrier}");
    let folded_alert = alerts
        .iter()
        .find(|(id, n)| *id != carrier_alert.0 && carrier["covers"].as_array().unwrap().contains(&json!(n)))
        .unwrap();
    let folded = notifications(app, t, &folded_alert.0).await;
    let row = folded
        .iter()
        .find(|n| n["status"] == "folded")
        .expect("a folded page");
    assert_eq!(row["folded_into"], carrier["id"]);
    assert!(
        folded.iter().any(|n| n["id"] == carrier["id"]),
        "the delivery it went out with is listed with it"
    );
    // At most one call a minute: the second call was handed over a minute after the first.
    let handed: Vec<DateTime<Utc>> = sqlx::query_scalar(&format!(
        "select handed_at from {schema}.notification_outbox where handed_at is not null order by handed_at"
    ))
    .fetch_all(app.db())
    .await
    .unwrap();
    assert_eq!(handed.len(), 2);
    assert!(handed[1] - handed[0] >= Duration::seconds(60));
    // Nothing is left to call about.
    app.clock.advance(Duration::seconds(61));
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    assert_eq!(twilio.count(Resource::Calls), 2);

    // 4 on the second call acknowledges the 29 alerts it stood for; the first call's alert is its own.
    let slug = live.slug();
    let action = twiml.gathers()[0].action.clone().unwrap();
    let (status, xml) = post(app, &digit(&action, second.sid().unwrap(), BOB, "4"), TOKEN).await;
    assert_eq!(status, StatusCode::OK, "{xml}");
    assert!(says(&xml)[0].contains("All 29 alerts are acknowledged"), "{xml}");
    let first_alert = alerts
        .iter()
        .find(|(id, _)| first.field("StatusCallback").unwrap().contains(id.as_str()))
        .unwrap();
    for (id, _) in &alerts {
        let expected = if id == &first_alert.0 {
            "firing"
        } else {
            "acknowledged"
        };
        let a = get_alert(app, t, id).await;
        assert_eq!(a["status"], expected, "{a}");
    }
    let first_action = first.twiml().unwrap().gathers()[0].action.clone().unwrap();
    assert_eq!(first_action, url("acknowledge", &slug, &first_alert.0));
    let (status, _) = post(app, &digit(&first_action, first.sid().unwrap(), BOB, "4"), TOKEN).await;
    assert_eq!(status, StatusCode::OK);
    for (id, _) in &alerts {
        assert_eq!(get_alert(app, t, id).await["status"], "acknowledged");
    }
}
