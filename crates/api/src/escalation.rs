//! Types of escalation policies, dry runs and an alert's escalation record.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{FieldErrors, Validate};

/// Channels built into the host (`log`) or served by the bundled plugins (`slack_*` by `slack`,
/// `phone` and `sms` by `twilio`). Any installed channel plugin's id is accepted too.
pub const BUILTIN_CHANNELS: [&str; 5] = ["log", "slack_dm", "slack_channel", "phone", "sms"];

/// Longest tier timeout: one day.
pub const MAX_TIMEOUT_MINUTES: u32 = 1440;

/// Whom a tier notifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// The primary on call of the alert's roster at the moment the tier fires.
    OncallPrimary,
    /// The secondary on call of the alert's roster.
    OncallSecondary,
    /// The alert roster's team lead.
    TeamLead,
    /// One user.
    User(Uuid),
    /// The primary on call of another roster.
    Roster(Uuid),
}

impl Target {
    /// Parses `oncall_primary`, `oncall_secondary`, `team_lead`, `user:<uuid>` or `roster:<uuid>`.
    pub fn parse(s: &str) -> Option<Target> {
        match s {
            "oncall_primary" => Some(Target::OncallPrimary),
            "oncall_secondary" => Some(Target::OncallSecondary),
            "team_lead" => Some(Target::TeamLead),
            _ => {
                let (kind, id) = s.split_once(':')?;
                let id = Uuid::parse_str(id).ok()?;
                match kind {
                    "user" => Some(Target::User(id)),
                    "roster" => Some(Target::Roster(id)),
                    _ => None,
                }
            }
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::OncallPrimary => f.write_str("oncall_primary"),
            Target::OncallSecondary => f.write_str("oncall_secondary"),
            Target::TeamLead => f.write_str("team_lead"),
            Target::User(id) => write!(f, "user:{id}"),
            Target::Roster(id) => write!(f, "roster:{id}"),
        }
    }
}

/// True for a channel name the policy may use: a built-in channel or a plugin id.
pub fn is_channel_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// One step of a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// Minutes to wait for an acknowledgement before the next tier fires (1 to 1440).
    pub timeout_minutes: u32,
    /// Channels to notify every target through (`log`, `slack_dm`, `slack_channel`, `phone`, `sms`, or
    /// an installed channel plugin's id).
    pub notify_via: Vec<String>,
    /// `oncall_primary`, `oncall_secondary`, `team_lead`, `user:<id>` or `roster:<id>`.
    pub targets: Vec<String>,
}

