//! Queries on `alert_escalations` (one row per escalating alert: the next tier, its round and its
//! deadline, 0-based as stored) and `escalation_events` (the escalation timeline of each alert).

use chrono::{DateTime, Utc};
use nightowl_api::alerts::AlertStatus;
use nightowl_api::escalation::{
    Channel, EscalationAction, EscalationEvent, EscalationState, Target, TierNumber,
};
use serde_json::{Value, json};
use sqlx::PgConnection;

use crate::escalation::plan::Position;
use uuid::Uuid;

/// One row of `escalation_events`.
#[derive(Debug, Clone)]
pub struct NewEscalationEvent<'a> {
    pub alert_id: Uuid,
    pub policy_id: Option<Uuid>,
    pub tier: Option<TierNumber>,
    pub round: Option<i32>,
    pub action: EscalationAction,
    pub target: Option<Target>,
    pub channel: Option<&'a Channel>,
    /// Facts of the step; `null` is stored as `{}`.
    pub detail: Value,
}

impl NewEscalationEvent<'_> {
    /// An event of `alert_id` with no policy, tier, target, channel or detail.
    pub fn new(alert_id: Uuid, action: EscalationAction) -> Self {
        NewEscalationEvent {
            alert_id,
            policy_id: None,
            tier: None,
            round: None,
            action,
            target: None,
            channel: None,
            detail: Value::Null,
        }
    }
}

/// Appends an event to an alert's escalation timeline.
pub async fn insert_event(
    conn: &mut PgConnection,
    e: NewEscalationEvent<'_>,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into escalation_events (alert_id, policy_id, tier, round, action, target, channel, detail, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(e.alert_id)
    .bind(e.policy_id)
    .bind(e.tier)
    .bind(e.round)
    .bind(e.action)
    .bind(e.target)
    .bind(e.channel)
    .bind(if e.detail.is_null() { json!({}) } else { e.detail })
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Starts an alert's escalation at tier 0 of round 0, due at `now`; nothing when one exists.
pub async fn insert(
    conn: &mut PgConnection,
    alert_id: Uuid,
    policy: Uuid,
    roster: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into alert_escalations (alert_id, policy_id, roster_id, next_tier, round, next_at, state, started_at, updated_at)
         values ($1, $2, $3, 0, 0, $4, 'active', $4, $4) on conflict (alert_id) do nothing",
    )
    .bind(alert_id)
    .bind(policy)
    .bind(roster)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Where a running escalation stood when it was changed.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct Standing {
    pub policy_id: Uuid,
    /// 0-based.
    pub next_tier: i32,
    pub round: i32,
}

impl Standing {
    /// The tier and round, as the escalation rules count them.
    pub fn position(&self) -> Position {
        Position::from_row(self.round, self.next_tier)
    }
}

/// Stops an active escalation; `None` when none was active.
pub async fn stop(
    conn: &mut PgConnection,
    alert_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<Standing>, sqlx::Error> {
    sqlx::query_as(
        "update alert_escalations set state = 'stopped', updated_at = $2
         where alert_id = $1 and state = 'active' returning policy_id, next_tier, round",
    )
    .bind(alert_id)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// Makes an active escalation's next step due no later than `at`; `None` when none is active.
pub async fn due_by(
    conn: &mut PgConnection,
    alert_id: Uuid,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<Standing>, sqlx::Error> {
    sqlx::query_as(
        "update alert_escalations set next_at = least(next_at, $2), updated_at = $3
         where alert_id = $1 and state = 'active' returning policy_id, next_tier, round",
    )
    .bind(alert_id)
    .bind(at)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// An escalation row as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Escalation {
    pub policy_id: Uuid,
    /// 0-based.
    pub next_tier: i32,
    pub round: i32,
    pub next_at: DateTime<Utc>,
    pub state: EscalationState,
}

/// Reads an alert's escalation and locks it until the transaction ends, so that changes decided
/// from what it says (the last failed notification of a tier) happen one at a time.
pub async fn lock(conn: &mut PgConnection, alert_id: Uuid) -> Result<Option<Escalation>, sqlx::Error> {
    sqlx::query_as(
        "select policy_id, next_tier, round, next_at, state from alert_escalations
         where alert_id = $1 for update",
    )
    .bind(alert_id)
    .fetch_optional(conn)
    .await
}

/// The policy of an alert's escalation, running or not.
pub async fn policy_of(conn: &mut PgConnection, alert_id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("select policy_id from alert_escalations where alert_id = $1")
        .bind(alert_id)
        .fetch_optional(conn)
        .await
}

/// A due escalation claimed by a worker, with its alert's status.
#[derive(Debug, sqlx::FromRow)]
pub struct Due {
    pub alert_id: Uuid,
    pub policy_id: Uuid,
    pub roster_id: Option<Uuid>,
    /// 0-based.
    pub next_tier: i32,
    pub round: i32,
    pub next_at: DateTime<Utc>,
    /// The alert's status.
    pub status: AlertStatus,
}

/// Claims up to `limit` active escalations due at `now`, earliest first, locked until the
/// transaction ends. `SKIP LOCKED`: concurrent workers take disjoint rows.
pub async fn claim_due(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Due>, sqlx::Error> {
    sqlx::query_as(
        "select e.alert_id, e.policy_id, e.roster_id, e.next_tier, e.round, e.next_at, a.status
         from alert_escalations e join alerts a on a.id = e.alert_id
         where e.state = 'active' and e.next_at <= $1
         order by e.next_at
         limit $2
         for update of e skip locked",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Sets an escalation's state (stopped, exhausted).
pub async fn set_state(
    conn: &mut PgConnection,
    alert_id: Uuid,
    state: EscalationState,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("update alert_escalations set state = $2, updated_at = $3 where alert_id = $1")
        .bind(alert_id)
        .bind(state)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Moves an escalation to its next step: tier `next_tier` (0-based) of `round`, due at `next_at`.
pub async fn advance(
    conn: &mut PgConnection,
    alert_id: Uuid,
    next_tier: i32,
    round: i32,
    next_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update alert_escalations set next_tier = $2, round = $3, next_at = $4, updated_at = $5 where alert_id = $1",
    )
    .bind(alert_id)
    .bind(next_tier)
    .bind(round)
    .bind(next_at)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The earliest deadline of an active escalation in the transaction's tenant.
pub async fn next_deadline(conn: &mut PgConnection) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar("select min(next_at) from alert_escalations where state = 'active'")
        .fetch_one(conn)
        .await
}

/// The alert's row of `alert_escalations`. `next_tier` is the 0-based index, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EscalationRow {
    pub policy_id: Uuid,
    pub roster_id: Option<Uuid>,
    pub state: EscalationState,
    pub next_tier: i32,
    pub round: i32,
    pub next_at: DateTime<Utc>,
}

/// The alert's escalation state, when it ever escalated.
pub async fn of_alert(conn: &mut PgConnection, alert_id: Uuid) -> Result<Option<EscalationRow>, sqlx::Error> {
    sqlx::query_as(
        "select policy_id, roster_id, state, next_tier, round, next_at from alert_escalations where alert_id = $1",
    )
    .bind(alert_id)
    .fetch_optional(conn)
    .await
}

/// Every escalation step of the alert, oldest first.
pub async fn events(conn: &mut PgConnection, alert_id: Uuid) -> Result<Vec<EscalationEvent>, sqlx::Error> {
    sqlx::query_as(
        "select id, policy_id, tier, round, action, target, channel, detail, created_at
         from escalation_events where alert_id = $1 order by created_at, id",
    )
    .bind(alert_id)
    .fetch_all(conn)
    .await
}
