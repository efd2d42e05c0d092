//! The audit log: every mutating route leaves a row; shutdown flushes; a full buffer drops entries
//! only visibly (counted), never silently.

use std::collections::BTreeSet;
use std::time::Duration;

use nightowl::audit::{AuditEntry, AuditLog};
use nightowl_tests::{TestApp, TestTenant, send};
use reqwest::Method;
use serde_json::{Value, json};

async fn ok(app: &TestApp, t: &TestTenant, method: Method, path: &str, body: Option<Value>) -> Value {
    let mut req = app
        .as_key(&t.admin_key, method.clone(), path)
        .header("user-agent", "audit-test");
    if let Some(body) = body {
        req = req.json(&body);
    }
    let (status, answer) = send(req).await;
    assert!(status.is_success(), "{method} {path}: {status} {answer}");
    answer
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn audit_rows(app: &TestApp, t: &TestTenant, want: usize) -> Vec<Value> {
    for _ in 0..50 {
        let (_, page) = send(app.as_key(&t.admin_key, Method::GET, "/api/v1/audit-log?limit=200")).await;
        let items = page["items"].as_array().unwrap().clone();
        if items.len() >= want {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("audit rows did not arrive");
}

#[tokio::test]
async fn every_mutating_route_leaves_an_audit_row() {
    let app = TestApp::spawn_with_plugins(&["generic", "recorder"], |_| {}).await;
    let t = app.tenant().await;
    let mut done: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut mark = |m: &'static str, p: &'static str| done.insert((m, p));

    let user = ok(&app, &t, Method::POST, "/api/v1/users", Some(json!({"email": "u@x.example", "display_name": "U", "role": "engineer", "password": "a very secret password"}))).await;
    mark("POST", "/api/v1/users");
    let u = id(&user);
    ok(
        &app,
        &t,
        Method::PUT,
        &format!("/api/v1/users/{u}"),
        Some(json!({"email": "u@x.example", "display_name": "U2", "role": "engineer"})),
    )
    .await;
    mark("PUT", "/api/v1/users/{id}");
    ok(
        &app,
        &t,
        Method::POST,
        &format!("/api/v1/users/{u}/deactivate"),
        None,
    )
    .await;
    mark("POST", "/api/v1/users/{id}/deactivate");
    ok(
        &app,
        &t,
        Method::POST,
        &format!("/api/v1/users/{u}/activate"),
        None,
    )
    .await;
    mark("POST", "/api/v1/users/{id}/activate");
    ok(&app, &t, Method::DELETE, &format!("/api/v1/users/{u}"), None).await;
    mark("DELETE", "/api/v1/users/{id}");

    let svc = ok(
        &app,
        &t,
        Method::POST,
        "/api/v1/services",
        Some(json!({"name": "svc"})),
    )
    .await;
    mark("POST", "/api/v1/services");
    ok(
        &app,
        &t,
        Method::PUT,
        &format!("/api/v1/services/{}", id(&svc)),
        Some(json!({"name": "svc2"})),
    )
    .await;
    mark("PUT", "/api/v1/services/{id}");
    ok(
        &app,
        &t,
        Method::DELETE,
        &format!("/api/v1/services/{}", id(&svc)),
        None,
    )
    .await;
    mark("DELETE", "/api/v1/services/{id}");

    let key = ok(
        &app,
        &t,
        Method::POST,
        "/api/v1/admin/api-keys",
        Some(json!({"name": "k", "role": "readonly"})),
    )
    .await;
    mark("POST", "/api/v1/admin/api-keys");
    ok(
        &app,
        &t,
        Method::DELETE,
        &format!("/api/v1/admin/api-keys/{}", id(&key)),
        None,
    )
    .await;
    mark("DELETE", "/api/v1/admin/api-keys/{id}");
    ok(
        &app,
        &t,
        Method::PUT,
        "/api/v1/admin/config",
        Some(json!({"default_timezone": "Europe/Berlin"})),
    )
    .await;
    mark("PUT", "/api/v1/admin/config");
    ok(
        &app,
        &t,
        Method::PUT,
        "/api/v1/admin/plugins/recorder/config",
        Some(json!({"settings": {"token": "xoxb-top-secret-value-123"}})),
    )
    .await;
    mark("PUT", "/api/v1/admin/plugins/{id}/config");
    ok(&app, &t, Method::POST, "/api/v1/admin/plugins/reload", None).await;
    mark("POST", "/api/v1/admin/plugins/reload");

    let ingest = ok(
        &app,
        &t,
        Method::POST,
        "/api/v1/webhooks/generic",
        Some(json!({"title": "disk"})),
    )
    .await;
    mark("POST", "/api/v1/webhooks/{source}");
    let alert = ingest["alerts"][0]["id"].as_str().unwrap().to_owned();
    ok(
        &app,
        &t,
        Method::PATCH,
        &format!("/api/v1/alerts/{alert}/acknowledge"),
        None,
    )
    .await;
    mark("PATCH", "/api/v1/alerts/{id}/acknowledge");
    ok(
        &app,
        &t,
        Method::PATCH,
        &format!("/api/v1/alerts/{alert}/resolve"),
        None,
    )
    .await;
    mark("PATCH", "/api/v1/alerts/{id}/resolve");

    let a = ok(
        &app,
        &t,
        Method::POST,
        "/api/v1/incidents",
        Some(json!({"title": "a"})),
    )
    .await;
    mark("POST", "/api/v1/incidents");
    let b = ok(
        &app,
        &t,
        Method::POST,
        "/api/v1/incidents",
        Some(json!({"title": "b"})),
    )
    .await;
    ok(
        &app,
        &t,
        Method::PUT,
        &format!("/api/v1/incidents/{}", id(&a)),
        Some(json!({"title": "a2"})),
    )
    .await;
    mark("PUT", "/api/v1/incidents/{id}");
    ok(
        &app,
        &t,
        Method::POST,
        &format!("/api/v1/incidents/{}/review", id(&b)),
        None,
    )
    .await;
    mark("POST", "/api/v1/incidents/{id}/review");
    ok(
        &app,
        &t,
        Method::POST,
        &format!("/api/v1/incidents/{}/merge", id(&a)),
        Some(json!({"target_id": id(&b)})),
    )
    .await;
    mark("POST", "/api/v1/incidents/{id}/merge");
    ok(
        &app,
        &t,
        Method::DELETE,
        &format!("/api/v1/incidents/{}", id(&b)),
        None,
    )
    .await;
    mark("DELETE", "/api/v1/incidents/{id}");

    let rb = ok(
        &app,
        &t,
        Method::POST,
        "/api/v1/runbooks",
        Some(json!({"title": "rb"})),
    )
    .await;
    mark("POST", "/api/v1/runbooks");
    ok(
        &app,
        &t,
        Method::PUT,
        &format!("/api/v1/runbooks/{}", id(&rb)),
        Some(json!({"title": "rb2"})),
    )
    .await;
    mark("PUT", "/api/v1/runbooks/{id}");
    ok(
        &app,
        &t,
        Method::DELETE,
        &format!("/api/v1/runbooks/{}", id(&rb)),
        None,
    )
    .await;
    mark("DELETE", "/api/v1/runbooks/{id}");

    let member = ok(
        &app,
        &t,
        Method::POST,
        "/api/v1/users",
        Some(json!({"email": "m@x.example", "display_name": "M", "role": "engineer"})),
    )
    .await;
    let tiers = json!([{"timeout_minutes": 5, "notify_via": ["log"], "targets": ["oncall_primary"]}]);
    let policy = ok(
        &app,
        &t,
        Method::POST,
        "/api/v1/escalation-policies",
        Some(json!({"name": "p", "tiers": tiers})),
    )
    .await;
    mark("POST", "/api/v1/escalation-policies");
    let p = id(&policy);
    ok(
        &app,
        &t,
        Method::PUT,
        &format!("/api/v1/escalation-policies/{p}"),
        Some(json!({"name": "p2", "tiers": tiers, "repeat_count": 1})),
    )
    .await;
    mark("PUT", "/api/v1/escalation-policies/{id}");
    ok(
        &app,
        &t,
        Method::POST,
        &format!("/api/v1/escalation-policies/{p}/dry-run"),
        Some(json!({})),
    )
    .await;
    mark("POST", "/api/v1/escalation-policies/{id}/dry-run");
    ok(
        &app,
        &t,
        Method::POST,
        "/api/v1/markdown",
        Some(json!({"text": "**preview**"})),
    )
    .await;
    mark("POST", "/api/v1/markdown");
    let roster_body = json!({"name": "r", "timezone": "Europe/Berlin", "rotation_type": "weekly", "handoff_time": "09:00:00", "start_date": "2026-01-05", "escalation_policy_id": p});
    let roster = ok(
        &app,
        &t,
        Method::POST,
        "/api/v1/rosters",
        Some(roster_body.clone()),
    )
    .await;
    mark("POST", "/api/v1/rosters");
    let r = id(&roster);
    ok(
        &app,
        &t,
        Method::PUT,
        &format!("/api/v1/rosters/{r}"),
        Some(roster_body),
    )
    .await;
    mark("PUT", "/api/v1/rosters/{id}");
    ok(
        &app,
        &t,
        Method::PUT,
        &format!("/api/v1/rosters/{r}/members"),
        Some(json!({"user_ids": [id(&member)]})),
    )
    .await;
    mark("PUT", "/api/v1/rosters/{id}/members");
    let over = ok(&app, &t, Method::POST, &format!("/api/v1/rosters/{r}/overrides"), Some(json!({"user_id": id(&member), "starts_at": "2026-02-01T00:00:00Z", "ends_at": "2026-02-02T00:00:00Z"}))).await;
    mark("POST", "/api/v1/rosters/{id}/overrides");
    ok(
        &app,
        &t,
        Method::DELETE,
        &format!("/api/v1/rosters/{r}/overrides/{}", id(&over)),
        None,
    )
    .await;
    mark("DELETE", "/api/v1/rosters/{id}/overrides/{override_id}");
    // An escalating alert: a service routed to the roster (one extra audited create), a critical
    // alert for it (webhooks are not audited), a manual escalation.
    ok(
        &app,
        &t,
        Method::POST,
        "/api/v1/services",
        Some(json!({"name": "pay", "roster_id": r})),
    )
    .await;
    let paging = ok(
        &app,
        &t,
        Method::POST,
        "/api/v1/webhooks/generic",
        Some(json!({"title": "pay down", "severity": "critical", "service": "pay"})),
    )
    .await;
    let paging = paging["alerts"][0]["id"].as_str().unwrap().to_owned();
    ok(
        &app,
        &t,
        Method::POST,
        &format!("/api/v1/alerts/{paging}/escalate"),
        None,
    )
    .await;
    mark("POST", "/api/v1/alerts/{id}/escalate");
    ok(
        &app,
        &t,
        Method::DELETE,
        &format!("/api/v1/escalation-policies/{p}"),
        None,
    )
    .await;
    mark("DELETE", "/api/v1/escalation-policies/{id}");
    ok(&app, &t, Method::DELETE, &format!("/api/v1/rosters/{r}"), None).await;
    mark("DELETE", "/api/v1/rosters/{id}");

    let routes = nightowl_tests::tenant_routes();
    let mutating: BTreeSet<(&str, &str)> = routes
        .iter()
        .filter(|r| r.method != Method::GET)
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(done, mutating, "the scenario exercises every mutating route");
    let audited: BTreeSet<(&str, &str)> = routes
        .iter()
        .filter(|r| r.audited)
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    assert!(
        !audited.contains(&("POST", "/api/v1/webhooks/{source}"))
            && !audited.contains(&("POST", "/api/v1/escalation-policies/{id}/dry-run"))
            && !audited.contains(&("POST", "/api/v1/markdown")),
        "webhook deliveries (each alert row records them), dry runs and markdown previews (they change \
         nothing) are not audited"
    );

    // One row per successful call of an audited route.
    // Extra calls beyond one per route: the second incident, the roster member's user and the
    // routed service.
    let expected = audited.len() + 3;
    let rows = audit_rows(&app, &t, expected).await;
    assert_eq!(rows.len(), expected);
    let seen: BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap().to_owned(),
                r["resource_type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        !seen.contains(&("dry-run".to_owned(), "escalation-policies".to_owned())),
        "a dry run leaves no row"
    );
    for (m, p) in &audited {
        let (action, resource) = nightowl::audit::describe_route(m, p);
        assert!(
            seen.contains(&(action.clone(), resource.clone())),
            "no audit row for {m} {p} ({action} {resource})"
        );
    }
    let user_create = rows
        .iter()
        .find(|r| r["action"] == "create" && r["resource_type"] == "users" && r["resource_id"] == u.as_str())
        .unwrap();
    assert_eq!(user_create["resource_id"], u.as_str());
    assert_eq!(user_create["actor_type"], "api_key");
    assert_eq!(user_create["user_agent"], "audit-test");
    assert_eq!(user_create["ip"], "127.0.0.1");
    assert_eq!(user_create["diff"]["request"]["password"], "[redacted]");
    assert!(
        !serde_json::to_string(&rows).unwrap().contains("xoxb-top-secret"),
        "secrets never reach the audit log"
    );

    let (_, filtered) = send(app.as_key(
        &t.admin_key,
        Method::GET,
        "/api/v1/audit-log?resource_type=incidents&action=merge",
    ))
    .await;
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);

    // Search finds words anywhere in an entry, ignoring case: here the member's e-mail in what was sent.
    let (_, found) = send(app.as_key(&t.admin_key, Method::GET, "/api/v1/audit-log?q=M%40X.EXAMPLE")).await;
    let found = found["items"].as_array().unwrap();
    assert!(!found.is_empty());
    assert!(
        found
            .iter()
            .all(|r| r.to_string().to_lowercase().contains("m@x.example")),
        "{found:?}"
    );
    let (_, none) = send(app.as_key(
        &t.admin_key,
        Method::GET,
        "/api/v1/audit-log?q=no-such-words-anywhere",
    ))
    .await;
    assert!(none["items"].as_array().unwrap().is_empty());
}

fn entry(t: &TestTenant, n: usize) -> AuditEntry {
    AuditEntry {
        tenant: t.tenant.slug.clone(),
        actor_type: nightowl_api::admin::ActorType::System,
        actor_id: None,
        actor_label: "test".into(),
        action: "create".into(),
        resource_type: "things".into(),
        resource_id: Some(n.to_string()),
        diff: None,
        ip: None,
        user_agent: None,
        request_id: None,
        created_at: chrono::Utc::now(),
    }
}

async fn count(app: &TestApp, t: &TestTenant) -> i64 {
    sqlx::query_scalar(&format!(
        "select count(*) from {}.audit_log where resource_type = 'things'",
        t.tenant.slug.schema()
    ))
    .fetch_one(app.db())
    .await
    .unwrap()
}

#[tokio::test]
async fn graceful_shutdown_writes_every_queued_entry() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let log = AuditLog::start(app.db().clone(), &prometheus::Registry::new()).unwrap();
    for n in 0..2_000 {
        log.record(entry(&t, n)).await;
    }
    log.shutdown().await;
    assert_eq!(count(&app, &t).await, 2_000);
    assert_eq!(log.dropped(), 0);
    // After shutdown entries are refused visibly.
    log.record(entry(&t, 9_999)).await;
    assert_eq!(log.dropped(), 1);
}

#[tokio::test]
async fn a_full_buffer_drops_entries_visibly_and_loses_nothing_else() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    // A one-connection pool the test holds: the writer cannot write until it is released.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&nightowl_tests::database_url())
        .await
        .unwrap();
    let held = pool.acquire().await.unwrap();
    let log = AuditLog::with_capacity(pool.clone(), &prometheus::Registry::new(), 2).unwrap();
    let total = 520;
    for n in 0..total {
        log.record(entry(&t, n)).await;
    }
    let dropped = log.dropped();
    assert!(dropped > 0, "a buffer that cannot drain must drop");
    drop(held);
    log.shutdown().await;
    assert_eq!(
        count(&app, &t).await as u64 + dropped,
        total as u64,
        "written + dropped = recorded"
    );
}
