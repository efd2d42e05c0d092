//! Handoff notices: at each roster handoff, an outgoing summary for the person leaving, an incoming
//! briefing for the person taking over, and an "on-call has changed" notice for the team's channel,
//! all through the outbox.
//!
//! - The handoff instants are `oncall::handoffs_around` (rotation boundaries, or the daily window of
//!   a follow-the-sun roster). Who leaves and who arrives is `db::rosters::on_call` just before and at
//!   the instant, so overrides and follow-the-sun partners count.
//! - Nothing is sent when the primary does not change. Notices are keyed by roster, instant and kind,
//!   so any number of workers send each once. A handoff more than [`GRACE`] in the past is skipped
//!   (a worker that was down that long would only send stale news).
//! - Person notices go through the channels of the first tier of the roster's escalation policy (`log`
//!   when it has none); the team notice goes to the tenant's Slack channel when one is configured,
//!   else to `log`.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::outbox::{self, NewNotice};
use super::targets;
use crate::db;
use crate::oncall;
use crate::plugins::{AlertRef, Destination, HandoffNotice, Notification, Subject};
use crate::state::AppState;
use crate::tenancy::Slug;

/// How late a handoff's notices may still go out.
pub const GRACE: Duration = Duration::hours(1);
/// Alerts listed in one notice at most.
const MAX_LISTED: i64 = 20;

/// Queues the notices of every handoff of the tenant that just happened; returns the next handoff.
pub async fn pass(state: &AppState, slug: &Slug) -> anyhow::Result<Option<DateTime<Utc>>> {
    let now = state.clock.now();
    let mut tx = db::begin_tenant(&state.db, slug, "system:handoff").await?;
    let mut next: Option<DateTime<Utc>> = None;
    let mut queued = 0;
    for roster in db::rosters::list(&mut tx).await? {
        let Some(rotation) = db::rosters::rotation(&roster) else {
            continue;
        };
        let (last, upcoming) = oncall::handoffs_around(&rotation, roster.is_follow_the_sun, now);
        next = super::earliest(next, upcoming);
        let Some(at) = last.filter(|h| now - *h <= GRACE) else {
            continue;
        };
        // Every pass within the grace period sees this handoff again; once its team notice exists,
        // its notices are all queued (they are written in one transaction).
        if queued_already(&mut tx, roster.id, at).await? {
            continue;
        }
        let window_start = if roster.is_follow_the_sun {
            at - Duration::days(1)
        } else {
            rotation
                .shift_index(at - Duration::seconds(1))
                .map_or(at - Duration::days(i64::from(rotation.length_days)), |k| {
                    rotation.handoff(k)
                })
        };
        queued += notices(&mut tx, state, roster, at, window_start, now).await?;
    }
    if queued > 0 {
        super::wake(&mut tx, super::OUTBOX_CHANNEL).await?;
    }
    tx.commit().await?;
    Ok(next)
}

/// Idempotency key of a handoff's team notice.
fn changed_key(roster: Uuid, at: DateTime<Utc>) -> String {
    format!("handoff:{roster}:{}:changed", at.timestamp())
}

async fn queued_already(
    conn: &mut PgConnection,
    roster: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists(select 1 from notification_outbox where idempotency_key = $1)")
        .bind(changed_key(roster, at))
        .fetch_one(conn)
        .await
}

#[derive(sqlx::FromRow)]
struct AlertRow {
    id: Uuid,
    title: String,
    status: String,
    severity: String,
    priority: Option<String>,
    service: Option<String>,
    description: Option<String>,
    suggested_solution: Option<String>,
    occurrence_count: i32,
}

fn alert_ref(a: AlertRow, public_url: &str) -> AlertRef {
    AlertRef {
        url: outbox::alert_url(public_url, a.id),
        id: a.id.to_string(),
        title: a.title,
        status: a.status,
        severity: a.severity,
        priority: a.priority,
        service: a.service,
        description: a.description,
        suggested_solution: a.suggested_solution,
        occurrence_count: u32::try_from(a.occurrence_count).unwrap_or(0),
    }
}

