//! The knowledge base: incidents CRUD with history, weighted search with highlights, merge,
//! fingerprint lookup, resolution tracking, hostile search input.

use nightowl_tests::{TestApp, TestTenant, error_code, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn create(app: &TestApp, t: &TestTenant, body: Value) -> Value {
    let (status, incident) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/incidents")
            .json(&body),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{incident}");
    incident
}

async fn search(app: &TestApp, t: &TestTenant, q: &str) -> (StatusCode, Value) {
    send(
        app.as_key(&t.admin_key, Method::GET, "/api/v1/incidents/search")
            .query(&[("q", q)]),
    )
    .await
}

fn titles(hits: &Value) -> Vec<String> {
    hits.as_array()
        .unwrap()
        .iter()
        .map(|h| h["incident"]["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn history_records_old_and_new_values_of_changed_fields_only() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let body = json!({"title": "Redis OOM", "severity": "major", "services": ["cache"], "solution": "Raise maxmemory"});
    let incident = create(&app, &t, body.clone()).await;
    let id = incident["id"].as_str().unwrap();
    let mut changed = body.clone();
    changed["severity"] = json!("critical");
    changed["services"] = json!(["cache", "sessions"]);
    let (status, _) = send(
        app.as_key(&t.admin_key, Method::PUT, &format!("/api/v1/incidents/{id}"))
            .json(&changed),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, history) = send(app.as_key(
        &t.admin_key,
        Method::GET,
        &format!("/api/v1/incidents/{id}/history"),
    ))
    .await;
    let entries: Vec<(String, Value, Value, Value)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["change_type"].as_str().unwrap().to_owned(),
                h["field"].clone(),
                h["old_value"].clone(),
                h["new_value"].clone(),
            )
        })
        .collect();
    assert_eq!(entries[0].0, "create");
    let updates: Vec<_> = entries[1..]
        .iter()
        .map(|(_, f, o, n)| (f.clone(), o.clone(), n.clone()))
        .collect();
    assert_eq!(
        updates,
        [
            (json!("services"), json!(["cache"]), json!(["cache", "sessions"])),
            (json!("severity"), json!("major"), json!("critical")),
        ]
    );
    assert!(
        history
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["changed_by"] == format!("key:{}", &t.admin_key[..12]))
    );
}

#[tokio::test]
async fn title_matches_outrank_solution_matches_and_highlights_mark_the_words() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    create(
        &app,
        &t,
        json!({"title": "Nightly backup job failed", "solution": "Restart the kafka connector"}),
    )
    .await;
    create(&app, &t, json!({"title": "Kafka consumer lag on orders", "symptoms": "Orders arrive late", "solution": "Scale consumers"})).await;
    create(
        &app,
        &t,
        json!({"title": "Certificate expired", "symptoms": "TLS errors"}),
    )
    .await;
    let (status, hits) = search(&app, &t, "kafka").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        titles(&hits),
        ["Kafka consumer lag on orders", "Nightly backup job failed"]
    );
    let title_fragments = &hits[0]["highlights"]["title"];
    assert_eq!(title_fragments[0], json!({"text": "Kafka", "highlighted": true}));
    assert!(
        title_fragments
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["highlighted"] == false)
    );
    let solution = &hits[1]["highlights"]["solution"];
    assert!(
        solution
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == &json!({"text": "kafka", "highlighted": true})),
        "{solution}"
    );
    assert!(hits[0]["rank"].as_f64().unwrap() > hits[1]["rank"].as_f64().unwrap());
}

