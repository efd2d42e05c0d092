//! Escalation: who gets paged for an alert and when. How the message then travels is `notify`'s.
//!
//! Routing: an alert's `service` names a row of `services`; the service's roster (else the tenant's
//! `default_roster_id`) is the alert's roster, and that roster's escalation policy pages for it. Only
//! critical and major alerts escalate. The on-call targets of the policy resolve against the alert's
//! roster at the instant each tier fires ([`targets`]).
//!
//! State lives in `alert_escalations` (one row per alert: next tier, round, deadline; queries in
//! `db::escalations`). Everything that changes it happens in the same transaction as what caused it:
//! the alert's creation starts it, acknowledge and resolve stop it (and cancel undelivered
//! notifications), a worker firing a tier queues the tier's notifications in the outbox and moves the
//! deadline ([`fire`]), and the last failed notification of a tier makes the next tier due at once
//! ([`notification_settled`]). When each step is due is decided only by [`plan`]; the dry run walks
//! the same rules with the same target resolution the worker uses.

pub mod fire;
pub mod plan;
pub mod targets;

use chrono::{DateTime, Utc};
use nightowl_api::alerts::Severity;
use nightowl_api::escalation::{
    Channel, DryRun, EscalationAction, EscalationPolicy, EscalationState, EscalationStep, Recipient, Target,
    TierNumber,
};
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

pub use self::fire::{Fired, fire_due};
use self::plan::{Next, Position};
pub use crate::db::escalations::NewEscalationEvent;
use crate::{db, events};

/// Wakes the workers listening on `channel` when the caller's transaction commits.
pub async fn wake(conn: &mut PgConnection, channel: &str) -> Result<(), sqlx::Error> {
    db::events::notify(conn, channel, "").await
}

/// Severities that page someone.
pub fn escalates(severity: Severity) -> bool {
    severity >= Severity::Major
}

/// Records an escalation step.
pub async fn record(
    conn: &mut PgConnection,
    e: NewEscalationEvent<'_>,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    db::escalations::insert_event(conn, e, at).await
}

/// The roster answering for an alert of `service`: the service's, else the tenant default.
pub async fn route(conn: &mut PgConnection, service: Option<&str>) -> Result<Option<Uuid>, sqlx::Error> {
    if let Some(service) = service
        && let Some(roster) = db::services::roster_of(conn, service).await?
    {
        return Ok(Some(roster));
    }
    db::config::default_roster(conn).await
}

/// Starts escalating a newly created alert when its severity pages and it routes to a roster with a
/// policy; tier 1 is due at once. Returns the policy.
pub async fn start(
    conn: &mut PgConnection,
    alert_id: Uuid,
    severity: Severity,
    service: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, sqlx::Error> {
    if !escalates(severity) {
        return Ok(None);
    }
    let Some(roster) = route(conn, service).await? else {
        return Ok(None);
    };
    let Some(policy) = db::rosters::policy_of(conn, roster).await? else {
        return Ok(None);
    };
    db::escalations::insert(conn, alert_id, policy, roster, now).await?;
    db::alerts::set_escalation_policy(conn, alert_id, policy).await?;
    record(
        conn,
        NewEscalationEvent {
            policy_id: Some(policy),
            detail: json!({ "roster_id": roster }),
            ..NewEscalationEvent::new(alert_id, EscalationAction::Started)
        },
        now,
    )
    .await?;
    Ok(Some(policy))
}

/// Stops an alert's escalation (`action`: acknowledged or resolved) and cancels its notifications not
/// yet handed to a channel. Returns whether an escalation was running.
pub async fn stop(
    conn: &mut PgConnection,
    alert_id: Uuid,
    action: EscalationAction,
    by: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let stopped = db::escalations::stop(conn, alert_id, now).await?;
    let reason = format!("alert {action} before delivery");
    db::outbox::cancel_pending(conn, alert_id, &reason).await?;
    let Some(stopped) = stopped else {
        return Ok(false);
    };
    record(
        conn,
        NewEscalationEvent {
            policy_id: Some(stopped.policy_id),
            tier: Some(stopped.position().tier_number()),
            round: Some(stopped.round),
            detail: json!({ "by": by }),
            ..NewEscalationEvent::new(alert_id, action)
        },
        now,
    )
    .await?;
    Ok(true)
}

/// Makes the next tier due now (someone asked to escalate). False when the alert is not escalating.
pub async fn escalate_now(
    conn: &mut PgConnection,
    alert_id: Uuid,
    by: &str,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let detail = json!({ "by": by, "reason": reason });
    hasten(conn, alert_id, now, detail, now).await
}

/// Makes an active escalation's next step due by `at` and records it as escalated (with `detail`
/// saying why). False when the alert is not escalating.
async fn hasten(
    conn: &mut PgConnection,
    alert_id: Uuid,
    at: DateTime<Utc>,
    detail: Value,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let Some(moved) = db::escalations::due_by(conn, alert_id, at, now).await? else {
        return Ok(false);
    };
    record(
        conn,
        NewEscalationEvent {
            policy_id: Some(moved.policy_id),
            tier: Some(moved.position().tier_number()),
            round: Some(moved.round),
            detail,
            ..NewEscalationEvent::new(alert_id, EscalationAction::Escalated)
        },
        now,
    )
    .await?;
    Ok(true)
}

/// The final outcome of one notification of a tier (after its retry, if it needed one).
#[derive(Debug)]
pub struct Settled<'a> {
    pub alert_id: Uuid,
    pub tier: TierNumber,
    pub round: i32,
    pub target: Target,
    pub channel: &'a Channel,
    /// What the channel answered, or why the notification failed for good.
    pub outcome: Result<Value, &'a str>,
}

