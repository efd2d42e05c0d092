//! Status updates: when an alert is acknowledged, resolved or escalated — from the API, a channel
//! callback, a source's own resolve or the escalation worker — or fires again, every conversation a
//! channel plugin already delivered a message about it to gets a notice carrying that message's
//! external id (`previous-external-id`), so the channel can edit it and reply in its thread instead
//! of posting anew. The notices go through the outbox in the transaction of the change, so they
//! survive restarts and are retried like any notification.
//!
//! The built-in `log` channel has no message to update and gets none.

use chrono::{DateTime, Utc};
use nightowl_api::escalation::Channel;
use nightowl_api::notifications::NotificationKind;
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use super::outbox::{self, NewNotice};
use crate::db;
use crate::plugins::{AlertEvent, AlertRef, Destination, Notification, Subject};

/// Repeats of an alert give at most one "fired again" notice per conversation in this many seconds.
pub const REPEAT_WINDOW_SECS: i64 = 600;

/// What happened, and what makes the notice unique (a second acknowledge is no news; each
/// escalation and each repeat window is).
#[derive(Debug, Clone, Copy)]
pub struct Change {
    pub event: AlertEvent,
    /// The tier now notified (escalations), else the alert's first.
    pub tier: u32,
    /// Distinguishes notices of the same event (the escalation step, the repeat window).
    pub occurrence: i64,
}

/// Queues `change` for every conversation that has a message about `alert_id`, except `skip`
/// (conversations the caller notifies anyway); returns how many were queued. The alert itself is
/// read again when the notice is delivered, so channels show its state at that moment.
pub async fn queue(
    conn: &mut PgConnection,
    alert_id: Uuid,
    change: Change,
    skip: &[(Channel, String)],
    now: DateTime<Utc>,
) -> Result<usize, sqlx::Error> {
    let mut queued = 0;
    for d in db::outbox::delivered(conn, alert_id).await? {
        if skip.iter().any(|(c, t)| *c == d.channel && *t == d.target) {
            continue;
        }
        let Some(Ok(destination)) = d.destination.clone().map(serde_json::from_value::<Destination>) else {
            continue;
        };
        let event = serde_json::to_value(change.event).unwrap_or(Value::Null);
        let notice = NewNotice {
            key: format!(
                "update:{alert_id}:{}:{}:{}:{}",
                event.as_str().unwrap_or("event"),
                change.occurrence,
                d.channel,
                d.target
            ),
            alert_id: Some(alert_id),
            kind: NotificationKind::Update,
            channel: &d.channel,
            target: d.target.clone(),
            notification: Notification {
                subject: Subject::Alert {
                    event: change.event,
                    // Refreshed from the alert at delivery.
                    alert: AlertRef {
                        id: alert_id.to_string(),
                        number: 0,
                        title: String::new(),
                        status: String::new(),
                        severity: String::new(),
                        priority: None,
                        service: None,
                        description: None,
                        suggested_solution: None,
                        occurrence_count: 0,
                        url: String::new(),
                    },
                    tier: change.tier,
                },
                destination,
                previous_external_id: Some(d.external_id),
                attempt: 1,
            },
            meta: json!({ "update": true }),
        };
        queued += usize::from(outbox::queue(conn, notice, now).await?);
    }
    if queued > 0 {
        crate::escalation::wake(conn, outbox::CHANNEL).await?;
    }
    Ok(queued)
}
