//! The one error shape every endpoint answers with.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Body of every 4xx/5xx answer: `{"code": "...", "message": "...", "details": ...}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// Stable, machine-readable error code (e.g. `invalid_json`, `forbidden`, `not_found`).
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// Extra structured information, e.g. per-field validation errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}