/// Records that a tier's delivered notification did not reach the person after all (a call rang
/// out). The escalation goes on at the tier's deadline, as for a page nobody answered.
pub async fn notification_unanswered(
    conn: &mut PgConnection,
    s: Settled<'_>,
    detail: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    record_delivery(
        conn,
        &s,
        EscalationAction::NotAnswered,
        json!({ "outcome": detail }),
        now,
    )
    .await
}

/// Writes one delivery step (`delivered`, `delivery_failed`, `not_answered`) of a tier's notification.
async fn record_delivery(
    conn: &mut PgConnection,
    s: &Settled<'_>,
    action: EscalationAction,
    detail: Value,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let policy_id = db::escalations::policy_of(conn, s.alert_id).await?;
    let event = NewEscalationEvent {
        alert_id: s.alert_id,
        policy_id,
        tier: Some(s.tier),
        round: Some(s.round),
        action,
        target: Some(s.target),
        channel: Some(s.channel),
        detail,
    };
    record(conn, event, now).await
}

/// Records a tier's notification as delivered or failed; when it failed and was the tier's last
/// chance, the tier reached nobody and the next one is due now ([`plan::unanswered`]).
pub async fn notification_settled(
    conn: &mut PgConnection,
    s: Settled<'_>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let failed = s.outcome.is_err();
    let (action, detail) = match &s.outcome {
        Ok(result) => (EscalationAction::Delivered, result.clone()),
        Err(error) => (EscalationAction::DeliveryFailed, json!({ "error": error })),
    };
    record_delivery(conn, &s, action, detail, now).await?;
    if failed {
        escalate_if_unanswered(conn, s.alert_id, s.tier, s.round, now).await?;
    }
    Ok(())
}

/// After a notification of tier `tier` of `round` failed for good: when none of the
/// tier's notifications was delivered or is still in flight, the tier reached nobody, and the
/// escalation moves on as [`plan::unanswered`] says.
async fn escalate_if_unanswered(
    conn: &mut PgConnection,
    alert_id: Uuid,
    tier: TierNumber,
    round: i32,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    // Notifications of one tier settle concurrently (several workers, several deliveries per worker):
    // the alert's row serialises them, so the last one to fail sees every other one settled.
    let Some(row) = db::escalations::lock(conn, alert_id).await? else {
        return Ok(());
    };
    if db::outbox::tier_answerable(conn, alert_id, round, tier).await? || row.state != EscalationState::Active
    {
        return Ok(());
    }
    let Some(policy) = db::policies::get(conn, row.policy_id).await? else {
        return Ok(());
    };
    let fired = Position::numbered(round, tier);
    let current = Position::from_row(row.round, row.next_tier);
    let repeat = repeat_count(&policy);
    let Some(due) = plan::unanswered(&policy.tiers, repeat, fired, current, row.next_at, now) else {
        return Ok(());
    };
    let detail = json!({ "reason": "every notification of the previous tier failed" });
    if hasten(conn, alert_id, due, detail, now).await? {
        wake(conn, events::CHANNEL).await?;
    }
    Ok(())
}

/// How many times the policy starts over after its last tier.
fn repeat_count(policy: &EscalationPolicy) -> u32 {
    u32::try_from(policy.repeat_count).unwrap_or(0)
}

/// The simulated path of `policy` for an alert created at `start` that nobody acknowledges: the same
/// timing rules and target resolution the worker uses, with the rosters and overrides as stored now.
pub async fn dry_run(
    conn: &mut PgConnection,
    policy: &EscalationPolicy,
    roster: Option<Uuid>,
    start: DateTime<Utc>,
) -> Result<DryRun, sqlx::Error> {
    let repeat = repeat_count(policy);
    let mut steps = Vec::new();
    let (mut pos, mut at) = (Position::START, start);
    let exhausted_at = loop {
        let Some(tier) = policy.tiers.get(pos.tier) else {
            break at;
        };
        let recipients = targets::resolve_tier(conn, tier, roster, at).await?;
        steps.push(EscalationStep {
            round: pos.round,
            tier: pos.tier_number(),
            at,
            after_minutes: (at - start).num_minutes(),
            recipients: recipients
                .iter()
                .map(|r| Recipient {
                    target: r.target,
                    user_id: r.person.id,
                    display_name: r.person.display_name.clone(),
                    channel: r.channel.clone(),
                })
                .collect(),
        });
        match plan::after(&policy.tiers, repeat, pos, at, !recipients.is_empty()) {
            Next::Fire(p, t) => (pos, at) = (p, t),
            Next::Exhausted(t) => break t,
        }
    };
    Ok(DryRun {
        policy_id: policy.id,
        roster_id: roster,
        start,
        steps,
        exhausted_at,
    })
}
