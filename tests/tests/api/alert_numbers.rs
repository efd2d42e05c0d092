//! Short alert numbers: each tenant numbers its alerts 1, 2, 3, ... (migration tenant/0007),
//! the API answers with them and accepts them wherever an alert id goes in a path, and alerts that
//! existed before the upgrade are numbered in the order they were created.

use nightowl_tests::{TestApp, TestTenant, error_code, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Posts one alert through the generic source; returns its entry of the webhook answer.
async fn fire(app: &TestApp, t: &TestTenant, body: Value) -> Value {
    let (status, v) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/webhooks/generic")
            .json(&body),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["alerts"][0].clone()
}

/// `GET` of an alert path (`/api/v1/alerts/{reference}...`).
async fn get(app: &TestApp, t: &TestTenant, path: &str) -> (StatusCode, Value) {
    send(app.as_key(&t.admin_key, Method::GET, &format!("/api/v1/alerts/{path}"))).await
}

/// Each tenant numbers its alerts 1, 2, 3, ... in arrival order; a repeat of an open alert keeps its
/// number and uses none up; a new alert after a resolve gets the next one; numbers are per tenant.
#[tokio::test]
async fn alerts_are_numbered_per_tenant_and_a_repeat_keeps_its_number() {
    let app = TestApp::spawn_with_plugins(&["generic"], |_| {}).await;
    let (a, b) = (app.tenant().await, app.tenant().await);
    let disk = json!({"title": "Disk full", "fingerprint": "disk"});
    let first = fire(&app, &a, disk.clone()).await;
    assert_eq!(
        (first["outcome"].as_str(), first["number"].as_i64()),
        (Some("created"), Some(1))
    );
    for _ in 0..3 {
        let repeat = fire(&app, &a, disk.clone()).await;
        assert_eq!(repeat["outcome"], "deduplicated");
        assert_eq!(
            (&repeat["id"], repeat["number"].as_i64()),
            (&first["id"], Some(1))
        );
    }
    let cpu = fire(&app, &a, json!({"title": "CPU hot", "fingerprint": "cpu"})).await;
    assert_eq!(cpu["number"], 2, "repeats used no number up");
    let (_, stored) = get(&app, &a, first["id"].as_str().unwrap()).await;
    assert_eq!(
        (stored["number"].as_i64(), stored["occurrence_count"].as_i64()),
        (Some(1), Some(4))
    );

    let (status, _) = send(app.as_key(&a.admin_key, Method::PATCH, "/api/v1/alerts/1/resolve")).await;
    assert_eq!(status, StatusCode::OK);
    let again = fire(&app, &a, disk).await;
    assert_eq!(
        (again["outcome"].as_str(), again["number"].as_i64()),
        (Some("created"), Some(3))
    );
    let resolved = fire(
        &app,
        &a,
        json!({"title": "CPU hot", "fingerprint": "cpu", "status": "resolved"}),
    )
    .await;
    assert_eq!(
        (resolved["outcome"].as_str(), resolved["number"].as_i64()),
        (Some("resolved"), Some(2))
    );
    let ignored = fire(
        &app,
        &a,
        json!({"title": "Gone", "fingerprint": "gone", "status": "resolved"}),
    )
    .await;
    assert_eq!(
        (ignored["outcome"].as_str(), &ignored["number"]),
        (Some("ignored"), &Value::Null)
    );

    let other = fire(&app, &b, json!({"title": "Disk full", "fingerprint": "disk"})).await;
    assert_eq!(other["number"], 1, "numbers are per tenant");
    let (_, listed) = send(app.as_key(&a.admin_key, Method::GET, "/api/v1/alerts?status=open")).await;
    let numbers: Vec<i64> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["number"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [3], "the list carries numbers");
}

/// Repeats delivered at the same moment as the alert's first report (an Alertmanager HA pair) are
/// counted on the one open alert without changing its number.
#[tokio::test]
async fn concurrent_repeats_of_a_new_alert_share_its_number() {
    let app = TestApp::spawn_with_plugins(&["generic"], |_| {}).await;
    let t = app.tenant().await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let req = app
            .as_key(&t.admin_key, Method::POST, "/api/v1/webhooks/generic")
            .json(&json!({"title": "Same problem", "fingerprint": "same-fp", "severity": "critical"}));
        tasks.spawn(async move { send(req).await });
    }
    let mut numbers = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let (status, body) = r.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        numbers.push(body["alerts"][0]["number"].as_i64().unwrap());
    }
    let (_, list) = send(app.as_key(&t.admin_key, Method::GET, "/api/v1/alerts")).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["occurrence_count"], 20);
    let number = items[0]["number"].as_i64().unwrap();
    assert!(numbers.iter().all(|n| *n == number), "{numbers:?} vs {number}");
    let next = fire(&app, &t, json!({"title": "Another", "fingerprint": "another"})).await;
    assert!(next["number"].as_i64().unwrap() > number, "{next}");
}

