//! The alert pipeline through the real compiled source plugins: parse, dedup, auto-resolve,
//! enrichment, agent fixes, the alerts API.

use std::process::Command;

use nightowl_tests::{TestApp, TestTenant, error_code, send, start_redis};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn sample(path: &str) -> String {
    let root = nightowl_tests::workspace_root();
    std::fs::read_to_string(root.join("tests/fixtures").join(path)).expect("fixture in tests/fixtures")
}

async fn post(app: &TestApp, t: &TestTenant, source: &str, body: String) -> (StatusCode, Value) {
    send(
        app.as_key(&t.admin_key, Method::POST, &format!("/api/v1/webhooks/{source}"))
            .header("content-type", "application/json")
            .body(body),
    )
    .await
}

async fn count(app: &TestApp, t: &TestTenant, sql_where: &str) -> i64 {
    sqlx::query_scalar(&format!(
        "select count(*) from {}.alerts where {sql_where}",
        t.tenant.slug.schema()
    ))
    .fetch_one(app.db())
    .await
    .unwrap()
}

#[tokio::test]
async fn alertmanager_group_creates_alerts_with_its_fingerprints_and_a_repeat_deduplicates() {
    let app = TestApp::spawn_with_plugins(&["alertmanager"], |_| {}).await;
    let t = app.tenant().await;
    let body = sample("alertmanager/grafana-oncall_test_legacy_alertmanager_firing_3.json");
    let (status, answer) = post(&app, &t, "alertmanager", body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let outcomes: Vec<_> = answer["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["outcome"].clone())
        .collect();
    assert_eq!(outcomes, [json!("created"), json!("created"), json!("created")]);
    let fps: Vec<_> = answer["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(fps, ["f404ecabc8dd5cd7", "f8f08d4e32c61a9d", "39f38c0611ee7abd"]);

    let (_, again) = post(&app, &t, "alertmanager", body).await;
    assert!(
        again["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["outcome"] == "deduplicated")
    );
    assert_eq!(count(&app, &t, "true").await, 3);
    assert_eq!(
        count(
            &app,
            &t,
            "occurrence_count = 2 and severity = 'critical' and priority = 'P1'"
        )
        .await,
        3
    );

    let (_, list) = send(app.as_key(
        &t.admin_key,
        Method::GET,
        "/api/v1/alerts?status=firing&source=alertmanager",
    ))
    .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"nightowl_alerts_received_total{severity="critical",source="alertmanager"} 6"#),
        "{metrics}"
    );
    assert!(metrics.contains("nightowl_alerts_deduplicated_total 3"));
    assert!(metrics.contains(r#"nightowl_alert_processing_duration_seconds_count{source="alertmanager"} 2"#));
}

#[tokio::test]
async fn a_resolved_notification_closes_the_open_alert_and_unknown_resolutions_are_ignored() {
    let app = TestApp::spawn_with_plugins(&["alertmanager"], |_| {}).await;
    let t = app.tenant().await;
    let firing =
        sample("alertmanager/pythonwebhook_testcurl7_resolved_1.json").replace("\"resolved\"", "\"firing\"");
    let (_, created) = post(&app, &t, "alertmanager", firing).await;
    assert_eq!(created["alerts"][0]["outcome"], "created");
    let (_, resolved) = post(
        &app,
        &t,
        "alertmanager",
        sample("alertmanager/pythonwebhook_testcurl7_resolved_1.json"),
    )
    .await;
    assert_eq!(resolved["alerts"][0]["outcome"], "resolved");
    assert_eq!(resolved["alerts"][0]["id"], created["alerts"][0]["id"]);
    assert_eq!(
        count(
            &app,
            &t,
            "status = 'resolved' and resolved_by = 'source:alertmanager' and ends_at is not null"
        )
        .await,
        1
    );
    let (_, again) = post(
        &app,
        &t,
        "alertmanager",
        sample("alertmanager/pythonwebhook_testcurl7_resolved_1.json"),
    )
    .await;
    assert_eq!(again["alerts"][0]["outcome"], "ignored");
    assert_eq!(count(&app, &t, "true").await, 1);
}

#[tokio::test]
async fn keep_and_generic_payloads_are_stored_and_bad_payloads_write_nothing() {
    let app = TestApp::spawn_with_plugins(&["keep", "generic"], |_| {}).await;
    let t = app.tenant().await;
    let (status, keep) = post(&app, &t, "keep", sample("keep/alertdto_schema_example.json")).await;
    assert_eq!(status, StatusCode::OK, "{keep}");
    let id = keep["alerts"][0]["id"].as_str().unwrap();
    let (_, alert) = send(app.as_key(&t.admin_key, Method::GET, &format!("/api/v1/alerts/{id}"))).await;
    assert_eq!(
        (alert["severity"].as_str(), alert["service"].as_str()),
        (Some("critical"), Some("backend"))
    );
    assert_eq!(alert["labels"]["keep_source"], "prometheus");

    let body = json!({"title": "Queue backlog", "severity": "P2", "labels": {"queue": "orders"}}).to_string();
    let (_, generic) = post(&app, &t, "generic", body).await;
    let fp = generic["alerts"][0]["fingerprint"].as_str().unwrap();
    assert_eq!(fp.len(), 64, "derived SHA-256 fingerprint");

    for (source, bad, code) in [
        ("generic", "{\"severity\": \"critical\"}", "invalid_payload"),
        ("generic", "not json", "invalid_payload"),
        ("keep", "{\"status\": \"firing\"}", "invalid_payload"),
        (
            "generic",
            "[{\"title\": \"ok\"}, {\"title\": \"   \"}]",
            "invalid_payload",
        ),
    ] {
        let (status, err) = post(&app, &t, source, bad.into()).await;
        assert_eq!(
            (status, error_code(&err)),
            (StatusCode::UNPROCESSABLE_ENTITY, code),
            "{bad}: {err}"
        );
    }
    let (status, err) = post(&app, &t, "nosuchsource", "{}".into()).await;
    assert_eq!(
        (status, error_code(&err)),
        (StatusCode::NOT_FOUND, "unknown_source")
    );
    assert_eq!(
        count(&app, &t, "true").await,
        2,
        "nothing from the refused deliveries"
    );
}

async fn concurrent_identical(app: &TestApp, t: &TestTenant, n: usize) -> Vec<String> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let req = app
            .as_key(&t.admin_key, Method::POST, "/api/v1/webhooks/generic")
            .json(&json!({"title": "Same problem", "fingerprint": "same-fp", "severity": "critical"}));
        tasks.spawn(async move { send(req).await });
    }
    let mut outcomes = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let (status, body) = r.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        outcomes.push(body["alerts"][0]["outcome"].as_str().unwrap().to_owned());
    }
    outcomes
}

#[tokio::test]
async fn two_hundred_concurrent_identical_alerts_make_one_row_with_redis_up_and_down() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut redis = start_redis(port);
    let app = TestApp::spawn_with_plugins(&["generic"], |c| {
        c.redis_url = Some(format!("redis://127.0.0.1:{port}"))
    })
    .await;
    for _ in 0..50 {
        if send(app.request(Method::GET, "/readyz")).await.1["redis"] == "ok" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let t = app.tenant().await;
    let outcomes = concurrent_identical(&app, &t, 200).await;
    assert_eq!(outcomes.iter().filter(|o| *o == "created").count(), 1);
    assert_eq!(count(&app, &t, "true").await, 1);
    assert_eq!(count(&app, &t, "occurrence_count = 200").await, 1);
    let key = format!("nightowl:{}:fp:same-fp", t.tenant.slug);
    let cached = Command::new("redis-cli")
        .args(["-p", &port.to_string(), "get", &key])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&cached.stdout).trim().is_empty(),
        "fast path entry written"
    );

    redis.kill().unwrap();
    redis.wait().unwrap();
    let down = app.tenant().await;
    let outcomes = concurrent_identical(&app, &down, 200).await;
    assert_eq!(outcomes.iter().filter(|o| *o == "created").count(), 1);
    assert_eq!(count(&app, &down, "occurrence_count = 200").await, 1);
    assert_eq!(count(&app, &down, "true").await, 1);
}

