//! The route declarations themselves: a signed callback (how Slack and Twilio will call in) is an
//! ordinary declared route whose verifier sees the raw body; a forged signature never reaches the
//! handler.

use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Bytes;
use axum::http::request::Parts;
use nightowl::auth::{Actor, AuthError, Principal};
use nightowl::http::routes::{BoxFuture, Route, SignedCallback};
use nightowl::state::AppState;
use nightowl::tenancy;
use nightowl_api::Role;
use nightowl_tests::{TestApp, error_code, send};
use reqwest::StatusCode;

/// Signs with the body's length, keyed by nothing: enough to tell a good signature from a forged
/// one without a secret. The tenant comes from a header, as a real verifier reads it from the URL.
struct LengthSignature;

static HANDLED: AtomicUsize = AtomicUsize::new(0);

impl SignedCallback for LengthSignature {
    fn verify<'a>(
        &'a self,
        state: &'a AppState,
        parts: &'a Parts,
        body: &'a Bytes,
    ) -> BoxFuture<'a, Result<Principal, AuthError>> {
        Box::pin(async move {
            let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
            if header("x-test-signature") != Some(format!("len={}", body.len()).as_str()) {
                return Err(AuthError::Invalid);
            }
            let slug = header("x-test-tenant").ok_or(AuthError::Invalid)?;
            let tenant = tenancy::find_tenant(&state.db, slug)
                .await?
                .ok_or_else(|| AuthError::UnknownTenant(slug.to_owned()))?;
            Ok(Principal {
                tenant,
                role: Role::Engineer,
                actor: Actor::Dev,
                scopes: Vec::new(),
            })
        })
    }
}

/// Answers with what it was given.
#[utoipa::path(post, path = "/api/v1/test/callback", responses((status = 200)))]
async fn callback(principal: Principal, body: String) -> String {
    HANDLED.fetch_add(1, Ordering::SeqCst);
    format!("{} {} {body}", principal.tenant.slug, principal.role)
}

#[tokio::test]
async fn a_signed_callback_reaches_its_handler_only_with_a_valid_signature() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let route = Route::signed(utoipa_axum::routes!(callback), &LengthSignature);
    assert!(
        route.spec().min_role().is_none(),
        "the verifier decides, not a role"
    );
    assert!(route.spec().is_audited());
    let (router, _) = utoipa_axum::router::OpenApiRouter::new()
        .routes(route.into_guarded(&app.state))
        .split_for_parts();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = router.with_state(app.state.clone());
    let server = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    let post = |signature: &str| {
        app.http
            .post(format!("{base}/api/v1/test/callback"))
            .header("x-test-signature", signature)
            .header("x-test-tenant", t.tenant.slug.as_str())
            .body("payload=1")
    };

    let (status, body) = send(post("len=8")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(error_code(&body), "invalid_credentials");
    assert_eq!(
        HANDLED.load(Ordering::SeqCst),
        0,
        "a forged signature never reaches the handler"
    );

    let answer = post("len=9").send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(
        answer.text().await.unwrap(),
        format!("{} engineer payload=1", t.tenant.slug),
        "the handler gets the body the verifier checked"
    );
    assert_eq!(HANDLED.load(Ordering::SeqCst), 1);

    // The call is audited as the principal the verifier named.
    let mut rows = 0;
    for _ in 0..50 {
        rows = sqlx::query_scalar::<_, i64>(&format!(
            "select count(*) from {}.audit_log where resource_type = 'test' and action = 'callback'",
            t.tenant.slug.schema()
        ))
        .fetch_one(app.db())
        .await
        .unwrap();
        if rows > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(rows, 1, "one audit row for the signed call");
    server.abort();
}
