//! The dashboard's figures: open alerts by severity, the daily mean time to resolve, the alerts that
//! fire most often; computed over the tenant's own alerts, with the injected clock.

use chrono::{DateTime, Duration, Utc};
use nightowl_tests::{TestApp, TestTenant, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn raise(app: &TestApp, t: &TestTenant, fingerprint: &str, severity: &str) -> String {
    let (status, body) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/webhooks/generic")
            .json(
                &json!({"title": format!("{fingerprint} is down"), "fingerprint": fingerprint,
                          "severity": severity, "service": "checkout"}),
            ),
    )
    .await;
    assert!(status.is_success(), "{body}");
    body["alerts"][0]["id"].as_str().unwrap().to_owned()
}

async fn act(app: &TestApp, t: &TestTenant, id: &str, action: &str) {
    let (status, body) = send(app.as_key(
        &t.admin_key,
        Method::PATCH,
        &format!("/api/v1/alerts/{id}/{action}"),
    ))
    .await;
    assert!(status.is_success(), "{body}");
}

async fn stats(app: &TestApp, t: &TestTenant, query: &str) -> (StatusCode, Value) {
    send(app.as_key(&t.admin_key, Method::GET, &format!("/api/v1/stats/alerts{query}"))).await
}

#[tokio::test]
async fn the_dashboard_figures_count_the_tenants_alerts() {
    let app = TestApp::spawn_with_plugins(&["generic"], |_| {}).await;
    let t = app.tenant().await;
    let other = app.tenant().await;
    let day0: DateTime<Utc> = "2026-11-01T10:00:00Z".parse().unwrap();
    app.clock.set(day0);
    // Day 0: two alerts resolved after 30 and 90 minutes (mean 60).
    let a = raise(&app, &t, "db-1", "critical").await;
    let b = raise(&app, &t, "db-2", "major").await;
    app.clock.set(day0 + Duration::minutes(30));
    act(&app, &t, &a, "resolve").await;
    app.clock.set(day0 + Duration::minutes(90));
    act(&app, &t, &b, "resolve").await;
    // Day 2: one resolved after 10 minutes; `flappy` fired four times.
    let day2 = day0 + Duration::days(2);
    app.clock.set(day2);
    let c = raise(&app, &t, "cache", "warning").await;
    for _ in 0..4 {
        raise(&app, &t, "flappy", "critical").await;
    }
    app.clock.set(day2 + Duration::minutes(10));
    act(&app, &t, &c, "resolve").await;
    // Open now: flappy (critical, firing), one major acknowledged, one info firing.
    let m = raise(&app, &t, "queue", "major").await;
    act(&app, &t, &m, "acknowledge").await;
    raise(&app, &t, "info-1", "info").await;
    // Another tenant's alerts count for it alone.
    raise(&app, &other, "elsewhere", "critical").await;

    let (status, s) = stats(&app, &t, "?days=7").await;
    assert_eq!(status, StatusCode::OK, "{s}");
    assert_eq!(
        s["open_by_severity"],
        json!({"critical": 1, "major": 1, "warning": 0, "info": 1})
    );
    assert_eq!(s["firing"], 2);
    let days = s["mttr"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    assert_eq!(days[6]["day"], "2026-11-03");
    let by_day = |d: &str| days.iter().find(|x| x["day"] == d).unwrap().clone();
    assert_eq!(by_day("2026-11-01")["resolved"], 2);
    assert_eq!(by_day("2026-11-01")["mttr_minutes"], 60.0);
    assert_eq!(by_day("2026-11-02")["resolved"], 0);
    assert_eq!(by_day("2026-11-02")["mttr_minutes"], Value::Null);
    assert_eq!(by_day("2026-11-03")["mttr_minutes"], 10.0);
    let top = s["top_recurring"].as_array().unwrap();
    assert_eq!(top[0]["fingerprint"], "flappy");
    assert_eq!(top[0]["occurrences"], 4);
    assert_eq!(top[0]["alerts"], 1);
    assert!(top.iter().all(|r| r["fingerprint"] != "elsewhere"));

    let (status, body) = stats(&app, &t, "?days=0").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

#[tokio::test]
async fn who_is_on_call_now_is_listed_for_every_roster() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    app.clock.set("2026-06-10T12:00:00Z".parse().unwrap());
    let mut users = Vec::new();
    for name in ["Alice", "Bob"] {
        let (status, u) = send(
            app.as_key(&t.admin_key, Method::POST, "/api/v1/users")
                .json(&json!({
                "email": format!("{}@acme.example", name.to_lowercase()), "display_name": name,
                "role": "engineer", "timezone": "Europe/Berlin"})),
        )
        .await;
        assert!(status.is_success(), "{u}");
        users.push(u["id"].as_str().unwrap().to_owned());
    }
    let tiers = json!([{"timeout_minutes": 5, "notify_via": ["log"], "targets": ["oncall_primary"]}]);
    let members: Vec<&str> = users.iter().map(String::as_str).collect();
    let setup =
        nightowl_tests::checkout_on_call(&app, &t, tiers, 0, "Europe/Berlin", &members, &users[0]).await;
    let (status, list) = send(app.as_key(&t.admin_key, Method::GET, "/api/v1/oncall")).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["roster_id"], setup.roster.as_str());
    assert_eq!(list[0]["roster"], "Checkout");
    assert_eq!(list[0]["timezone"], "Europe/Berlin");
    // The same answer as the roster's own on-call view.
    let (_, one) = send(app.as_key(
        &t.admin_key,
        Method::GET,
        &format!("/api/v1/rosters/{}/oncall", setup.roster),
    ))
    .await;
    assert_eq!(list[0]["primary"], one["primary"]);
    assert_eq!(list[0]["secondary"], one["secondary"]);
    assert_eq!(list[0]["primary"]["display_name"], "Bob");
}
