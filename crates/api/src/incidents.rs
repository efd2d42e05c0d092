//! Types of the knowledge base: incidents, their history, search results, runbooks.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::alerts::{AlertStatus, Severity};
use crate::text::string_enum;
use crate::{FieldErrors, Validate};

/// Severities an incident can have (the spellings of [`Severity`](crate::alerts::Severity)).
pub const INCIDENT_SEVERITIES: [&str; 4] = ["info", "warning", "major", "critical"];

string_enum! {
    /// What one entry of an incident's history records (`incident_history.change_type`).
    pub enum ChangeType("change type") {
        /// The incident was created.
        Create = "create",
        /// One field changed (`field`, `old_value` and `new_value` say which and how).
        Update = "update",
        /// The incident was merged into another, or another into it.
        Merge = "merge",
        /// The incident was deleted (archived).
        Delete = "delete",
        /// An archived incident was brought back.
        Restore = "restore",
    }
}

string_enum! {
    /// Why a knowledge-base incident is offered as similar to an alert.
    pub enum MatchedBy("match reason") {
        /// The incident lists the alert's fingerprint; these always come first.
        Fingerprint = "fingerprint",
        /// The incident shares words with the alert's title and description.
        Text = "text",
    }
}

/// What broke, how it showed, and how it was fixed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Incident {
    /// Id of the incident.
    pub id: Uuid,
    /// What broke, in a line (at most 300 characters).
    pub title: String,
    /// Alert fingerprints known to be this incident: an alert with one of them links here on arrival.
    pub fingerprints: Vec<String>,
    /// How bad it is.
    pub severity: Severity,
    /// Free-form grouping such as `database` or `network` (at most 100 characters).
    pub category: Option<String>,
    /// Free-form labels.
    pub tags: Vec<String>,
    /// Names of the services it affects.
    pub services: Vec<String>,
    /// Clusters it was seen on.
    pub clusters: Vec<String>,
    /// Namespaces it was seen in.
    pub namespaces: Vec<String>,
    /// How it showed (markdown).
    pub symptoms: Option<String>,
    /// Log lines or messages that identify it.
    pub error_patterns: Vec<String>,
    /// Why it happened (markdown).
    pub root_cause: Option<String>,
    /// How it was fixed (markdown); copied onto matching alerts as their suggested solution.
    pub solution: Option<String>,
    /// The runbook to follow.
    pub runbook_id: Option<Uuid>,
    /// How many linked alerts were resolved.
    pub resolution_count: i32,
    /// When a linked alert was last resolved.
    pub last_resolved_at: Option<DateTime<Utc>>,
    /// Who resolved it (as `Alert::resolved_by`).
    pub last_resolved_by: Option<String>,
    /// Mean minutes from an alert firing to its resolution.
    pub avg_resolution_mins: Option<f64>,
    /// Set when merged into another incident (then it no longer appears in lists or search).
    pub merged_into_id: Option<Uuid>,
    /// Set when deleted (soft delete).
    pub archived_at: Option<DateTime<Utc>>,
    /// Who created it: a person, or `agent:<name>` for an incident an agent's fix created.
    pub created_by: Option<String>,
    /// Whether an engineer stands behind it. Incidents an agent created are unreviewed until an
    /// engineer confirms them (`POST /api/v1/incidents/{id}/review`); enrichment always prefers
    /// reviewed knowledge.
    pub reviewed: bool,
    /// Who confirmed it.
    pub reviewed_by: Option<String>,
    /// When it was confirmed.
    pub reviewed_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// Body of `POST /api/v1/incidents` and `PUT /api/v1/incidents/{id}` (PUT replaces every field).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentInput {
    /// What broke, in a line (1 to 300 characters).
    pub title: String,
    /// Alert fingerprints known to be this incident (each list here and below: at most 100 non-empty
    /// entries of at most 500 characters).
    #[serde(default)]
    pub fingerprints: Vec<String>,
    /// info, warning (default), major or critical.
    #[serde(default = "warning")]
    pub severity: String,
    /// Free-form grouping (1 to 100 characters).
    #[serde(default)]
    pub category: Option<String>,
    /// Free-form labels.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Names of the services it affects.
    #[serde(default)]
    pub services: Vec<String>,
    /// Clusters it was seen on.
    #[serde(default)]
    pub clusters: Vec<String>,
    /// Namespaces it was seen in.
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// How it showed (markdown, at most 20,000 characters, as `root_cause` and `solution`).
    #[serde(default)]
    pub symptoms: Option<String>,
    /// Log lines or messages that identify it.
    #[serde(default)]
    pub error_patterns: Vec<String>,
    /// Why it happened (markdown).
    #[serde(default)]
    pub root_cause: Option<String>,
    /// How it was fixed (markdown).
    #[serde(default)]
    pub solution: Option<String>,
    /// The runbook to follow; must exist.
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
        if crate::alerts::Severity::parse(&self.severity).is_none() {
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
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct HistoryEntry {
    /// Id of the entry; increases in recording order.
    pub id: i64,
    /// What kind of change it was.
    pub change_type: ChangeType,
    /// The changed field of an update; `merged_into_id` or `merged_from` for a merge.
    pub field: Option<String>,
    /// The field's value before an update.
    pub old_value: Option<serde_json::Value>,
    /// The field's value after an update; for a merge, the other incident.
    pub new_value: Option<serde_json::Value>,
    /// Who made the change.
    pub changed_by: Option<String>,
    /// When.
    pub changed_at: DateTime<Utc>,
}

/// An alert linked to an incident, as the incident page lists it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct LinkedAlert {
    /// Id of the alert.
    pub id: Uuid,
    /// The alert's short number (`#1234`), as on the alert itself.
    pub number: i64,
    /// The alert's title.
    pub title: String,
    /// Where the alert stands.
    pub status: AlertStatus,
    /// How bad the alert is.
    pub severity: Severity,
    /// When the alert first fired.
    pub first_fired_at: DateTime<Utc>,
    /// When it was resolved.
    pub resolved_at: Option<DateTime<Utc>>,
}