/// Alerts raised in `[from, until)` (most severe first), and how many there were.
async fn raised_between(
    conn: &mut PgConnection,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<(Vec<AlertRow>, i64), sqlx::Error> {
    let total: i64 =
        sqlx::query_scalar("select count(*) from alerts where first_fired_at >= $1 and first_fired_at < $2")
            .bind(from)
            .bind(until)
            .fetch_one(&mut *conn)
            .await?;
    let rows = sqlx::query_as(
        "select id, title, status, severity, priority, service, description, suggested_solution, occurrence_count
         from alerts where first_fired_at >= $1 and first_fired_at < $2
         order by array_position(array['critical','major','warning','info'], severity), first_fired_at desc
         limit $3",
    )
    .bind(from)
    .bind(until)
    .bind(MAX_LISTED)
    .fetch_all(conn)
    .await?;
    Ok((rows, total))
}

/// Alerts still open at the handoff.
async fn open_alerts(conn: &mut PgConnection) -> Result<(Vec<AlertRow>, i64), sqlx::Error> {
    let total: i64 = sqlx::query_scalar("select count(*) from alerts where status <> 'resolved'")
        .fetch_one(&mut *conn)
        .await?;
    let rows = sqlx::query_as(
        "select id, title, status, severity, priority, service, description, suggested_solution, occurrence_count
         from alerts where status <> 'resolved'
         order by array_position(array['critical','major','warning','info'], severity), first_fired_at
         limit $1",
    )
    .bind(MAX_LISTED)
    .fetch_all(conn)
    .await?;
    Ok((rows, total))
}

fn bullet_list(rows: &[AlertRow], total: i64) -> String {
    let mut out = String::new();
    for a in rows {
        out.push_str(&format!("- [{}] {} ({})\n", a.severity, a.title, a.status));
    }
    if total > rows.len() as i64 {
        out.push_str(&format!("- … and {} more\n", total - rows.len() as i64));
    }
    out
}

/// Queues a handoff notice for one person on each channel; returns how many were new.
#[allow(
    clippy::too_many_arguments,
    reason = "one call site per notice kind; a struct would only rename them"
)]
async fn to_person(
    conn: &mut PgConnection,
    roster: &nightowl_api::rosters::Roster,
    channels: &[String],
    p: &targets::Person,
    kind: &str,
    subject: Subject,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<usize, sqlx::Error> {
    let mut queued = 0;
    for channel in channels {
        let n = NewNotice {
            key: format!(
                "handoff:{}:{}:{kind}:{}:{channel}",
                roster.id,
                at.timestamp(),
                p.id
            ),
            alert_id: None,
            kind: &format!("handoff_{kind}"),
            channel,
            target: p.id.to_string(),
            notification: Notification {
                subject: subject.clone(),
                destination: Destination::Person(outbox::responder(p)),
                previous_external_id: None,
                attempt: 1,
            },
            meta: json!({ "roster_id": roster.id, "handoff_at": at }),
        };
        queued += usize::from(outbox::queue(conn, n, now).await?);
    }
    Ok(queued)
}

async fn notices(
    conn: &mut PgConnection,
    state: &AppState,
    roster: nightowl_api::rosters::Roster,
    at: DateTime<Utc>,
    window_start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let before = db::rosters::on_call(conn, roster.clone(), at - Duration::seconds(1)).await?;
    let after = db::rosters::on_call(conn, roster.clone(), at).await?;
    let (was, is) = (
        before.answer.as_ref().map(|a| a.primary),
        after.answer.as_ref().map(|a| a.primary),
    );
    if was == is {
        return Ok(0);
    }
    let ids: Vec<Uuid> = was.iter().chain(is.iter()).copied().collect();
    let people = targets::people(conn, &ids).await?;
    let person = |id: Option<Uuid>| id.and_then(|id| people.iter().find(|p| p.id == id).cloned());
    let (leaving, arriving) = (person(was), person(is));

    let channels: Vec<String> = match roster.escalation_policy_id {
        Some(policy) => db::policies::get(conn, policy)
            .await?
            .and_then(|p| p.tiers.first().map(|t| t.notify_via.clone()))
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let channels = if channels.is_empty() {
        vec!["log".to_owned()]
    } else {
        channels
    };
    let public_url = state.config.public_url.as_str();
    let (raised, raised_total) = raised_between(conn, window_start, at).await?;
    let (open, open_total) = open_alerts(conn).await?;
    let shift_end = after
        .answer
        .as_ref()
        .and_then(|a| a.shift.ends_at)
        .map(|e| e.to_rfc3339())
        .unwrap_or_default();
    let mut queued = 0;

    if let Some(p) = &leaving {
        let summary = format!(
            "**Shift summary for {}** ({} to {})\n\n{} alert(s) raised during your shift:\n{}\n{} alert(s) still open, handed over to {}.\n",
            roster.name,
            window_start.to_rfc3339(),
            at.to_rfc3339(),
            raised_total,
            bullet_list(&raised, raised_total),
            open_total,
            arriving.as_ref().map_or("nobody", |a| a.display_name.as_str()),
        );
        let notice = HandoffNotice {
            roster: roster.name.clone(),
            shift_start: window_start.to_rfc3339(),
            shift_end: at.to_rfc3339(),
            alerts: raised.into_iter().map(|a| alert_ref(a, public_url)).collect(),
            summary,
        };
        let subject = Subject::HandoffOutgoing(notice);
        queued += to_person(conn, &roster, &channels, p, "outgoing", subject, at, now).await?;
    }
    if let Some(p) = &arriving {
        let summary = format!(
            "**You are now on call for {}** until {}.\n\n{} alert(s) open at handoff:\n{}",
            roster.name,
            if shift_end.is_empty() {
                "further notice"
            } else {
                shift_end.as_str()
            },
            open_total,
            bullet_list(&open, open_total),
        );
        let notice = HandoffNotice {
            roster: roster.name.clone(),
            shift_start: at.to_rfc3339(),
            shift_end: shift_end.clone(),
            alerts: open.into_iter().map(|a| alert_ref(a, public_url)).collect(),
            summary,
        };
        let subject = Subject::HandoffIncoming(notice);
        queued += to_person(conn, &roster, &channels, p, "incoming", subject, at, now).await?;
    }
    let slack_channel: Option<String> =
        sqlx::query_scalar("select slack_channel from tenant_config where id")
            .fetch_one(&mut *conn)
            .await?;
    let (channel, group) = match slack_channel {
        Some(c) => ("slack_channel", c),
        None => ("log", roster.name.clone()),
    };
    let n = NewNotice {
        key: changed_key(roster.id, at),
        alert_id: None,
        kind: "oncall_changed",
        channel,
        target: group.clone(),
        notification: Notification {
            subject: Subject::OncallChanged {
                roster: roster.name.clone(),
                previous: leaving.as_ref().map(outbox::responder),
                current: arriving.as_ref().map(outbox::responder),
            },
            destination: Destination::Group(group),
            previous_external_id: None,
            attempt: 1,
        },
        meta: json!({ "roster_id": roster.id, "handoff_at": at }),
    };
    queued += usize::from(outbox::queue(conn, n, now).await?);
    Ok(queued)
}
