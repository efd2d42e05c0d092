//! Types of escalation policies, dry runs and an alert's escalation record: tiers and their numbers,
//! targets, channels, and the states and steps an escalation goes through.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::text::{InvalidValue, sqlx_text, string_enum, string_schema};
use crate::{FieldErrors, Validate};

/// Channels built into the host (`log`) or served by the bundled plugins (`slack_*` by `slack`,
/// `phone` and `sms` by `twilio`). Any installed channel plugin's id is accepted too.
pub const BUILTIN_CHANNELS: [&str; 5] = ["log", "slack_dm", "slack_channel", "phone", "sms"];

/// A channel a tier may notify through (`GET /api/v1/escalation-policies/channels`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChannelOption {
    /// The name to put in `notify_via`.
    pub name: String,
    /// The plugin that delivers through it; absent for `log`, which the host writes itself.
    pub plugin: Option<String>,
    /// Whether that plugin is installed (a policy can name only channels that can deliver).
    pub installed: bool,
    /// What it does, in a few words.
    pub description: String,
}

/// Longest tier timeout: one day.
pub const MAX_TIMEOUT_MINUTES: u32 = 1440;

/// Whom a tier notifies. Spelled `oncall_primary`, `oncall_secondary`, `team_lead`, `user:<id>` or
/// `roster:<id>` in policies and escalation events; the on-call targets resolve against the alert's
/// roster at the instant the tier fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
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

impl FromStr for Target {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Target, InvalidValue> {
        Target::parse(s).ok_or_else(|| InvalidValue {
            kind: "escalation target",
            value: s.to_owned(),
            expected: &[
                "oncall_primary",
                "oncall_secondary",
                "team_lead",
                "user:<id>",
                "roster:<id>",
            ],
        })
    }
}

impl TryFrom<String> for Target {
    type Error = InvalidValue;

    fn try_from(s: String) -> Result<Target, InvalidValue> {
        s.parse()
    }
}

impl From<Target> for String {
    fn from(t: Target) -> String {
        t.to_string()
    }
}

impl utoipa::PartialSchema for Target {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        string_schema(
            "`oncall_primary`, `oncall_secondary`, `team_lead`, `user:<id>` or `roster:<id>`",
            "oncall_primary",
            None,
        )
    }
}

impl ToSchema for Target {}

sqlx_text!(Target);

/// A channel a tier notifies through: one built into the host or served by a bundled plugin, or any
/// installed channel plugin by its id. Spelled as in [`BUILTIN_CHANNELS`] or as the plugin id
/// (1 to 64 of `a-z`, `0-9`, `_`, `-`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Channel {
    /// `log`: one structured log line per notification, written by the host itself.
    Log,
    /// `slack_dm`: a direct message from the `slack` plugin.
    SlackDm,
    /// `slack_channel`: a message in the tenant's Slack channel, from the `slack` plugin.
    SlackChannel,
    /// `phone`: a voice call from the `twilio` plugin.
    Phone,
    /// `sms`: a text message from the `twilio` plugin.
    Sms,
    /// Any other installed channel plugin, by its id.
    Plugin(String),
}

impl Channel {
    /// Parses a built-in channel name or a plugin id; `None` when `s` is neither.
    pub fn parse(s: &str) -> Option<Channel> {
        Some(match s {
            "log" => Channel::Log,
            "slack_dm" => Channel::SlackDm,
            "slack_channel" => Channel::SlackChannel,
            "phone" => Channel::Phone,
            "sms" => Channel::Sms,
            _ if is_channel_name(s) => Channel::Plugin(s.to_owned()),
            _ => return None,
        })
    }

    /// The name used in policies and the outbox.
    pub fn as_str(&self) -> &str {
        match self {
            Channel::Log => "log",
            Channel::SlackDm => "slack_dm",
            Channel::SlackChannel => "slack_channel",
            Channel::Phone => "phone",
            Channel::Sms => "sms",
            Channel::Plugin(id) => id,
        }
    }

