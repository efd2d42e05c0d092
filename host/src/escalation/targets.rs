//! Turning a tier's targets into people, at the instant the tier fires. The worker and the dry run
//! both resolve through here (and so through `db::rosters::on_call`, as the handoff notices do).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use nightowl_api::escalation::{Channel, Target, Tier};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db;
use crate::db::users::Person;

/// One person reached through one channel by one tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The target that named the person (the first one, when several name the same person).
    pub target: Target,
    pub person: Person,
    pub channel: Channel,
}

/// Who is on call for a roster at one instant, and its team lead.
type RosterAnswer = (Option<crate::oncall::OnCall>, Option<Uuid>);

/// Which person of a roster's answer a target means.
type Pick = fn(&RosterAnswer) -> Option<Uuid>;

/// Resolves `roster` at `at` once per tier: `oncall_primary`, `oncall_secondary` and `team_lead` of
/// the same roster share one lookup.
async fn roster_answer<'a>(
    conn: &mut PgConnection,
    seen: &'a mut HashMap<Uuid, RosterAnswer>,
    roster: Uuid,
    at: DateTime<Utc>,
) -> Result<&'a RosterAnswer, sqlx::Error> {
    if let std::collections::hash_map::Entry::Vacant(slot) = seen.entry(roster) {
        let answer = match db::rosters::get(conn, roster).await? {
            Some(r) => {
                let lead = r.team_lead_id;
                (db::rosters::on_call(conn, r, at).await?.answer, lead)
            }
            None => (None, None),
        };
        slot.insert(answer);
    }
    Ok(&seen[&roster])
}

/// The user ids a target names at `at`; `roster` is the alert's roster (for the on-call targets).
async fn target_users(
    conn: &mut PgConnection,
    seen: &mut HashMap<Uuid, RosterAnswer>,
    target: Target,
    roster: Option<Uuid>,
    at: DateTime<Utc>,
) -> Result<Option<Uuid>, sqlx::Error> {
    let (roster, pick): (Option<Uuid>, Pick) = match target {
        Target::User(id) => return Ok(Some(id)),
        Target::OncallPrimary => (roster, |a| a.0.as_ref().map(|o| o.primary)),
        Target::OncallSecondary => (roster, |a| a.0.as_ref().and_then(|o| o.secondary)),
        Target::TeamLead => (roster, |a| a.1),
        Target::Roster(other) => (Some(other), |a| a.0.as_ref().map(|o| o.primary)),
    };
    match roster {
        Some(r) => Ok(pick(roster_answer(conn, seen, r, at).await?)),
        None => Ok(None),
    }
}

/// Everyone a tier reaches at `at`, once per person and channel, in target then channel order.
/// Inactive users and targets that name nobody (an empty roster, no team lead) drop out.
pub async fn resolve_tier(
    conn: &mut PgConnection,
    tier: &Tier,
    roster: Option<Uuid>,
    at: DateTime<Utc>,
) -> Result<Vec<Recipient>, sqlx::Error> {
    let mut named: Vec<(Target, Uuid)> = Vec::new();
    let mut seen = HashMap::new();
    for raw in &tier.targets {
        let Some(target) = Target::parse(raw) else {
            tracing::warn!(target = %raw, "unknown escalation target skipped");
            continue;
        };
        if let Some(user) = target_users(conn, &mut seen, target, roster, at).await?
            && !named.iter().any(|(_, u)| *u == user)
        {
            named.push((target, user));
        }
    }
    let ids: Vec<Uuid> = named.iter().map(|(_, u)| *u).collect();
    let people = db::users::people(conn, &ids).await?;
    let channels: Vec<Channel> = tier
        .notify_via
        .iter()
        .filter_map(|raw| {
            let channel = Channel::parse(raw);
            if channel.is_none() {
                tracing::warn!(channel = %raw, "unknown notification channel skipped");
            }
            channel
        })
        .collect();
    let mut out = Vec::new();
    for (target, user) in named {
        let Some(person) = people.iter().find(|p| p.id == user) else {
            continue;
        };
        for channel in &channels {
            out.push(Recipient {
                target,
                person: person.clone(),
                channel: channel.clone(),
            });
        }
    }
    Ok(out)
}
