//! Types of the alert endpoints and the webhook answer, the alert's status, severity and priority,
//! and how people name an alert ([`AlertKey`]: its id or its short number).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::text::{InvalidValue, string_enum, string_schema};

string_enum! {
    /// Where an alert stands. Set by ingest (`firing`, or `resolved` when the source or an agent says
    /// so) and by the acknowledge and resolve actions; only a `firing` alert escalates.
    pub enum AlertStatus("alert status") {
        /// Open and nobody has taken it yet: escalation runs.
        Firing = "firing",
        /// Open, and someone has taken it: escalation stopped.
        Acknowledged = "acknowledged",
        /// Closed, by the source, an agent or a person. A new report with the same fingerprint opens a
        /// new alert.
        Resolved = "resolved",
    }
}

impl AlertStatus {
    /// Firing or acknowledged: what the alert list's `open` filter selects.
    pub fn is_open(self) -> bool {
        self != AlertStatus::Resolved
    }
}

string_enum! {
    /// How bad an alert (or a knowledge-base incident) is, on NightOwl's scale. Ingest maps each source's
    /// own wording onto it; critical and major alerts page people, warning and info do not. Ordered
    /// from `info` (least) to `critical` (most severe).
    #[derive(PartialOrd, Ord)]
    pub enum Severity("severity") {
        /// For the record; nobody is paged.
        Info = "info",
        /// Needs a look during working hours; nobody is paged. Also what an unknown source severity
        /// becomes.
        Warning = "warning",
        /// Degraded service: pages the on-call.
        Major = "major",
        /// Outage or imminent outage: pages the on-call.
        Critical = "critical",
    }
}

string_enum! {
    /// Urgency of an alert, P1 (most urgent) to P5, as PagerDuty and Opsgenie spell it. Derived from the
    /// severity at ingest unless the source states one. Ordered from P1 to P5, so the most urgent
    /// sorts first.
    #[derive(PartialOrd, Ord)]
    pub enum Priority("priority") {
        /// Most urgent (critical severity).
        P1 = "P1",
        /// Major severity.
        P2 = "P2",
        /// Warning severity, and the default for unknown severities.
        P3 = "P3",
        /// Low.
        P4 = "P4",
        /// Informational, least urgent.
        P5 = "P5",
    }
}

/// How a person names an alert: by its id, or by the tenant's short number as they type it (`1234`
/// or `#1234`). The API's alert paths, Slack commands and SMS replies all read it this way; a number
/// is turned into the id by the database (`db::alerts::resolve_key` in the host).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum AlertKey {
    /// The alert's id.
    Id(Uuid),
    /// The tenant's short number of the alert ([`Alert::number`]); 1 or more.
    Number(i64),
}

impl AlertKey {
    /// Parses a UUID, `1234` or `#1234` (surrounding spaces ignored); `None` for anything else,
    /// including `0`, signs and numbers too large to be one.
    pub fn parse(text: &str) -> Option<AlertKey> {
        let text = text.trim();
        if let Ok(id) = Uuid::parse_str(text) {
            return Some(AlertKey::Id(id));
        }
        let digits = text.strip_prefix('#').unwrap_or(text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok().filter(|n| *n > 0).map(AlertKey::Number)
    }
}

/// A number as `#1234`, an id as the UUID.
impl fmt::Display for AlertKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AlertKey::Id(id) => write!(f, "{id}"),
            AlertKey::Number(n) => write!(f, "#{n}"),
        }
    }
}

impl FromStr for AlertKey {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<AlertKey, InvalidValue> {
        AlertKey::parse(s).ok_or_else(|| InvalidValue {
            kind: "alert reference",
            value: s.to_owned(),
            expected: &["an alert id (UUID)", "its number (1234 or #1234)"],
        })
    }
}

impl TryFrom<String> for AlertKey {
    type Error = InvalidValue;

    fn try_from(s: String) -> Result<AlertKey, InvalidValue> {
        s.parse()
    }
}

impl From<AlertKey> for String {
    fn from(k: AlertKey) -> String {
        k.to_string()
    }
}

impl utoipa::PartialSchema for AlertKey {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        string_schema(
            "An alert's id (UUID) or its number: `1234`, or `#1234` (`%231234` in a URL)",
            "1234",
            None,
        )
    }
}