#[tokio::test]
async fn search_takes_the_lists_filters() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let body = |title: &str, severity: &str, category: &str, service: &str, tags: Value| json!({"title": title, "severity": severity, "category": category, "services": [service], "tags": tags});
    create(
        &app,
        &t,
        body(
            "Kafka lag on billing",
            "major",
            "messaging",
            "billing",
            json!(["kafka", "lag"]),
        ),
    )
    .await;
    create(
        &app,
        &t,
        body(
            "Kafka broker down",
            "critical",
            "messaging",
            "events",
            json!(["kafka"]),
        ),
    )
    .await;
    create(
        &app,
        &t,
        body("Kafka disk full", "major", "storage", "billing", json!(["disk"])),
    )
    .await;
    let filtered = |query: &'static [(&'static str, &'static str)]| {
        let app = &app;
        let t = &t;
        async move {
            let (status, hits) = send(
                app.as_key(&t.admin_key, Method::GET, "/api/v1/incidents/search")
                    .query(&[("q", "kafka")])
                    .query(query),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{hits}");
            let mut found = titles(&hits);
            found.sort();
            found
        }
    };
    assert_eq!(filtered(&[]).await.len(), 3);
    assert_eq!(filtered(&[("severity", "critical")]).await, ["Kafka broker down"]);
    assert_eq!(
        filtered(&[("category", "messaging")]).await,
        ["Kafka broker down", "Kafka lag on billing"]
    );
    assert_eq!(
        filtered(&[("service", "billing")]).await,
        ["Kafka disk full", "Kafka lag on billing"]
    );
    assert_eq!(filtered(&[("tags", "kafka,lag")]).await, ["Kafka lag on billing"]);
    assert_eq!(
        filtered(&[
            ("severity", "major"),
            ("service", "billing"),
            ("category", "storage")
        ])
        .await,
        ["Kafka disk full"]
    );
    // Empty filters (an untouched form) do not filter.
    assert_eq!(filtered(&[("severity", ""), ("tags", "")]).await.len(), 3);
}

#[tokio::test]
async fn the_last_word_matches_as_a_prefix_while_typing_and_inside_identifiers() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    create(
        &app,
        &t,
        json!({"title": "Payments pod in CrashLoopBackOff", "solution": "Fix the readiness probe"}),
    )
    .await;
    create(&app, &t, json!({"title": "Kafka consumer lag on orders"})).await;
    create(&app, &t, json!({"title": "Worker OOMKilled at night"})).await;
    let (status, hits) = search(&app, &t, "crashloop").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(titles(&hits), ["Payments pod in CrashLoopBackOff"]);
    assert!(
        hits[0]["highlights"]["title"]
            .as_array()
            .unwrap()
            .contains(&json!({"text": "CrashLoopBackOff", "highlighted": true})),
        "{hits}"
    );
    let (_, hits) = search(&app, &t, "kafka consu").await;
    assert_eq!(titles(&hits), ["Kafka consumer lag on orders"]);
    let (_, hits) = search(&app, &t, "oomkill").await;
    assert_eq!(titles(&hits), ["Worker OOMKilled at night"]);
    // Words before the last one, quoted words and excluded words still match whole.
    let (_, hits) = search(&app, &t, "kafk lag").await;
    assert_eq!(titles(&hits), Vec::<String>::new());
    let (_, hits) = search(&app, &t, "\"crashloop\"").await;
    assert_eq!(titles(&hits), Vec::<String>::new());
    let (_, hits) = search(&app, &t, "payments -crashloopbackoff").await;
    assert_eq!(titles(&hits), Vec::<String>::new());
}

