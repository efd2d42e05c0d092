//! The one error type handlers return; it becomes `{"code", "message", "details"}` with the right status.
//! Internal errors are logged once (inside the request's span, so with its request id) and answered
//! with a generic message: database details never reach the client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use nightowl_api::{ErrorBody, FieldErrors};
use serde_json::Value;

use crate::alerts::ActionError;
use crate::auth::AuthError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Option<Value>,
    /// Seconds after which a retry may succeed, sent as `Retry-After` (429 and 503).
    pub retry_after: Option<u64>,
    /// The underlying cause of a 5xx, logged and never sent.
    source: Option<anyhow::Error>,
}

impl ApiError {
    /// An error with a status, stable code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            details: None,
            retry_after: None,
            source: None,
        }
    }

    /// Asks the client to wait `seconds` (at least 1) before retrying.
    pub fn retry_after(mut self, seconds: u64) -> ApiError {
        self.retry_after = Some(seconds.max(1));
        self
    }

    /// 503: PostgreSQL cannot be reached; retry after a few seconds.
    pub fn unavailable() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the database is unavailable; retry shortly",
        )
        .retry_after(crate::db::health::RETRY_AFTER_SECS)
    }

    /// 429: the caller (or everyone, for a shared limit) must slow down.
    pub fn too_many(code: &'static str, message: impl Into<String>, seconds: u64) -> ApiError {
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, code, message).retry_after(seconds)
    }

    /// Adds structured details.
    pub fn with_details(mut self, details: Value) -> ApiError {
        self.details = Some(details);
        self
    }

    /// 400 with a code.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 422 listing every invalid field.
    pub fn validation(errors: FieldErrors) -> ApiError {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "the request body has invalid fields",
        )
        .with_details(serde_json::to_value(errors.0).unwrap_or(Value::Null))
    }

    /// 422 about one field.
    pub fn invalid_field(field: &str, message: &str) -> ApiError {
        let mut errors = FieldErrors::default();
        errors.add(field, message);
        ApiError::validation(errors)
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404 naming what was not found.
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }

    /// 409 with a code.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, code, message)
    }

    /// 500 for a failure that is ours, not the caller's.
    pub fn internal(err: impl Into<anyhow::Error>) -> ApiError {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            message: "internal error; see the server log for this request id".into(),
            details: None,
            retry_after: None,
            source: Some(err.into()),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> ApiError {
        match err {
            sqlx::Error::PoolTimedOut => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "database is busy; retry shortly",
            )
            .retry_after(crate::db::health::RETRY_AFTER_SECS),
            e if crate::db::health::is_unavailable(&e) => ApiError::unavailable(),
            // Constraints a handler did not check first: still the caller's mistake, never a 500
            // (which a sender would retry forever). The constraint is named in the log, not the answer.
            sqlx::Error::Database(e) if e.code().is_some_and(|c| c == "23503") => {
                tracing::info!(constraint = ?e.constraint(), "foreign key violation answered 422");
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_reference",
                    "the request refers to something that does not exist",
                )
            }
            sqlx::Error::Database(e) if e.code().is_some_and(|c| c == "23505") => {
                tracing::info!(constraint = ?e.constraint(), "unique violation answered 409");
                ApiError::conflict("already_exists", "something with these values already exists")
            }
            sqlx::Error::Database(e) if e.code().is_some_and(|c| c == "23514" || c == "22001") => {
                tracing::info!(constraint = ?e.constraint(), "check violation answered 422");
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_value",
                    "a value is outside what can be stored",
                )
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<crate::db::health::DatabaseDown> for ApiError {
    fn from(_: crate::db::health::DatabaseDown) -> ApiError {
        ApiError::unavailable()
    }
}

impl From<crate::db::gate::OverShare> for ApiError {
    fn from(err: crate::db::gate::OverShare) -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "tenant_busy",
            format!("{err}; retry shortly"),
        )
        .retry_after(1)
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> ApiError {
        ApiError::internal(err)
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> ApiError {
        match err {
            AuthError::Internal(e) => ApiError::internal(e),
            AuthError::Unavailable => ApiError::unavailable(),
            other => ApiError::new(StatusCode::UNAUTHORIZED, other.code(), other.to_string()),
        }
    }
}

impl From<ActionError> for ApiError {
    fn from(err: ActionError) -> ApiError {
        match err {
            ActionError::NotFound => ApiError::not_found("alert"),
            ActionError::Resolved => ApiError::conflict("alert_resolved", err.to_string()),
            ActionError::NotEscalating => ApiError::conflict("not_escalating", err.to_string()),
            ActionError::Db(e) => e.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(source) = &self.source {
            tracing::error!(error = format!("{source:#}"), code = self.code, "request failed");
        }
        let body = ErrorBody {
            code: self.code.to_owned(),
            message: self.message,
            details: self.details,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}