/// An escalation policy.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EscalationPolicy {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub tiers: Vec<Tier>,
    /// How many more times the whole policy runs after the last tier (0 to 10).
    pub repeat_count: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Body of `POST /api/v1/escalation-policies` and `PUT /api/v1/escalation-policies/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub tiers: Vec<Tier>,
    #[serde(default)]
    pub repeat_count: i32,
}

impl Validate for PolicyInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        e.required("name", &self.name, 200);
        if let Some(d) = &self.description {
            e.max_len("description", d, 2000);
        }
        if !(0..=10).contains(&self.repeat_count) {
            e.add("repeat_count", "must be between 0 and 10");
        }
        if self.tiers.is_empty() || self.tiers.len() > 20 {
            e.add("tiers", "a policy has 1 to 20 tiers");
        }
        for (i, tier) in self.tiers.iter().enumerate() {
            let field = |name: &str| format!("tiers[{i}].{name}");
            if !(1..=MAX_TIMEOUT_MINUTES).contains(&tier.timeout_minutes) {
                e.add(&field("timeout_minutes"), "must be between 1 and 1440");
            }
            if tier.notify_via.is_empty() || tier.notify_via.len() > 10 {
                e.add(&field("notify_via"), "name 1 to 10 channels");
            }
            for via in &tier.notify_via {
                if !is_channel_name(via) {
                    e.add(&field("notify_via"), format!("{via:?} is not a channel name"));
                }
            }
            if tier.targets.is_empty() || tier.targets.len() > 20 {
                e.add(&field("targets"), "name 1 to 20 targets");
            }
            for target in &tier.targets {
                if Target::parse(target).is_none() {
                    e.add(
                        &field("targets"),
                        format!(
                            "{target:?} is not oncall_primary, oncall_secondary, team_lead, user:<id> or roster:<id>"
                        ),
                    );
                }
            }
        }
        e.finish()
    }
}

/// Body of `POST /api/v1/escalation-policies/{id}/dry-run`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DryRunInput {
    /// When the simulated alert is created (default: now).
    #[serde(default)]
    pub start: Option<DateTime<Utc>>,
    /// The roster the on-call targets resolve against (default: the one roster using the policy).
    #[serde(default)]
    pub roster_id: Option<Uuid>,
}

impl Validate for DryRunInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        Ok(())
    }
}

/// A person a step reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Recipient {
    /// The target that named the person.
    pub target: String,
    pub user_id: Uuid,
    pub display_name: String,
    /// The channel used.
    pub channel: String,
}

/// One tier firing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EscalationStep {
    /// 0 for the first pass over the policy, 1 for the first repeat, ...
    pub round: u32,
    /// 1-based tier number.
    pub tier: u32,
    /// When the tier fires.
    pub at: DateTime<Utc>,
    /// Minutes since the alert was created.
    pub after_minutes: i64,
    /// Everyone notified, by channel; empty when the tier's targets resolve to nobody (the next tier
    /// then fires at once).
    pub recipients: Vec<Recipient>,
}

/// Answer of a dry run: what the worker will do for an alert created at `start` that nobody
/// acknowledges, given the rosters as they are now.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DryRun {
    pub policy_id: Uuid,
    pub roster_id: Option<Uuid>,
    pub start: DateTime<Utc>,
    pub steps: Vec<EscalationStep>,
    /// When the policy gives up (after the last tier of the last round has timed out).
    pub exhausted_at: DateTime<Utc>,
}

/// One recorded escalation step of an alert.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EscalationEvent {
    pub id: i64,
    pub policy_id: Option<Uuid>,
    /// 1-based tier, when the event belongs to one.
    pub tier: Option<i32>,
    pub round: Option<i32>,
    /// started, notified, no_recipients, delivered, delivery_failed, acknowledged, resolved, escalated,
    /// exhausted.
    pub action: String,
    pub target: Option<String>,
    pub channel: Option<String>,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// `GET /api/v1/alerts/{id}/escalation`: the alert's escalation state and its history.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AlertEscalation {
    pub alert_id: Uuid,
    pub policy_id: Option<Uuid>,
    pub roster_id: Option<Uuid>,
    /// active, stopped or exhausted; none when the alert never escalated.
    pub state: Option<String>,
    /// 1-based tier that fires next.
    pub next_tier: Option<i32>,
    pub round: Option<i32>,
    pub next_at: Option<DateTime<Utc>>,
    pub events: Vec<EscalationEvent>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_round_trip() {
        let id = Uuid::from_u128(7);
        for t in [
            Target::OncallPrimary,
            Target::OncallSecondary,
            Target::TeamLead,
            Target::User(id),
            Target::Roster(id),
        ] {
            assert_eq!(Target::parse(&t.to_string()), Some(t));
        }
        assert_eq!(Target::parse("user:nope"), None);
        assert_eq!(Target::parse("group:00000000-0000-0000-0000-000000000007"), None);
    }

    #[test]
    fn policy_rules() {
        let ok = PolicyInput {
            name: "Default".into(),
            description: None,
            tiers: vec![Tier {
                timeout_minutes: 5,
                notify_via: vec!["log".into()],
                targets: vec!["oncall_primary".into()],
            }],
            repeat_count: 1,
        };
        assert!(ok.validate().is_ok());
        let mut bad = ok.clone();
        bad.tiers[0].timeout_minutes = 0;
        bad.tiers[0].notify_via = vec!["Slack DM".into()];
        bad.tiers[0].targets = vec!["everyone".into()];
        bad.repeat_count = 11;
        let errors = bad.validate().unwrap_err().0;
        for field in [
            "tiers[0].timeout_minutes",
            "tiers[0].notify_via",
            "tiers[0].targets",
            "repeat_count",
        ] {
            assert!(errors.contains_key(field), "{field} missing in {errors:?}");
        }
    }
}
