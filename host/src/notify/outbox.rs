//! The notification outbox: every notification is a row, queued in the transaction that decided it
//! and settled by the worker that delivered it.
//!
//! Lifecycle: `pending` → claimed (`sending`, with a lease) → `sent` | back to `pending` for the one
//! retry | `failed`. A row whose alert was acknowledged or resolved before delivery is `cancelled`.
//! A worker that dies while sending leaves the row `sending`; when the lease runs out another worker
//! takes it over (the channel then gets the same notification again with a higher `attempt`: delivery
//! is at least once, which is why channels receive the attempt number).
//!
//! The final outcome of an escalation notification goes to its alert's escalation timeline
//! ([`crate::escalation::notification_settled`]), which also decides whether a tier whose
//! notifications all failed makes the next tier due at once. Pages folded into a delivery by the
//! paging-storm rule (`folded`, see [`super::fold`]) share its outcome.

use chrono::{DateTime, Duration, Utc};
use nightowl_api::escalation::{Channel, Target, TierNumber};
use nightowl_api::notifications::{NotificationKind, NotificationStatus};
use serde_json::{Value, json};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db;
use crate::db::outbox::{Claimed, NewRow, Settlement};
use crate::escalation::{self, Settled};
use crate::plugins::{Delivery, Notification};
use crate::state::AppState;
use crate::tenancy::Slug;

/// `LISTEN` channel pinged (on commit) by transactions that queue notifications.
pub const CHANNEL: &str = "nightowl_outbox";
/// Delivery attempts per notification: the first and one retry.
pub const MAX_ATTEMPTS: i32 = 2;
/// Wait before the retry.
pub const RETRY_AFTER: Duration = Duration::seconds(30);
/// How long a claimed row stays with its worker before another may take it over.
pub const LEASE: Duration = Duration::seconds(120);

/// Why a delivery did not get through, and whether trying again may help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    pub retry: Retry,
}

/// Whether a failed delivery is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Bad settings, a channel that does not exist, revoked credentials: a retry cannot mend it, the
    /// notification fails at once.
    Never,
    /// The remote side or the network failed: retried once, not before the channel's
    /// `Retry-After` (capped at [`MAX_RETRY_AFTER`]) nor before [`RETRY_AFTER`].
    Later(Option<std::time::Duration>),
}

/// The longest a channel's `Retry-After` delays a retry: a page must not wait longer than a tier.
pub const MAX_RETRY_AFTER: Duration = Duration::minutes(5);

impl Failure {
    /// A failure that a retry may mend.
    pub fn transient(message: impl Into<String>, retry_after: Option<std::time::Duration>) -> Failure {
        Failure {
            message: message.into(),
            retry: Retry::Later(retry_after),
        }
    }

    /// A failure that a retry cannot mend.
    pub fn permanent(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            retry: Retry::Never,
        }
    }

    /// When to try again, if at all.
    fn retry_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let Retry::Later(asked) = self.retry else {
            return None;
        };
        let wait = asked
            .and_then(|d| Duration::from_std(d).ok())
            .unwrap_or(RETRY_AFTER)
            .clamp(RETRY_AFTER, MAX_RETRY_AFTER);
        Some(now + wait)
    }
}

/// A notification to queue.
#[derive(Debug)]
pub struct NewNotice<'a> {
    /// Unique per logical notification: racing workers create it once.
    pub key: String,
    pub alert_id: Option<Uuid>,
    pub kind: NotificationKind,
    pub channel: &'a Channel,
    /// User id or group id.
    pub target: String,
    pub notification: Notification,
    /// Extra facts kept with the row (tier, round, roster, ...).
    pub meta: Value,
}

/// Queues a notification unless one with the same key exists; true when queued. The caller wakes
/// the delivery workers ([`CHANNEL`]) once it has queued what it meant to.
pub async fn queue(
    conn: &mut PgConnection,
    n: NewNotice<'_>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let mut payload = n.meta;
    payload["notification"] = serde_json::to_value(&n.notification).expect("notification serializes");
    let row = NewRow {
        key: &n.key,
        alert_id: n.alert_id,
        kind: n.kind,
        channel: n.channel,
        target: &n.target,
        payload: &payload,
    };
    db::outbox::insert(conn, row, now).await
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
    let rows = db::outbox::claim(&mut tx, worker, now, now + LEASE, limit).await?;
    tx.commit().await?;
    Ok(rows)
}