    /// The plugin that delivers through this channel; `None` for `log`, which the host writes itself.
    pub fn plugin_id(&self) -> Option<&str> {
        match self {
            Channel::Log => None,
            Channel::SlackDm | Channel::SlackChannel => Some("slack"),
            Channel::Phone | Channel::Sms => Some("twilio"),
            Channel::Plugin(id) => Some(id),
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Channel {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Channel, InvalidValue> {
        Channel::parse(s).ok_or_else(|| InvalidValue {
            kind: "channel",
            value: s.to_owned(),
            expected: &[
                "log",
                "slack_dm",
                "slack_channel",
                "phone",
                "sms",
                "<channel plugin id>",
            ],
        })
    }
}

impl TryFrom<String> for Channel {
    type Error = InvalidValue;

    fn try_from(s: String) -> Result<Channel, InvalidValue> {
        s.parse()
    }
}

impl From<Channel> for String {
    fn from(c: Channel) -> String {
        match c {
            Channel::Plugin(id) => id,
            other => other.as_str().to_owned(),
        }
    }
}

impl utoipa::PartialSchema for Channel {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        string_schema(
            "`log`, `slack_dm`, `slack_channel`, `phone`, `sms`, or an installed channel plugin's id",
            "slack_dm",
            Some("^[a-z0-9_-]{1,64}$"),
        )
    }
}

impl ToSchema for Channel {}

sqlx_text!(Channel);

/// The number of a tier in its policy as people count it: 1 is the first tier. The escalation state
/// stores a 0-based index into the policy's tiers; [`TierNumber::from_index`] and
/// [`TierNumber::index`] are the one conversion between the two. Serialised as a plain integer;
/// 0 is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TierNumber(NonZeroU32);

impl TierNumber {
    /// Tier 1, the one that fires when the alert is created.
    pub const FIRST: TierNumber = TierNumber(NonZeroU32::MIN);

    /// The tier with this 1-based number; `None` for 0.
    pub fn new(number: u32) -> Option<TierNumber> {
        NonZeroU32::new(number).map(TierNumber)
    }

    /// The 1-based number.
    pub fn get(self) -> u32 {
        self.0.get()
    }

    /// The tier at this 0-based index of the policy's tiers (saturating at `u32::MAX`, far beyond the
    /// 20 tiers a policy may have).
    pub fn from_index(index: usize) -> TierNumber {
        let number = u32::try_from(index)
            .ok()
            .and_then(|i| i.checked_add(1))
            .unwrap_or(u32::MAX);
        TierNumber(NonZeroU32::new(number).unwrap_or(NonZeroU32::MAX))
    }

    /// The 0-based index into the policy's tiers.
    pub fn index(self) -> usize {
        // u32 fits in usize on every target NightOwl builds for (64-bit hosts, wasm32).
        usize::try_from(self.get() - 1).unwrap_or(usize::MAX)
    }
}

impl fmt::Display for TierNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl utoipa::PartialSchema for TierNumber {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
            .minimum(Some(1))
            .description(Some("1-based number of a tier in its policy"))
            .into()
    }
}

impl ToSchema for TierNumber {}

/// Stored as a 1-based `integer` (as in `escalation_events.tier`). `alert_escalations.next_tier` holds
/// the 0-based index instead: read and write that one through [`TierNumber::index`].
#[cfg(feature = "sqlx")]
impl sqlx::Type<sqlx::Postgres> for TierNumber {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <i32 as sqlx::Type<sqlx::Postgres>>::type_info()
    }
}

#[cfg(feature = "sqlx")]
impl<'q> sqlx::Encode<'q, sqlx::Postgres> for TierNumber {
    fn encode_by_ref(
        &self,
        buf: &mut sqlx::postgres::PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        let n = i32::try_from(self.get()).unwrap_or(i32::MAX);
        <i32 as sqlx::Encode<'q, sqlx::Postgres>>::encode(n, buf)
    }
}

#[cfg(feature = "sqlx")]
impl<'r> sqlx::Decode<'r, sqlx::Postgres> for TierNumber {
    fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let n = <i32 as sqlx::Decode<'r, sqlx::Postgres>>::decode(value)?;
        u32::try_from(n)
            .ok()
            .and_then(TierNumber::new)
            .ok_or_else(|| format!("tier number {n} is not 1 or more").into())
    }
}

string_enum! {
    /// Where an alert's escalation stands (`alert_escalations.state`).
    pub enum EscalationState("escalation state") {
        /// Tiers still fire: `next_tier` is due at `next_at`.
        Active = "active",
        /// Acknowledged or resolved; nothing more fires.
        Stopped = "stopped",
        /// Every tier of every round fired and the last timeout ran out without an acknowledgement.
        Exhausted = "exhausted",
    }
}

