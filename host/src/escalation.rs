//! Escalation: who gets paged for an alert, when, and through which channel.
//!
//! Routing: an alert's `service` names a row of `services`; the service's roster (else the tenant's
//! `default_roster_id`) is the alert's roster, and that roster's escalation policy pages for it. Only
//! critical and major alerts escalate. The on-call targets of the policy resolve against the alert's
//! roster at the instant each tier fires.
//!
//! State lives in `alert_escalations` (one row per alert: next tier, round, deadline). Everything that
//! changes it happens in the same transaction as what caused it: the alert's creation starts it,
//! acknowledge and resolve stop it (and cancel undelivered notifications), a worker firing a tier queues
//! the tier's notifications in the outbox and moves the deadline. Timing rules are in [`plan`]; the
//! dry run walks them with the same target resolution the worker uses.

pub mod handoff;
pub mod outbox;
pub mod plan;
pub mod targets;
pub mod worker;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use nightowl_api::escalation::{DryRun, EscalationPolicy, EscalationStep, Recipient};
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use self::plan::{Next, Position};
use crate::db;
use crate::plugins::{AlertEvent, Destination, Notification, Subject};

/// `LISTEN` channel the escalation transaction pings when it queues notifications.
pub const OUTBOX_CHANNEL: &str = "nightowl_outbox";

/// Wakes the workers listening on `channel` when the caller's transaction commits.
pub async fn wake(conn: &mut PgConnection, channel: &str) -> Result<(), sqlx::Error> {
    sqlx::query("select pg_notify($1, '')")
        .bind(channel)
        .execute(conn)
        .await?;
    Ok(())
}

/// The earlier of two optional instants.
pub fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Severities that page someone.
pub fn escalates(severity: &str) -> bool {
    matches!(severity, "critical" | "major")
}

/// One row of `escalation_events`.
#[derive(Debug, Clone, Default)]
pub struct Event<'a> {
    pub alert_id: Uuid,
    pub policy_id: Option<Uuid>,
    /// 1-based.
    pub tier: Option<i32>,
    pub round: Option<i32>,
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub channel: Option<&'a str>,
    pub detail: Value,
}

