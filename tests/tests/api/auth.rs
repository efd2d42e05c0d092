//! Authentication: API keys (expiry, revocation, last use), OIDC JWTs against a local JWKS, local
//! password sessions, and the dev header only in dev mode.

use chrono::{Duration, Utc};
use nightowl::clock::Clock as _;
use nightowl_tests::jwks::{Issuer, SigningKey};
use nightowl_tests::{TestApp, error_code, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn unknown_expired_and_revoked_keys_get_401() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;

    let (status, body) =
        send(app.as_key("nwl_not-a-real-key-at-all-00000000", Method::GET, "/api/v1/ping")).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "invalid_credentials")
    );
    let (status, body) = send(app.request(Method::GET, "/api/v1/ping")).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );

    let expires = app.clock.now() + Duration::hours(1);
    let (status, created) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/admin/api-keys")
            .json(&json!({ "name": "short-lived", "role": "engineer", "expires_at": expires })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let key = created["key"].as_str().unwrap().to_owned();
    let (status, _) = send(app.as_key(&key, Method::GET, "/api/v1/ping")).await;
    assert_eq!(status, StatusCode::OK);

    app.clock.advance(Duration::hours(1) + Duration::seconds(1));
    let (status, body) = send(app.as_key(&key, Method::GET, "/api/v1/ping")).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "api_key_expired")
    );

    let other = app.key(&t, nightowl_api::Role::Engineer).await;
    let (status, _) = send(app.as_key(&other, Method::GET, "/api/v1/ping")).await;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = send(app.as_key(&t.admin_key, Method::GET, "/api/v1/admin/api-keys")).await;
    let prefix = &other[..12];
    let entry = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["prefix"] == prefix)
        .unwrap()
        .clone();
    assert!(entry["last_used_at"].is_string(), "last use recorded: {entry}");
    assert!(
        !list.to_string().contains(&other),
        "the list never shows a raw key"
    );
    let id = entry["id"].as_str().unwrap();
    let (status, revoked) = send(app.as_key(
        &t.admin_key,
        Method::DELETE,
        &format!("/api/v1/admin/api-keys/{id}"),
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(revoked["revoked_at"].is_string());
    let (status, body) = send(app.as_key(&other, Method::GET, "/api/v1/ping")).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "api_key_revoked")
    );
}

#[tokio::test]
async fn stored_keys_are_hashed() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let raw = t.admin_key.as_bytes();
    let rows: Vec<(Vec<u8>, String)> =
        sqlx::query_as("select key_hash, prefix from api_keys where tenant_id = $1")
            .bind(t.tenant.id)
            .fetch_all(app.db())
            .await
            .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0.len(), 32);
    assert!(!rows[0].0.windows(raw.len()).any(|w| w == raw));
    assert!(t.admin_key.starts_with(&rows[0].1) && rows[0].1.len() < t.admin_key.len());
}

fn claims(issuer: &str, tenant: &str, email: &str) -> Value {
    let now = Utc::now().timestamp();
    json!({
        "iss": issuer, "aud": "nightowl", "sub": format!("sub-{email}"), "email": email, "name": "Olga Oidc",
        "nightowl_tenant": tenant, "iat": now, "exp": now + 600,
    })
}

