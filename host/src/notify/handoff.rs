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
use nightowl_api::alerts::Alert;
use nightowl_api::escalation::Channel;
use nightowl_api::notifications::NotificationKind;
use nightowl_api::rosters::Roster;
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use super::outbox::{self, NewNotice};
use super::{alert_ref, responder};
use crate::clock::earliest;
use crate::db;
use crate::db::users::Person;
use crate::oncall;
use crate::plugins::{Destination, HandoffNotice, Notification, Subject};
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
        next = earliest(next, upcoming);
        let Some(at) = last.filter(|h| now - *h <= GRACE) else {
            continue;
        };
        // Every pass within the grace period sees this handoff again; once its team notice exists,
        // its notices are all queued (they are written in one transaction).
        if db::outbox::exists(&mut tx, &changed_key(roster.id, at)).await? {
            continue;
        }
        let shift_start = if roster.is_follow_the_sun {
            at - Duration::days(1)
        } else {
            rotation
                .shift_index(at - Duration::seconds(1))
                .map_or(at - Duration::days(i64::from(rotation.length_days)), |k| {
                    rotation.handoff(k)
                })
        };
        queued += notices(&mut tx, state, roster, at, shift_start, now).await?;
    }
    if queued > 0 {
        db::events::notify(&mut tx, outbox::CHANNEL, "").await?;
    }
    tx.commit().await?;
    Ok(next)
}

/// Idempotency key of a handoff's team notice.
fn changed_key(roster: Uuid, at: DateTime<Utc>) -> String {
    format!("handoff:{roster}:{}:changed", at.timestamp())
}

/// The alerts as a Markdown list, with how many more there were.
fn bullet_list(rows: &[Alert], total: i64) -> String {
    let mut out = String::new();
    for a in rows {
        out.push_str(&format!(
            "- #{} [{}] {} ({})\n",
            a.number, a.severity, a.title, a.status
        ));
    }
    if total > rows.len() as i64 {
        out.push_str(&format!("- … and {} more\n", total - rows.len() as i64));
    }
    out
}

/// One handoff of one roster, and what its notices share.
struct Handoff<'a> {
    roster: &'a Roster,
    at: DateTime<Utc>,
    /// Start of the shift that ends at the handoff.
    shift_start: DateTime<Utc>,
    /// Channels of the notices to people.
    channels: Vec<Channel>,
    public_url: &'a str,
    now: DateTime<Utc>,
}

impl Handoff<'_> {
    /// Facts kept with each notice's row.
    fn meta(&self) -> Value {
        json!({ "roster_id": self.roster.id, "handoff_at": self.at })
    }
}

/// Queues the notices of one handoff, when it changes the primary; returns how many were new.
async fn notices(
    conn: &mut PgConnection,
    state: &AppState,
    roster: Roster,
    at: DateTime<Utc>,
    shift_start: DateTime<Utc>,
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
    let people = db::users::people(conn, &ids).await?;
    let person = |id: Option<Uuid>| id.and_then(|id| people.iter().find(|p| p.id == id).cloned());
    let (leaving, arriving) = (person(was), person(is));
    let shift_end = after.answer.as_ref().and_then(|a| a.shift.ends_at);

    let h = Handoff {
        channels: person_channels(conn, &roster).await?,
        roster: &roster,
        at,
        shift_start,
        public_url: state.config.public_url.as_str(),
        now,
    };
    let open = db::alerts::open_by_severity(conn, MAX_LISTED).await?;
    let mut queued = 0;
    if let Some(p) = &leaving {
        queued += outgoing(conn, &h, p, arriving.as_ref(), open.1).await?;
    }
    if let Some(p) = &arriving {
        queued += incoming(conn, &h, p, shift_end, open).await?;
    }
    queued += changed(conn, &h, leaving.as_ref(), arriving.as_ref()).await?;
    Ok(queued)
}

/// The channels of the first tier of the roster's escalation policy, else `log`.
async fn person_channels(conn: &mut PgConnection, roster: &Roster) -> Result<Vec<Channel>, sqlx::Error> {
    let channels: Vec<Channel> = match roster.escalation_policy_id {
        Some(policy) => db::policies::get(conn, policy)
            .await?
            .and_then(|p| p.tiers.into_iter().next())
            .map(|t| t.notify_via.iter().filter_map(|c| Channel::parse(c)).collect())
            .unwrap_or_default(),
        None => Vec::new(),
    };
    Ok(if channels.is_empty() {
        vec![Channel::Log]
    } else {
        channels
    })
}

