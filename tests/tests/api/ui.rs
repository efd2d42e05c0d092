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
