//! Health, readiness (with a Redis this test starts and stops), metrics and the OpenAPI document.

use std::time::Duration;

use nightowl_tests::{TestApp, free_port, send, start_redis};
use reqwest::{Method, StatusCode};

async fn readiness(app: &TestApp) -> (StatusCode, String, String) {
    let (status, body) = send(app.request(Method::GET, "/readyz")).await;
    (
        status,
        body["status"].as_str().unwrap().to_owned(),
        body["redis"].as_str().unwrap().to_owned(),
    )
}

async fn wait_for(app: &TestApp, want: &str) -> (StatusCode, String, String) {
    let mut last = readiness(app).await;
    for _ in 0..50 {
        if last.1 == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        last = readiness(app).await;
    }
    last
}

#[tokio::test]
async fn readyz_turns_degraded_without_redis_and_recovers_without_restart() {
    let port = free_port();
    let mut redis = start_redis(port);
    let app = TestApp::spawn_with(|c| c.redis_url = Some(format!("redis://127.0.0.1:{port}"))).await;
    assert_eq!(
        wait_for(&app, "ok").await,
        (StatusCode::OK, "ok".into(), "ok".into())
    );

    redis.kill().unwrap();
    redis.wait().unwrap();
    assert_eq!(
        wait_for(&app, "degraded").await,
        (StatusCode::OK, "degraded".into(), "down".into())
    );
    // Still serving while degraded.
    assert_eq!(send(app.request(Method::GET, "/healthz")).await.0, StatusCode::OK);

    let mut redis = start_redis(port);
    assert_eq!(
        wait_for(&app, "ok").await,
        (StatusCode::OK, "ok".into(), "ok".into())
    );
    redis.kill().unwrap();
    redis.wait().unwrap();
}

#[tokio::test]
async fn readyz_without_redis_configured_is_ok_and_fails_without_database() {
    let app = TestApp::spawn().await;
    let (status, body) = send(app.request(Method::GET, "/readyz")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (body["status"].as_str(), body["redis"].as_str()),
        (Some("ok"), Some("disabled"))
    );
    assert_eq!(body["workers"], "disabled", "this process runs no workers");
    let workers = nightowl::worker::spawn(app.state.clone(), "readyz-test");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let (_, body) = send(app.request(Method::GET, "/readyz")).await;
    assert_eq!(body["workers"], "ok", "{body}");
    for name in ["listener", "escalation", "delivery", "handoff"] {
        let state = app.state.workers.get(name).expect("every loop is supervised");
        assert!(state.running, "{name}");
    }
    workers.shutdown().await;
    app.state.db.close().await;
    let (status, body) = send(app.request(Method::GET, "/readyz")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], "failed");
}

#[tokio::test]
async fn metrics_label_requests_by_route_template_and_responses_carry_a_request_id() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let id = uuid::Uuid::new_v4();
    let response = app
        .as_key(&t.admin_key, Method::GET, &format!("/api/v1/users/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.headers().get("x-request-id").is_some());
    let text = app.metrics().await;
    assert!(
        text.contains(r#"nightowl_api_request_duration_seconds_count{method="GET",path="/api/v1/users/{id}",status="404"} 1"#),
        "{text}"
    );
    assert!(!text.contains(&id.to_string()), "raw ids never become labels");
}

#[tokio::test]
async fn openapi_document_describes_every_route_and_the_viewer_is_served() {
    let app = TestApp::spawn().await;
    let (status, doc) = send(app.request(Method::GET, "/api/docs/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    let mut documented = 0;
    let routes = nightowl::http::route_table();
    for route in &routes {
        let (method, path) = (route.method.as_str(), route.path.as_str());
        let op = &doc["paths"][path][method.to_lowercase()];
        assert!(
            op.is_object(),
            "{method} {path} missing from the OpenAPI document"
        );
        documented += 1;
    }
    assert_eq!(documented, routes.len());
    let html = app.request(Method::GET, "/api/docs/").send().await.unwrap();
    assert_eq!(html.status(), StatusCode::OK);
    assert!(html.text().await.unwrap().to_lowercase().contains("swagger"));
}
