//! Turning a tier's targets into people, at the instant the tier fires. The worker, the dry run and
//! the handoff notices all resolve through here (and so through `db::rosters::on_call`).

use chrono::{DateTime, Utc};
use nightowl_api::escalation::{Target, Tier};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db;

/// A person to notify, with what the channels need to reach them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Person {
    pub id: Uuid,
    pub display_name: String,
    pub email: String,
    pub phone: Option<String>,
    pub timezone: String,
    pub slack_user_id: Option<String>,
}

/// One person reached through one channel by one tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The target that named the person (the first one, when several name the same person).
    pub target: String,
    pub person: Person,
    pub channel: String,
}

/// Active users by id, in the order asked.
pub async fn people(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<Person>, sqlx::Error> {
    let rows: Vec<Person> = sqlx::query_as(
        "select id, display_name, email, phone, timezone, slack_user_id from users
         where id = any($1) and is_active",
    )
    .bind(ids)
    .fetch_all(conn)
    .await?;
    Ok(ids
        .iter()
        .filter_map(|id| rows.iter().find(|p| p.id == *id).cloned())
        .collect())
}

/// The user ids a target names at `at`; `roster` is the alert's roster (for the on-call targets).
pub async fn target_users(
    conn: &mut PgConnection,
    target: Target,
    roster: Option<Uuid>,
    at: DateTime<Utc>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    let on_call = |roster: Option<Uuid>| async move {
        let Some(id) = roster else {
            return Ok::<_, sqlx::Error>((None, None));
        };
        let Some(r) = db::rosters::get(conn, id).await? else {
            return Ok((None, None));
        };
        let team_lead = r.team_lead_id;
        let resolved = db::rosters::on_call(conn, r, at).await?;
        Ok((resolved.answer, team_lead))
    };
    Ok(match target {
        Target::User(id) => vec![id],
        Target::OncallPrimary => on_call(roster).await?.0.map(|a| a.primary).into_iter().collect(),
        Target::OncallSecondary => on_call(roster)
            .await?
            .0
            .and_then(|a| a.secondary)
            .into_iter()
            .collect(),
        Target::TeamLead => on_call(roster).await?.1.into_iter().collect(),
        Target::Roster(other) => on_call(Some(other))
            .await?
            .0
            .map(|a| a.primary)
            .into_iter()
            .collect(),
    })
}

/// Everyone a tier reaches at `at`, once per person and channel, in target then channel order.
/// Inactive users and targets that name nobody (an empty roster, no team lead) drop out.
pub async fn resolve_tier(
    conn: &mut PgConnection,
    tier: &Tier,
    roster: Option<Uuid>,
    at: DateTime<Utc>,
) -> Result<Vec<Recipient>, sqlx::Error> {
    let mut named: Vec<(String, Uuid)> = Vec::new();
    for raw in &tier.targets {
        let Some(target) = Target::parse(raw) else {
            tracing::warn!(target = %raw, "unknown escalation target skipped");
            continue;
        };
        for user in target_users(conn, target, roster, at).await? {
            if !named.iter().any(|(_, u)| *u == user) {
                named.push((raw.clone(), user));
            }
        }
    }
    let ids: Vec<Uuid> = named.iter().map(|(_, u)| *u).collect();
    let people = people(conn, &ids).await?;
    let mut out = Vec::new();
    for (target, user) in named {
        let Some(person) = people.iter().find(|p| p.id == user) else {
            continue;
        };
        for channel in &tier.notify_via {
            out.push(Recipient {
                target: target.clone(),
                person: person.clone(),
                channel: channel.clone(),
            });
        }
    }
    Ok(out)
}
