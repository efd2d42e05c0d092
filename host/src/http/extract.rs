//! Extractors. `TenantTx` is the only way a handler reaches the database, so tenant scoping cannot be
//! forgotten; `Json` gives malformed bodies our error shape and runs the body's validation.

use std::ops::{Deref, DerefMut};

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use nightowl_api::Validate;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::PgConnection;
use tokio::sync::OwnedSemaphorePermit;

use super::error::ApiError;
use crate::auth::Principal;
use crate::db;
use crate::state::AppState;

/// JSON request body (validated) or response body.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
            .is_some_and(|mime| {
                mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
            });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "expected a body with content-type application/json",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "request body exceeds the size limit",
                )
            } else {
                ApiError::new(e.status(), "invalid_body", e.body_text())
            }
        })?;
        // PostgreSQL text cannot hold NUL; refuse it here rather than fail in the database.
        if has_nul_escape(&bytes) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                "strings must not contain NUL (\\u0000) characters",
            ));
        }
        let axum::Json(value) = axum::Json::<T>::from_bytes(&bytes).map_err(json_rejection)?;
        value.validate().map_err(ApiError::validation)?;
        Ok(Json(value))
    }
}

/// Whether JSON text holds the escape `\u0000` (a NUL character once parsed). A `u0000` after an
/// even number of backslashes is not one: `\\u0000` is an escaped backslash followed by the text
/// `u0000`.
fn has_nul_escape(bytes: &[u8]) -> bool {
    bytes
        .windows(5)
        .enumerate()
        .any(|(i, w)| w == b"u0000" && bytes[..i].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1)
}

/// `Json::from_bytes` only fails on syntax (400) or shape (422); content type and size are checked before.
fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request("invalid_json", e.body_text()),
        other => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            other.body_text(),
        ),
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("route is missing the authorize layer")))
    }
}

/// A transaction in the caller's tenant schema (`SET LOCAL search_path`), plus who the caller is.
/// Dropping it without [`TenantTx::commit`] rolls back.
pub struct TenantTx {
    tx: db::Tx,
    pub principal: Principal,
    /// The tenant's share of the pool, held as long as the transaction (`db::gate`).
    _share: OwnedSemaphorePermit,
}

impl FromRequestParts<AppState> for TenantTx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let principal = Principal::from_request_parts(parts, state).await?;
        let share = tenant_share(state, &principal).await?;
        let tx = begin(state, &principal).await?;
        Ok(TenantTx {
            tx,
            principal,
            _share: share,
        })
    }
}

/// The caller's tenant's share of the pool (`db::gate`), unless the database is or goes down while
/// waiting for it. Held for as long as the request's transactions.
pub async fn tenant_share(state: &AppState, principal: &Principal) -> Result<OwnedSemaphorePermit, ApiError> {
    let slug = principal.tenant.slug.as_str();
    Ok(state.db_health.or_down(state.tenant_gate.enter(slug)).await??)
}

/// A transaction in the caller's tenant schema, unless the database is or goes down while waiting
/// for a connection.
pub async fn begin(state: &AppState, principal: &Principal) -> Result<db::Tx, ApiError> {
    let actor = principal.label();
    let begin = db::begin_tenant(&state.db, &principal.tenant.slug, &actor);
    Ok(state.db_health.or_down(begin).await??)
}

impl TenantTx {
    /// Commits the request's changes.
    pub async fn commit(self) -> Result<(), ApiError> {
        self.tx.commit().await.map_err(ApiError::from)
    }
}

impl Deref for TenantTx {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.tx
    }
}

impl DerefMut for TenantTx {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.tx
    }
}

#[cfg(test)]
mod tests {
    use super::has_nul_escape;

    #[test]
    fn only_a_real_nul_escape_counts() {
        assert!(has_nul_escape(br#"{"t": "a\u0000b"}"#));
        assert!(
            has_nul_escape(br#"{"t": "\\\u0000"}"#),
            "escaped backslash, then a NUL"
        );
        assert!(
            !has_nul_escape(br#"{"t": "C:\\u0000"}"#),
            "a backslash, then the text u0000"
        );
        assert!(!has_nul_escape(br#"{"t": "u0000"}"#));
    }
}
