//! Queries on `notification_outbox`: one row per notification, from queued to settled (the
//! lifecycle is described in `notify::outbox`).

use chrono::{DateTime, Utc};
use nightowl_api::escalation::{Channel, TierNumber};
use nightowl_api::notifications::{NotificationKind, NotificationStatus};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

/// A row to insert.
#[derive(Debug)]
pub struct NewRow<'a> {
    /// Unique per logical notification.
    pub key: &'a str,
    pub alert_id: Option<Uuid>,
    pub kind: NotificationKind,
    pub channel: &'a Channel,
    pub target: &'a str,
    /// The notification and the facts kept with it.
    pub payload: &'a Value,
}

/// Inserts a pending row due at `now` unless one with the same key exists; true when inserted.
pub async fn insert(conn: &mut PgConnection, n: NewRow<'_>, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "insert into notification_outbox (idempotency_key, alert_id, kind, channel, target, payload, status,
             attempts, next_attempt_at, created_at)
         values ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7)
         on conflict (idempotency_key) do nothing",
    )
    .bind(n.key)
    .bind(n.alert_id)
    .bind(n.kind)
    .bind(n.channel)
    .bind(n.target)
    .bind(n.payload)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Whether a row with this idempotency key exists.
pub async fn exists(conn: &mut PgConnection, key: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists(select 1 from notification_outbox where idempotency_key = $1)")
        .bind(key)
        .fetch_one(conn)
        .await
}

/// A row claimed by a worker.
#[derive(Debug, sqlx::FromRow)]
pub struct Claimed {
    pub id: Uuid,
    pub alert_id: Option<Uuid>,
    pub kind: NotificationKind,
    pub channel: Channel,
    pub target: String,
    pub payload: Value,
    /// Including the attempt this claim is for.
    pub attempts: i32,
}

/// Claims up to `limit` rows due at `now` (pending, or sending with a lapsed lease), earliest first,
/// for `worker` until `lease_until`, counting the attempt. `SKIP LOCKED`: concurrent workers take
/// disjoint rows.
pub async fn claim(
    conn: &mut PgConnection,
    worker: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Claimed>, sqlx::Error> {
    sqlx::query_as(
        "update notification_outbox o
         set status = 'sending', attempts = o.attempts + 1, claimed_by = $1, next_attempt_at = $3
         where o.id in (
             select id from notification_outbox
             where status in ('pending', 'sending') and next_attempt_at <= $2
             order by next_attempt_at
             limit $4
             for update skip locked)
         returning o.id, o.alert_id, o.kind, o.channel, o.target, o.payload, o.attempts",
    )
    .bind(worker)
    .bind(now)
    .bind(lease_until)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// The outcome of one delivery attempt, as written to its row.
#[derive(Debug)]
pub struct Settlement<'a> {
    /// Sent, pending (to retry) or failed.
    pub status: NotificationStatus,
    /// What the channel answered, when it delivered.
    pub result: Option<&'a Value>,
    /// When to try again, for `pending`.
    pub retry_at: Option<DateTime<Utc>>,
    pub error: Option<&'a str>,
}

/// Settles a claimed row, but only while `worker` still holds the claim: a worker whose lease ran
/// out changes nothing. True when settled.
pub async fn settle(
    conn: &mut PgConnection,
    id: Uuid,
    worker: &str,
    s: Settlement<'_>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let settled = sqlx::query(
        "update notification_outbox
         set status = $3, claimed_by = null,
             sent_at = case when $3 = 'sent' then $4 else sent_at end,
             result = coalesce($5, result),
             next_attempt_at = coalesce($6, next_attempt_at),
             last_error = coalesce($7, last_error)
         where id = $1 and claimed_by = $2 and status = 'sending'",
    )
    .bind(id)
    .bind(worker)
    .bind(s.status)
    .bind(now)
    .bind(s.result)
    .bind(s.retry_at)
    .bind(s.error)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(settled == 1)
}

/// Cancels an alert's pages not yet handed to a channel, and its "fired again" and "escalated" notices
/// (acknowledged and resolved notices still go out).
pub async fn cancel_pending(
    conn: &mut PgConnection,
    alert_id: Uuid,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update notification_outbox set status = 'cancelled', last_error = $2
         where alert_id = $1 and status = 'pending'
           and (kind = 'alert'
                or (kind = 'update'
                    and payload -> 'notification' -> 'subject' ->> 'event' in ('reminder', 'escalated')))",
    )
    .bind(alert_id)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether any notification of tier `tier` of `round` of an alert's escalation was
/// delivered or may still be.
pub async fn tier_answerable(
    conn: &mut PgConnection,
    alert_id: Uuid,
    round: i32,
    tier: TierNumber,
) -> Result<bool, sqlx::Error> {
    let alive: i64 = sqlx::query_scalar(
        "select count(*) from notification_outbox
         where alert_id = $1 and kind = 'alert'
           and (payload->>'round')::int = $2 and (payload->>'tier')::int = $3
           and status in ('pending', 'sending', 'sent')",
    )
    .bind(alert_id)
    .bind(round)
    .bind(tier)
    .fetch_one(conn)
    .await?;
    Ok(alive > 0)
}

/// The earliest moment a row of the transaction's tenant becomes due.
pub async fn next_due(conn: &mut PgConnection) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar(
        "select min(next_attempt_at) from notification_outbox where status in ('pending', 'sending')",
    )
    .fetch_one(conn)
    .await
}

/// A conversation a channel delivered an alert's message to.
#[derive(Debug, sqlx::FromRow)]
pub struct Delivered {
    pub channel: Channel,
    pub target: String,
    /// `None` for a row stored without one (nothing to address a notice to).
    pub destination: Option<Value>,
    /// The first message's external id: what later notices edit and thread onto.
    pub external_id: String,
}

/// Every conversation a channel plugin delivered a message about `alert_id` to, with its first
/// message.
pub async fn delivered(conn: &mut PgConnection, alert_id: Uuid) -> Result<Vec<Delivered>, sqlx::Error> {
    sqlx::query_as(
        "select distinct on (channel, target) channel, target,
                payload -> 'notification' -> 'destination' as destination,
                result ->> 'external_id' as external_id
         from notification_outbox
         where alert_id = $1 and kind = 'alert' and status = 'sent' and channel <> 'log'
           and result ->> 'external_id' is not null
         order by channel, target, created_at, id",
    )
    .bind(alert_id)
    .fetch_all(conn)
    .await
}

/// The alert whose page was last delivered to `target` through one of `channels`.
pub async fn last_alert_to(
    conn: &mut PgConnection,
    target: &str,
    channels: &[String],
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "select alert_id from notification_outbox
         where target = $1 and channel = any($2) and kind = 'alert' and status = 'sent' and alert_id is not null
         order by sent_at desc nulls last, created_at desc limit 1",
    )
    .bind(target)
    .bind(channels)
    .fetch_optional(conn)
    .await
}

/// The first message a channel delivered about `alert_id` to `target`, for a later notice to thread
/// onto.
pub async fn first_message(
    conn: &mut PgConnection,
    alert_id: Uuid,
    channel: &Channel,
    target: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select result ->> 'external_id' from notification_outbox
         where alert_id = $1 and channel = $2 and target = $3 and kind = 'alert' and status = 'sent'
           and result ->> 'external_id' is not null
         order by created_at, id limit 1",
    )
    .bind(alert_id)
    .bind(channel.as_str())
    .bind(target)
    .fetch_optional(conn)
    .await
}