#[tokio::test]
async fn oidc_tokens_are_checked_against_the_issuers_jwks() {
    let key = SigningKey::generate("key-1");
    let stranger = SigningKey::generate("key-1-forged");
    let issuer = Issuer::start(&[&key]).await;
    let issuer_url = issuer.url.clone();
    let app = TestApp::spawn_with(|c| {
        c.oidc_issuer = Some(issuer_url.clone());
        c.oidc_audience = Some("nightowl".into());
    })
    .await;
    let t = app.tenant().await;
    let slug = t.tenant.slug.to_string();
    let bearer = |token: String| app.request(Method::GET, "/api/v1/ping").bearer_auth(token);

    // A valid token signs in and creates the user with the default (readonly) role.
    let (status, body) = send(bearer(key.sign(&claims(&issuer.url, &slug, "olga@acme.example")))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["actor_label"], "olga@acme.example");
    assert_eq!(body["role"], "readonly");
    let (_, users) = send(app.as_key(&t.admin_key, Method::GET, "/api/v1/users")).await;
    assert_eq!(users["total"], 1);

    let rejected = |c: Value, signer: &SigningKey| signer.sign(&c);
    let mut wrong_aud = claims(&issuer.url, &slug, "olga@acme.example");
    wrong_aud["aud"] = json!("someone-else");
    let mut wrong_iss = claims(&issuer.url, &slug, "olga@acme.example");
    wrong_iss["iss"] = json!("https://evil.example");
    let mut expired = claims(&issuer.url, &slug, "olga@acme.example");
    expired["exp"] = json!(Utc::now().timestamp() - 3600);
    let mut unknown_tenant = claims(&issuer.url, "t_nosuchtenant", "olga@acme.example");
    unknown_tenant["sub"] = json!("x");
    for (what, token) in [
        (
            "unknown key",
            rejected(claims(&issuer.url, &slug, "olga@acme.example"), &stranger),
        ),
        ("wrong audience", rejected(wrong_aud, &key)),
        ("wrong issuer", rejected(wrong_iss, &key)),
        ("expired", rejected(expired, &key)),
        ("unknown tenant", rejected(unknown_tenant, &key)),
        ("garbage", "not.a.jwt".to_owned()),
    ] {
        let (status, body) = send(bearer(token)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
        error_code(&body);
    }

    // A token whose key id matches but whose signature is from another key.
    let forged = SigningKey::generate("key-1");
    let (status, _) = send(bearer(forged.sign(&claims(
        &issuer.url,
        &slug,
        "olga@acme.example",
    ))))
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Rotation: a key published after the first fetch is picked up (refetch on unknown kid).
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    let rotated = SigningKey::generate("key-2");
    issuer.publish(&rotated);
    let mut c = claims(&issuer.url, &slug, "olga@acme.example");
    c["nightowl_role"] = json!("manager");
    let (status, body) = send(bearer(rotated.sign(&c))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["role"], "manager", "the role claim sets the role");
}

#[tokio::test]
async fn local_login_sets_a_session_cookie_that_logout_and_deactivation_end() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let (status, user) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/users")
            .json(&json!({
                "email": "root@acme.example", "display_name": "Root", "role": "manager",
                "password": "a long enough password"
            })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    assert_eq!(user["has_password"], true);
    let slug = t.tenant.slug.to_string();
    let login = |password: &str| {
        app.request(Method::POST, "/api/v1/auth/login")
            .json(&json!({ "tenant": slug, "email": "ROOT@acme.example", "password": password }))
    };

    let (status, body) = send(login("wrong password!!")).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "invalid_credentials")
    );
    let (status, body) = send(app.request(Method::POST, "/api/v1/auth/login").json(
        &json!({ "tenant": "t_nope", "email": "root@acme.example", "password": "a long enough password" }),
    ))
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "invalid_credentials")
    );

    let response = login("a long enough password").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"),
        "{set_cookie}"
    );
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let with_cookie = |m: Method, p: &str| app.request(m, p).header("cookie", cookie.clone());

    let (status, me) = send(with_cookie(Method::GET, "/api/v1/ping")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (me["actor_type"].as_str(), me["role"].as_str()),
        (Some("user"), Some("manager"))
    );

    let (status, _) = send(with_cookie(Method::POST, "/api/v1/auth/logout")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = send(with_cookie(Method::GET, "/api/v1/ping")).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "session_expired")
    );

    // Deactivation ends sessions and blocks new sign-ins.
    let response = login("a long enough password").send().await.unwrap();
    let cookie2 = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let id = user["id"].as_str().unwrap();
    let (status, _) = send(app.as_key(
        &t.admin_key,
        Method::POST,
        &format!("/api/v1/users/{id}/deactivate"),
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(app.request(Method::GET, "/api/v1/ping").header("cookie", cookie2)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = send(login("a long enough password")).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "user_deactivated")
    );
}

#[tokio::test]
async fn dev_header_works_only_in_dev_mode() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let slug = t.tenant.slug.to_string();
    let (status, _) = send(
        app.request(Method::GET, "/api/v1/ping")
            .header("x-nightowl-dev-tenant", &slug),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let dev = TestApp::spawn_with(|c| c.dev_mode = true).await;
    let (status, body) = send(
        dev.request(Method::GET, "/api/v1/ping")
            .header("x-nightowl-dev-tenant", &slug)
            .header("x-nightowl-dev-role", "engineer"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["role"], "engineer");
    let (status, body) = send(
        dev.request(Method::GET, "/api/v1/ping")
            .header("x-nightowl-dev-tenant", "t_missing"),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "unknown_tenant")
    );
}
