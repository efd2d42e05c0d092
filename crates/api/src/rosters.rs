//! Types of rosters, overrides and on-call answers.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::text::string_enum;
use crate::{FieldErrors, Validate};

string_enum! {
    /// How long a roster's shifts are.
    pub enum RotationType("rotation type") {
        /// One day per shift.
        Daily = "daily",
        /// Seven days per shift.
        Weekly = "weekly",
        /// `rotation_length` days per shift (1 to 366).
        Custom = "custom",
    }
}

impl RotationType {
    /// Days per shift the type implies; `None` for `custom`, whose length is the roster's own.
    pub fn fixed_length_days(self) -> Option<i32> {
        match self {
            RotationType::Daily => Some(1),
            RotationType::Weekly => Some(7),
            RotationType::Custom => None,
        }
    }
}

string_enum! {
    /// What a roster override does; `override` when a request does not say.
    #[derive(Default)]
    pub enum OverrideKind("override kind") {
        /// `override`: the user covers as primary instead of whoever the rotation names.
        #[default]
        Cover = "override",
        /// `leave`: the user is away (holiday, sick leave) and the rotation skips them.
        Leave = "leave",
    }
}

/// A rotation of people covering a service around the clock.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Roster {
    /// Id of the roster.
    pub id: Uuid,
    /// Unique name within the tenant.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// IANA time zone; handoffs happen at `handoff_time` on its wall clock.
    pub timezone: String,
    /// daily, weekly or custom (see [`RotationType`]).
    pub rotation_type: RotationType,
    /// Days per shift (1 for daily, 7 for weekly).
    pub rotation_length: i32,
    /// Local wall-clock time of each handoff, in `timezone`.
    #[schema(value_type = String, example = "09:00")]
    pub handoff_time: NaiveTime,
    /// The day the first shift starts (at `handoff_time`); member 0 has it.
    pub start_date: NaiveDate,
    /// The last day of the rotation; absent: it runs on.
    pub end_date: Option<NaiveDate>,
    /// Shares the day with `linked_roster_id`: each covers its own daytime window.
    pub is_follow_the_sun: bool,
    /// The follow-the-sun partner roster.
    pub linked_roster_id: Option<Uuid>,
    /// The policy alerts routed to this roster escalate through.
    pub escalation_policy_id: Option<Uuid>,
    /// The `team_lead` target of the roster's escalation policy.
    pub team_lead_id: Option<Uuid>,
    /// Members in rotation order.
    #[cfg_attr(feature = "sqlx", sqlx(skip))]
    pub members: Vec<RosterMember>,
    /// When the roster was created.
    pub created_at: DateTime<Utc>,
    /// When the roster's settings were last changed.
    pub updated_at: DateTime<Utc>,
}

/// A member of a roster.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct RosterMember {
    /// Id of the user.
    pub user_id: Uuid,
    /// The user's display name.
    pub display_name: String,
    /// 0-based rotation position.
    pub position: i32,
}

/// Body of `POST /api/v1/rosters` and `PUT /api/v1/rosters/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RosterInput {
    /// Unique name within the tenant (1 to 200 characters).
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// IANA time zone such as `Europe/Berlin`.
    pub timezone: String,
    /// daily, weekly or custom (then `rotation_length` days; see [`RotationType`]).
    pub rotation_type: String,
    /// Days per shift of a custom rotation (1 to 366); ignored for daily and weekly.
    #[serde(default)]
    pub rotation_length: Option<i32>,
    /// Local wall-clock time of each handoff, in `timezone`.
    #[schema(value_type = String, example = "09:00")]
    pub handoff_time: NaiveTime,
    /// The day the first shift starts.
    pub start_date: NaiveDate,
    /// The last day of the rotation (not before `start_date`); absent: it runs on.
    #[serde(default)]
    pub end_date: Option<NaiveDate>,
    /// Shares the day with `linked_roster_id` (required then).
    #[serde(default)]
    pub is_follow_the_sun: bool,
    /// The follow-the-sun partner roster.
    #[serde(default)]
    pub linked_roster_id: Option<Uuid>,
    /// The policy alerts routed to this roster escalate through.
    #[serde(default)]
    pub escalation_policy_id: Option<Uuid>,
    /// The `team_lead` target of the roster's escalation policy.
    #[serde(default)]
    pub team_lead_id: Option<Uuid>,
}

impl RosterInput {
    /// Days per shift implied by the rotation type.
    pub fn length_days(&self) -> i32 {
        RotationType::parse(&self.rotation_type)
            .and_then(RotationType::fixed_length_days)
            .unwrap_or(self.rotation_length.unwrap_or(7))
    }
}

