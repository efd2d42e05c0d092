//! Firing due tiers, the escalation worker's pass: claim the due rows, and for each one resolve the
//! tier's targets, queue their notifications, record what happened and store the next deadline that
//! [`plan::after`] gives.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use chrono::{DateTime, Utc};
use nightowl_api::alerts::{Alert, AlertStatus};
use nightowl_api::escalation::{EscalationAction, EscalationPolicy, EscalationState, Tier, TierNumber};
use nightowl_api::notifications::NotificationKind;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::plan::{self, Position};
use super::targets::{self, Recipient};
use super::{NewEscalationEvent, record, repeat_count};
use crate::db;
use crate::db::escalations::Due;
use crate::notify::{self, outbox};
use crate::plugins::{AlertEvent, Destination, Notification, Subject};

/// What one pass of [`fire_due`] did, for metrics after the commit.
#[derive(Debug, Default)]
pub struct Fired {
    /// Tiers that fired.
    pub tiers: Vec<TierNumber>,
    /// Seconds between each tier's deadline and the moment it fired.
    pub lateness: Vec<f64>,
    /// Rows processed (fired, exhausted or found stale).
    pub processed: usize,
    /// Notifications queued.
    pub queued: usize,
}

/// Claims up to `limit` due escalations (concurrent workers take disjoint rows) and fires each one's
/// next tier, all inside the caller's transaction. Commit to publish.
pub async fn fire_due(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
    public_url: &str,
) -> Result<Fired, sqlx::Error> {
    let due = db::escalations::claim_due(conn, now, limit).await?;
    let mut fired = Fired::default();
    // A batch usually shares a handful of policies: read each once.
    let mut policies: HashMap<Uuid, Option<EscalationPolicy>> = HashMap::new();
    for d in due {
        fired.processed += 1;
        if let Entry::Vacant(slot) = policies.entry(d.policy_id) {
            slot.insert(db::policies::get(conn, d.policy_id).await?);
        }
        let policy = policies[&d.policy_id].as_ref();
        fire_one(conn, &d, policy, now, public_url, &mut fired).await?;
    }
    if fired.queued > 0 {
        super::wake(conn, outbox::CHANNEL).await?;
    }
    tracing::debug!(processed = fired.processed, queued = fired.queued, tiers = ?fired.tiers, "fired due escalations");
    Ok(fired)
}

/// Fires the tier `d` waits for, or ends an escalation with nothing left to fire.
async fn fire_one(
    conn: &mut PgConnection,
    d: &Due,
    policy: Option<&EscalationPolicy>,
    now: DateTime<Utc>,
    public_url: &str,
    fired: &mut Fired,
) -> Result<(), sqlx::Error> {
    // Acknowledge and resolve stop the row in their own transaction; this only catches an alert
    // closed by a path that did not (defence in depth).
    if d.status != AlertStatus::Firing {
        return db::escalations::set_state(conn, d.alert_id, EscalationState::Stopped, now).await;
    }
    let Some(policy) = policy else {
        return db::escalations::set_state(conn, d.alert_id, EscalationState::Exhausted, now).await;
    };
    let pos = Position::from_row(d.round, d.next_tier);
    let Some(tier) = policy.tiers.get(pos.tier) else {
        // Past the last tier (or the policy lost tiers): the deadline was the end of the policy.
        return exhaust(conn, d, now).await;
    };
    let recipients = targets::resolve_tier(conn, tier, d.roster_id, d.next_at).await?;
    if let Some(alert) = db::alerts::get(conn, d.alert_id).await? {
        fired.queued += queue_notifications(conn, d, pos, &alert, &recipients, public_url, now).await?;
        record_notified(conn, d, &recipients, now).await?;
        if pos != Position::START {
            // Conversations that already have a message about the alert hear that it escalated
            // (those this tier notifies anyway get that notice itself).
            let notified: Vec<_> = recipients
                .iter()
                .map(|r| (r.channel.clone(), r.person.id.to_string()))
                .collect();
            let change = crate::notify::updates::Change {
                event: AlertEvent::Escalated,
                tier: pos.tier_number().get(),
                occurrence: i64::from(pos.round) * 1000 + pos.tier as i64,
            };
            fired.queued += crate::notify::updates::queue(conn, d.alert_id, change, &notified, now).await?;
        }
    }
    if recipients.is_empty() {
        record_no_recipients(conn, d, tier, now).await?;
    }
    fired.tiers.push(pos.tier_number());
    fired
        .lateness
        .push((now - d.next_at).num_milliseconds() as f64 / 1000.0);
    schedule_next(conn, d, policy, pos, !recipients.is_empty(), now).await
}

