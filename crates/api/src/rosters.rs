//! Types of rosters, overrides and on-call answers.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{FieldErrors, Validate};

/// A rotation of people covering a service around the clock.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Roster {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    /// IANA time zone; handoffs happen at `handoff_time` on its wall clock.
    pub timezone: String,
    /// daily, weekly or custom.
    pub rotation_type: String,
    /// Days per shift (1 for daily, 7 for weekly).
    pub rotation_length: i32,
    #[schema(value_type = String, example = "09:00")]
    pub handoff_time: NaiveTime,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub is_follow_the_sun: bool,
    pub linked_roster_id: Option<Uuid>,
    pub escalation_policy_id: Option<Uuid>,
    /// The `team_lead` target of the roster's escalation policy.
    pub team_lead_id: Option<Uuid>,
    /// Members in rotation order.
    pub members: Vec<RosterMember>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A member of a roster.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RosterMember {
    pub user_id: Uuid,
    pub display_name: String,
    /// 0-based rotation position.
    pub position: i32,
}

/// Body of `POST /api/v1/rosters` and `PUT /api/v1/rosters/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RosterInput {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub timezone: String,
    /// daily, weekly or custom (then `rotation_length` days).
    pub rotation_type: String,
    #[serde(default)]
    pub rotation_length: Option<i32>,
    #[schema(value_type = String, example = "09:00")]
    pub handoff_time: NaiveTime,
    pub start_date: NaiveDate,
    #[serde(default)]
    pub end_date: Option<NaiveDate>,
    #[serde(default)]
    pub is_follow_the_sun: bool,
    #[serde(default)]
    pub linked_roster_id: Option<Uuid>,
    #[serde(default)]
    pub escalation_policy_id: Option<Uuid>,
    #[serde(default)]
    pub team_lead_id: Option<Uuid>,
}

impl RosterInput {
    /// Days per shift implied by the rotation type.
    pub fn length_days(&self) -> i32 {
        match self.rotation_type.as_str() {
            "daily" => 1,
            "weekly" => 7,
            _ => self.rotation_length.unwrap_or(7),
        }
    }
}

impl Validate for RosterInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        e.required("name", &self.name, 200);
        e.timezone("timezone", &self.timezone);
        if !["daily", "weekly", "custom"].contains(&self.rotation_type.as_str()) {
            e.add("rotation_type", "must be daily, weekly or custom");
        }
        if self.rotation_type == "custom" && !self.rotation_length.is_some_and(|n| (1..=366).contains(&n)) {
            e.add("rotation_length", "custom rotations need 1 to 366 days");
        }
        if self.end_date.is_some_and(|end| end < self.start_date) {
            e.add("end_date", "must not be before start_date");
        }
        if self.is_follow_the_sun && self.linked_roster_id.is_none() {
            e.add(
                "linked_roster_id",
                "follow-the-sun rosters name their partner roster",
            );
        }
        e.finish()
    }
}

/// Body of `PUT /api/v1/rosters/{id}/members`: the complete rotation order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembersInput {
    pub user_ids: Vec<Uuid>,
}

impl Validate for MembersInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        let mut seen = std::collections::HashSet::new();
        if !self.user_ids.iter().all(|id| seen.insert(*id)) {
            e.add("user_ids", "a user can hold only one position");
        }
        if self.user_ids.len() > 200 {
            e.add("user_ids", "at most 200 members");
        }
        e.finish()
    }
}

/// A period someone else covers (or a member is away).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RosterOverride {
    pub id: Uuid,
    pub user_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub reason: Option<String>,
    pub created_by: Option<String>,
    /// `override` (the user covers as primary) or `leave` (the user is away and skipped).
    pub kind: String,
}

/// Body of `POST /api/v1/rosters/{id}/overrides`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideInput {
    pub user_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[serde(default)]
    pub reason: Option<String>,
    /// `override` (default: the user covers as primary) or `leave` (the user is away; the rotation
    /// skips them).
    #[serde(default)]
    pub kind: Option<String>,
}

impl OverrideInput {
    /// The kind, defaulted.
    pub fn kind(&self) -> &str {
        self.kind.as_deref().unwrap_or("override")
    }
}

impl Validate for OverrideInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        if self.ends_at <= self.starts_at {
            e.add("ends_at", "must be after starts_at");
        }
        if let Some(r) = &self.reason {
            e.max_len("reason", r, 500);
        }
        if !["override", "leave"].contains(&self.kind()) {
            e.add("kind", "must be override or leave");
        }
        e.finish()
    }
}

/// A person in an on-call answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OnCallPerson {
    pub user_id: Uuid,
    pub display_name: String,
}

/// One shift of a rotation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ShiftView {
    pub roster_id: Uuid,
    pub primary: OnCallPerson,
    pub secondary: Option<OnCallPerson>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
}

/// `GET /api/v1/rosters/{id}/oncall`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OnCallView {
    /// The instant asked about.
    pub at: DateTime<Utc>,
    /// The roster whose rotation answers (the active half of a follow-the-sun pair).
    pub active_roster_id: Uuid,
    pub primary: Option<OnCallPerson>,
    pub secondary: Option<OnCallPerson>,
    pub shift_start: Option<DateTime<Utc>>,
    pub shift_end: Option<DateTime<Utc>>,
    /// The override deciding the primary, when one covers the instant.
    pub override_active: Option<Uuid>,
}