impl Validate for RosterInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        e.required("name", &self.name, 200);
        e.timezone("timezone", &self.timezone);
        let rotation_type = RotationType::parse(&self.rotation_type);
        if rotation_type.is_none() {
            e.add("rotation_type", "must be daily, weekly or custom");
        }
        if rotation_type == Some(RotationType::Custom)
            && !self.rotation_length.is_some_and(|n| (1..=366).contains(&n))
        {
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
    /// Users in rotation order (position 0 first), each at most once, at most 200.
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
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct RosterOverride {
    /// Id of the override.
    pub id: Uuid,
    /// Who covers, or who is away.
    pub user_id: Uuid,
    /// Start of the period (inclusive).
    pub starts_at: DateTime<Utc>,
    /// End of the period (exclusive).
    pub ends_at: DateTime<Utc>,
    /// Free text (at most 500 characters).
    pub reason: Option<String>,
    /// Who created it (e-mail or `key:<prefix>`).
    pub created_by: Option<String>,
    /// `override` (the user covers as primary) or `leave` (the user is away and skipped); see
    /// [`OverrideKind`].
    pub kind: OverrideKind,
}

/// Body of `POST /api/v1/rosters/{id}/overrides`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideInput {
    /// Who covers, or who is away.
    pub user_id: Uuid,
    /// Start of the period (inclusive).
    pub starts_at: DateTime<Utc>,
    /// End of the period (exclusive; after `starts_at`).
    pub ends_at: DateTime<Utc>,
    /// Free text (at most 500 characters).
    #[serde(default)]
    pub reason: Option<String>,
    /// `override` (default: the user covers as primary) or `leave` (the user is away; the rotation
    /// skips them).
    #[serde(default)]
    pub kind: Option<String>,
}

impl OverrideInput {
    /// The kind, defaulted (an unknown kind fails validation).
    pub fn kind(&self) -> OverrideKind {
        self.kind
            .as_deref()
            .and_then(OverrideKind::parse)
            .unwrap_or_default()
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
        if self
            .kind
            .as_deref()
            .is_some_and(|k| OverrideKind::parse(k).is_none())
        {
            e.add("kind", "must be override or leave");
        }
        e.finish()
    }
}

/// A person in an on-call answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OnCallPerson {
    /// Id of the user.
    pub user_id: Uuid,
    /// The user's display name.
    pub display_name: String,
}

/// Who is on call now for one roster.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RosterOnCallNow {
    /// The roster.
    pub roster_id: Uuid,
    /// Its name.
    pub roster: String,
    /// Its IANA time zone (the dashboard shows the roster's local time).
    pub timezone: String,
    /// Who is paged first, if anyone.
    pub primary: Option<OnCallPerson>,
    /// Who is paged next, if anyone.
    pub secondary: Option<OnCallPerson>,
}

/// One shift of a rotation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ShiftView {
    /// The roster whose rotation the shift belongs to.
    pub roster_id: Uuid,
    /// Who is on call first.
    pub primary: OnCallPerson,
    /// Who is on call second (the next member in rotation order not on leave); absent with a single
    /// member.
    pub secondary: Option<OnCallPerson>,
    /// When the shift starts.
    pub starts_at: DateTime<Utc>,
    /// When the shift ends; absent for the last shift of a rotation without an end.
    pub ends_at: Option<DateTime<Utc>>,
}

/// `GET /api/v1/rosters/{id}/oncall`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OnCallView {
    /// The instant asked about.
    pub at: DateTime<Utc>,
    /// The roster whose rotation answers (the active half of a follow-the-sun pair).
    pub active_roster_id: Uuid,
    /// Who is on call first; absent before the rotation starts, after it ends, or without members.
    pub primary: Option<OnCallPerson>,
    /// Who is on call second.
    pub secondary: Option<OnCallPerson>,
    /// When the current shift started.
    pub shift_start: Option<DateTime<Utc>>,
    /// When the current shift ends; absent for the last shift of a rotation without an end.
    pub shift_end: Option<DateTime<Utc>>,
    /// The override deciding the primary, when one covers the instant.
    pub override_active: Option<Uuid>,
}

/// `GET /api/v1/rosters/{id}/calendar`: a roster's days as its calendar shows them, computed by the
/// same on-call code the API, the iCal feed and escalation use (the UI only draws them).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RosterCalendar {
    /// The roster.
    pub roster_id: Uuid,
    /// IANA zone the days and local times are in: the roster's, unless the request named another.
    pub timezone: String,
    /// Today, in that zone.
    pub today: NaiveDate,
    /// The days asked for, in order.
    pub days: Vec<CalendarDay>,
}

/// One local calendar day of a roster.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CalendarDay {
    /// The local date.
    pub date: NaiveDate,
    /// When the day starts (local midnight).
    pub starts_at: DateTime<Utc>,
    /// When it ends (the next local midnight).
    pub ends_at: DateTime<Utc>,
    /// Hours the day lasts: 23 or 25 on the days clocks change.
    pub hours: i64,
    /// Rotation shifts that begin this day, each with its whole length.
    pub handoffs: Vec<CalendarShift>,
    /// Who is on call through the day, overrides and leave applied (the final schedule).
    pub segments: Vec<CalendarSegment>,
    /// Overrides and leave touching the day.
    pub overrides: Vec<CalendarOverride>,
}

