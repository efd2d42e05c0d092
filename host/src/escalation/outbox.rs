//! The notification outbox: every notification is a row, delivered by a channel.
//!
//! Lifecycle: `pending` → claimed (`sending`, with a lease) → `sent` | back to `pending` for the one
//! retry | `failed`. A row whose alert was acknowledged or resolved before delivery is `cancelled`.
//! A worker that dies while sending leaves the row `sending`; when the lease runs out another worker
//! takes it over (the channel then gets the same notification again with a higher `attempt`: delivery
//! is at least once, which is why channels receive the attempt number).
//!
//! When the last undelivered notification of an escalation tier fails for good, the tier counts as
//! unanswered at once: the alert's next tier becomes due now instead of at its deadline.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::targets::Person;
use super::{Event, record};
use crate::db;
use crate::plugins::{AlertRef, Delivery, Notification, Responder};
use crate::state::AppState;
use crate::tenancy::Slug;

/// Delivery attempts per notification: the first and one retry.
pub const MAX_ATTEMPTS: i32 = 2;
/// Wait before the retry.
pub const RETRY_AFTER: Duration = Duration::seconds(30);
/// How long a claimed row stays with its worker before another may take it over.
pub const LEASE: Duration = Duration::seconds(120);

/// The plugin serving a channel name of a policy.
pub fn plugin_for(channel: &str) -> &str {
    match channel {
        "slack_dm" | "slack_channel" => "slack",
        "phone" | "sms" => "twilio",
        other => other,
    }
}

/// How channels see an alert.
pub fn alert_ref(a: &nightowl_api::alerts::Alert, public_url: &str) -> AlertRef {
    AlertRef {
        id: a.id.to_string(),
        title: a.title.clone(),
        status: a.status.clone(),
        severity: a.severity.clone(),
        priority: a.priority.clone(),
        service: a.service.clone(),
        description: a.description.clone(),
        suggested_solution: a.suggested_solution.clone(),
        occurrence_count: u32::try_from(a.occurrence_count).unwrap_or(0),
        url: alert_url(public_url, a.id),
    }
}

/// Link to an alert in the NightOwl UI.
pub fn alert_url(public_url: &str, id: Uuid) -> String {
    format!("{}/alerts/{id}", public_url.trim_end_matches('/'))
}

/// How channels see a person.
pub fn responder(p: &Person) -> Responder {
    Responder {
        user_id: p.id.to_string(),
        name: p.display_name.clone(),
        phone: p.phone.clone(),
        timezone: p.timezone.clone(),
        identities: p
            .slack_user_id
            .iter()
            .map(|id| ("slack".to_owned(), id.clone()))
            .chain(std::iter::once(("email".to_owned(), p.email.clone())))
            .collect(),
    }
}

/// A row to queue.
#[derive(Debug)]
pub struct NewNotice<'a> {
    /// Unique per logical notification: racing workers create it once.
    pub key: String,
    pub alert_id: Option<Uuid>,
    /// alert, handoff_outgoing, handoff_incoming, oncall_changed.
    pub kind: &'a str,
    pub channel: &'a str,
    /// User id or group id.
    pub target: String,
    pub notification: Notification,
    /// Extra facts kept with the row (tier, round, roster, ...).
    pub meta: Value,
}

/// Queues a notification unless one with the same key exists; true when queued.
pub async fn queue(
    conn: &mut PgConnection,
    n: NewNotice<'_>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let mut payload = n.meta;
    payload["notification"] = serde_json::to_value(&n.notification).expect("notification serializes");
    let inserted = sqlx::query(
        "insert into notification_outbox (idempotency_key, alert_id, kind, channel, target, payload, status,
             attempts, next_attempt_at, created_at)
         values ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7)
         on conflict (idempotency_key) do nothing",
    )
    .bind(&n.key)
    .bind(n.alert_id)
    .bind(n.kind)
    .bind(n.channel)
    .bind(&n.target)
    .bind(&payload)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// A claimed row.
