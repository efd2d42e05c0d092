//! The web UI's files at `/`: the single-page app's routes answer `index.html`, hashed assets are
//! cached for good, the API keeps its JSON 404s.

use nightowl_tests::{TestApp, send};
use reqwest::{Method, StatusCode, header};

const INDEX: &str = "<!doctype html><title>NightOwl</title><script type=\"module\" src=\"/assets/boot-0123456789abcdef.js\"></script>";
const BOOT: &str = "import init from './nightowl_ui-0123456789abcdef.js'; init();";

fn bundle() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("nightowl-ui-test-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(dir.join("index.html"), INDEX).unwrap();
    std::fs::write(dir.join("assets/boot-0123456789abcdef.js"), BOOT).unwrap();
    std::fs::write(
        dir.join("favicon.svg"),
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
    )
    .unwrap();
    dir
}

#[tokio::test]
async fn the_app_is_served_at_every_route_and_the_api_keeps_its_json_404() {
    let dir = bundle();
    let app = TestApp::spawn_with(|c| c.ui_dir = Some(dir.clone())).await;

    for path in ["/", "/alerts", "/alerts/1234", "/knowledge/search?q=disk"] {
        let response = app.request(Method::GET, path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers().clone();
        assert_eq!(headers[header::CONTENT_TYPE], "text/html", "{path}");
        assert_eq!(headers[header::CACHE_CONTROL], "no-cache", "{path}");
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval'") && csp.contains("frame-ancestors 'none'")
        );
        assert_eq!(response.text().await.unwrap(), INDEX, "{path}");
    }

    let response = app
        .request(Method::GET, "/assets/boot-0123456789abcdef.js")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "text/javascript");
    assert_eq!(
        response.headers()[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(response.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(response.text().await.unwrap(), BOOT);
    let response = app.request(Method::GET, "/favicon.svg").send().await.unwrap();
    assert_eq!(response.headers()[header::CONTENT_TYPE], "image/svg+xml");
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");

    // Nothing outside the bundle.
    let response = app
        .request(Method::GET, "/assets/..%2f..%2f..%2fetc%2fpasswd")
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), INDEX);

    for (method, path) in [
        (Method::GET, "/api/v1/nonexistent"),
        (Method::GET, "/api"),
        (Method::GET, "/api/"),
        (Method::POST, "/alerts"),
        (Method::DELETE, "/"),
    ] {
        let (status, body) = send(app.request(method.clone(), path)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {body}");
        assert_eq!(body["code"], "not_found", "{method} {path}: {body}");
    }
    // The API's own routes are unaffected.
    let (status, _) = send(app.request(Method::GET, "/api/v1/ping")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let _ = std::fs::remove_dir_all(dir);
}

/// Reads server-sent events from `response` until one named `event` arrives; answers its data.
async fn next_event(response: &mut reqwest::Response, buffer: &mut String, event: &str) -> String {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let name = block.lines().find_map(|l| l.strip_prefix("event: "));
            let data = block.lines().find_map(|l| l.strip_prefix("data: "));
            if let (Some(name), Some(data)) = (name, data)
                && name == event
            {
                return data.to_owned();
            }
            continue;
        }
        let chunk = tokio::time::timeout_at(deadline, response.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {event} event within 10 s; got {buffer:?}"))
            .unwrap()
            .expect("the stream stays open");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn the_alert_event_stream_tells_a_tenant_of_its_own_alerts_only() {
    let app = TestApp::spawn_with_plugins(&["generic"], |_| {}).await;
    let a = app.tenant().await;
    let b = app.tenant().await;
    let (status, _) = send(app.request(Method::GET, "/api/v1/alerts/events")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let mut stream = app
        .as_key(&a.admin_key, Method::GET, "/api/v1/alerts/events")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(stream.headers()[header::CONTENT_TYPE], "text/event-stream");
    let mut buffer = String::new();
    // The stream is open once its first line arrived.
    let first = stream.chunk().await.unwrap().unwrap();
    buffer.push_str(&String::from_utf8_lossy(&first));

    // Tenant B's alert first: A's stream must not carry it.
    let post = |key: &str, title: &str| {
        app.as_key(key, Method::POST, "/api/v1/webhooks/generic")
            .json(&serde_json::json!({"title": title, "severity": "critical"}))
    };
    let (status, _) = send(post(&b.admin_key, "Other tenant's alert")).await;
    assert!(status.is_success());
    let (status, body) = send(post(&a.admin_key, "Disk full on db-1")).await;
    assert!(status.is_success(), "{body}");
    let id = body["alerts"][0]["id"].as_str().unwrap().to_owned();
    let data: serde_json::Value =
        serde_json::from_str(&next_event(&mut stream, &mut buffer, "alert").await).unwrap();
    assert_eq!(
        data["alert_id"],
        id.as_str(),
        "the first event is A's own alert: {data}"
    );
    assert_eq!(data["event"], "created");
    assert_eq!(data["severity"], "critical");

    let (status, _) = send(app.as_key(
        &a.admin_key,
        Method::PATCH,
        &format!("/api/v1/alerts/{id}/acknowledge"),
    ))
    .await;
    assert!(status.is_success());
    let data: serde_json::Value =
        serde_json::from_str(&next_event(&mut stream, &mut buffer, "alert").await).unwrap();
    assert_eq!(
        (data["alert_id"].as_str(), data["event"].as_str()),
        (Some(id.as_str()), Some("acknowledged"))
    );
}
