//! Browser sessions from the local login: a random cookie value, stored as its SHA-256.

use super::{AuthError, Principal, SESSION_COOKIE};
use crate::db;
use crate::state::AppState;
use crate::tenancy::{Slug, Tenant};
use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

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
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
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