/// `GET /api/v1/incidents/{id}`: the incident with its history and linked alerts.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IncidentDetail {
    /// The incident's own fields, at the top level of the answer.
    #[serde(flatten)]
    pub incident: Incident,
    /// Every recorded change, oldest first.
    pub history: Vec<HistoryEntry>,
    /// The most recent linked alerts (up to 50).
    pub alerts: Vec<LinkedAlert>,
}

impl IncidentDetail {
    /// Reads the answer with plain derives: the incident, then its history and alerts, each from the
    /// same text. The same value as `serde_json::from_str`, without `flatten`'s deserializer, which
    /// buffers every field first and weighs about 20 KB in the web UI's bundle.
    pub fn from_json(text: &str) -> serde_json::Result<IncidentDetail> {
        #[derive(Deserialize)]
        struct Rest {
            history: Vec<HistoryEntry>,
            alerts: Vec<LinkedAlert>,
        }
        let Rest { history, alerts } = serde_json::from_str(text)?;
        Ok(IncidentDetail {
            incident: serde_json::from_str(text)?,
            history,
            alerts,
        })
    }
}

/// A piece of highlighted text: render `text` as plain text, emphasised when `highlighted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Fragment {
    /// Plain text, never markup.
    pub text: String,
    /// Whether the text matched the search.
    pub highlighted: bool,
}

/// Highlighted excerpts of a search hit (never HTML: fragments are safe to render as text).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct Highlights {
    /// The title, in fragments.
    pub title: Vec<Fragment>,
    /// An excerpt of the symptoms around the matches.
    pub symptoms: Vec<Fragment>,
    /// An excerpt of the solution around the matches.
    pub solution: Vec<Fragment>,
}