/// The shift summary for the person leaving: what was raised during the shift, what stays open.
async fn outgoing(
    conn: &mut PgConnection,
    h: &Handoff<'_>,
    p: &Person,
    successor: Option<&Person>,
    open_total: i64,
) -> Result<usize, sqlx::Error> {
    let (raised, raised_total) = db::alerts::raised_between(conn, h.shift_start, h.at, MAX_LISTED).await?;
    let summary = format!(
        "**Shift summary for {}** ({} to {})\n\n{} alert(s) raised during your shift:\n{}\n{} alert(s) still open, handed over to {}.\n",
        h.roster.name,
        h.shift_start.to_rfc3339(),
        h.at.to_rfc3339(),
        raised_total,
        bullet_list(&raised, raised_total),
        open_total,
        successor.map_or("nobody", |a| a.display_name.as_str()),
    );
    let notice = HandoffNotice {
        roster: h.roster.name.clone(),
        shift_start: h.shift_start.to_rfc3339(),
        shift_end: h.at.to_rfc3339(),
        alerts: raised.iter().map(|a| alert_ref(a, h.public_url)).collect(),
        summary,
    };
    to_person(
        conn,
        h,
        p,
        NotificationKind::HandoffOutgoing,
        Subject::HandoffOutgoing(notice),
    )
    .await
}

/// The briefing for the person taking over: the alerts open at the handoff.
async fn incoming(
    conn: &mut PgConnection,
    h: &Handoff<'_>,
    p: &Person,
    shift_end: Option<DateTime<Utc>>,
    (open, open_total): (Vec<Alert>, i64),
) -> Result<usize, sqlx::Error> {
    let shift_end = shift_end.map(|e| e.to_rfc3339()).unwrap_or_default();
    let summary = format!(
        "**You are now on call for {}** until {}.\n\n{} alert(s) open at handoff:\n{}",
        h.roster.name,
        if shift_end.is_empty() {
            "further notice"
        } else {
            shift_end.as_str()
        },
        open_total,
        bullet_list(&open, open_total),
    );
    let notice = HandoffNotice {
        roster: h.roster.name.clone(),
        shift_start: h.at.to_rfc3339(),
        shift_end,
        alerts: open.iter().map(|a| alert_ref(a, h.public_url)).collect(),
        summary,
    };
    to_person(
        conn,
        h,
        p,
        NotificationKind::HandoffIncoming,
        Subject::HandoffIncoming(notice),
    )
    .await
}

/// Queues a handoff notice for one person on each channel; returns how many were new.
async fn to_person(
    conn: &mut PgConnection,
    h: &Handoff<'_>,
    p: &Person,
    kind: NotificationKind,
    subject: Subject,
) -> Result<usize, sqlx::Error> {
    // The key's middle part predates the kind enum: `outgoing` or `incoming`, so notices queued
    // before keep deduplicating.
    let short = kind.as_str().trim_start_matches("handoff_");
    let mut queued = 0;
    for channel in &h.channels {
        let n = NewNotice {
            key: format!(
                "handoff:{}:{}:{short}:{}:{channel}",
                h.roster.id,
                h.at.timestamp(),
                p.id
            ),
            alert_id: None,
            kind,
            channel,
            target: p.id.to_string(),
            notification: Notification {
                subject: subject.clone(),
                destination: Destination::Person(responder(p)),
                previous_external_id: None,
                attempt: 1,
            },
            meta: h.meta(),
        };
        queued += usize::from(outbox::queue(conn, n, h.now).await?);
    }
    Ok(queued)
}

/// The "on-call has changed" notice for the team: the `slack_channel` channel when the tenant set
/// that plugin's `default_channel` (the group is left empty: the plugin posts to its default), else
/// `log`.
async fn changed(
    conn: &mut PgConnection,
    h: &Handoff<'_>,
    leaving: Option<&Person>,
    arriving: Option<&Person>,
) -> Result<usize, sqlx::Error> {
    let team = Channel::SlackChannel;
    let plugin = team.plugin_id().unwrap_or_default();
    let team_set = db::plugin_settings::list(conn, plugin, false)
        .await?
        .iter()
        .any(|s| s.key == "default_channel" && s.value.is_some());
    let (channel, group) = if team_set {
        (team, String::new())
    } else {
        (Channel::Log, h.roster.name.clone())
    };
    let n = NewNotice {
        key: changed_key(h.roster.id, h.at),
        alert_id: None,
        kind: NotificationKind::OncallChanged,
        channel: &channel,
        target: if group.is_empty() {
            "team".to_owned()
        } else {
            group.clone()
        },
        notification: Notification {
            subject: Subject::OncallChanged {
                roster: h.roster.name.clone(),
                previous: leaving.map(responder),
                current: arriving.map(responder),
            },
            destination: Destination::Group(group),
            previous_external_id: None,
            attempt: 1,
        },
        meta: h.meta(),
    };
    Ok(usize::from(outbox::queue(conn, n, h.now).await?))
}
