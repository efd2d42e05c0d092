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
