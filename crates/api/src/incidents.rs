//! Types of the knowledge base: incidents, their history, search results, runbooks.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{FieldErrors, Validate};

/// Severities an incident can have.
pub const INCIDENT_SEVERITIES: [&str; 4] = ["info", "warning", "major", "critical"];

/// What broke, how it showed, and how it was fixed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Incident {
    pub id: Uuid,
    pub title: String,
    /// Alert fingerprints known to be this incident.
    pub fingerprints: Vec<String>,
    /// info, warning, major or critical.
    pub severity: String,
    pub category: Option<String>,
    pub tags: Vec<String>,
    pub services: Vec<String>,
    pub clusters: Vec<String>,
    pub namespaces: Vec<String>,
    pub symptoms: Option<String>,
    /// Log lines or messages that identify it.
    pub error_patterns: Vec<String>,
    pub root_cause: Option<String>,
    pub solution: Option<String>,
    pub runbook_id: Option<Uuid>,
    /// How many linked alerts were resolved.
    pub resolution_count: i32,
    pub last_resolved_at: Option<DateTime<Utc>>,
    pub last_resolved_by: Option<String>,
    /// Mean minutes from an alert firing to its resolution.
    pub avg_resolution_mins: Option<f64>,
    /// Set when merged into another incident (then it no longer appears in lists or search).
    pub merged_into_id: Option<Uuid>,
    /// Set when deleted (soft delete).
    pub archived_at: Option<DateTime<Utc>>,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Body of `POST /api/v1/incidents` and `PUT /api/v1/incidents/{id}` (PUT replaces every field).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentInput {
    pub title: String,
    #[serde(default)]
    pub fingerprints: Vec<String>,
    /// info, warning (default), major or critical.
    #[serde(default = "warning")]
    pub severity: String,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub services: Vec<String>,
    #[serde(default)]
    pub clusters: Vec<String>,
    #[serde(default)]
    pub namespaces: Vec<String>,
    #[serde(default)]
    pub symptoms: Option<String>,
    #[serde(default)]
    pub error_patterns: Vec<String>,
    #[serde(default)]
    pub root_cause: Option<String>,
    #[serde(default)]
    pub solution: Option<String>,
    #[serde(default)]
    pub runbook_id: Option<Uuid>,
}

fn warning() -> String {
    "warning".to_owned()
}

const MAX_TEXT: usize = 20_000;
const MAX_ITEMS: usize = 100;
const MAX_ITEM: usize = 500;

impl Validate for IncidentInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        e.required("title", &self.title, 300);
        if !INCIDENT_SEVERITIES.contains(&self.severity.as_str()) {
            e.add("severity", "must be info, warning, major or critical");
        }
        if let Some(c) = &self.category {
            e.required("category", c, 100);
        }
        for (field, list) in [
            ("fingerprints", &self.fingerprints),
            ("tags", &self.tags),
            ("services", &self.services),
            ("clusters", &self.clusters),
            ("namespaces", &self.namespaces),
            ("error_patterns", &self.error_patterns),
        ] {
            if list.len() > MAX_ITEMS {
                e.add(field, format!("at most {MAX_ITEMS} entries"));
            }
            if list
                .iter()
                .any(|item| item.trim().is_empty() || item.chars().count() > MAX_ITEM)
            {
                e.add(
                    field,
                    format!("entries must be non-empty and at most {MAX_ITEM} characters"),
                );
            }
        }
        for (field, text) in [
            ("symptoms", &self.symptoms),
            ("root_cause", &self.root_cause),
            ("solution", &self.solution),
        ] {
            if let Some(t) = text {
                e.max_len(field, t, MAX_TEXT);
            }
        }
        e.finish()
    }
}

/// One recorded change of an incident.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HistoryEntry {
    pub id: i64,
    /// create, update, merge, delete or restore.
    pub change_type: String,
    /// The changed field (updates only).
    pub field: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub old_value: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub new_value: Option<serde_json::Value>,
    pub changed_by: Option<String>,
    pub changed_at: DateTime<Utc>,
}

/// An alert linked to an incident, as the incident page lists it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LinkedAlert {
    pub id: Uuid,
    pub title: String,
    pub status: String,
    pub severity: String,
    pub first_fired_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// `GET /api/v1/incidents/{id}`: the incident with its history and linked alerts.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IncidentDetail {
    #[serde(flatten)]
    pub incident: Incident,
    pub history: Vec<HistoryEntry>,
    /// The most recent linked alerts (up to 50).
    pub alerts: Vec<LinkedAlert>,
}

/// A piece of highlighted text: render `text` as plain text, emphasised when `highlighted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Fragment {
    pub text: String,
    pub highlighted: bool,
}

/// Highlighted excerpts of a search hit (never HTML: fragments are safe to render as text).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct Highlights {
    pub title: Vec<Fragment>,
    pub symptoms: Vec<Fragment>,
    pub solution: Vec<Fragment>,
}

/// A knowledge-base incident like an alert (`GET /api/v1/alerts/{id}/similar-incidents`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SimilarIncident {
    pub incident: Incident,
    /// `fingerprint` (the incident lists the alert's fingerprint) or `text` (words in common).
    pub matched_by: String,
    /// Text-match rank (higher is closer); absent for fingerprint matches, which always come first.
    pub rank: Option<f32>,
    /// The incident enrichment linked to the alert.
    pub linked: bool,
}

/// One search result.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SearchHit {
    pub incident: Incident,
    pub rank: f32,
    pub highlights: Highlights,
}

/// Body of `POST /api/v1/incidents/{id}/merge`: fold incident `{id}` into `target_id`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeInput {
    pub target_id: Uuid,
}

impl Validate for MergeInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        Ok(())
    }
}

/// A runbook: markdown steps for a kind of failure.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Runbook {
    pub id: Uuid,
    pub title: String,
    /// Markdown.
    pub content: String,
    pub category: Option<String>,
    pub tags: Vec<String>,
    /// A pre-seeded template (copied into every tenant).
    pub is_template: bool,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Body of `POST /api/v1/runbooks` and `PUT /api/v1/runbooks/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunbookInput {
    pub title: String,
    /// Markdown.
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

impl Validate for RunbookInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        e.required("title", &self.title, 300);
        e.max_len("content", &self.content, 200_000);
        if let Some(c) = &self.category {
            e.required("category", c, 100);
        }
        if self.tags.len() > MAX_ITEMS
            || self
                .tags
                .iter()
                .any(|t| t.trim().is_empty() || t.chars().count() > 100)
        {
            e.add("tags", "at most 100 non-empty tags of up to 100 characters");
        }
        e.finish()
    }
}