impl ToSchema for AlertKey {}

/// An alert as stored: one row per open problem, with its repeat count.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Alert {
    /// Id of the alert.
    pub id: Uuid,
    /// The tenant's short number of the alert (`#1234`): 1, 2, 3, ... in the order the tenant's
    /// alerts were first received (a gap where an insert was rolled back or lost a race). What people
    /// type to name it: the API's alert paths, Slack commands and SMS replies accept it for the id.
    /// A repeat of an open alert keeps its number; a new alert after a resolve gets a new one.
    pub number: i64,
    /// Dedup key: the source's fingerprint, else SHA-256 of title + sorted labels.
    pub fingerprint: String,
    /// Where the alert stands.
    pub status: AlertStatus,
    /// How bad it is.
    pub severity: Severity,
    /// How urgent it is; absent when none was recorded.
    pub priority: Option<Priority>,
    /// One-line summary, as the source gave it (at most 500 characters).
    pub title: String,
    /// Longer text from the source (at most 20,000 characters).
    pub description: Option<String>,
    /// Id of the source plugin that parsed it (`alertmanager`, `keep`, `generic`, ...).
    pub source: String,
    /// Name of the affected service; routes the alert to the service's roster when the catalogue
    /// knows it.
    pub service: Option<String>,
    /// The source's labels, name to value.
    #[schema(value_type = Object)]
    pub labels: serde_json::Value,
    /// The source's annotations, name to value.
    #[schema(value_type = Object)]
    pub annotations: serde_json::Value,
    /// Links the source attached (dashboards, runbooks, the source's own page).
    pub links: Vec<String>,
    /// How many times the source reported it while open (1 for a new alert).
    pub occurrence_count: i32,
    /// When the problem started, according to the source.
    pub starts_at: Option<DateTime<Utc>>,
    /// When the problem ended, according to the source.
    pub ends_at: Option<DateTime<Utc>>,
    /// When NightOwl first received it.
    pub first_fired_at: DateTime<Utc>,
    /// When NightOwl last received a repeat of it.
    pub last_fired_at: DateTime<Utc>,
    /// When it was acknowledged.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Who acknowledged it: a user's e-mail, `key:<prefix>` for an API key, `dev` in development mode.
    pub acknowledged_by: Option<String>,
    /// When it was resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Who resolved it: a person as for `acknowledged_by`, `source:<plugin>` when the source said
    /// so, `agent:<name>` when an agent fixed it.
    pub resolved_by: Option<String>,
    /// Knowledge-base incident this alert is known to be.
    pub matched_incident_id: Option<Uuid>,
    /// The matched incident's solution, copied when the alert arrived.
    pub suggested_solution: Option<String>,
    /// Whether that solution comes from reviewed knowledge; `false`: an agent reported it and no
    /// engineer has confirmed it yet (show it as such); absent when there is no suggestion.
    pub solution_reviewed: Option<bool>,
    /// What an automated agent reported doing about it (`generic` source), as it sent it.
    #[schema(value_type = Option<Object>)]
    pub agent_metadata: Option<serde_json::Value>,
    /// When the row was written (the alert list's order and cursor).
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
    /// The alert's short number ([`Alert::number`]; absent for `ignored`).
    pub number: Option<i64>,
    /// Dedup key of the alert (the source's, or derived from title and labels).
    pub fingerprint: String,
    /// What ingest did with it.
    pub outcome: IngestOutcome,
    /// Knowledge-base incident the alert was linked to on arrival.
    pub matched_incident_id: Option<Uuid>,
}

/// Answer of `POST /api/v1/webhooks/{source}`: sent only after everything is committed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IngestResponse {
    /// Id of the source plugin that parsed the delivery (the `{source}` of the path).
    pub source: String,
    /// One entry per alert of the delivery, in delivery order.
    pub alerts: Vec<IngestedAlert>,
}