/// A knowledge-base incident like an alert (`GET /api/v1/alerts/{id}/similar-incidents`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SimilarIncident {
    /// The incident.
    pub incident: Incident,
    /// Why it is like the alert: its fingerprint or words in common.
    pub matched_by: MatchedBy,
    /// Text-match rank (higher is closer); absent for fingerprint matches, which always come first.
    pub rank: Option<f32>,
    /// The incident enrichment linked to the alert.
    pub linked: bool,
}

/// One search result.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SearchHit {
    /// The incident.
    pub incident: Incident,
    /// How well it matches (higher is better; title matches weigh most).
    pub rank: f32,
    /// Where the search matched.
    pub highlights: Highlights,
}

/// Body of `POST /api/v1/incidents/{id}/merge`: fold incident `{id}` into `target_id`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeInput {
    /// The live incident that absorbs `{id}`: its fingerprints and other lists, its resolution counts
    /// and its linked alerts.
    pub target_id: Uuid,
}

impl Validate for MergeInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        Ok(())
    }
}

/// Body of `POST /api/v1/markdown`: a knowledge-base text to render (a preview while editing).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkdownInput {
    /// Markdown, at most 20,000 characters (as an incident's texts).
    pub text: String,
}

impl Validate for MarkdownInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        e.max_len("text", &self.text, MAX_TEXT);
        e.finish()
    }
}

/// A rendered markdown text.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RenderedMarkdown {
    /// Sanitized HTML: only formatting elements (paragraphs, headings from `h3`, lists, code,
    /// emphasis, quotes, tables, rules, links to `http(s):`/`mailto:`/relative addresses with
    /// `rel="noopener noreferrer nofollow"`); raw HTML in the text comes back as text, images as links.
    pub html: String,
}

/// A runbook: markdown steps for a kind of failure.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Runbook {
    /// Id of the runbook.
    pub id: Uuid,
    /// What it is for (at most 300 characters).
    pub title: String,
    /// Markdown.
    pub content: String,
    /// Free-form grouping (at most 100 characters).
    pub category: Option<String>,
    /// Free-form labels.
    pub tags: Vec<String>,
    /// A pre-seeded template (copied into every tenant).
    pub is_template: bool,
    /// Who wrote it; absent for templates.
    pub created_by: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// Body of `POST /api/v1/runbooks` and `PUT /api/v1/runbooks/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunbookInput {
    /// What it is for (1 to 300 characters).
    pub title: String,
    /// Markdown (at most 200,000 characters).
    #[serde(default)]
    pub content: String,
    /// Free-form grouping (1 to 100 characters).
    #[serde(default)]
    pub category: Option<String>,
    /// At most 100 non-empty labels of up to 100 characters.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incident_severities_are_the_alert_scale() {
        let mut names = Severity::ALL.map(Severity::as_str);
        names.sort_unstable();
        let mut listed = INCIDENT_SEVERITIES;
        listed.sort_unstable();
        assert_eq!(names, listed);
    }

    #[test]
    fn history_and_match_names_round_trip() {
        assert_eq!(
            ChangeType::ALL.map(ChangeType::as_str),
            ["create", "update", "merge", "delete", "restore"]
        );
        for c in ChangeType::ALL {
            assert_eq!(c.as_str().parse(), Ok(c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        assert_eq!(MatchedBy::ALL.map(MatchedBy::as_str), ["fingerprint", "text"]);
        assert_eq!(
            serde_json::from_str::<MatchedBy>(r#""text""#).unwrap(),
            MatchedBy::Text
        );
        assert_eq!(ChangeType::parse("archive"), None);
    }

    #[test]
    fn incident_severity_is_checked_against_the_scale() {
        let mut input: IncidentInput =
            serde_json::from_value(serde_json::json!({"title": "Disk full"})).unwrap();
        assert_eq!(input.severity, "warning");
        assert!(input.validate().is_ok());
        input.severity = "sev1".into();
        assert_eq!(
            input.validate().unwrap_err().0["severity"],
            ["must be info, warning, major or critical"]
        );
    }
}
