//! Browser sessions from the password and OIDC sign-ins: a random cookie value, stored as its SHA-256.

use super::{AuthError, Principal, SESSION_COOKIE};
use crate::db;
use crate::state::AppState;
use crate::tenancy::{Slug, Tenant};
use axum::http::header::COOKIE;
use axum::http::{HeaderMap, HeaderValue};
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A fresh random session token (the cookie value).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 of a token, as stored.
pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The session cookie's value, if the request carries one.
pub fn cookie_value(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE)
}

/// The value of the cookie `name`, if the request carries it (and it is not empty).
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

/// Starts a session for a user who has just signed in (by password or through the OIDC issuer):
/// stores it and returns the `Set-Cookie` value that hands it to the browser (HttpOnly,
/// SameSite=Strict, `Secure` when configured, as long as the session lasts).
pub async fn start(state: &AppState, tenant: &Tenant, user_id: Uuid) -> Result<HeaderValue, AuthError> {
    let token = new_token();
    let now = state.clock.now();
    let ttl = chrono::Duration::hours(state.config.session_ttl_hours);
    let mut conn = state.db.acquire().await?;
    db::sessions::create(&mut conn, &hash(&token), tenant.id, user_id, now, now + ttl).await?;
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        ttl.num_seconds()
    );
    HeaderValue::from_str(&cookie).map_err(|e| AuthError::Internal(e.into()))
}

/// Resolves a session cookie to the signed-in user.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Principal, AuthError> {
    // The connection goes back to the pool before `user_principal` takes one.
    let owner = {
        let mut conn = state.db.acquire().await?;
        db::sessions::find_live(&mut conn, &hash(token), state.clock.now()).await?
    };
    let owner = owner.ok_or(AuthError::SessionExpired)?;
    let slug = Slug::parse(&owner.tenant_slug).map_err(|e| AuthError::Internal(e.into()))?;
    super::user_principal(
        state,
        Tenant {
            id: owner.tenant_id,
            slug,
            name: owner.tenant_name,
        },
        owner.user_id,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_session_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            "theme=dark; nightowl_session=abc123; other=1".parse().unwrap(),
        );
        assert_eq!(cookie_value(&headers).as_deref(), Some("abc123"));
        headers.insert(COOKIE, "nightowl_session_x=zzz".parse().unwrap());
        assert_eq!(cookie_value(&headers), None);
    }
}