#[tokio::test]
async fn search_follows_edits() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let incident = create(
        &app,
        &t,
        json!({"title": "Ingress returns 502", "solution": "Restart the ingress controller"}),
    )
    .await;
    let path = format!("/api/v1/incidents/{}", incident["id"].as_str().unwrap());
    let (status, _) = send(
        app.as_key(&t.admin_key, Method::PUT, &path)
            .json(&json!({"title": "Gateway returns 503", "solution": "Raise the upstream keepalive"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, hits) = search(&app, &t, "keepalive").await;
    assert_eq!(titles(&hits), ["Gateway returns 503"]);
    let (_, hits) = search(&app, &t, "ingress").await;
    assert_eq!(titles(&hits), Vec::<String>::new());
    // A change to a column search does not read keeps the incident findable.
    let (status, _) = send(app.as_key(&t.admin_key, Method::PUT, &path).json(
        &json!({"title": "Gateway returns 503", "solution": "Raise the upstream keepalive",
                          "severity": "critical"}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, hits) = search(&app, &t, "gateway 503").await;
    assert_eq!(titles(&hits), ["Gateway returns 503"]);
    assert_eq!(hits[0]["incident"]["severity"], "critical");
}

/// A tenant created before search moved to `incident_search` keeps every live incident findable
/// after the upgrade, and merged or archived ones stay out.
#[tokio::test]
async fn upgrading_a_tenant_moves_its_incidents_into_the_search_table() {
    use sqlx::Executor;
    let mut schema = nightowl_tests::UpgradeSchema::new().await;
    schema.migrate(|v| v <= 3).await;
    let conn = &mut schema.conn;
    conn.execute(
        "insert into incidents (title, solution) values
             ('Zookeeper quorum lost', 'Restart the ensemble'),
             ('Zookeeper disk full', 'Grow the volume'),
             ('Etcd leader flapping', 'Zookeeper is not involved');
         update incidents set archived_at = now() where title = 'Zookeeper disk full'",
    )
    .await
    .unwrap();
    schema.migrate(|v| v == 4).await;
    let conn = &mut schema.conn;
    let found: Vec<String> = sqlx::query_scalar(
        "select i.title from incident_search s join incidents i on i.id = s.incident_id
         where s.search_vector @@ websearch_to_tsquery('english', 'zookeeper')
         order by ts_rank(s.search_vector, websearch_to_tsquery('english', 'zookeeper')) desc",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    assert_eq!(found, ["Zookeeper quorum lost", "Etcd leader flapping"]);
    // Writes after the upgrade go through the new trigger.
    conn.execute(
        "update incidents set title = 'Zookeeper quorum regained' where title = 'Zookeeper quorum lost'",
    )
    .await
    .unwrap();
    let found: i64 = sqlx::query_scalar(
        "select count(*) from incident_search where search_vector @@ websearch_to_tsquery('english', 'regained')",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(found, 1);
    schema.drop().await;
}

#[tokio::test]
async fn deleted_and_merged_incidents_leave_lists_and_search_but_stay_readable() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let a = create(&app, &t, json!({"title": "Zookeeper quorum lost"})).await;
    let b = create(&app, &t, json!({"title": "Zookeeper disk full"})).await;
    let c = create(&app, &t, json!({"title": "Zookeeper session expiry"})).await;
    let (status, _) = send(app.as_key(
        &t.admin_key,
        Method::DELETE,
        &format!("/api/v1/incidents/{}", a["id"].as_str().unwrap()),
    ))
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(
        app.as_key(
            &t.admin_key,
            Method::POST,
            &format!("/api/v1/incidents/{}/merge", b["id"].as_str().unwrap()),
        )
        .json(&json!({"target_id": c["id"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, hits) = search(&app, &t, "zookeeper").await;
    assert_eq!(titles(&hits), ["Zookeeper session expiry"]);
    let (_, list) = send(app.as_key(&t.admin_key, Method::GET, "/api/v1/incidents")).await;
    assert_eq!(list["total"], 1);
    let (status, deleted) = send(app.as_key(
        &t.admin_key,
        Method::GET,
        &format!("/api/v1/incidents/{}", a["id"].as_str().unwrap()),
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(deleted["archived_at"].is_string());
    // The web UI reads this answer without serde's `flatten`: it must come out the same.
    let text = deleted.to_string();
    let plain = nightowl_api::incidents::IncidentDetail::from_json(&text).unwrap();
    let flattened: nightowl_api::incidents::IncidentDetail = serde_json::from_str(&text).unwrap();
    assert_eq!(
        serde_json::to_value(&plain).unwrap(),
        serde_json::to_value(&flattened).unwrap()
    );
    assert_eq!(serde_json::to_value(&plain).unwrap(), deleted);
    assert!(!plain.history.is_empty());
    assert!(
        deleted["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["change_type"] == "delete")
    );
    let (status, err) = send(
        app.as_key(
            &t.admin_key,
            Method::PUT,
            &format!("/api/v1/incidents/{}", a["id"].as_str().unwrap()),
        )
        .json(&json!({"title": "revived"})),
    )
    .await;
    assert_eq!(
        (status, error_code(&err)),
        (StatusCode::CONFLICT, "incident_deleted")
    );
}

#[tokio::test]
async fn merge_unions_arrays_moves_alerts_records_history_and_refuses_invalid_merges() {
    let app = TestApp::spawn_with_plugins(&["generic"], |_| {}).await;
    let t = app.tenant().await;
    let source = create(&app, &t, json!({"title": "DNS timeouts", "fingerprints": ["fp-a", "fp-b"], "services": ["api"],
        "tags": ["dns"], "clusters": ["eu-1"], "error_patterns": ["i/o timeout"], "solution": "Restart coredns"})).await;
    let target = create(
        &app,
        &t,
        json!({"title": "CoreDNS overloaded", "fingerprints": ["fp-b", "fp-c"], "services": ["web"],
        "tags": ["dns", "k8s"], "namespaces": ["kube-system"]}),
    )
    .await;
    let (sid, tid) = (
        source["id"].as_str().unwrap().to_owned(),
        target["id"].as_str().unwrap().to_owned(),
    );
    // An alert linked to the source by fingerprint.
    let (_, ingest) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/webhooks/generic")
            .json(&json!({"title": "dns", "fingerprint": "fp-a"})),
    )
    .await;
    assert_eq!(ingest["alerts"][0]["matched_incident_id"], sid.as_str());

    let merge = |from: &str, into: &str| {
        app.as_key(
            &t.admin_key,
            Method::POST,
            &format!("/api/v1/incidents/{from}/merge"),
        )
        .json(&json!({"target_id": into}))
    };
    let (status, err) = send(merge(&sid, &sid)).await;
    assert_eq!(
        (status, error_code(&err)),
        (StatusCode::BAD_REQUEST, "merge_into_itself")
    );
    let (status, err) = send(merge(&sid, &uuid::Uuid::new_v4().to_string())).await;
    assert_eq!((status, error_code(&err)), (StatusCode::NOT_FOUND, "not_found"));

    let (status, merged) = send(merge(&sid, &tid)).await;
    assert_eq!(status, StatusCode::OK, "{merged}");
    assert_eq!(merged["fingerprints"], json!(["fp-b", "fp-c", "fp-a"]));
    assert_eq!(merged["services"], json!(["web", "api"]));
    assert_eq!(merged["tags"], json!(["dns", "k8s"]));
    assert_eq!(merged["clusters"], json!(["eu-1"]));
    assert_eq!(merged["namespaces"], json!(["kube-system"]));
    assert_eq!(merged["error_patterns"], json!(["i/o timeout"]));
    assert_eq!(
        merged["solution"], "Restart coredns",
        "the target had no solution"
    );

    let (_, alert) = send(app.as_key(
        &t.admin_key,
        Method::GET,
        &format!("/api/v1/alerts/{}", ingest["alerts"][0]["id"].as_str().unwrap()),
    ))
    .await;
    assert_eq!(alert["matched_incident_id"], tid.as_str());
    for (id, field) in [(&sid, "merged_into_id"), (&tid, "merged_from")] {
        let (_, history) = send(app.as_key(
            &t.admin_key,
            Method::GET,
            &format!("/api/v1/incidents/{id}/history"),
        ))
        .await;
        assert!(
            history
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h["change_type"] == "merge" && h["field"] == field),
            "{history}"
        );
    }

    // Merging into (or from) a merged incident is refused and changes nothing.
    let other = create(&app, &t, json!({"title": "Other"})).await;
    let oid = other["id"].as_str().unwrap().to_owned();
    let (status, err) = send(merge(&oid, &sid)).await;
    assert_eq!(
        (status, error_code(&err)),
        (StatusCode::CONFLICT, "incident_not_live")
    );
    let (_, unchanged) =
        send(app.as_key(&t.admin_key, Method::GET, &format!("/api/v1/incidents/{oid}"))).await;
    assert_eq!(unchanged["merged_into_id"], Value::Null);
    let (_, by_fp) = send(app.as_key(&t.admin_key, Method::GET, "/api/v1/incidents/fingerprint/fp-a")).await;
    assert_eq!(by_fp.as_array().unwrap().len(), 1);
    assert_eq!(by_fp[0]["id"], tid.as_str());
}

#[tokio::test]
async fn resolving_a_linked_alert_updates_the_incidents_resolution_stats() {
    let app = TestApp::spawn_with_plugins(&["generic"], |_| {}).await;
    let t = app.tenant().await;
    let incident = create(
        &app,
        &t,
        json!({"title": "Queue stuck", "fingerprints": ["fp-q"]}),
    )
    .await;
    for minutes in [30, 90] {
        let (_, ingest) = send(
            app.as_key(&t.admin_key, Method::POST, "/api/v1/webhooks/generic")
                .json(&json!({"title": "q", "fingerprint": "fp-q"})),
        )
        .await;
        app.clock.advance(chrono::Duration::minutes(minutes));
        let id = ingest["alerts"][0]["id"].as_str().unwrap();
        let (status, resolved) = send(app.as_key(
            &t.admin_key,
            Method::PATCH,
            &format!("/api/v1/alerts/{id}/resolve"),
        ))
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            (
                resolved["kb_entry_exists"].as_bool(),
                resolved["add_to_kb_prompt"].as_bool()
            ),
            (Some(true), Some(false))
        );
    }
    let (_, after) = send(app.as_key(
        &t.admin_key,
        Method::GET,
        &format!("/api/v1/incidents/{}", incident["id"].as_str().unwrap()),
    ))
    .await;
    assert_eq!(after["resolution_count"], 2);
    assert_eq!(after["avg_resolution_mins"], 60.0);
    assert!(after["last_resolved_by"].as_str().unwrap().starts_with("key:"));
    assert_eq!(after["alerts"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn hostile_search_input_never_yields_a_500() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    create(
        &app,
        &t,
        json!({"title": "Disk full", "symptoms": "No space left on device"}),
    )
    .await;
    let long = "a".repeat(10 * 1024);
    let words = "disk ".repeat(2000);
    for q in [
        "",
        "   ",
        "&",
        "|",
        "!",
        "&|!",
        "!!disk",
        "disk & | full",
        "'",
        "\"",
        "\"unterminated",
        "''''",
        "(",
        ")",
        "((disk",
        ":*",
        "disk:*",
        "-",
        "- -",
        "or",
        "and",
        "not",
        "<->",
        "disk <-> full",
        "\\",
        "%",
        "%00",
        "\u{1}",
        "\u{2}full",
        "Festplatte voll",
        "磁盘已满",
        "диск заполнен",
        "💥 disk",
        "<script>alert(1)</script>",
        "'; drop table incidents; --",
        &long,
        &words,
    ] {
        let (status, body) = search(&app, &t, q).await;
        assert!(
            status == StatusCode::OK || status == StatusCode::BAD_REQUEST,
            "{q:?}: {status} {body}"
        );
        if status == StatusCode::BAD_REQUEST {
            error_code(&body);
        }
    }
    // NUL in JSON strings and URLs is refused up front.
    let (status, _) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/incidents")
            .header("content-type", "application/json")
            .body(r#"{"title": "a\u0000b"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = send(app.as_key(&t.admin_key, Method::GET, "/api/v1/incidents/search?q=a%00b")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, hits) = search(&app, &t, "full disk").await;
    assert_eq!(
        (status, titles(&hits)),
        (StatusCode::OK, vec!["Disk full".to_owned()])
    );
}

#[tokio::test]
async fn every_tenant_starts_with_seven_kubernetes_runbook_templates_and_incidents_link_runbooks() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let (_, templates) = send(app.as_key(&t.admin_key, Method::GET, "/api/v1/runbooks/templates")).await;
    assert_eq!(templates["total"], 7);
    let items = templates["items"].as_array().unwrap();
    for needle in [
        "CrashLoopBackOff",
        "OOMKilled",
        "certificate",
        "etcd",
        "NotReady",
        "PersistentVolumeClaim",
        "DNS",
    ] {
        let found = items
            .iter()
            .find(|r| r["title"].as_str().unwrap().contains(needle));
        let runbook = found.unwrap_or_else(|| panic!("no template about {needle}"));
        let content = runbook["content"].as_str().unwrap();
        let command_blocks = content.matches("```sh").count();
        assert!(
            command_blocks >= 2 && content.contains("## ") && content.len() > 800,
            "{needle} is thin"
        );
        assert_eq!(runbook["is_template"], true);
    }
    let (_, own) = send(app.as_key(&t.admin_key, Method::GET, "/api/v1/runbooks")).await;
    assert_eq!(
        own["total"], 0,
        "templates are listed apart from the tenant's own runbooks"
    );

    let (status, runbook) = send(app.as_key(&t.admin_key, Method::POST, "/api/v1/runbooks").json(
        &json!({"title": "Payments DB failover", "content": "1. Promote the standby", "tags": ["db"]}),
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let incident = create(
        &app,
        &t,
        json!({"title": "Primary lost", "runbook_id": runbook["id"]}),
    )
    .await;
    assert_eq!(incident["runbook_id"], runbook["id"]);
    let (status, err) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/incidents")
            .json(&json!({"title": "x", "runbook_id": uuid::Uuid::new_v4()})),
    )
    .await;
    assert_eq!(
        (status, error_code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
    );
    let rid = runbook["id"].as_str().unwrap();
    let (status, updated) = send(
        app.as_key(&t.admin_key, Method::PUT, &format!("/api/v1/runbooks/{rid}"))
            .json(&json!({"title": "DB failover", "content": "new"})),
    )
    .await;
    assert_eq!(
        (status, updated["title"].as_str()),
        (StatusCode::OK, Some("DB failover"))
    );
    let (status, _) =
        send(app.as_key(&t.admin_key, Method::DELETE, &format!("/api/v1/runbooks/{rid}"))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, after) = send(app.as_key(
        &t.admin_key,
        Method::GET,
        &format!("/api/v1/incidents/{}", incident["id"].as_str().unwrap()),
    ))
    .await;
    assert_eq!(
        after["runbook_id"],
        Value::Null,
        "the incident survives its runbook"
    );
}

#[tokio::test]
async fn markdown_renders_sanitized_for_any_role_and_refuses_oversized_text() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let readonly = app.key(&t, nightowl_api::Role::Readonly).await;
    let render = |key: String, text: String| {
        let app = &app;
        async move {
            send(
                app.as_key(&key, Method::POST, "/api/v1/markdown")
                    .json(&json!({ "text": text })),
            )
            .await
        }
    };
    let text = "## Fix\n\nRestart **it**: [runbook](https://runbooks.example/x)\n\n<script>alert(1)</script>\n\n[x](javascript:alert(2)) ![p](https://t.example/p.gif)";
    let (status, body) = render(readonly.clone(), text.to_owned()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let html = body["html"].as_str().unwrap();
    assert!(html.contains("<h4>Fix</h4>"), "{html}");
    assert!(html.contains("<strong>it</strong>"), "{html}");
    assert!(
        html.contains(
            r#"<a href="https://runbooks.example/x" rel="noopener noreferrer nofollow">runbook</a>"#
        ),
        "{html}"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
    assert!(
        !html.contains("<script") && !html.contains("javascript:") && !html.contains("<img"),
        "{html}"
    );

    let (status, body) = render(readonly, "x".repeat(20_001)).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        "{body}"
    );
    let (status, _) = send(
        app.request(Method::POST, "/api/v1/markdown")
            .json(&json!({ "text": "hi" })),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