string_enum! {
    /// What one recorded step of an escalation was (`escalation_events.action`).
    pub enum EscalationAction("escalation action") {
        /// The alert routed to a roster with a policy; tier 1 is due at once.
        Started = "started",
        /// A tier fired and queued a notification to one person through one channel.
        Notified = "notified",
        /// A tier fired but its targets named nobody; the next tier fires at once.
        NoRecipients = "no_recipients",
        /// A channel delivered a tier's notification.
        Delivered = "delivered",
        /// A channel failed to deliver a tier's notification for good.
        DeliveryFailed = "delivery_failed",
        /// A delivered page did not reach the person after all (a call rang out, was busy or failed);
        /// the escalation goes on at the tier's deadline.
        NotAnswered = "not_answered",
        /// Someone acknowledged the alert; escalation stopped.
        Acknowledged = "acknowledged",
        /// The alert was resolved; escalation stopped.
        Resolved = "resolved",
        /// The next tier was made due early: on request, or because every notification of the
        /// previous tier failed.
        Escalated = "escalated",
        /// The policy ran out of tiers and rounds.
        Exhausted = "exhausted",
    }
}

/// True for a channel name the policy may use: a built-in channel or a plugin id.
pub fn is_channel_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// One step of a policy: whom it notifies, through which channels, and how long it waits for an
/// acknowledgement before the next tier fires.
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

/// An escalation policy: the tiers a roster's alerts escalate through until someone acknowledges.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct EscalationPolicy {
    /// Id of the policy.
    pub id: Uuid,
    /// Unique name within the tenant (at most 200 characters).
    pub name: String,
    /// Free text (at most 2000 characters).
    pub description: Option<String>,
    /// The tiers in firing order: tier 1 first (1 to 20 of them).
    #[cfg_attr(feature = "sqlx", sqlx(json))]
    pub tiers: Vec<Tier>,
    /// How many more times the whole policy runs after the last tier (0 to 10).
    pub repeat_count: i32,
    /// When the policy was created.
    pub created_at: DateTime<Utc>,
    /// When the policy was last changed.
    pub updated_at: DateTime<Utc>,
}

/// Body of `POST /api/v1/escalation-policies` and `PUT /api/v1/escalation-policies/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    /// Unique name within the tenant (1 to 200 characters).
    pub name: String,
    /// Free text (at most 2000 characters).
    #[serde(default)]
    pub description: Option<String>,
    /// The tiers in firing order (1 to 20).
    pub tiers: Vec<Tier>,
    /// How many more times the whole policy runs after the last tier (0 to 10, default 0).
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
    /// The target that named the person (the first one, when several name the same person).
    pub target: Target,
    /// Id of the person.
    pub user_id: Uuid,
    /// The person's display name.
    pub display_name: String,
    /// The channel used.
    pub channel: Channel,
}

/// One tier firing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EscalationStep {
    /// 0 for the first pass over the policy, 1 for the first repeat, ...
    pub round: u32,
    /// The tier that fires.
    pub tier: TierNumber,
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
    /// The policy simulated.
    pub policy_id: Uuid,
    /// The roster the on-call targets resolved against; absent when none was given or found (the
    /// on-call targets then reach nobody).
    pub roster_id: Option<Uuid>,
    /// When the simulated alert was created.
    pub start: DateTime<Utc>,
    /// Every tier firing, in time order, over every round.
    pub steps: Vec<EscalationStep>,
    /// When the policy gives up (after the last tier of the last round has timed out).
    pub exhausted_at: DateTime<Utc>,
}

/// One recorded escalation step of an alert.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct EscalationEvent {
    /// Id of the event; increases in recording order.
    pub id: i64,
    /// The policy escalating; absent once the policy was deleted.
    pub policy_id: Option<Uuid>,
    /// The tier, when the event belongs to one.
    pub tier: Option<TierNumber>,
    /// 0-based round of the tier, when the event belongs to one.
    pub round: Option<i32>,
    /// What happened.
    pub action: EscalationAction,
    /// The target that named the person notified, for notification events.
    pub target: Option<Target>,
    /// The channel of a notification event.
    pub channel: Option<Channel>,
    /// Facts of the step: who acted, when it was scheduled, whom it reached, the channel's answer or
    /// error.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// When it happened (the host's clock).
    pub created_at: DateTime<Utc>,
}

