//! Types of the alert endpoints and the webhook answer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// An alert as stored: one row per open problem, with its repeat count.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Alert {
    pub id: Uuid,
    /// Dedup key: the source's fingerprint, else SHA-256 of title + sorted labels.
    pub fingerprint: String,
    /// firing, acknowledged or resolved.
    pub status: String,
    /// critical, major, warning or info.
    pub severity: String,
    /// P1 (most urgent) .. P5.
    pub priority: Option<String>,
    pub title: String,
    pub description: Option<String>,
    /// Id of the source plugin.
    pub source: String,
    pub service: Option<String>,
    #[schema(value_type = Object)]
    pub labels: serde_json::Value,
    #[schema(value_type = Object)]
    pub annotations: serde_json::Value,
    pub links: Vec<String>,
    /// How many times the source reported it while open.
    pub occurrence_count: i32,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub first_fired_at: DateTime<Utc>,
    pub last_fired_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
    /// Knowledge-base incident this alert is known to be.
    pub matched_incident_id: Option<Uuid>,
    /// The matched incident's solution, copied when the alert arrived.
    pub suggested_solution: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub agent_metadata: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
}

/// What ingest did with one parsed alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IngestOutcome {
    /// A new open alert.
    Created,
    /// Folded into the open alert with the same fingerprint.
    Deduplicated,
    /// Closed the open alert with the same fingerprint.
    Resolved,
    /// A resolution for which no alert was open: nothing to do.
    Ignored,
    /// Stored already resolved because an agent fixed it; recorded in the knowledge base.
    AgentResolved,
}

/// One entry of the webhook answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IngestedAlert {
    /// The alert row (absent for `ignored`).
    pub id: Option<Uuid>,
    pub fingerprint: String,
    pub outcome: IngestOutcome,
    pub matched_incident_id: Option<Uuid>,
}

/// Answer of `POST /api/v1/webhooks/{source}`: sent only after everything is committed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IngestResponse {
    pub source: String,
    pub alerts: Vec<IngestedAlert>,
}

/// Answer of `PATCH /api/v1/alerts/{id}/resolve`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ResolveResponse {
    pub alert: Alert,
    /// Whether a knowledge-base incident already covers this alert.
    pub kb_entry_exists: bool,
    /// True when the UI should offer "add to knowledge base" (no entry covers it yet).
    pub add_to_kb_prompt: bool,
}
