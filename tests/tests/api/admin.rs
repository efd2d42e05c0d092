//! Admin APIs: users, services, API keys and tenant configuration with sealed secrets.

use nightowl_api::Role;
use nightowl_tests::{TestApp, error_code, send};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn users_can_be_created_listed_updated_deactivated_and_deleted() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let k = &t.admin_key;
    let (status, carol) = send(app.as_key(k, Method::POST, "/api/v1/users").json(&json!({
        "email": "carol@acme.example", "display_name": "Carol", "role": "manager",
        "timezone": "Pacific/Auckland", "phone": "+64211234567", "slack_user_id": "U0CAROL"
    })))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{carol}");
    assert_eq!(carol["timezone"], "Pacific/Auckland");
    assert_eq!(carol["has_password"], false);
    let id = carol["id"].as_str().unwrap();

    let (status, err) = send(app.as_key(k, Method::POST, "/api/v1/users").json(&json!({
        "email": "CAROL@acme.example", "display_name": "Carol 2", "role": "readonly"
    })))
    .await;
    assert_eq!((status, error_code(&err)), (StatusCode::CONFLICT, "email_taken"));

    let (status, updated) = send(app.as_key(k, Method::PUT, &format!("/api/v1/users/{id}")).json(&json!({
        "email": "carol@acme.example", "display_name": "Carol C.", "role": "engineer", "timezone": "UTC"
    })))
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(
        (updated["display_name"].as_str(), updated["role"].as_str()),
        (Some("Carol C."), Some("engineer"))
    );
    assert_eq!(
        updated["phone"],
        serde_json::Value::Null,
        "PUT replaces every field"
    );

    let (_, off) = send(app.as_key(k, Method::POST, &format!("/api/v1/users/{id}/deactivate"))).await;
    assert_eq!(off["is_active"], false);
    let (_, active) = send(app.as_key(k, Method::GET, "/api/v1/users?active=true")).await;
    assert_eq!(active["total"], 0);
    let (_, inactive) = send(app.as_key(k, Method::GET, "/api/v1/users?active=false")).await;
    assert_eq!(inactive["total"], 1);
    let (_, on) = send(app.as_key(k, Method::POST, &format!("/api/v1/users/{id}/activate"))).await;
    assert_eq!(on["is_active"], true);

    let (status, _) = send(app.as_key(k, Method::DELETE, &format!("/api/v1/users/{id}"))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(app.as_key(k, Method::GET, &format!("/api/v1/users/{id}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn services_catalogue_crud_with_pagination_and_search() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let k = &t.admin_key;
    for i in 0..5 {
        let (status, _) = send(app.as_key(k, Method::POST, "/api/v1/services").json(&json!({
            "name": format!("svc-{i}"), "cluster": "prod-eu-1", "namespace": "shop", "tier": 1 + i % 4
        })))
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (_, page) = send(app.as_key(k, Method::GET, "/api/v1/services?limit=2&offset=2")).await;
    assert_eq!(page["total"], 5);
    let names: Vec<_> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["svc-2", "svc-3"]);
    let (_, found) = send(app.as_key(k, Method::GET, "/api/v1/services?q=VC-4")).await;
    assert_eq!(found["total"], 1);
    let (_, none) = send(app.as_key(k, Method::GET, "/api/v1/services?q=%25")).await;
    assert_eq!(none["total"], 0, "% is matched literally");

    let id = page["items"][0]["id"].as_str().unwrap();
    let (status, err) = send(
        app.as_key(k, Method::PUT, &format!("/api/v1/services/{id}"))
            .json(&json!({ "name": "x", "tier": 9 })),
    )
    .await;
    assert_eq!(
        (status, error_code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
    );
    let (status, svc) = send(
        app.as_key(k, Method::PUT, &format!("/api/v1/services/{id}"))
            .json(&json!({ "name": "renamed", "tier": 2 })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (svc["name"].as_str(), svc["tier"].as_i64()),
        (Some("renamed"), Some(2))
    );
    let (status, _) = send(app.as_key(k, Method::DELETE, &format!("/api/v1/services/{id}"))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, after) = send(app.as_key(k, Method::GET, "/api/v1/services")).await;
    assert_eq!(after["total"], 4);
}

#[tokio::test]
async fn api_key_list_walks_with_a_cursor() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    for i in 0..4 {
        let (status, _) = send(
            app.as_key(&t.admin_key, Method::POST, "/api/v1/admin/api-keys")
                .json(&json!({ "name": format!("k{i}"), "role": "readonly" })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/admin/api-keys?limit=2".to_owned();
    loop {
        let (status, page) = send(app.as_key(&t.admin_key, Method::GET, &path)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for item in page["items"].as_array().unwrap() {
            assert!(item.get("key").is_none(), "raw key never listed");
            seen.push(item["name"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/admin/api-keys?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ["k3", "k2", "k1", "k0", "test-admin"]);
}

#[tokio::test]
async fn tenant_config_replaces_time_zone_retention_and_default_roster() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let k = &t.admin_key;
    let (status, config) = send(app.as_key(k, Method::PUT, "/api/v1/admin/config").json(&json!({
        "default_timezone": "Europe/Berlin", "retention_days": 90
    })))
    .await;
    assert_eq!(status, StatusCode::OK, "{config}");
    assert_eq!(
        (
            config["default_timezone"].as_str(),
            config["retention_days"].as_i64()
        ),
        (Some("Europe/Berlin"), Some(90))
    );
    assert!(
        config.get("slack_bot_token").is_none(),
        "channel settings are per plugin now"
    );
    let (status, err) = send(app.as_key(k, Method::PUT, "/api/v1/admin/config").json(&json!({
        "default_timezone": "Mars/Olympus", "retention_days": 0, "slack_bot_token": "xoxb"
    })))
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let (_, config) = send(app.as_key(k, Method::GET, "/api/v1/admin/config")).await;
    assert_eq!(
        config["default_timezone"], "Europe/Berlin",
        "nothing half-written"
    );
}

#[tokio::test]
async fn plugin_secrets_are_sealed_at_rest_and_only_reported_as_configured() {
    let app = TestApp::spawn_with_plugins(&["recorder"], |_| {}).await;
    let t = app.tenant().await;
    let k = &t.admin_key;
    let path = "/api/v1/admin/plugins/recorder/config";
    let token = "xoxb-1234567890-abcdefghijkl-WXYZ";
    let (status, config) = send(app.as_key(k, Method::PUT, path).json(&json!({ "settings": {
        "token": token, "backup_token": "short-12", "room": "#ops", "callback_number": "+15005550006"
    }})))
    .await;
    assert_eq!(status, StatusCode::OK, "{config}");
    assert!(!config.to_string().contains(token) && !config.to_string().contains("short-12"));
    let setting = |config: &serde_json::Value, key: &str| {
        config["settings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == key)
            .cloned()
            .unwrap_or_else(|| panic!("{key} listed: {config}"))
    };
    assert_eq!(
        setting(&config, "token")["status"],
        json!({ "configured": true, "last4": "WXYZ" })
    );
    assert_eq!(setting(&config, "token")["value"], serde_json::Value::Null);
    assert_eq!(
        setting(&config, "backup_token")["status"],
        json!({ "configured": true, "last4": null })
    );
    assert_eq!(setting(&config, "room")["value"], "#ops");
    assert_eq!(
        setting(&config, "api_base_url")["default"],
        "https://recorder.example/api"
    );
    assert_eq!(setting(&config, "callback_number")["type"], "phone");

    let schema = t.tenant.slug.schema();
    let stored: Vec<u8> = sqlx::query_scalar(&format!(
        "select secret_enc from {schema}.plugin_settings where plugin_id = 'recorder' and key = 'token'"
    ))
    .fetch_one(app.db())
    .await
    .unwrap();
    assert!(
        !stored.windows(token.len()).any(|w| w == token.as_bytes()),
        "plaintext stored"
    );

    // Absent keeps, null clears.
    let (_, config) = send(
        app.as_key(k, Method::PUT, path)
            .json(&json!({ "settings": { "backup_token": null } })),
    )
    .await;
    assert_eq!(setting(&config, "token")["status"]["configured"], true);
    assert_eq!(setting(&config, "backup_token")["status"]["configured"], false);
    assert_eq!(setting(&config, "room")["value"], "#ops");

    // Checked against the manifest, all or nothing.
    let (status, err) = send(app.as_key(k, Method::PUT, path).json(&json!({ "settings": {
        "callback_number": "555", "api_base_url": "ftp:/x", "nope": "x", "room": "#changed",
        "backup_token": "short"
    }})))
    .await;
    assert_eq!(
        (status, error_code(&err)),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        "{err}"
    );
    let fields: Vec<&String> = err["details"].as_object().unwrap().keys().collect();
    assert_eq!(
        fields,
        [
            "settings.api_base_url",
            "settings.backup_token",
            "settings.callback_number",
            "settings.nope"
        ]
    );
    let (_, config) = send(app.as_key(k, Method::GET, path)).await;
    assert_eq!(setting(&config, "room")["value"], "#ops", "nothing half-written");

    let (status, err) = send(app.as_key(k, Method::GET, "/api/v1/admin/plugins/nope/config")).await;
    assert_eq!(
        (status, error_code(&err)),
        (StatusCode::NOT_FOUND, "unknown_plugin")
    );
    let engineer = app.key(&t, Role::Engineer).await;
    let (status, _) = send(app.as_key(&engineer, Method::GET, path)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "plugin settings are for admins");
}

#[tokio::test]
async fn plugin_secrets_are_refused_without_an_encryption_key() {
    let app = TestApp::spawn_with_plugins(&["recorder"], |c| c.secret_key = None).await;
    let t = app.tenant().await;
    let path = "/api/v1/admin/plugins/recorder/config";
    let (status, err) = send(
        app.as_key(&t.admin_key, Method::PUT, path)
            .json(&json!({ "settings": { "room": "#ops", "token": "xoxb-1-long-enough" } })),
    )
    .await;
    assert_eq!(
        (status, error_code(&err)),
        (StatusCode::CONFLICT, "encryption_key_missing")
    );
    let (_, config) = send(app.as_key(&t.admin_key, Method::GET, path)).await;
    let room = config["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "room")
        .unwrap();
    assert_eq!(room["value"], serde_json::Value::Null, "nothing half-written");
}

#[tokio::test]
async fn the_last_active_admin_cannot_be_demoted_deactivated_or_deleted() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let k = &t.admin_key;
    let admin = json!({ "email": "only@acme.example", "display_name": "Only", "role": "admin" });
    let (_, only) = send(app.as_key(k, Method::POST, "/api/v1/users").json(&admin)).await;
    let id = only["id"].as_str().unwrap();
    let demote = json!({ "email": "only@acme.example", "display_name": "Only", "role": "manager" });
    for req in [
        app.as_key(k, Method::PUT, &format!("/api/v1/users/{id}"))
            .json(&demote),
        app.as_key(k, Method::POST, &format!("/api/v1/users/{id}/deactivate")),
        app.as_key(k, Method::DELETE, &format!("/api/v1/users/{id}")),
    ] {
        let (status, err) = send(req).await;
        assert_eq!((status, error_code(&err)), (StatusCode::CONFLICT, "last_admin"));
    }
    let (_, still) = send(app.as_key(k, Method::GET, &format!("/api/v1/users/{id}"))).await;
    assert_eq!(
        (still["role"].as_str(), still["is_active"].as_bool()),
        (Some("admin"), Some(true))
    );

    // With a second admin the first can step down.
    let second = json!({ "email": "two@acme.example", "display_name": "Two", "role": "admin" });
    assert_eq!(
        send(app.as_key(k, Method::POST, "/api/v1/users").json(&second))
            .await
            .0,
        StatusCode::CREATED
    );
    let (status, _) = send(
        app.as_key(k, Method::PUT, &format!("/api/v1/users/{id}"))
            .json(&demote),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}