#[derive(Debug, sqlx::FromRow)]
pub struct Claimed {
    id: Uuid,
    alert_id: Option<Uuid>,
    kind: String,
    channel: String,
    target: String,
    payload: Value,
    attempts: i32,
}

/// Hands a claimed notification to its channel and settles the row with the outcome.
pub async fn deliver_claimed(
    state: &AppState,
    slug: &Slug,
    worker: &str,
    row: &Claimed,
) -> Result<(), sqlx::Error> {
    let outcome = deliver(state, slug, row).await;
    finish(state, slug, worker, row, outcome).await
}

/// Claims up to `limit` due notifications of one tenant for `worker`, leased for [`LEASE`].
pub async fn claim(
    pool: &PgPool,
    slug: &Slug,
    worker: &str,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Claimed>, sqlx::Error> {
    let mut tx = db::begin_tenant(pool, slug, "system:outbox").await?;
    let rows: Vec<Claimed> = sqlx::query_as(
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
    .bind(now + LEASE)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows)
}

/// Hands one notification to its channel.
async fn deliver(state: &AppState, slug: &Slug, row: &Claimed) -> Result<Delivery, String> {
    let mut notification: Notification = serde_json::from_value(row.payload["notification"].clone())
        .map_err(|e| format!("unreadable notification payload: {e}"))?;
    notification.attempt = u32::try_from(row.attempts).unwrap_or(1);
    if row.channel == "log" {
        // The built-in channel: one structured log line per notification.
        tracing::info!(
            tenant = %slug,
            channel = "log",
            kind = %row.kind,
            target = %row.target,
            alert_id = %row.alert_id.map(|a| a.to_string()).unwrap_or_default(),
            attempt = notification.attempt,
            notification = %serde_json::to_string(&notification.subject).unwrap_or_default(),
            "notification"
        );
        return Ok(Delivery {
            external_id: Some(format!("log:{}", row.id)),
            details: vec![],
        });
    }
    let plugin_id = plugin_for(&row.channel);
    let plugin = state
        .plugins
        .get(plugin_id)
        .ok_or_else(|| format!("no channel plugin {plugin_id:?} is installed"))?;
    let pre = plugin
        .channel()
        .ok_or_else(|| format!("plugin {plugin_id:?} is not a channel plugin"))?;
    let mut config = std::collections::HashMap::new();
    config.insert("channel".to_owned(), row.channel.clone());
    state
        .plugins
        .runtime()
        .notify(&plugin.manifest, pre, slug.as_str(), config, &notification)
        .await
        .map_err(|e| e.to_string())
}

async fn finish(
    state: &AppState,
    slug: &Slug,
    worker: &str,
    row: &Claimed,
    outcome: Result<Delivery, String>,
) -> Result<(), sqlx::Error> {
    let now = state.clock.now();
    let mut tx = db::begin_tenant(&state.db, slug, "system:outbox").await?;
    let (status, retry_at, error) = match &outcome {
        Ok(_) => ("sent", None, None),
        Err(e) if row.attempts < MAX_ATTEMPTS => ("pending", Some(now + RETRY_AFTER), Some(e.as_str())),
        Err(e) => ("failed", None, Some(e.as_str())),
    };
    let result = outcome
        .as_ref()
        .ok()
        .map(|d| json!({ "external_id": d.external_id, "details": d.details }));
    // Only the claim's holder settles the row: a worker whose lease ran out changes nothing.
    let settled = sqlx::query(
        "update notification_outbox
         set status = $3, claimed_by = null,
             sent_at = case when $3 = 'sent' then $4 else sent_at end,
             result = coalesce($5, result),
             next_attempt_at = coalesce($6, next_attempt_at),
             last_error = coalesce($7, last_error)
         where id = $1 and claimed_by = $2 and status = 'sending'",
    )
    .bind(row.id)
    .bind(worker)
    .bind(status)
    .bind(now)
    .bind(&result)
    .bind(retry_at)
    .bind(error)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !settled {
        return tx.commit().await;
    }
    let label = if status == "pending" { "retried" } else { status };
    state
        .metrics
        .notifications
        .with_label_values(&[row.channel.as_str(), label])
        .inc();
    match status {
        "pending" => {
            tracing::warn!(tenant = %slug, channel = %row.channel, attempt = row.attempts, error = error.unwrap_or_default(), "notification failed; retrying");
        }
        "failed" => {
            tracing::error!(tenant = %slug, channel = %row.channel, target = %row.target, attempts = row.attempts, error = error.unwrap_or_default(), "notification failed for good");
        }
        _ => {}
    }
    let tier = row.payload.get("tier").and_then(Value::as_i64).map(|t| t as i32);
    let round = row.payload.get("round").and_then(Value::as_i64).map(|r| r as i32);
    let (Some(alert_id), Some(tier), Some(round), "alert", false) =
        (row.alert_id, tier, round, row.kind.as_str(), status == "pending")
    else {
        return tx.commit().await;
    };
    let policy_id: Option<Uuid> =
        sqlx::query_scalar("select policy_id from alert_escalations where alert_id = $1")
            .bind(alert_id)
            .fetch_optional(&mut *tx)
            .await?;
    let (action, detail) = match (result, error) {
        (Some(result), _) => ("delivered", result),
        (None, error) => ("delivery_failed", json!({ "error": error })),
    };
    let event = Event {
        alert_id,
        policy_id,
        tier: Some(tier),
        round: Some(round),
        action,
        target: Some(&row.target),
        channel: Some(&row.channel),
        detail,
    };
    record(&mut tx, event, now).await?;
    if status == "failed" {
        escalate_if_unanswered(&mut tx, alert_id, tier, round, now).await?;
    }
    tx.commit().await
}

/// After a tier's notification failed for good: when none of the tier's notifications was delivered
/// or is still in flight, and the alert still waits on that tier, its next tier is due now.
async fn escalate_if_unanswered(
    conn: &mut PgConnection,
    alert_id: Uuid,
    tier: i32,
    round: i32,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    // Notifications of one tier settle concurrently (several workers, several deliveries per worker):
    // the alert's row serialises them, so the last one to fail sees every other one settled.
    sqlx::query("select 1 from alert_escalations where alert_id = $1 for update")
        .bind(alert_id)
        .execute(&mut *conn)
        .await?;
    let alive: i64 = sqlx::query_scalar(
        "select count(*) from notification_outbox
         where alert_id = $1 and kind = 'alert'
           and (payload->>'round')::int = $2 and (payload->>'tier')::int = $3
           and status in ('pending', 'sending', 'sent')",
    )
    .bind(alert_id)
    .bind(round)
    .bind(tier)
    .fetch_one(&mut *conn)
    .await?;
    if alive > 0 {
        return Ok(());
    }
    // The tier that fired is `tier` (1-based) of `round`; the row must not have moved past the tier
    // after it (e.g. by a manual escalation) for this to apply.
    let moved: Option<(Uuid, i32, i32)> = sqlx::query_as(
        "update alert_escalations set next_at = $2, updated_at = $2
         where alert_id = $1 and state = 'active' and next_at > $2
           and ((round = $3 and next_tier = $4)
                or (round = $3 + 1 and next_tier = 0
                    and $4 = (select jsonb_array_length(p.tiers) from escalation_policies p
                              where p.id = alert_escalations.policy_id)))
         returning policy_id, next_tier, round",
    )
    .bind(alert_id)
    .bind(now)
    .bind(round)
    .bind(tier)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((policy, next_tier, next_round)) = moved {
        record(
            conn,
            Event {
                alert_id,
                policy_id: Some(policy),
                tier: Some(next_tier + 1),
                round: Some(next_round),
                action: "escalated",
                detail: json!({ "reason": "every notification of the previous tier failed" }),
                ..Event::default()
            },
            now,
        )
        .await?;
        super::wake(conn, crate::events::CHANNEL).await?;
    }
    Ok(())
}

/// The earliest moment a notification of the transaction's tenant becomes due.
pub async fn next_due(conn: &mut PgConnection) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar(
        "select min(next_attempt_at) from notification_outbox where status in ('pending', 'sending')",
    )
    .fetch_one(conn)
    .await
}