/// `GET /api/v1/alerts/{id}/escalation`: the alert's escalation state and its history.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AlertEscalation {
    /// The alert.
    pub alert_id: Uuid,
    /// The policy escalating the alert; absent when it never routed to one.
    pub policy_id: Option<Uuid>,
    /// The roster the on-call targets resolve against.
    pub roster_id: Option<Uuid>,
    /// Where the escalation stands; none when the alert never escalated.
    pub state: Option<EscalationState>,
    /// The tier that fires next; only while active.
    pub next_tier: Option<TierNumber>,
    /// Round the next tier belongs to: 0 during the first pass over the policy, 1 during the first
    /// repeat, ...
    pub round: Option<i32>,
    /// When the next tier fires; only while active.
    pub next_at: Option<DateTime<Utc>>,
    /// Every recorded step, oldest first.
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
    fn targets_are_strings_in_json() {
        let id = Uuid::from_u128(7);
        let json = serde_json::json!(["oncall_primary", format!("roster:{id}")]);
        let targets: Vec<Target> = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(targets, [Target::OncallPrimary, Target::Roster(id)]);
        assert_eq!(serde_json::to_value(&targets).unwrap(), json);
        let err = serde_json::from_value::<Target>(serde_json::json!("everyone")).unwrap_err();
        assert!(err.to_string().contains("not a valid escalation target"), "{err}");
        assert!("team_lead".parse::<Target>().is_ok());
    }

    #[test]
    fn channels_name_built_ins_and_plugins() {
        for name in BUILTIN_CHANNELS {
            let channel = Channel::parse(name).unwrap();
            assert!(!matches!(channel, Channel::Plugin(_)), "{name} is built in");
            assert_eq!(channel.as_str(), name);
            assert_eq!(String::from(channel.clone()), name);
            assert_eq!(name.parse(), Ok(channel));
        }
        let pagerduty = Channel::parse("pager-duty_2").unwrap();
        assert_eq!(pagerduty, Channel::Plugin("pager-duty_2".into()));
        assert_eq!(pagerduty.plugin_id(), Some("pager-duty_2"));
        assert_eq!(Channel::Log.plugin_id(), None);
        assert_eq!(Channel::SlackDm.plugin_id(), Some("slack"));
        assert_eq!(Channel::SlackChannel.plugin_id(), Some("slack"));
        assert_eq!(Channel::Phone.plugin_id(), Some("twilio"));
        assert_eq!(Channel::Sms.plugin_id(), Some("twilio"));
        let long = "x".repeat(65);
        for bad in ["", "Slack DM", "slack.dm", long.as_str()] {
            assert_eq!(Channel::parse(bad), None, "{bad:?} accepted");
        }
        let via: Vec<Channel> = serde_json::from_str(r#"["sms", "log", "opsgenie"]"#).unwrap();
        assert_eq!(
            via,
            [Channel::Sms, Channel::Log, Channel::Plugin("opsgenie".into())]
        );
        assert_eq!(
            serde_json::to_string(&via).unwrap(),
            r#"["sms","log","opsgenie"]"#
        );
        assert!(serde_json::from_str::<Channel>(r#""Phone""#).is_err());
    }

    #[test]
    fn tier_numbers_are_one_based_indexes_plus_one() {
        assert_eq!(TierNumber::from_index(0), TierNumber::FIRST);
        assert_eq!(TierNumber::FIRST.get(), 1);
        assert_eq!(TierNumber::FIRST.index(), 0);
        for index in [0, 1, 2, 19] {
            let tier = TierNumber::from_index(index);
            assert_eq!(tier.get() as usize, index + 1);
            assert_eq!(tier.index(), index);
            assert_eq!(TierNumber::new(tier.get()), Some(tier));
        }
        assert_eq!(TierNumber::new(0), None);
        assert_eq!(TierNumber::from_index(usize::MAX).get(), u32::MAX);
        assert_eq!(TierNumber::from_index(2).to_string(), "3");
        assert!(TierNumber::from_index(0) < TierNumber::from_index(1));
    }

    #[test]
    fn tier_numbers_are_plain_integers_in_json() {
        let tier: TierNumber = serde_json::from_str("2").unwrap();
        assert_eq!(tier.index(), 1);
        assert_eq!(serde_json::to_string(&tier).unwrap(), "2");
        assert!(serde_json::from_str::<TierNumber>("0").is_err());
        assert!(serde_json::from_str::<TierNumber>("-1").is_err());
        assert!(serde_json::from_str::<TierNumber>(r#""2""#).is_err());
    }

    #[test]
    fn escalation_names_are_the_stored_ones() {
        assert_eq!(
            EscalationState::ALL.map(EscalationState::as_str),
            ["active", "stopped", "exhausted"]
        );
        assert_eq!(
            EscalationAction::ALL.map(EscalationAction::as_str),
            [
                "started",
                "notified",
                "no_recipients",
                "delivered",
                "delivery_failed",
                "not_answered",
                "acknowledged",
                "resolved",
                "escalated",
                "exhausted"
            ]
        );
        for action in EscalationAction::ALL {
            assert_eq!(action.as_str().parse(), Ok(action));
            assert_eq!(serde_json::to_value(action).unwrap(), action.as_str());
        }
        for state in EscalationState::ALL {
            assert_eq!(EscalationState::parse(&state.to_string()), Some(state));
        }
        assert_eq!(EscalationState::parse("paused"), None);
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