/// `/api/v1/alerts/{id}` and the read routes under it take the number (`12`, or `#12` written
/// `%2312`) as well as the id, and answer the same; incident pages list linked alerts with numbers.
#[tokio::test]
async fn an_alert_is_read_by_its_number_as_by_its_id() {
    let app = TestApp::spawn_with_plugins(&["generic"], |_| {}).await;
    let t = app.tenant().await;
    let (status, incident) = send(app.as_key(&t.admin_key, Method::POST, "/api/v1/incidents").json(
        &json!({"title": "Disk full on database host", "fingerprints": ["disk"], "solution": "Grow the volume"}),
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{incident}");
    fire(&app, &t, json!({"title": "CPU hot", "fingerprint": "cpu"})).await;
    let alert = fire(&app, &t, json!({"title": "Disk full", "fingerprint": "disk"})).await;
    assert_eq!(alert["matched_incident_id"], incident["id"]);
    let id = alert["id"].as_str().unwrap();

    let (status, by_id) = get(&app, &t, id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_id["number"], 2);
    for reference in ["2", "%232", "002", &id.to_uppercase()] {
        let (status, by_number) = get(&app, &t, reference).await;
        assert_eq!((status, &by_number), (StatusCode::OK, &by_id), "{reference}");
    }
    for tail in ["similar-incidents", "escalation"] {
        let (_, by_id) = get(&app, &t, &format!("{id}/{tail}")).await;
        let (status, by_number) = get(&app, &t, &format!("%232/{tail}")).await;
        assert_eq!((status, by_number), (StatusCode::OK, by_id), "{tail}");
    }
    let (_, escalation) = get(&app, &t, "2/escalation").await;
    assert_eq!(escalation["alert_id"], id, "the escalation names the alert by id");

    let (_, page) = send(app.as_key(
        &t.admin_key,
        Method::GET,
        &format!("/api/v1/incidents/{}", incident["id"].as_str().unwrap()),
    ))
    .await;
    assert_eq!(page["alerts"][0]["id"], id);
    assert_eq!(page["alerts"][0]["number"], 2);
}

/// A number the tenant does not have is the same 404 as an unknown id, on every alert route, also
/// when another tenant has an alert with that number; text that is neither an id nor a number is the
/// 400 a malformed id gets everywhere.
#[tokio::test]
async fn an_unknown_number_is_404_and_text_that_is_no_reference_is_400() {
    let app = TestApp::spawn_with_plugins(&["generic"], |_| {}).await;
    let (a, b) = (app.tenant().await, app.tenant().await);
    fire(&app, &b, json!({"title": "First in B", "fingerprint": "b1"})).await;
    fire(&app, &b, json!({"title": "Second in B", "fingerprint": "b2"})).await;
    fire(&app, &a, json!({"title": "Only in A", "fingerprint": "a"})).await;
    let routes = [
        (Method::GET, ""),
        (Method::GET, "/similar-incidents"),
        (Method::GET, "/escalation"),
        (Method::PATCH, "/acknowledge"),
        (Method::PATCH, "/resolve"),
        (Method::POST, "/escalate"),
    ];
    let unknown_id = uuid::Uuid::new_v4().to_string();
    for (method, tail) in &routes {
        for reference in ["2", "%232", "9223372036854775807", unknown_id.as_str()] {
            let path = format!("/api/v1/alerts/{reference}{tail}");
            let (status, err) = send(app.as_key(&a.admin_key, method.clone(), &path)).await;
            assert_eq!(
                (status, error_code(&err)),
                (StatusCode::NOT_FOUND, "not_found"),
                "{method} {path}"
            );
            assert_eq!(err["message"], "alert not found");
        }
        for garbage in [
            "abc",
            "0",
            "-1",
            "%23",
            "1.5",
            "12a",
            "%23%231",
            "99999999999999999999",
        ] {
            let path = format!("/api/v1/alerts/{garbage}{tail}");
            let (status, err) = send(app.as_key(&a.admin_key, method.clone(), &path)).await;
            assert_eq!(
                (status, error_code(&err)),
                (StatusCode::BAD_REQUEST, "bad_request"),
                "{method} {path}"
            );
        }
    }
    let (_, alert) = get(&app, &a, "1").await;
    assert_eq!(alert["status"], "firing", "nothing was changed in A");
    let (_, alert) = get(&app, &b, "2").await;
    assert_eq!(
        (alert["title"].as_str(), alert["status"].as_str()),
        (Some("Second in B"), Some("firing"))
    );
}

/// Alerts stored before numbers existed get 1, 2, 3, ... in the order they were created (ties by
/// id) when the tenant is migrated; later inserts continue after them.
#[tokio::test]
async fn the_upgrade_numbers_existing_alerts_in_the_order_they_were_created() {
    use sqlx::Executor;
    let mut schema = nightowl_tests::UpgradeSchema::new().await;
    schema.migrate(|v| v <= 6).await;
    // Written in another order than created; c and d were created at the same instant.
    schema
        .conn
        .execute(
            "insert into alerts (id, fingerprint, title, source, status, created_at) values
             ('00000000-0000-0000-0000-00000000000d', 'd', 'd', 'test', 'firing',   '2026-01-03T00:00:00Z'),
             ('00000000-0000-0000-0000-00000000000b', 'b', 'b', 'test', 'resolved', '2026-01-02T00:00:00Z'),
             ('00000000-0000-0000-0000-00000000000c', 'c', 'c', 'test', 'firing',   '2026-01-03T00:00:00Z'),
             ('00000000-0000-0000-0000-00000000000a', 'a', 'a', 'test', 'firing',   '2026-01-01T00:00:00Z')",
        )
        .await
        .unwrap();
    schema.migrate(|v| v > 6).await;
    let conn = &mut schema.conn;
    let numbered: Vec<(String, i64)> =
        sqlx::query_as("select fingerprint, number from alerts order by number")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    let expected = [("a", 1), ("b", 2), ("c", 3), ("d", 4)].map(|(f, n)| (f.to_owned(), n));
    assert_eq!(numbered, expected);
    // New rows continue after them, and a number is required.
    let next: i64 = sqlx::query_scalar(
        "insert into alerts (fingerprint, title, source) values ('f', 'f', 'test') returning number",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(next, 5);
    let refused = conn
        .execute("insert into alerts (fingerprint, title, source, number) values ('g', 'g', 'test', null)")
        .await;
    assert!(refused.is_err(), "number is not null");
    let duplicate = conn
        .execute("insert into alerts (fingerprint, title, source, number) values ('h', 'h', 'test', 5)")
        .await;
    assert!(duplicate.is_err(), "numbers are unique");
    schema.drop().await;
}

/// Every alert route's `{id}` is documented as an id or a number, so generated clients send either.
#[tokio::test]
async fn the_openapi_document_says_alert_paths_take_an_id_or_a_number() {
    let app = TestApp::spawn().await;
    let (_, doc) = send(app.request(Method::GET, "/api/docs/openapi.json")).await;
    let mut checked = 0;
    for route in nightowl::http::route_table() {
        if !route.path.starts_with("/api/v1/alerts/{id}") {
            continue;
        }
        let op = &doc["paths"][&route.path][route.method.as_str().to_lowercase()];
        let id = op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "id")
            .unwrap_or_else(|| panic!("{} {}: no id parameter", route.method, route.path));
        assert_eq!(
            (id["in"].as_str(), id["required"].as_bool()),
            (Some("path"), Some(true))
        );
        assert_eq!(id["schema"]["type"], "string", "{}", route.path);
        let description = id["description"].as_str().unwrap();
        assert!(
            description.contains("id") && description.contains("number"),
            "{description}"
        );
        checked += 1;
    }
    assert_eq!(
        checked, 7,
        "GET, similar incidents, escalation, notifications, acknowledge, resolve, escalate"
    );
}
