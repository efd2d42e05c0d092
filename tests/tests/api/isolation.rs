//! Tenant isolation: tenant A's credentials never see or change tenant B's rows, on any endpoint, and
//! concurrent requests of two tenants on a small pool never cross.

use std::collections::BTreeSet;

use nightowl_tests::{TestApp, TestTenant, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

struct Seeded {
    user_id: String,
    service_id: String,
    key_id: String,
    key: String,
    alert_id: String,
    incident_id: String,
    runbook_id: String,
    roster_id: String,
    override_id: String,
    policy_id: String,
}

async fn seed(app: &TestApp, t: &TestTenant, tag: &str) -> Seeded {
    let (s, user) = send(app.as_key(&t.admin_key, Method::POST, "/api/v1/users").json(&json!({
        "email": format!("{tag}@{tag}.example"), "display_name": format!("{tag} user"), "role": "engineer"
    })))
    .await;
    assert_eq!(s, StatusCode::CREATED, "{user}");
    let (s, service) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/services")
            .json(&json!({ "name": format!("{tag}-svc") })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{service}");
    let (s, key) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/admin/api-keys")
            .json(&json!({ "name": format!("{tag}-key"), "role": "readonly" })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{key}");
    let (s, alert) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/webhooks/generic")
            .json(&json!({ "title": format!("{tag} alert"), "fingerprint": "shared-fingerprint" })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{alert}");
    let (s, incident) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/incidents")
            .json(&json!({ "title": format!("{tag} incident"), "fingerprints": ["shared-fingerprint"] })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{incident}");
    let (s, runbook) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/runbooks")
            .json(&json!({ "title": format!("{tag} runbook"), "content": "steps" })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{runbook}");
    let (s, roster) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/rosters")
            .json(&json!({
                "name": format!("{tag} roster"), "timezone": "Europe/Berlin", "rotation_type": "weekly",
                "handoff_time": "09:00:00", "start_date": "2026-01-05"
            })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{roster}");
    let roster_id = roster["id"].as_str().unwrap().to_owned();
    let (s, over) = send(
        app.as_key(
            &t.admin_key,
            Method::POST,
            &format!("/api/v1/rosters/{roster_id}/overrides"),
        )
        .json(&json!({
            "user_id": user["id"], "starts_at": "2026-02-01T00:00:00Z", "ends_at": "2026-02-02T00:00:00Z"
        })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{over}");
    let (s, policy) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/escalation-policies")
            .json(&json!({ "name": format!("{tag} policy"), "tiers": policy_tiers() })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{policy}");
    Seeded {
        policy_id: policy["id"].as_str().unwrap().into(),
        override_id: over["id"].as_str().unwrap().into(),
        roster_id,
        runbook_id: runbook["id"].as_str().unwrap().into(),
        incident_id: incident["id"].as_str().unwrap().into(),
        alert_id: alert["alerts"][0]["id"].as_str().unwrap().into(),
        user_id: user["id"].as_str().unwrap().into(),
        service_id: service["id"].as_str().unwrap().into(),
        key_id: key["id"].as_str().unwrap().into(),
        key: key["key"].as_str().unwrap().into(),
    }
}

fn policy_tiers() -> Value {
    json!([{ "timeout_minutes": 5, "notify_via": ["log"], "targets": ["oncall_primary"] }])
}

fn ids(list: &Value) -> BTreeSet<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn tenant_a_cannot_see_or_change_tenant_b_on_any_endpoint() {
    let app = TestApp::spawn_with_plugins(&["generic"], |_| {}).await;
    let a = app.tenant().await;
    let b = app.tenant().await;
    let b_rows = seed(&app, &b, "bravo").await;
    let a_key = &a.admin_key;
    let (_, own) = send(
        app.as_key(a_key, Method::POST, "/api/v1/incidents")
            .json(&json!({ "title": "alpha own" })),
    )
    .await;
    let a_incident = own["id"].as_str().unwrap().to_owned();
    let mut covered = BTreeSet::new();

    let routes = nightowl_tests::tenant_routes();
    for route in &routes {
        let (method, path) = (route.method.as_str(), route.path.as_str());
        let m = route.method.clone();
        // B's id where the route takes one, so A aims straight at B's row.
        let b_id = if path.starts_with("/api/v1/users") {
            &b_rows.user_id
        } else if path.starts_with("/api/v1/services") {
            &b_rows.service_id
        } else if path.starts_with("/api/v1/alerts") {
            &b_rows.alert_id
        } else if path.starts_with("/api/v1/incidents") {
            &b_rows.incident_id
        } else if path.starts_with("/api/v1/runbooks") {
            &b_rows.runbook_id
        } else if path.starts_with("/api/v1/rosters") {
            &b_rows.roster_id
        } else if path.starts_with("/api/v1/escalation-policies") {
            &b_rows.policy_id
        } else {
            &b_rows.key_id
        };
        let mut concrete = path
            .replace("{id}", b_id)
            .replace("{source}", "generic")
            .replace("{fingerprint}", "shared-fingerprint")
            .replace("{override_id}", &b_rows.override_id);
        if path.ends_with("/search") {
            concrete.push_str("?q=bravo");
        }
        let body = match path {
            "/api/v1/users" | "/api/v1/users/{id}" => {
                Some(json!({ "email": "alpha@alpha.example", "display_name": "hijack", "role": "admin" }))
            }
            "/api/v1/services" | "/api/v1/services/{id}" => Some(json!({ "name": "hijack" })),
            "/api/v1/admin/api-keys" => Some(json!({ "name": "alpha-key", "role": "readonly" })),
            "/api/v1/admin/config" => Some(json!({ "default_timezone": "Europe/Lisbon" })),
            "/api/v1/admin/plugins/{id}/config" => Some(json!({ "settings": {} })),
            // Same fingerprint as B's open alert: dedup must not cross tenants.
            "/api/v1/webhooks/{source}" => {
                Some(json!({ "title": "alpha alert", "fingerprint": "shared-fingerprint" }))
            }
            "/api/v1/incidents" | "/api/v1/incidents/{id}" => Some(json!({ "title": "hijack" })),
            "/api/v1/runbooks" | "/api/v1/runbooks/{id}" => Some(json!({ "title": "hijack" })),
            "/api/v1/rosters" | "/api/v1/rosters/{id}" => Some(json!({
                "name": "hijack", "timezone": "UTC", "rotation_type": "daily", "handoff_time": "09:00:00",
                "start_date": "2026-01-01"
            })),
            "/api/v1/rosters/{id}/members" => Some(json!({ "user_ids": [] })),
            "/api/v1/rosters/{id}/overrides" => Some(json!({
                "user_id": uuid::Uuid::new_v4(), "starts_at": "2026-03-01T00:00:00Z", "ends_at": "2026-03-02T00:00:00Z"
            })),
            "/api/v1/escalation-policies" | "/api/v1/escalation-policies/{id}" => {
                Some(json!({ "name": "hijack", "tiers": policy_tiers() }))
            }
            "/api/v1/escalation-policies/{id}/dry-run" => Some(json!({})),
            "/api/v1/markdown" => Some(json!({ "text": "**bravo**" })),
            // Aim A's own incident at B's: must be "not found".
            "/api/v1/incidents/{id}/merge" => Some(json!({ "target_id": a_incident })),
            _ => None,
        };
        let mut req = app.as_key(a_key, m.clone(), &concrete);
        if let Some(body) = body.filter(|_| m == Method::POST || m == Method::PUT) {
            req = req.json(&body);
        }
        let (status, body) = send(req).await;
        if path.contains("{id}") {
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "A {method} {concrete}: {status} {body}"
            );
        } else if m == Method::GET {
            assert_eq!(status, StatusCode::OK, "{path}: {body}");
            let text = body.to_string();
            for foreign in [
                &b_rows.user_id,
                &b_rows.service_id,
                &b_rows.key_id,
                &b_rows.incident_id,
                &b_rows.runbook_id,
                &b_rows.roster_id,
                &b_rows.override_id,
                &b_rows.policy_id,
            ] {
                assert!(!text.contains(foreign.as_str()), "A's {path} shows B's {foreign}");
            }
            if path == "/api/v1/ping" {
                assert_eq!(body["tenant"], a.tenant.slug.as_str());
            }
            if path == "/api/v1/alerts" {
                assert!(!text.contains("bravo"), "A's alert list shows B's alert");
            }
        } else {
            assert!(status.is_success(), "A {method} {path}: {status} {body}");
        }
        covered.insert((method, path));
    }
    assert_eq!(covered.len(), routes.len(), "every route is checked");

    // B's rows are exactly as B left them.
    let (_, user) = send(app.as_key(
        &b.admin_key,
        Method::GET,
        &format!("/api/v1/users/{}", b_rows.user_id),
    ))
    .await;
    assert_eq!(user["email"], "bravo@bravo.example");
    assert_eq!(user["is_active"], true);
    let (_, svc) = send(app.as_key(
        &b.admin_key,
        Method::GET,
        &format!("/api/v1/services/{}", b_rows.service_id),
    ))
    .await;
    assert_eq!(svc["name"], "bravo-svc");
    let (status, _) = send(app.as_key(&b_rows.key, Method::GET, "/api/v1/ping")).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "B's key still works after A tried to revoke it"
    );
    let (_, config) = send(app.as_key(&b.admin_key, Method::GET, "/api/v1/admin/config")).await;
    assert_eq!(config["default_timezone"], "UTC", "A's settings are A's");
    let (_, users) = send(app.as_key(&b.admin_key, Method::GET, "/api/v1/users")).await;
    assert_eq!(ids(&users), BTreeSet::from([b_rows.user_id.clone()]));
    let (_, alert) = send(app.as_key(
        &b.admin_key,
        Method::GET,
        &format!("/api/v1/alerts/{}", b_rows.alert_id),
    ))
    .await;
    assert_eq!(
        (alert["status"].as_str(), alert["occurrence_count"].as_i64()),
        (Some("firing"), Some(1))
    );
    let (_, alerts) = send(app.as_key(&a.admin_key, Method::GET, "/api/v1/alerts")).await;
    assert_eq!(
        alerts["items"].as_array().unwrap().len(),
        1,
        "A's own alert, not deduplicated into B's"
    );
}

#[tokio::test]
async fn concurrent_requests_of_two_tenants_on_a_small_pool_never_cross() {
    let app = TestApp::spawn_with_pool(3, |_| {}).await;
    let a = app.tenant().await;
    let b = app.tenant().await;
    for (t, tag) in [(&a, "alpha"), (&b, "bravo")] {
        for i in 0..3 {
            let (s, _) = send(
                app.as_key(&t.admin_key, Method::POST, "/api/v1/services")
                    .json(&json!({ "name": format!("{tag}-{i}") })),
            )
            .await;
            assert_eq!(s, StatusCode::CREATED);
        }
    }
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..200 {
        let (t, tag) = if i % 2 == 0 { (&a, "alpha") } else { (&b, "bravo") };
        let req = if i % 4 < 2 {
            app.as_key(&t.admin_key, Method::GET, "/api/v1/services")
        } else {
            app.as_key(&t.admin_key, Method::GET, "/api/v1/ping")
        };
        let slug = t.tenant.slug.to_string();
        tasks.spawn(async move { (tag, slug, send(req).await) });
    }
    let mut n = 0;
    while let Some(result) = tasks.join_next().await {
        let (tag, slug, (status, body)) = result.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        if let Some(items) = body["items"].as_array() {
            assert_eq!(items.len(), 3);
            for item in items {
                assert!(
                    item["name"].as_str().unwrap().starts_with(tag),
                    "{tag} saw {item}"
                );
            }
        } else {
            assert_eq!(body["tenant"], slug.as_str());
        }
        n += 1;
    }
    assert_eq!(n, 200);
}
