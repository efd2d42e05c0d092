//! The permission matrix: each role gets 403 exactly where the route declarations say.

use nightowl::http::routes::Access;
use nightowl_api::Role;
use nightowl_tests::{TestApp, error_code, send, tenant_routes};
use reqwest::{Method, StatusCode};
use serde_json::json;

/// A body that passes validation for the route, so only the role decides 403.
fn body_for(method: &str, path: &str) -> Option<serde_json::Value> {
    let unique = uuid::Uuid::new_v4().simple().to_string();
    match (method, path) {
        ("POST" | "PUT", "/api/v1/users" | "/api/v1/users/{id}") => Some(json!({
            "email": format!("{unique}@example.com"), "display_name": "Matrix", "role": "readonly"
        })),
        ("POST" | "PUT", "/api/v1/services" | "/api/v1/services/{id}") => Some(json!({ "name": unique })),
        ("POST", "/api/v1/admin/api-keys") => Some(json!({ "name": unique, "role": "readonly" })),
        ("PUT", "/api/v1/admin/config") => Some(json!({ "default_timezone": "Europe/Berlin" })),
        ("POST", _) | ("PUT", _) => Some(json!({})),
        _ => None,
    }
}

#[tokio::test]
async fn each_role_gets_403_exactly_where_the_matrix_says() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant().await;
    let mut checked = 0;
    let routes = tenant_routes();
    for role in Role::ALL {
        let key = app.key(&tenant, role).await;
        for route in &routes {
            let (method, path) = (route.method.as_str(), route.path.as_str());
            let concrete = path.replace("{id}", &uuid::Uuid::new_v4().to_string());
            let mut req = app.as_key(&key, route.method.clone(), &concrete);
            if let Some(body) = body_for(method, path) {
                req = req.json(&body);
            }
            let (status, body) = send(req).await;
            if role < route.min_role {
                assert_eq!(status, StatusCode::FORBIDDEN, "{role} {method} {path}: {body}");
                assert_eq!(error_code(&body), "forbidden");
            } else {
                assert!(
                    status != StatusCode::FORBIDDEN
                        && status != StatusCode::UNAUTHORIZED
                        && !status.is_server_error(),
                    "{role} {method} {path}: {status} {body}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, routes.len() * 4);
}

#[tokio::test]
async fn only_public_routes_answer_a_caller_without_credentials() {
    let app = TestApp::spawn().await;
    let table = nightowl::http::route_table();
    let mut public = 0;
    for route in &table {
        let concrete = route
            .path
            .replace("{id}", &uuid::Uuid::new_v4().to_string())
            .replace("{source}", "generic")
            .replace("{fingerprint}", "f")
            .replace("{override_id}", &uuid::Uuid::new_v4().to_string());
        let method = Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
        let request = app.request(method, &concrete);
        if let Access::Public = route.access {
            // Probes and the scrape endpoint answer text; only the status matters here.
            let status = request.send().await.unwrap().status();
            public += 1;
            assert!(
                status != StatusCode::UNAUTHORIZED && !status.is_server_error(),
                "{} {}: {status}",
                route.method,
                route.path
            );
        } else {
            let (status, body) = send(request).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{} {}: {body}",
                route.method,
                route.path
            );
            assert_eq!(error_code(&body), "unauthenticated");
        }
    }
    assert!(public >= 5, "probes, metrics, sign-in and sign-out are public");
}

#[tokio::test]
async fn read_scope_limits_a_key_to_reads() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant().await;
    let (status, created) = send(
        app.as_key(&tenant.admin_key, Method::POST, "/api/v1/admin/api-keys")
            .json(&json!({ "name": "calendar", "role": "manager", "scopes": ["read"] })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let key = created["key"].as_str().unwrap();
    let (status, _) = send(app.as_key(key, Method::GET, "/api/v1/services")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = send(
        app.as_key(key, Method::POST, "/api/v1/services")
            .json(&json!({ "name": "blocked" })),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

#[tokio::test]
async fn unknown_method_on_a_known_route_gets_405_with_the_error_shape() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant().await;
    let (status, body) = send(app.as_key(&tenant.admin_key, Method::PATCH, "/api/v1/services")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
    assert_eq!(error_code(&body), "method_not_allowed");
}
