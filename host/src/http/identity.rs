//! Who is calling (`/ping`), how one can sign in (`/auth/methods`) and the local password sign-in
//! that sets the session cookie.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use nightowl_api::ErrorBody;
use nightowl_api::admin::{AuthMethods, Identity, LoginInput, OidcMethod};

use super::client::ClientAddr;
use super::error::ApiError;
use super::extract::Json;
use super::routes::Route;
use crate::auth::{self, Actor, Principal, SESSION_COOKIE, throttle};
use crate::state::AppState;
use crate::{db, tenancy};
use nightowl_api::Role::Readonly;
use utoipa_axum::routes;

/// The routes of the caller's identity and the local sign-in, with who may call them.
pub fn routes() -> Vec<Route> {
    vec![
        Route::public(routes!(auth_methods)),
        Route::public(routes!(login)),
        Route::public(routes!(logout)),
        Route::read(routes!(ping), Readonly),
    ]
}

fn identity(p: &Principal) -> Identity {
    Identity {
        tenant: p.tenant.slug.to_string(),
        role: p.role,
        actor_type: p.actor_type(),
        actor_id: p.actor_id().map(|id| id.to_string()),
        actor_label: p.label(),
    }
}

/// Tenant and role of the caller.
#[utoipa::path(get, path = "/api/v1/ping", tag = "identity",
    responses((status = 200, body = Identity), (status = 401, body = ErrorBody)))]
pub async fn ping(principal: Principal) -> Json<Identity> {
    Json(identity(&principal))
}

/// How people can sign in here, for the sign-in page: local passwords always, single sign-on
/// through the OIDC issuer when a client id is configured.
#[utoipa::path(get, path = "/api/v1/auth/methods", tag = "identity", security(()),
    responses((status = 200, body = AuthMethods)))]
pub async fn auth_methods(State(state): State<AppState>) -> Json<AuthMethods> {
    Json(AuthMethods {
        password: true,
        oidc: state.oidc_login.as_ref().map(|_| OidcMethod {
            login_url: "/auth/oidc/login".into(),
        }),
    })
}

/// Signs in with a local password and sets the session cookie (HttpOnly, SameSite=Strict).
///
/// Failed attempts are limited per account and per client address (429 with `Retry-After` once
/// the limit is reached, for the rest of the 15-minute window), and password checks run on a small
/// bounded pool (429 when it is full), so a flood of bad logins can neither guess passwords nor take
/// the server's memory.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "identity", security(()), request_body = LoginInput,
    responses((status = 200, body = Identity), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Json(input): Json<LoginInput>,
) -> Result<Response, ApiError> {
    let invalid = || ApiError::from(auth::AuthError::Invalid);
    let now = state.clock.now();
    let account = format!("{}/{}", input.tenant.trim(), input.email.trim().to_lowercase());
    let address = client.map(|ip| ip.to_string());
    let guards = &state.logins;
    // Every attempt counts as a failure from the start and is taken back if it succeeds, so
    // concurrent attempts cannot all pass the limit before the first failure is counted.
    let refused = |wait| {
        ApiError::too_many(
            "too_many_failed_logins",
            "too many failed sign-ins; wait before trying again",
            throttle::retry_seconds(wait),
        )
    };
    guards.per_account.attempt(&account, now).map_err(refused)?;
    if let Some(a) = &address
        && let Err(wait) = guards.per_address.attempt(a, now)
    {
        guards.per_account.succeeded(&account);
        return Err(refused(wait));
    }
    // Not a failure of the caller's: give the attempt back.
    let not_counted = || {
        guards.per_account.succeeded(&account);
        if let Some(a) = &address {
            guards.per_address.succeeded(a);
        }
    };
    let tenant = tenancy::find_tenant(&state.db, input.tenant.trim()).await?;
    let user = match &tenant {
        Some(t) => {
            let mut tx = db::begin_tenant(&state.db, &t.slug, &input.email).await?;
            let user = db::users::find_by_email(&mut tx, input.email.trim()).await?;
            tx.commit().await?;
            user
        }
        None => None,
    };
    // Verify against a decoy when there is no such user or password, so timing tells nothing.
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let password = input.password.clone();
    let verified = guards
        .hashes
        .run(move || {
            auth::password::verify(
                &password,
                stored.as_deref().unwrap_or(auth::password::decoy_hash()),
            )
        })
        .await
        .map_err(|_| {
            not_counted();
            ApiError::too_many(
                "login_busy",
                "too many sign-ins are being checked; retry in a moment",
                1,
            )
        })?;
    let (Some(tenant), Some(user)) = (tenant, user) else {
        return Err(invalid());
    };
    if !verified || user.password_hash.is_none() {
        return Err(invalid());
    }
    guards.per_account.clear(&account);
    if let Some(a) = &address {
        guards.per_address.succeeded(a);
    }
    if !user.is_active {
        return Err(auth::AuthError::Deactivated.into());
    }

    let cookie = auth::session::start(&state, &tenant, user.id).await?;
    let principal = Principal {
        role: user.role,
        actor: Actor::User {
            id: user.id,
            email: user.email.clone(),
        },
        tenant,
        scopes: Vec::new(),
    };
    let mut response = Json(identity(&principal)).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// Ends the session of the cookie sent, if any, and clears the cookie.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "identity", security(()),
    responses((status = 204, description = "Signed out")))]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = auth::session::cookie_value(&headers) {
        let mut conn = state.db.acquire().await?;
        db::sessions::delete(&mut conn, &auth::session::hash(&token)).await?;
    }
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}