async fn insert_incident(
    app: &TestApp,
    t: &TestTenant,
    title: &str,
    fingerprints: &[&str],
    symptoms: &str,
    solution: &str,
) -> String {
    let id: uuid::Uuid = sqlx::query_scalar(&format!(
        "insert into {}.incidents (title, fingerprints, symptoms, solution, severity) values ($1, $2, $3, $4, 'major') returning id",
        t.tenant.slug.schema()
    ))
    .bind(title)
    .bind(fingerprints)
    .bind(symptoms)
    .bind(solution)
    .fetch_one(app.db())
    .await
    .unwrap();
    id.to_string()
}

#[tokio::test]
async fn an_alert_lists_similar_incidents_fingerprint_first_then_by_words_in_common() {
    let app = TestApp::spawn_with_plugins(&["generic"], |_| {}).await;
    let t = app.tenant().await;
    let by_fp = insert_incident(
        &app,
        &t,
        "Database volume filled up",
        &["fp-disk"],
        "writes fail",
        "Grow the volume",
    )
    .await;
    let by_text = insert_incident(
        &app,
        &t,
        "Disk full on search node",
        &[],
        "no space left on device",
        "Free disk, clear the read-only block",
    )
    .await;
    let weaker = insert_incident(
        &app,
        &t,
        "Disk full on build agent",
        &[],
        "builds fail",
        "Prune docker images",
    )
    .await;
    insert_incident(
        &app,
        &t,
        "Disk quota exceeded",
        &[],
        "uploads fail",
        "Raise the quota",
    )
    .await;
    insert_incident(&app, &t, "Certificate expired", &[], "TLS errors", "Renew").await;
    let (_, ingest) = post(
        &app,
        &t,
        "generic",
        json!({"title": "Disk full on db-1", "fingerprint": "fp-disk", "description": "No space left on device"})
            .to_string(),
    )
    .await;
    let alert = ingest["alerts"][0]["id"].as_str().unwrap().to_owned();
    let similar = |query: &'static str| {
        let (app, t, alert) = (&app, &t, &alert);
        async move {
            send(app.as_key(
                &t.admin_key,
                Method::GET,
                &format!("/api/v1/alerts/{alert}/similar-incidents{query}"),
            ))
            .await
        }
    };
    let (status, list) = similar("").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["incident"]["id"].as_str().unwrap())
        .collect();
    // "Disk quota exceeded" shares one word only; the certificate none.
    assert_eq!(ids, [by_fp.as_str(), by_text.as_str(), weaker.as_str()]);
    assert_eq!(
        (
            list[0]["matched_by"].as_str(),
            list[0]["rank"].is_null(),
            list[0]["linked"].as_bool()
        ),
        (Some("fingerprint"), true, Some(true))
    );
    assert_eq!(
        (list[1]["matched_by"].as_str(), list[1]["linked"].as_bool()),
        (Some("text"), Some(false))
    );
    assert!(list[1]["rank"].as_f64().unwrap() > list[2]["rank"].as_f64().unwrap());

    let (_, one) = similar("?limit=1").await;
    assert_eq!(one.as_array().unwrap().len(), 1);
    for bad in ["?limit=0", "?limit=21"] {
        let (status, err) = similar(bad).await;
        assert_eq!(
            (status, error_code(&err)),
            (StatusCode::BAD_REQUEST, "invalid_limit")
        );
    }
    let (status, err) = send(app.as_key(
        &t.admin_key,
        Method::GET,
        &format!("/api/v1/alerts/{}/similar-incidents", uuid::Uuid::new_v4()),
    ))
    .await;
    assert_eq!((status, error_code(&err)), (StatusCode::NOT_FOUND, "not_found"));
    // A deleted incident is no longer offered.
    let (status, _) = send(app.as_key(
        &t.admin_key,
        Method::DELETE,
        &format!("/api/v1/incidents/{by_text}"),
    ))
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = similar("").await;
    assert_eq!(list.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn new_alerts_are_enriched_by_fingerprint_first_then_by_best_text_match() {
    let app = TestApp::spawn_with_plugins(&["generic"], |_| {}).await;
    let t = app.tenant().await;
    let by_fp = insert_incident(
        &app,
        &t,
        "Payments DB failover",
        &["fp-payments"],
        "replica lag",
        "Promote the standby",
    )
    .await;
    let disk = insert_incident(
        &app,
        &t,
        "Disk full on database host",
        &[],
        "no space left on device, writes fail",
        "Rotate logs and grow the volume",
    )
    .await;
    let _cert = insert_incident(
        &app,
        &t,
        "Certificate expired",
        &[],
        "TLS handshake fails",
        "Renew with cert-manager",
    )
    .await;

    let (_, a) = post(
        &app,
        &t,
        "generic",
        json!({"title": "Something odd", "fingerprint": "fp-payments"}).to_string(),
    )
    .await;
    assert_eq!(a["alerts"][0]["matched_incident_id"], by_fp.as_str());
    let id = a["alerts"][0]["id"].as_str().unwrap();
    let (_, alert) = send(app.as_key(&t.admin_key, Method::GET, &format!("/api/v1/alerts/{id}"))).await;
    assert_eq!(alert["suggested_solution"], "Promote the standby");

    let body = json!({"title": "Disk full on db-7", "description": "No space left on device"}).to_string();
    let (_, b) = post(&app, &t, "generic", body).await;
    assert_eq!(b["alerts"][0]["matched_incident_id"], disk.as_str(), "{b}");

    let (_, c) = post(
        &app,
        &t,
        "generic",
        json!({"title": "Kafka consumer lag"}).to_string(),
    )
    .await;
    assert_eq!(
        c["alerts"][0]["matched_incident_id"],
        Value::Null,
        "no match is better than a wrong one"
    );

    // Only the first 16 distinct words take part, title first: a long description neither hides the
    // title's words nor links through words far down in it.
    let filler = (0..30)
        .map(|i| format!("filler{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    let (_, d) = post(
        &app,
        &t,
        "generic",
        json!({"title": "Disk full on db-9", "description": filler}).to_string(),
    )
    .await;
    assert_eq!(d["alerts"][0]["matched_incident_id"], disk.as_str(), "{d}");
    let (_, e) = post(
        &app,
        &t,
        "generic",
        json!({"title": "Weird thing", "description": format!("{filler} disk full")}).to_string(),
    )
    .await;
    assert_eq!(e["alerts"][0]["matched_incident_id"], Value::Null, "{e}");
    let metrics = app.metrics().await;
    assert!(metrics.contains("nightowl_kb_hits_total 3"), "{metrics}");
}

#[tokio::test]
async fn an_agent_fix_stores_the_alert_resolved_and_records_the_fix_in_the_knowledge_base() {
    let app = TestApp::spawn_with_plugins(&["generic"], |_| {}).await;
    let mut t = app.tenant().await;
    // Agent fixes need a key minted for them (see hardening::agent_fixes_need_the_agent_scope_...).
    t.admin_key = nightowl::cli::create_scoped_api_key(
        app.db(),
        &t.tenant,
        nightowl_api::Role::Engineer,
        "k8s-healer",
        &[nightowl_api::admin::ApiKeyScope::Agent],
    )
    .await
    .unwrap();
    let body = json!({"title": "Pod api-7 CrashLoopBackOff", "service": "api", "severity": "major",
        "agent_metadata": {"auto_resolved": true, "action": "kubectl rollout restart deploy/api", "agent": "k8s-healer",
                           "root_cause": "stale config map"}});
    let (status, answer) = post(&app, &t, "generic", body.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["alerts"][0]["outcome"], "agent_resolved");
    let incident = answer["alerts"][0]["matched_incident_id"].as_str().unwrap();
    assert_eq!(
        count(
            &app,
            &t,
            "status = 'resolved' and resolved_by = 'agent:k8s-healer'"
        )
        .await,
        1
    );
    let (solution, count_, tags): (Option<String>, i32, Vec<String>) = sqlx::query_as(&format!(
        "select solution, resolution_count, tags from {}.incidents where id = $1::uuid",
        t.tenant.slug.schema()
    ))
    .bind(incident)
    .fetch_one(app.db())
    .await
    .unwrap();
    assert_eq!(
        (solution.as_deref(), count_),
        (Some("kubectl rollout restart deploy/api"), 1)
    );
    assert_eq!(tags, ["agent-resolved"]);
    // The same fix again counts on the same incident.
    let (_, again) = post(&app, &t, "generic", body.to_string()).await;
    assert_eq!(again["alerts"][0]["matched_incident_id"], incident);
    let metrics = app.metrics().await;
    assert!(metrics.contains("nightowl_alerts_agent_resolved_total 2"));
}

/// Every title of a listing, following its cursors one alert at a time (so each alert's own position
/// is a cursor: a cursor holding the wrong time for the order would skip or repeat alerts).
async fn all_titles(app: &TestApp, t: &TestTenant, query: &str) -> Vec<String> {
    let mut titles = Vec::new();
    let mut path = format!("/api/v1/alerts?limit=1&{query}");
    loop {
        let (status, page) = send(app.as_key(&t.admin_key, Method::GET, &path)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        titles.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["title"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/alerts?limit=1&{query}&cursor={c}"),
            None => break,
        }
    }
    titles
}

#[tokio::test]
async fn alert_lists_sort_newest_oldest_or_by_last_firing_across_cursor_pages() {
    let app = TestApp::spawn_with_plugins(&["generic"], |_| {}).await;
    let t = app.tenant().await;
    for i in 0..4 {
        app.clock.advance(chrono::Duration::seconds(10));
        let alert =
            json!({"title": format!("alert {i}"), "fingerprint": format!("fp-{i}"), "service": "sort"});
        post(&app, &t, "generic", alert.to_string()).await;
    }
    // alert 1 fires again last: first when sorted by last firing, still second when by creation.
    app.clock.advance(chrono::Duration::seconds(10));
    let again = json!({"title": "alert 1", "fingerprint": "fp-1", "service": "sort"});
    post(&app, &t, "generic", again.to_string()).await;

    let newest = ["alert 3", "alert 2", "alert 1", "alert 0"];
    assert_eq!(all_titles(&app, &t, "service=sort").await, newest);
    assert_eq!(all_titles(&app, &t, "service=sort&sort=newest").await, newest);
    assert_eq!(
        all_titles(&app, &t, "service=sort&sort=oldest").await,
        ["alert 0", "alert 1", "alert 2", "alert 3"]
    );
    assert_eq!(
        all_titles(&app, &t, "service=sort&sort=last_fired").await,
        ["alert 1", "alert 3", "alert 2", "alert 0"]
    );
    let (status, err) = send(app.as_key(&t.admin_key, Method::GET, "/api/v1/alerts?sort=severity")).await;
    assert_eq!(
        (status, error_code(&err)),
        (StatusCode::BAD_REQUEST, "invalid_filter")
    );
}

#[tokio::test]
async fn alerts_can_be_listed_acknowledged_and_resolved_with_a_kb_prompt() {
    let app = TestApp::spawn_with_plugins(&["generic"], |_| {}).await;
    let t = app.tenant().await;
    for i in 0..5 {
        app.clock.advance(chrono::Duration::seconds(1));
        let sev = if i % 2 == 0 { "critical" } else { "info" };
        post(
            &app,
            &t,
            "generic",
            json!({"title": format!("alert {i}"), "severity": sev, "service": "shop"}).to_string(),
        )
        .await;
    }
    let (_, crit) = send(app.as_key(&t.admin_key, Method::GET, "/api/v1/alerts?severity=critical")).await;
    assert_eq!(crit["items"].as_array().unwrap().len(), 3);
    assert_eq!(
        all_titles(&app, &t, "service=shop").await,
        ["alert 4", "alert 3", "alert 2", "alert 1", "alert 0"]
    );
    let (status, err) = send(app.as_key(&t.admin_key, Method::GET, "/api/v1/alerts?status=weird")).await;
    assert_eq!(
        (status, error_code(&err)),
        (StatusCode::BAD_REQUEST, "invalid_filter")
    );

    let id = crit["items"][0]["id"].as_str().unwrap();
    let engineer = app.key(&t, nightowl_api::Role::Engineer).await;
    let (status, acked) = send(app.as_key(
        &engineer,
        Method::PATCH,
        &format!("/api/v1/alerts/{id}/acknowledge"),
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(acked["status"], "acknowledged");
    assert!(acked["acknowledged_by"].as_str().unwrap().starts_with("key:"));
    let (_, open) = send(app.as_key(&t.admin_key, Method::GET, "/api/v1/alerts?status=open")).await;
    assert_eq!(
        open["items"].as_array().unwrap().len(),
        5,
        "acknowledged alerts are still open"
    );

    let (status, resolved) =
        send(app.as_key(&engineer, Method::PATCH, &format!("/api/v1/alerts/{id}/resolve"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(resolved["alert"]["status"], "resolved");
    assert_eq!(
        (
            resolved["kb_entry_exists"].as_bool(),
            resolved["add_to_kb_prompt"].as_bool()
        ),
        (Some(false), Some(true))
    );
    let (status, err) = send(app.as_key(
        &engineer,
        Method::PATCH,
        &format!("/api/v1/alerts/{id}/acknowledge"),
    ))
    .await;
    assert_eq!(
        (status, error_code(&err)),
        (StatusCode::CONFLICT, "alert_resolved")
    );

    // A repeat after resolution opens a new alert.
    let (_, reopened) = post(
        &app,
        &t,
        "generic",
        json!({"title": "alert 4", "severity": "critical", "service": "shop"}).to_string(),
    )
    .await;
    assert_eq!(reopened["alerts"][0]["outcome"], "created");
}

#[tokio::test]
async fn an_ingest_scoped_key_can_post_alerts_and_nothing_else() {
    let app = TestApp::spawn_with_plugins(&["generic"], |_| {}).await;
    let t = app.tenant().await;
    let (_, key) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/admin/api-keys")
            .json(&json!({"name": "alertmanager", "role": "engineer", "scopes": ["ingest"]})),
    )
    .await;
    let key = key["key"].as_str().unwrap();
    // As Alertmanager sends it: Authorization: Bearer <key>.
    let (status, _) = send(
        app.request(Method::POST, "/api/v1/webhooks/generic")
            .bearer_auth(key)
            .json(&json!({"title": "from AM"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(app.as_key(key, Method::GET, "/api/v1/alerts")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn alert_lifecycle_events_are_published_on_commit() {
    let app = TestApp::spawn_with_plugins(&["generic"], |_| {}).await;
    let t = app.tenant().await;
    let mut listener = sqlx::postgres::PgListener::connect_with(app.db()).await.unwrap();
    listener.listen(nightowl::events::CHANNEL).await.unwrap();
    // The channel is shared by every tenant (and by the tests running alongside): read this
    // tenant's events only.
    let slug = t.tenant.slug.as_str().to_owned();
    let mut next = async || -> Value {
        loop {
            let n = tokio::time::timeout(std::time::Duration::from_secs(5), listener.recv())
                .await
                .unwrap()
                .unwrap();
            if let Ok(event) = serde_json::from_str::<Value>(n.payload())
                && event["tenant"] == slug.as_str()
            {
                return event;
            }
        }
    };
    let (_, created) = post(
        &app,
        &t,
        "generic",
        json!({"title": "evented", "severity": "critical"}).to_string(),
    )
    .await;
    let id = created["alerts"][0]["id"].as_str().unwrap().to_owned();
    let event = next().await;
    assert_eq!(
        event,
        json!({"tenant": t.tenant.slug.as_str(), "alert_id": id, "event": "created", "severity": "critical"})
    );
    // A duplicate is not a new event; a refused delivery publishes nothing.
    post(
        &app,
        &t,
        "generic",
        json!({"title": "evented", "severity": "critical"}).to_string(),
    )
    .await;
    post(&app, &t, "generic", "{\"nope\": 1}".into()).await;
    send(app.as_key(
        &t.admin_key,
        Method::PATCH,
        &format!("/api/v1/alerts/{id}/acknowledge"),
    ))
    .await;
    assert_eq!(next().await["event"], "acknowledged");
    // Acknowledging again changes nothing and publishes nothing: the next event is the resolution.
    let (status, _) = send(app.as_key(
        &t.admin_key,
        Method::PATCH,
        &format!("/api/v1/alerts/{id}/acknowledge"),
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    send(app.as_key(
        &t.admin_key,
        Method::PATCH,
        &format!("/api/v1/alerts/{id}/resolve"),
    ))
    .await;
    assert_eq!(next().await["event"], "resolved");
}