/// Answer of `PATCH /api/v1/alerts/{id}/resolve`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ResolveResponse {
    /// The alert after the call.
    pub alert: Alert,
    /// Whether a knowledge-base incident already covers this alert.
    pub kb_entry_exists: bool,
    /// True when the UI should offer "add to knowledge base" (no entry covers it yet).
    pub add_to_kb_prompt: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_names_are_the_stored_ones() {
        let names = |all: &[&'static str]| all.to_vec();
        assert_eq!(
            names(&AlertStatus::ALL.map(AlertStatus::as_str)),
            ["firing", "acknowledged", "resolved"]
        );
        assert_eq!(
            names(&Severity::ALL.map(Severity::as_str)),
            ["info", "warning", "major", "critical"]
        );
        assert_eq!(
            names(&Priority::ALL.map(Priority::as_str)),
            ["P1", "P2", "P3", "P4", "P5"]
        );
    }

    #[test]
    fn alert_enums_round_trip_through_text_and_json() {
        for status in AlertStatus::ALL {
            assert_eq!(AlertStatus::parse(status.as_str()), Some(status));
            assert_eq!(status.to_string().parse(), Ok(status));
            let json = serde_json::to_value(status).unwrap();
            assert_eq!(json, status.as_str());
            assert_eq!(serde_json::from_value::<AlertStatus>(json).unwrap(), status);
        }
        for severity in Severity::ALL {
            assert_eq!(severity.as_str().parse(), Ok(severity));
            assert_eq!(serde_json::to_value(severity).unwrap(), severity.as_str());
        }
        for priority in Priority::ALL {
            assert_eq!(priority.as_str().parse(), Ok(priority));
            assert_eq!(serde_json::to_value(priority).unwrap(), priority.as_str());
        }
    }

    #[test]
    fn unknown_or_differently_spelled_values_are_refused() {
        assert_eq!(AlertStatus::parse("open"), None);
        assert_eq!(AlertStatus::parse("Firing"), None);
        assert_eq!(Severity::parse("high"), None);
        assert_eq!(Priority::parse("p1"), None);
        let err = "open".parse::<AlertStatus>().unwrap_err();
        assert_eq!(
            err.to_string(),
            r#""open" is not a valid alert status; expected one of firing, acknowledged, resolved"#
        );
        assert!(serde_json::from_str::<Severity>(r#""sev1""#).is_err());
    }

    #[test]
    fn people_name_alerts_by_id_or_number() {
        let id = Uuid::new_v4();
        assert_eq!(AlertKey::parse(&id.to_string()), Some(AlertKey::Id(id)));
        assert_eq!(
            AlertKey::parse(&id.to_string().to_uppercase()),
            Some(AlertKey::Id(id))
        );
        assert_eq!(AlertKey::parse("#1234"), Some(AlertKey::Number(1234)));
        assert_eq!(AlertKey::parse("1234"), Some(AlertKey::Number(1234)));
        assert_eq!(AlertKey::parse(" 42 "), Some(AlertKey::Number(42)));
        assert_eq!(AlertKey::parse("#007"), Some(AlertKey::Number(7)));
        assert_eq!(
            AlertKey::parse("9223372036854775807"),
            Some(AlertKey::Number(i64::MAX))
        );
        for bad in [
            "",
            "#",
            "##1",
            "0",
            "#0",
            "12a",
            "-3",
            "#-3",
            "+3",
            "1 2",
            "# 12",
            "1.5",
            "9223372036854775808",
            "not-a-uuid",
        ] {
            assert_eq!(AlertKey::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn alert_keys_round_trip_through_text_and_json() {
        let id = Uuid::from_u128(7);
        for key in [AlertKey::Id(id), AlertKey::Number(1234)] {
            assert_eq!(key.to_string().parse(), Ok(key));
            let json = serde_json::to_value(key).unwrap();
            assert_eq!(serde_json::from_value::<AlertKey>(json).unwrap(), key);
        }
        assert_eq!(AlertKey::Number(12).to_string(), "#12");
        let err = "twelve".parse::<AlertKey>().unwrap_err();
        assert_eq!(
            err.to_string(),
            r#""twelve" is not a valid alert reference; expected one of an alert id (UUID), its number (1234 or #1234)"#
        );
        assert!(serde_json::from_str::<AlertKey>(r##""#x""##).is_err());
    }

    #[test]
    fn severity_and_priority_order_by_urgency() {
        assert!(Severity::Critical > Severity::Major);
        assert!(Severity::Major > Severity::Warning);
        assert!(Severity::Warning > Severity::Info);
        assert!(Priority::P1 < Priority::P5);
        assert!(AlertStatus::Acknowledged.is_open());
        assert!(!AlertStatus::Resolved.is_open());
    }
}
