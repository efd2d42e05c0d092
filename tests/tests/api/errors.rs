//! Bad input gets the JSON error shape with a stable code and a 4xx, and nothing is written.

use nightowl_tests::{TestApp, error_code, send};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn service_count(app: &TestApp, key: &str) -> i64 {
    let (_, list) = send(app.as_key(key, Method::GET, "/api/v1/services")).await;
    list["total"].as_i64().unwrap()
}

#[tokio::test]
async fn malformed_json_is_400_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    for body in ["{", "{\"name\": }", "{\"name\": \"x\"", "\u{0}", "name=x"] {
        let (status, err) = send(
            app.as_key(&t.admin_key, Method::POST, "/api/v1/services")
                .header("content-type", "application/json")
                .body(body),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}: {err}");
        assert_eq!(error_code(&err), "invalid_json");
    }
    assert_eq!(service_count(&app, &t.admin_key).await, 0);
}

#[tokio::test]
async fn wrong_shapes_types_and_values_are_4xx_with_field_details() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let post = |body: serde_json::Value| {
        app.as_key(&t.admin_key, Method::POST, "/api/v1/users")
            .json(&body)
    };

    let (status, err) = send(post(
        json!({ "email": "x@y.example", "display_name": "X", "role": "superuser" }),
    ))
    .await;
    assert_eq!(
        (status, error_code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body")
    );
    let (status, err) = send(post(
        json!({ "email": "x@y.example", "display_name": "X", "role": "admin", "extra": 1 }),
    ))
    .await;
    assert_eq!(
        (status, error_code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body")
    );
    let (status, err) = send(post(json!({
        "email": "not-an-email", "display_name": "X", "role": "admin", "phone": "0151 123", "timezone": "Moon/Base"
    })))
    .await;
    assert_eq!(
        (status, error_code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
    );
    for field in ["email", "phone", "timezone"] {
        assert!(err["details"][field].is_array(), "{field} reported: {err}");
    }
    let (status, err) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/services")
            .header("content-type", "text/plain")
            .body("{}"),
    )
    .await;
    assert_eq!(
        (status, error_code(&err)),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );
    let (status, err) = send(app.as_key(&t.admin_key, Method::GET, "/api/v1/users/not-a-uuid")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    error_code(&err);
    let (status, err) = send(app.as_key(&t.admin_key, Method::GET, "/api/v1/users?limit=5000")).await;
    assert_eq!(
        (status, error_code(&err)),
        (StatusCode::BAD_REQUEST, "invalid_pagination")
    );
    let (status, err) =
        send(app.as_key(&t.admin_key, Method::GET, "/api/v1/admin/api-keys?cursor=zzz")).await;
    assert_eq!(
        (status, error_code(&err)),
        (StatusCode::BAD_REQUEST, "invalid_cursor")
    );

    let (_, users) = send(app.as_key(&t.admin_key, Method::GET, "/api/v1/users")).await;
    assert_eq!(users["total"], 0, "nothing was written");
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(1024 * 1024 + 10));
    let (status, err) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/services")
            .header("content-type", "application/json")
            .body(big),
    )
    .await;
    assert_eq!(
        (status, error_code(&err)),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    assert_eq!(service_count(&app, &t.admin_key).await, 0);
}

#[tokio::test]
async fn duplicates_are_409_and_unknown_things_404() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let create = || {
        app.as_key(&t.admin_key, Method::POST, "/api/v1/services")
            .json(&json!({ "name": "dup" }))
    };
    assert_eq!(send(create()).await.0, StatusCode::CREATED);
    let (status, err) = send(create()).await;
    assert_eq!(
        (status, error_code(&err)),
        (StatusCode::CONFLICT, "service_exists")
    );
    let (status, err) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/services")
            .json(&json!({ "name": "orphan", "owner_user_id": uuid::Uuid::new_v4() })),
    )
    .await;
    assert_eq!(
        (status, error_code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
    );

    let (status, err) = send(app.as_key(&t.admin_key, Method::GET, "/api/v1/no-such-thing")).await;
    assert_eq!((status, error_code(&err)), (StatusCode::NOT_FOUND, "not_found"));
    let (status, err) = send(app.as_key(
        &t.admin_key,
        Method::GET,
        &format!("/api/v1/services/{}", uuid::Uuid::new_v4()),
    ))
    .await;
    assert_eq!((status, error_code(&err)), (StatusCode::NOT_FOUND, "not_found"));
    assert_eq!(service_count(&app, &t.admin_key).await, 1);
}