/// Records an escalation step.
pub async fn record(conn: &mut PgConnection, e: Event<'_>, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
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

/// The roster answering for an alert of `service`: the service's, else the tenant default.
pub async fn route(conn: &mut PgConnection, service: Option<&str>) -> Result<Option<Uuid>, sqlx::Error> {
    if let Some(service) = service {
        let roster: Option<Option<Uuid>> =
            sqlx::query_scalar("select roster_id from services where name = $1")
                .bind(service)
                .fetch_optional(&mut *conn)
                .await?;
        if let Some(Some(roster)) = roster {
            return Ok(Some(roster));
        }
    }
    sqlx::query_scalar("select default_roster_id from tenant_config where id")
        .fetch_one(conn)
        .await
}

/// Starts escalating a newly created alert when its severity pages and it routes to a roster with a
/// policy; tier 1 is due at once. Returns the policy.
pub async fn start(
    conn: &mut PgConnection,
    alert_id: Uuid,
    severity: &str,
    service: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, sqlx::Error> {
    if !escalates(severity) {
        return Ok(None);
    }
    let Some(roster) = route(conn, service).await? else {
        return Ok(None);
    };
    let policy: Option<Uuid> = sqlx::query_scalar("select escalation_policy_id from rosters where id = $1")
        .bind(roster)
        .fetch_optional(&mut *conn)
        .await?
        .flatten();
    let Some(policy) = policy else {
        return Ok(None);
    };
    sqlx::query(
        "insert into alert_escalations (alert_id, policy_id, roster_id, next_tier, round, next_at, state, started_at, updated_at)
         values ($1, $2, $3, 0, 0, $4, 'active', $4, $4) on conflict (alert_id) do nothing",
    )
    .bind(alert_id)
    .bind(policy)
    .bind(roster)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query("update alerts set escalation_policy_id = $2 where id = $1")
        .bind(alert_id)
        .bind(policy)
        .execute(&mut *conn)
        .await?;
    record(
        conn,
        Event {
            alert_id,
            policy_id: Some(policy),
            action: "started",
            detail: json!({ "roster_id": roster }),
            ..Event::default()
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
    action: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let stopped: Option<(Uuid, i32, i32)> = sqlx::query_as(
        "update alert_escalations set state = 'stopped', updated_at = $2
         where alert_id = $1 and state = 'active' returning policy_id, next_tier, round",
    )
    .bind(alert_id)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    sqlx::query(
        "update notification_outbox set status = 'cancelled', last_error = $2
         where alert_id = $1 and kind = 'alert' and status = 'pending'",
    )
    .bind(alert_id)
    .bind(format!("alert {action} before delivery"))
    .execute(&mut *conn)
    .await?;
    let Some((policy, next_tier, round)) = stopped else {
        return Ok(false);
    };
    record(
        conn,
        Event {
            alert_id,
            policy_id: Some(policy),
            tier: Some(next_tier + 1),
            round: Some(round),
            action,
            detail: json!({ "by": by }),
            ..Event::default()
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
    let row: Option<(Uuid, i32, i32)> = sqlx::query_as(
        "update alert_escalations set next_at = least(next_at, $2), updated_at = $2
         where alert_id = $1 and state = 'active' returning policy_id, next_tier, round",
    )
    .bind(alert_id)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((policy, next_tier, round)) = row else {
        return Ok(false);
    };
    record(
        conn,
        Event {
            alert_id,
            policy_id: Some(policy),
            tier: Some(next_tier + 1),
            round: Some(round),
            action: "escalated",
            detail: json!({ "by": by, "reason": reason }),
            ..Event::default()
        },
        now,
    )
    .await?;
    Ok(true)
}

/// The simulated path of `policy` for an alert created at `start` that nobody acknowledges: the same
/// timing rules and target resolution the worker uses, with the rosters and overrides as stored now.
pub async fn dry_run(
    conn: &mut PgConnection,
    policy: &EscalationPolicy,
    roster: Option<Uuid>,
    start: DateTime<Utc>,
) -> Result<DryRun, sqlx::Error> {
    let repeat = u32::try_from(policy.repeat_count).unwrap_or(0);
    let mut steps = Vec::new();
    let (mut pos, mut at) = (Position::START, start);
    let exhausted_at = loop {
        let Some(tier) = policy.tiers.get(pos.tier) else {
            break at;
        };
        let recipients = targets::resolve_tier(conn, tier, roster, at).await?;
        steps.push(EscalationStep {
            round: pos.round,
            tier: u32::try_from(pos.tier + 1).unwrap_or(u32::MAX),
            at,
            after_minutes: (at - start).num_minutes(),
            recipients: recipients
                .iter()
                .map(|r| Recipient {
                    target: r.target.clone(),
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

/// A due escalation claimed by a worker.
#[derive(Debug, sqlx::FromRow)]
struct Due {
    alert_id: Uuid,
    policy_id: Uuid,
    roster_id: Option<Uuid>,
    next_tier: i32,
    round: i32,
    next_at: DateTime<Utc>,
    status: String,
}

/// What one pass of [`fire_due`] did, for metrics after the commit.
#[derive(Debug, Default)]
pub struct Fired {
    /// 1-based tiers that fired.
    pub tiers: Vec<u32>,
    /// Seconds between each tier's deadline and the moment it fired.
    pub lateness: Vec<f64>,
    /// Rows processed (fired, exhausted or found stale).
    pub processed: usize,
    /// Notifications queued.
    pub queued: usize,
}

/// Claims up to `limit` due escalations (`FOR UPDATE SKIP LOCKED`: concurrent workers take disjoint
/// rows) and fires each one's next tier, all inside the caller's transaction. Commit to publish.
pub async fn fire_due(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
    public_url: &str,
) -> Result<Fired, sqlx::Error> {
    let due: Vec<Due> = sqlx::query_as(
        "select e.alert_id, e.policy_id, e.roster_id, e.next_tier, e.round, e.next_at, a.status
         from alert_escalations e join alerts a on a.id = e.alert_id
         where e.state = 'active' and e.next_at <= $1
         order by e.next_at
         limit $2
         for update of e skip locked",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut fired = Fired::default();
    // A batch usually shares a handful of policies: read each once.
    let mut policies: HashMap<Uuid, Option<EscalationPolicy>> = HashMap::new();
    for d in due {
        fired.processed += 1;
        if let std::collections::hash_map::Entry::Vacant(slot) = policies.entry(d.policy_id) {
            slot.insert(db::policies::get(conn, d.policy_id).await?);
        }
        fire_one(
            conn,
            &d,
            policies[&d.policy_id].as_ref(),
            now,
            public_url,
            &mut fired,
        )
        .await?;
    }
    if fired.queued > 0 {
        wake(conn, OUTBOX_CHANNEL).await?;
    }
    Ok(fired)
}

async fn set_state(
    conn: &mut PgConnection,
    alert_id: Uuid,
    state: &str,
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
    if d.status != "firing" {
        return set_state(conn, d.alert_id, "stopped", now).await;
    }
    let Some(policy) = policy else {
        return set_state(conn, d.alert_id, "exhausted", now).await;
    };
    let pos = Position {
        round: u32::try_from(d.round).unwrap_or(0),
        tier: usize::try_from(d.next_tier).unwrap_or(usize::MAX),
    };
    let base = Event {
        alert_id: d.alert_id,
        policy_id: Some(d.policy_id),
        tier: Some(d.next_tier + 1),
        round: Some(d.round),
        ..Event::default()
    };
    let Some(tier) = policy.tiers.get(pos.tier) else {
        // Past the last tier (or the policy lost tiers): the deadline was the end of the policy.
        set_state(conn, d.alert_id, "exhausted", now).await?;
        let detail = json!({ "scheduled_at": d.next_at });
        return record(
            conn,
            Event {
                action: "exhausted",
                tier: None,
                detail,
                ..base
            },
            now,
        )
        .await;
    };
    let recipients = targets::resolve_tier(conn, tier, d.roster_id, d.next_at).await?;
    let event = match (pos.round, pos.tier) {
        (0, 0) => AlertEvent::Triggered,
        (0, _) => AlertEvent::Escalated,
        _ => AlertEvent::Reminder,
    };
    let alert = db::alerts::get(conn, d.alert_id).await?;
    for r in &recipients {
        let Some(alert) = &alert else { break };
        let notification = Notification {
            subject: Subject::Alert {
                event,
                alert: outbox::alert_ref(alert, public_url),
                tier: u32::try_from(pos.tier + 1).unwrap_or(u32::MAX),
            },
            destination: Destination::Person(outbox::responder(&r.person)),
            previous_external_id: None,
            attempt: 1,
        };
        let queued = outbox::queue(
            conn,
            outbox::NewNotice {
                key: format!(
                    "alert:{}:{}:{}:{}:{}",
                    d.alert_id, pos.round, pos.tier, r.person.id, r.channel
                ),
                alert_id: Some(d.alert_id),
                kind: "alert",
                channel: &r.channel,
                target: r.person.id.to_string(),
                notification,
                meta: json!({ "tier": pos.tier + 1, "round": pos.round, "target": r.target }),
            },
            now,
        )
        .await?;
        fired.queued += usize::from(queued);
        let detail = json!({
            "user_id": r.person.id,
            "display_name": r.person.display_name,
            "scheduled_at": d.next_at,
        });
        let e = Event {
            action: "notified",
            target: Some(&r.target),
            channel: Some(&r.channel),
            detail,
            ..base.clone()
        };
        record(conn, e, now).await?;
    }
    if recipients.is_empty() {
        let detail = json!({ "scheduled_at": d.next_at, "targets": tier.targets });
        record(
            conn,
            Event {
                action: "no_recipients",
                detail,
                ..base.clone()
            },
            now,
        )
        .await?;
    }
    fired.tiers.push(u32::try_from(pos.tier + 1).unwrap_or(u32::MAX));
    fired
        .lateness
        .push((now - d.next_at).num_milliseconds() as f64 / 1000.0);
    let repeat = u32::try_from(policy.repeat_count).unwrap_or(0);
    let (next, at) = match plan::after(&policy.tiers, repeat, pos, d.next_at, !recipients.is_empty()) {
        Next::Fire(p, t) => (p, t),
        // Park past the last tier until the final timeout runs out; the next claim marks it exhausted.
        Next::Exhausted(t) => (
            Position {
                round: pos.round,
                tier: policy.tiers.len(),
            },
            t,
        ),
    };
    sqlx::query(
        "update alert_escalations set next_tier = $2, round = $3, next_at = $4, updated_at = $5 where alert_id = $1",
    )
    .bind(d.alert_id)
    .bind(i32::try_from(next.tier).unwrap_or(i32::MAX))
    .bind(i32::try_from(next.round).unwrap_or(i32::MAX))
    .bind(at)
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