/// Settles a claimed row with the outcome of its delivery: sent, pending again for the retry (a
/// transient failure of the first attempt), or failed for good; an escalation notification's final
/// outcome also goes to its alert's escalation.
pub async fn settle(
    state: &AppState,
    slug: &Slug,
    worker: &str,
    row: &Claimed,
    outcome: Result<Delivery, Failure>,
) -> Result<(), sqlx::Error> {
    let now = state.clock.now();
    let mut tx = db::begin_tenant(&state.db, slug, "system:outbox").await?;
    let (status, retry_at, error) = match &outcome {
        Ok(_) => (NotificationStatus::Sent, None, None),
        Err(f) if row.attempts < MAX_ATTEMPTS && f.retry_at(now).is_some() => (
            NotificationStatus::Pending,
            f.retry_at(now),
            Some(f.message.as_str()),
        ),
        Err(f) => (NotificationStatus::Failed, None, Some(f.message.as_str())),
    };
    let result = outcome
        .as_ref()
        .ok()
        .map(|d| json!({ "external_id": d.external_id, "details": d.details }));
    let settlement = Settlement {
        status,
        result: result.as_ref(),
        retry_at,
        error,
    };
    if !db::outbox::settle(&mut tx, row.id, worker, settlement, now).await? {
        // The lease ran out and another worker has the row now.
        return tx.commit().await;
    }
    report(state, slug, row, status, error);
    if let (NotificationStatus::Sent, NotificationKind::Alert, Some(alert_id)) =
        (status, row.kind, row.alert_id)
    {
        catch_up(&mut tx, alert_id, now).await?;
    }
    let rows = match status {
        NotificationStatus::Pending => vec![row.clone()],
        NotificationStatus::Failed => with_folded(&mut tx, row, error).await?,
        _ => with_folded(&mut tx, row, None).await?,
    };
    for r in &rows {
        if let Some(settled) = escalation_outcome(r, status, result.clone(), error) {
            escalation::notification_settled(&mut tx, settled, now).await?;
        }
    }
    tx.commit().await
}

/// A delivery's outcome is the outcome of the pages folded into it: the delivery and those pages,
/// in the order of their alerts (so two settles covering each other's alerts lock their escalations
/// in the same order), the folded pages failed too when `failed_with` says why.
pub(crate) async fn with_folded(
    conn: &mut PgConnection,
    carrier: &Claimed,
    failed_with: Option<&str>,
) -> Result<Vec<Claimed>, sqlx::Error> {
    let mut rows = db::outbox::folded_into(conn, carrier.id).await?;
    if let Some(error) = failed_with
        && !rows.is_empty()
    {
        db::outbox::fail_folded(conn, carrier.id, error).await?;
    }
    rows.push(carrier.clone());
    rows.sort_by_key(|r| r.alert_id);
    Ok(rows)
}

/// A page delivered after its alert was acknowledged or resolved (it was on its way when that
/// happened, so the status notices did not know of it) gets that notice now. Conversations that
/// already have it are not sent it again (same idempotency key).
async fn catch_up(conn: &mut PgConnection, alert_id: Uuid, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let event = match db::alerts::get(conn, alert_id).await?.map(|a| a.status) {
        Some(nightowl_api::alerts::AlertStatus::Acknowledged) => crate::plugins::AlertEvent::Acknowledged,
        Some(nightowl_api::alerts::AlertStatus::Resolved) => crate::plugins::AlertEvent::Resolved,
        _ => return Ok(()),
    };
    let change = super::updates::Change {
        event,
        tier: 1,
        occurrence: 0,
    };
    super::updates::queue(conn, alert_id, change, &[], now).await?;
    Ok(())
}

/// Counts the outcome and logs the failures.
fn report(state: &AppState, slug: &Slug, row: &Claimed, status: NotificationStatus, error: Option<&str>) {
    let label = match status {
        NotificationStatus::Pending => "retried",
        other => other.as_str(),
    };
    state
        .metrics
        .notifications
        .with_label_values(&[row.channel.as_str(), label])
        .inc();
    match status {
        NotificationStatus::Pending => {
            tracing::warn!(tenant = %slug, channel = %row.channel, attempt = row.attempts, error = error.unwrap_or_default(), "notification failed; retrying");
        }
        NotificationStatus::Failed => {
            tracing::error!(tenant = %slug, channel = %row.channel, target = %row.target, attempts = row.attempts, error = error.unwrap_or_default(), "notification failed for good");
        }
        _ => {}
    }
}

/// The final outcome of an escalation notification (none for other kinds, or before the retry).
pub(crate) fn escalation_outcome<'a>(
    row: &'a Claimed,
    status: NotificationStatus,
    result: Option<Value>,
    error: Option<&'a str>,
) -> Option<Settled<'a>> {
    let field = |key: &str| row.payload.get(key).cloned();
    let tier = field("tier").and_then(|v| serde_json::from_value::<TierNumber>(v).ok());
    let round = field("round")
        .and_then(|v| v.as_i64())
        .and_then(|n| i32::try_from(n).ok());
    let target = field("target").and_then(|v| serde_json::from_value::<Target>(v).ok());
    let (Some(alert_id), Some(tier), Some(round), Some(target), NotificationKind::Alert, false) = (
        row.alert_id,
        tier,
        round,
        target,
        row.kind,
        status == NotificationStatus::Pending,
    ) else {
        return None;
    };
    Some(Settled {
        alert_id,
        tier,
        round,
        target,
        channel: &row.channel,
        outcome: result.ok_or(error.unwrap_or_default()),
    })
}