/// A rotation shift, as the rotation alone decides it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CalendarShift {
    /// When the shift starts (the handoff).
    pub starts_at: DateTime<Utc>,
    /// When it ends; absent for the last shift of a roster without an end.
    pub ends_at: Option<DateTime<Utc>>,
    /// Local time of the handoff, `HH:MM`.
    pub at: String,
    /// Minutes the shift lasts: 1380 (23 h) for a daily shift across spring forward.
    pub minutes: Option<i64>,
    /// Primary by rotation.
    pub primary: OnCallPerson,
    /// Secondary by rotation.
    pub secondary: Option<OnCallPerson>,
}

/// A stretch of a day in which who is on call does not change.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CalendarSegment {
    /// Start, within the day.
    pub starts_at: DateTime<Utc>,
    /// End, within the day.
    pub ends_at: DateTime<Utc>,
    /// Local start, `HH:MM`.
    pub from: String,
    /// Local end, `HH:MM` (`24:00` at the end of the day).
    pub to: String,
    /// Who answers; absent before the rotation starts, after it ends, or when everyone is away.
    pub primary: Option<OnCallPerson>,
    /// The secondary.
    pub secondary: Option<OnCallPerson>,
    /// The cover override that decides the primary.
    pub override_id: Option<Uuid>,
    /// Of a follow-the-sun pair, whether this roster answers alerts then (false: its partner does).
    pub active: bool,
}

/// An override or leave, as a day shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CalendarOverride {
    /// Id of the override (to remove it).
    pub id: Uuid,
    /// `override` (covers) or `leave` (away).
    pub kind: OverrideKind,
    /// Who covers or is away.
    pub person: OnCallPerson,
    /// Start of the whole override.
    pub starts_at: DateTime<Utc>,
    /// End of the whole override.
    pub ends_at: DateTime<Utc>,
    /// Local start within the day, `HH:MM`.
    pub from: String,
    /// Local end within the day, `HH:MM` (`24:00` at the end of the day).
    pub to: String,
    /// Why.
    pub reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weekly() -> RosterInput {
        serde_json::from_value(serde_json::json!({
            "name": "Platform", "timezone": "Europe/Berlin", "rotation_type": "weekly",
            "handoff_time": "09:00:00", "start_date": "2026-01-05"
        }))
        .unwrap()
    }

    #[test]
    fn rotation_types_round_trip_and_fix_their_length() {
        assert_eq!(
            RotationType::ALL.map(RotationType::as_str),
            ["daily", "weekly", "custom"]
        );
        for t in RotationType::ALL {
            assert_eq!(t.as_str().parse(), Ok(t));
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        assert_eq!(RotationType::Daily.fixed_length_days(), Some(1));
        assert_eq!(RotationType::Weekly.fixed_length_days(), Some(7));
        assert_eq!(RotationType::Custom.fixed_length_days(), None);
        assert_eq!(RotationType::parse("monthly"), None);
    }

    #[test]
    fn roster_length_follows_the_rotation_type() {
        let mut r = weekly();
        r.rotation_length = Some(3);
        assert_eq!(r.length_days(), 7);
        r.rotation_type = "daily".into();
        assert_eq!(r.length_days(), 1);
        r.rotation_type = "custom".into();
        assert_eq!(r.length_days(), 3);
        r.rotation_length = None;
        assert_eq!(r.length_days(), 7);
        assert!(r.validate().unwrap_err().0.contains_key("rotation_length"));
        r.rotation_type = "monthly".into();
        let errors = r.validate().unwrap_err().0;
        assert_eq!(errors["rotation_type"], ["must be daily, weekly or custom"]);
        assert!(!errors.contains_key("rotation_length"));
    }

    #[test]
    fn override_kinds_are_override_and_leave() {
        assert_eq!(OverrideKind::ALL.map(OverrideKind::as_str), ["override", "leave"]);
        assert_eq!(OverrideKind::default(), OverrideKind::Cover);
        assert_eq!("override".parse(), Ok(OverrideKind::Cover));
        assert_eq!(serde_json::to_value(OverrideKind::Leave).unwrap(), "leave");
        assert_eq!(OverrideKind::parse("cover"), None);
        let mut o: OverrideInput = serde_json::from_value(serde_json::json!({
            "user_id": Uuid::from_u128(1),
            "starts_at": "2026-01-05T09:00:00Z", "ends_at": "2026-01-06T09:00:00Z"
        }))
        .unwrap();
        assert_eq!(o.kind(), OverrideKind::Cover);
        assert!(o.validate().is_ok());
        o.kind = Some("holiday".into());
        assert_eq!(o.validate().unwrap_err().0["kind"], ["must be override or leave"]);
    }
}
