//! The channel runtime's sandbox, through a compiled test channel (`snoop`) that tries every way to
//! the value of its secret setting, against a local HTTPS server that echoes what it receives.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::get;
use nightowl_fakes::tls::{TestCa, TlsServer};
use nightowl_tests::{TestApp, TestTenant, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const SECRET: &str = "s3cr3t-value-that-must-stay-on-the-host";

/// An HTTPS server that answers every request with the headers it received, in its body and in a
/// header, and remembers the `authorization` it saw.
async fn echo_server() -> (TlsServer, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let router = Router::new()
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(std::time::Duration::from_millis(800)).await;
                "late"
            }),
        )
        .route(
            "/echo",
            get(move |headers: HeaderMap| {
                let log = log.clone();
                async move {
                    let all: Vec<String> = headers
                        .iter()
                        .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap_or_default()))
                        .collect();
                    log.lock().unwrap().extend(all.iter().cloned());
                    let auth = headers
                        .get("authorization")
                        .or_else(|| headers.get("x-echo"))
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    ([("x-echoed", auth)], all.join("\n"))
                }
            }),
        );
    (TlsServer::start(router).await.unwrap(), seen)
}

/// A tenant with `snoop` configured to call `echo_url`.
async fn snooping_tenant(app: &TestApp, echo_url: String) -> TestTenant {
    let t = app.tenant().await;
    let (status, body) = send(
        app.as_key(&t.admin_key, Method::PUT, "/api/v1/admin/plugins/snoop/config")
            .json(&json!({"settings": {"token": SECRET, "echo_url": echo_url}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!body.to_string().contains(SECRET));
    t
}

/// The callback that makes `snoop` try its tricks.
fn probe(app: &TestApp, t: &TestTenant) -> reqwest::RequestBuilder {
    app.request(
        Method::POST,
        &format!("/api/v1/channels/snoop/probe?tenant={}", t.tenant.slug),
    )
    .body("{}")
}

#[tokio::test]
async fn a_channel_plugin_reaches_only_granted_hosts_and_never_sees_a_secret() {
    let (echo, seen) = echo_server().await;
    let app = TestApp::spawn_with_plugins(&["snoop"], |c| {
        c.plugin_http_allow_loopback = true;
        c.plugin_http_ca_file = Some(TestCa::pem_file().to_owned());
        // The manifest asks for localhost and forbidden.localhost; the operator grants one.
        c.plugin_grants = "snoop=localhost".to_owned();
    })
    .await;
    let t = snooping_tenant(&app, format!("{}/echo", echo.base_url())).await;
    let answer = probe(&app, &t).send().await.unwrap();
    // An unauthenticated callback's answer is data, never a page.
    let headers = answer.headers().clone();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let status = answer.status();
    let report: Value = answer.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{report}");
    let text = report.to_string();
    assert!(!text.contains(SECRET), "the guest saw the secret: {report:#}");
    assert_eq!(
        report["config_token"],
        Value::Null,
        "secrets are not settings the guest reads"
    );

    // The host did send it where the plugin may send it...
    let received = seen.lock().unwrap().clone();
    assert!(
        received
            .iter()
            .any(|h| h == &format!("authorization: Bearer {SECRET}")),
        "the bearer secret was injected: {received:?}"
    );
    assert!(
        received.iter().any(|h| h == &format!("x-echo: {SECRET}")),
        "{received:?}"
    );
    // ...but its echo came back redacted, in the body and in a header.
    let echoed = report["echoed"].as_str().unwrap();
    assert!(echoed.starts_with("Ok((200"), "{echoed}");
    assert!(echoed.contains("Bearer [redacted]"), "{echoed}");
    assert!(
        report["header"].as_str().unwrap().contains("[redacted]"),
        "{report:#}"
    );

    // A host in the manifest but outside the operator's grant, and a setting that is no secret.
    let foreign = report["foreign"].as_str().unwrap();
    assert!(
        foreign.contains("Denied") && foreign.contains("forbidden.localhost"),
        "{foreign}"
    );
    assert!(
        report["not_a_secret"]
            .as_str()
            .unwrap()
            .contains("not a secret setting"),
        "{report:#}"
    );
    // HMAC gives a MAC, never the key; a plain setting keys nothing.
    assert!(report["hmac"].as_str().unwrap().starts_with("Ok(["), "{report:#}");
    assert!(
        report["hmac_of_setting"]
            .as_str()
            .unwrap()
            .contains("not a secret setting"),
        "{report:#}"
    );
    // Nothing changes before the plugin has verified a signature; a plugin speaks only for its own
    // channel's people, and only for people NightOwl knows.
    let before = report["act_before_verify"].as_str().unwrap();
    assert!(
        before.contains("Forbidden") && before.contains("not verified"),
        "{before}"
    );
    assert_eq!(report["verified"], "Ok(true)");
    assert!(
        report["act_as_stranger"].as_str().unwrap().contains("Forbidden"),
        "{report:#}"
    );
    let other = report["act_as_other_channel"].as_str().unwrap();
    assert!(
        other.contains("Forbidden") && other.contains("own users"),
        "{other}"
    );

    // Nothing of it in the audit log either.
    let audit: Vec<Value> = sqlx::query_scalar(&format!(
        "select to_jsonb(a) from {}.audit_log a",
        t.tenant.slug.schema()
    ))
    .fetch_all(app.db())
    .await
    .unwrap();
    assert!(
        !serde_json::to_string(&audit).unwrap().contains(SECRET),
        "{audit:?}"
    );
}

#[tokio::test]
async fn without_the_loopback_switch_a_plugin_cannot_reach_local_addresses() {
    let (echo, seen) = echo_server().await;
    let app = TestApp::spawn_with_plugins(&["snoop"], |c| {
        c.plugin_http_ca_file = Some(TestCa::pem_file().to_owned());
    })
    .await;
    let t = snooping_tenant(&app, format!("{}/echo", echo.base_url())).await;
    let (status, report) = send(probe(&app, &t)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let echoed = report["echoed"].as_str().unwrap();
    assert!(
        echoed.contains("Denied") && echoed.contains("may not reach"),
        "{echoed}"
    );
    assert!(
        seen.lock().unwrap().is_empty(),
        "nothing reached the local server"
    );
}

/// A channel call waiting on a slow API holds no core: with one core for plugins, a webhook's parse
/// runs (and its delivery is answered) while the channel call still waits.
#[tokio::test]
async fn a_channel_waiting_on_its_api_gives_its_core_to_other_plugin_calls() {
    let (echo, _) = echo_server().await;
    let app = TestApp::spawn_with_plugins(&["snoop", "generic"], |c| {
        c.plugin_http_allow_loopback = true;
        c.plugin_http_ca_file = Some(TestCa::pem_file().to_owned());
        c.plugin_concurrency = Some(1);
    })
    .await;
    let t = snooping_tenant(&app, format!("{}/slow", echo.base_url())).await;
    let order = Arc::new(Mutex::new(Vec::new()));
    let probe = {
        let (req, order) = (probe(&app, &t), order.clone());
        tokio::spawn(async move {
            let (status, body) = send(req).await;
            order.lock().unwrap().push("channel");
            assert!(
                body["echoed"].as_str().unwrap_or_default().contains("late"),
                "{body:#}"
            );
            status
        })
    };
    // Let the channel call start and block in its first request.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (status, body) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/webhooks/generic")
            .json(&json!({"title": "Disk full", "severity": "warning"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    order.lock().unwrap().push("webhook");
    assert_eq!(probe.await.unwrap(), StatusCode::OK);
    assert_eq!(
        *order.lock().unwrap(),
        ["webhook", "channel"],
        "the webhook did not wait for the channel's I/O"
    );
}

/// The seed's callback URLs are aliases of the channel route: a known one reaches its plugin (or
/// says no such channel is installed), an unknown one is 404.
#[tokio::test]
async fn the_seed_callback_urls_route_to_their_channel_plugin() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    for (path, code) in [
        ("/api/v1/twilio/sms", "unknown_channel"),
        ("/api/v1/twilio/acknowledge", "unknown_channel"),
        ("/api/v1/slack/commands", "unknown_channel"),
        ("/api/v1/twilio/dance", "not_found"),
        ("/api/v1/slack/dance", "not_found"),
    ] {
        let (status, body) = send(
            app.request(Method::POST, &format!("{path}?tenant={}", t.tenant.slug))
                .body("From=%2B15005550006&Body=1a"),
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::NOT_FOUND, Some(code)),
            "{path}: {body}"
        );
    }
}

/// The Twilio plugin (0.1.1) loads, and a signed SMS reply from a person's phone acknowledges the
/// numbered alert as that person, via twilio; a forged one is refused by the plugin with 403.
#[tokio::test]
async fn a_signed_sms_reply_acknowledges_the_numbered_alert_as_the_person_with_that_phone() {
    use base64::Engine as _;
    use hmac::{Hmac, Mac};
    const TOKEN: &str = "twilio-auth-token-0000000000000000";
    let app = TestApp::spawn_with_plugins(&["twilio", "generic"], |_| {}).await;
    assert_eq!(app.state.plugins.get("twilio").unwrap().api_version(), "0.1.1");
    let t = app.tenant().await;
    let admin = |method: Method, path: &str, body: Value| {
        let req = app.as_key(&t.admin_key, method, path).json(&body);
        async move {
            let (status, v) = send(req).await;
            assert!(status.is_success(), "{status} {v}");
            v
        }
    };
    admin(
        Method::PUT,
        "/api/v1/admin/plugins/twilio/config",
        json!({"settings": {"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": TOKEN,
                            "from_number": "+15005550006"}}),
    )
    .await;
    admin(
        Method::POST,
        "/api/v1/users",
        json!({"email": "pat@acme.example", "display_name": "Pat", "role": "engineer", "phone": "+15005550001"}),
    )
    .await;
    let alert = admin(
        Method::POST,
        "/api/v1/webhooks/generic",
        json!({"title": "Disk full", "severity": "critical"}),
    )
    .await;
    let id = alert["alerts"][0]["id"].as_str().unwrap().to_owned();
    let number = admin(Method::GET, &format!("/api/v1/alerts/{id}"), Value::Null).await["number"]
        .as_i64()
        .unwrap();

    // Twilio signs the URL it called followed by the sorted form parameters, with HMAC-SHA1.
    let path = format!("/api/v1/twilio/sms?tenant={}", t.tenant.slug);
    let url = format!("{}{path}", app.state.config.public_url.trim_end_matches('/'));
    let params = [
        ("Body", format!("{number}a")),
        ("From", "+15005550001".to_owned()),
    ];
    let sign = |key: &str| {
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(url.as_bytes());
        for (k, v) in &params {
            mac.update(k.as_bytes());
            mac.update(v.as_bytes());
        }
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    };
    let body = format!("Body={number}a&From=%2B15005550001");
    let reply = |signature: String| {
        app.request(Method::POST, &path)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-twilio-signature", signature)
            .body(body.clone())
    };
    let forged = reply(sign("not-the-token-000000000000")).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let (_, a) = send(app.as_key(&t.admin_key, Method::GET, &format!("/api/v1/alerts/{id}"))).await;
    assert_eq!(a["status"], "firing", "a forged reply changes nothing");

    let answer = reply(sign(TOKEN)).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(
        answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/xml")
    );
    let twiml = answer.text().await.unwrap();
    assert!(twiml.contains("<Message>"), "{twiml}");
    let (_, a) = send(app.as_key(&t.admin_key, Method::GET, &format!("/api/v1/alerts/{id}"))).await;
    assert_eq!(a["status"], "acknowledged", "{twiml}");
    assert_eq!(a["acknowledged_by"], "pat@acme.example via twilio");

    // A bare "a" acknowledges the alert last paged to Pat through Twilio's channels (here a page by
    // SMS the outbox holds as sent; a fake Twilio to page for real comes with the rest of issue 13).
    let second = admin(
        Method::POST,
        "/api/v1/webhooks/generic",
        json!({"title": "CPU hot", "severity": "critical"}),
    )
    .await;
    let second = second["alerts"][0]["id"].as_str().unwrap().to_owned();
    let pat: String = sqlx::query_scalar(&format!(
        "select id::text from {}.users where email = 'pat@acme.example'",
        t.tenant.slug.schema()
    ))
    .fetch_one(app.db())
    .await
    .unwrap();
    sqlx::query(&format!(
        "insert into {}.notification_outbox (idempotency_key, alert_id, kind, channel, target, status, attempts,
                                             next_attempt_at, created_at, sent_at, result, payload)
         values ('test-page', $1::uuid, 'alert', 'sms', $2, 'sent', 1, now(), now(), now(), '{{\"external_id\": \"SM1\"}}',
                 jsonb_build_object('notification', jsonb_build_object('destination', jsonb_build_object('group', 'x'))))",
        t.tenant.slug.schema()
    ))
    .bind(&second)
    .bind(&pat)
    .execute(app.db())
    .await
    .unwrap();
    let bare = [("Body", "a".to_owned()), ("From", "+15005550001".to_owned())];
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(TOKEN.as_bytes()).unwrap();
    mac.update(url.as_bytes());
    for (k, v) in &bare {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let answer = app
        .request(Method::POST, &path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature)
        .body("Body=a&From=%2B15005550001")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let twiml = answer.text().await.unwrap();
    let (_, b) = send(app.as_key(&t.admin_key, Method::GET, &format!("/api/v1/alerts/{second}"))).await;
    assert_eq!(b["status"], "acknowledged", "{twiml}");
}
