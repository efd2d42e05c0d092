//! Queries on `notification_outbox`: one row per notification, from queued to settled (the
//! lifecycle is described in `notify::outbox`).

use chrono::{DateTime, Utc};
use nightowl_api::alerts::Severity;
use nightowl_api::escalation::{Channel, TierNumber};
use nightowl_api::notifications::{NotificationKind, NotificationStatus, NotificationView};
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
#[derive(Debug, Clone, sqlx::FromRow)]
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

/// Cancels an alert's pages not yet handed to a channel (folded ones too: the alert needs no page), and
/// its "fired again" and "escalated" notices (acknowledged and resolved notices still go out).
pub async fn cancel_pending(
    conn: &mut PgConnection,
    alert_id: Uuid,
    reason: &str,
) -> Result<(), sqlx::Error> {
    // Pages of other alerts that were folded into a page of this one that had not gone out yet go
    // out on their own again (due at once: they were due when they were folded), if their alerts
    // still need them. First, while the carrier is still pending.
    sqlx::query(
        "update notification_outbox f set status = 'pending', folded_into = null, attempts = 0,
                next_attempt_at = f.created_at
         from notification_outbox c, alerts a
         where f.folded_into = c.id and f.status = 'folded' and f.alert_id is distinct from $1
           and c.alert_id = $1 and c.kind = 'alert' and c.status = 'pending'
           and a.id = f.alert_id and a.status = 'firing'",
    )
    .bind(alert_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "update notification_outbox set status = 'cancelled', last_error = $2
         where alert_id = $1 and status in ('pending', 'folded')
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
           and status in ('pending', 'sending', 'sent', 'folded')",
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

/// The alert whose page was last delivered to `target` through one of `channels` (a call that rang
/// out counts: the person saw the missed call).
pub async fn last_alert_to(
    conn: &mut PgConnection,
    target: &str,
    channels: &[String],
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "select alert_id from notification_outbox
         where target = $1 and channel = any($2) and kind = 'alert' and alert_id is not null
           and (status = 'sent' or (status = 'failed' and result ->> 'outcome' = 'not_answered'))
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

/// Serialises the paging-storm decisions about one person and channel of a tenant (until the
/// transaction ends).
pub async fn lock_person_channel(
    conn: &mut PgConnection,
    tenant: &str,
    channel: &str,
    target: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("select pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("nightowl-page:{tenant}:{channel}:{target}"))
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether `worker` still holds the claim of a row (it was not folded into another page or taken
/// over), locking it.
pub async fn still_claimed(conn: &mut PgConnection, id: Uuid, worker: &str) -> Result<bool, sqlx::Error> {
    let held: Option<bool> = sqlx::query_scalar(
        "select status = 'sending' and claimed_by is not distinct from $2
         from notification_outbox where id = $1 for update",
    )
    .bind(id)
    .bind(worker)
    .fetch_optional(conn)
    .await?;
    Ok(held == Some(true))
}

/// When a page other than `except` was last handed to `target` through `channel`.
pub async fn last_handed(
    conn: &mut PgConnection,
    channel: &str,
    target: &str,
    except: Uuid,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar(
        "select max(handed_at) from notification_outbox
         where kind = 'alert' and channel = $1 and target = $2 and id <> $3",
    )
    .bind(channel)
    .bind(target)
    .bind(except)
    .fetch_one(conn)
    .await
}

/// Puts a claimed row back to `pending` until `until`, without counting the attempt.
pub async fn defer(conn: &mut PgConnection, id: Uuid, until: DateTime<Utc>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update notification_outbox
         set status = 'pending', claimed_by = null, attempts = greatest(attempts - 1, 0), next_attempt_at = $2
         where id = $1",
    )
    .bind(id)
    .bind(until)
    .execute(conn)
    .await?;
    Ok(())
}

/// Folds every page to `target` through `channel` not handed over yet into `carrier`; how many.
pub async fn fold_into(
    conn: &mut PgConnection,
    carrier: Uuid,
    channel: &str,
    target: &str,
) -> Result<u64, sqlx::Error> {
    // Rows another transaction holds (an acknowledgement cancelling them) are left to it.
    Ok(sqlx::query(
        "update notification_outbox
         set status = 'folded', folded_into = $1, claimed_by = null, attempts = 0, last_error = null
         where id in (
             select id from notification_outbox
             where kind = 'alert' and channel = $2 and target = $3 and id <> $1
               and handed_at is null and status in ('pending', 'sending')
             for update skip locked)",
    )
    .bind(carrier)
    .bind(channel)
    .bind(target)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Records that a row is being handed to its channel (its first attempt; a retry keeps the time).
pub async fn mark_handed(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    sqlx::query("update notification_outbox set handed_at = coalesce(handed_at, $2) where id = $1")
        .bind(id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// The open alerts other than `own` of the pages folded into `carrier`: number and severity, by number.
pub async fn covered_open_alerts(
    conn: &mut PgConnection,
    carrier: Uuid,
    own: Uuid,
) -> Result<Vec<(i64, Severity)>, sqlx::Error> {
    sqlx::query_as(
        "select a.number, a.severity from alerts a
         where a.id <> $2 and a.status = 'firing'
           and a.id in (select alert_id from notification_outbox where folded_into = $1)
         order by a.number",
    )
    .bind(carrier)
    .bind(own)
    .fetch_all(conn)
    .await
}

/// The rows folded into `carrier`, as their escalations need them.
pub async fn folded_into(conn: &mut PgConnection, carrier: Uuid) -> Result<Vec<Claimed>, sqlx::Error> {
    sqlx::query_as(
        "select id, alert_id, kind, channel, target, payload, attempts from notification_outbox
         where folded_into = $1 and status = 'folded'
         order by alert_id",
    )
    .bind(carrier)
    .fetch_all(conn)
    .await
}

/// Fails the rows folded into a delivery that failed for good.
pub async fn fail_folded(conn: &mut PgConnection, carrier: Uuid, error: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update notification_outbox set status = 'failed', last_error = $2
         where folded_into = $1 and status = 'folded'",
    )
    .bind(carrier)
    .bind(format!(
        "went out folded into notification {carrier}, which failed: {error}"
    ))
    .execute(conn)
    .await?;
    Ok(())
}

/// The alerts other than `alert_id` that were folded into the last page about `alert_id` that one
/// of `channels` delivered to `target` (and was not reported unanswered).
pub async fn covered_by_last_page(
    conn: &mut PgConnection,
    alert_id: Uuid,
    target: &str,
    channels: &[String],
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "select distinct f.alert_id from notification_outbox f
         where f.folded_into = (
                 select id from notification_outbox
                 where alert_id = $1 and target = $2 and channel = any($3) and kind = 'alert'
                   and status = 'sent' and handed_at is not null
                 order by handed_at desc, id limit 1)
           and f.alert_id is not null and f.alert_id <> $1
         order by f.alert_id",
    )
    .bind(alert_id)
    .bind(target)
    .bind(channels)
    .fetch_all(conn)
    .await
}

/// Every notification about an alert, and the deliveries its folded pages went out with, oldest
/// first.
pub async fn list_for_alert(
    conn: &mut PgConnection,
    alert_id: Uuid,
) -> Result<Vec<NotificationView>, sqlx::Error> {
    sqlx::query_as(
        "select o.id, o.kind, o.channel, o.target, o.status, (o.payload ->> 'tier')::int as tier,
                o.attempts, o.created_at, o.handed_at, o.sent_at, o.result ->> 'external_id' as external_id,
                o.last_error, o.folded_into,
                array(select distinct a.number from notification_outbox f join alerts a on a.id = f.alert_id
                      where f.folded_into = o.id and f.alert_id is distinct from o.alert_id
                      order by a.number) as covers
         from notification_outbox o
         where o.id in (select id from notification_outbox where alert_id = $1
                        union
                        select folded_into from notification_outbox where alert_id = $1 and folded_into is not null)
         order by o.created_at, o.id",
    )
    .bind(alert_id)
    .fetch_all(conn)
    .await
}

/// The page one of `channels` delivered with this external id (a call SID), locked.
pub async fn by_external_id(
    conn: &mut PgConnection,
    external_id: &str,
    channels: &[String],
) -> Result<Option<Claimed>, sqlx::Error> {
    sqlx::query_as(
        "select id, alert_id, kind, channel, target, payload, attempts from notification_outbox
         where result ->> 'external_id' = $1 and channel = any($2) and kind = 'alert' and status in ('sent', 'failed')
         order by created_at desc limit 1
         for update",
    )
    .bind(external_id)
    .bind(channels)
    .fetch_optional(conn)
    .await
}

/// Records how a delivered page ended (`answered`, `not_answered`) unless an outcome is recorded
/// already; with an error, the row becomes `failed`. True when recorded.
pub async fn note_outcome(
    conn: &mut PgConnection,
    id: Uuid,
    outcome: &str,
    error: Option<&str>,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "update notification_outbox
         set result = jsonb_set(coalesce(result, '{}'), '{outcome}', to_jsonb($2::text)),
             status = case when $3::text is null then status else 'failed' end,
             last_error = coalesce($3, last_error)
         where id = $1 and status = 'sent' and not coalesce(result ? 'outcome', false)",
    )
    .bind(id)
    .bind(outcome)
    .bind(error)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}