/// The event fields every step of `d`'s tier shares.
fn base_event(d: &Due, action: EscalationAction) -> NewEscalationEvent<'static> {
    NewEscalationEvent {
        policy_id: Some(d.policy_id),
        tier: Some(Position::from_row(d.round, d.next_tier).tier_number()),
        round: Some(d.round),
        ..NewEscalationEvent::new(d.alert_id, action)
    }
}

/// Ends an escalation whose final timeout ran out.
async fn exhaust(conn: &mut PgConnection, d: &Due, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    db::escalations::set_state(conn, d.alert_id, EscalationState::Exhausted, now).await?;
    let event = NewEscalationEvent {
        tier: None,
        detail: json!({ "scheduled_at": d.next_at }),
        ..base_event(d, EscalationAction::Exhausted)
    };
    record(conn, event, now).await
}

/// Queues one notification per recipient of the tier at `pos`; returns how many were new.
async fn queue_notifications(
    conn: &mut PgConnection,
    d: &Due,
    pos: Position,
    alert: &Alert,
    recipients: &[Recipient],
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<usize, sqlx::Error> {
    let event = match (pos.round, pos.tier) {
        (0, 0) => AlertEvent::Triggered,
        (0, _) => AlertEvent::Escalated,
        _ => AlertEvent::Reminder,
    };
    let mut queued = 0;
    for r in recipients {
        let notification = Notification {
            subject: Subject::Alert {
                event,
                alert: notify::alert_ref(alert, public_url),
                tier: pos.tier_number().get(),
            },
            destination: Destination::Person(notify::responder(&r.person)),
            previous_external_id: None,
            attempt: 1,
        };
        let notice = outbox::NewNotice {
            key: format!(
                "alert:{}:{}:{}:{}:{}",
                d.alert_id, pos.round, pos.tier, r.person.id, r.channel
            ),
            alert_id: Some(d.alert_id),
            kind: NotificationKind::Alert,
            channel: &r.channel,
            target: r.person.id.to_string(),
            notification,
            meta: json!({ "tier": pos.tier_number(), "round": pos.round, "target": r.target }),
        };
        queued += usize::from(outbox::queue(conn, notice, now).await?);
    }
    Ok(queued)
}

/// One `notified` event per recipient.
async fn record_notified(
    conn: &mut PgConnection,
    d: &Due,
    recipients: &[Recipient],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    for r in recipients {
        let event = NewEscalationEvent {
            target: Some(r.target),
            channel: Some(&r.channel),
            detail: json!({
                "user_id": r.person.id,
                "display_name": r.person.display_name,
                "scheduled_at": d.next_at,
            }),
            ..base_event(d, EscalationAction::Notified)
        };
        record(conn, event, now).await?;
    }
    Ok(())
}

/// The tier's targets named nobody (an empty roster, no team lead, inactive users).
async fn record_no_recipients(
    conn: &mut PgConnection,
    d: &Due,
    tier: &Tier,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let event = NewEscalationEvent {
        detail: json!({ "scheduled_at": d.next_at, "targets": tier.targets }),
        ..base_event(d, EscalationAction::NoRecipients)
    };
    record(conn, event, now).await
}

/// Stores the step after the tier at `pos` and its deadline, counted from the tier's own deadline
/// (not from `now`), so a late worker does not push the schedule back.
async fn schedule_next(
    conn: &mut PgConnection,
    d: &Due,
    policy: &EscalationPolicy,
    pos: Position,
    reached: bool,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let next = plan::after(&policy.tiers, repeat_count(policy), pos, d.next_at, reached);
    let (next, at) = next.stored(&policy.tiers, pos);
    let (round, tier) = next.to_row();
    db::escalations::advance(conn, d.alert_id, tier, round, at, now).await
}
