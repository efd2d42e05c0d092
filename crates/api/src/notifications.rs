//! Outgoing notifications (rows of the notification outbox): their states and kinds, and how
//! `GET /api/v1/alerts/{alert}/notifications` shows them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::text::string_enum;

string_enum! {
    /// Where a notification is in its delivery (`notification_outbox.status`): `pending` → `sending`
    /// → `sent`, back to `pending` for the one retry, or `failed`; `cancelled` when its alert was
    /// acknowledged or resolved first.
    pub enum NotificationStatus("notification status") {
        /// Waiting for its first attempt or its retry.
        Pending = "pending",
        /// Claimed by a worker, which holds it until its lease runs out.
        Sending = "sending",
        /// The channel accepted it.
        Sent = "sent",
        /// Every attempt failed.
        Failed = "failed",
        /// Nobody needs it any more: its alert was acknowledged or resolved before delivery.
        Cancelled = "cancelled",
        /// Went out inside another page to the same person through the same channel (a paging
        /// storm: at most one page per interval); `folded_into` names that delivery.
        Folded = "folded",
    }
}

string_enum! {
    /// What a notification is about (`notification_outbox.kind`).
    pub enum NotificationKind("notification kind") {
        /// An escalation tier paging a person about an alert.
        Alert = "alert",
        /// The summary for the person whose shift just ended.
        HandoffOutgoing = "handoff_outgoing",
        /// The briefing for the person whose shift just started.
        HandoffIncoming = "handoff_incoming",
        /// The team channel's notice that the on-call changed.
        OncallChanged = "oncall_changed",
        /// A status notice (acknowledged, resolved, escalated, fired again) to a conversation that
        /// already has a message about the alert.
        Update = "update",
    }
}

/// One notification about an alert: to whom, through which channel, and what became of it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct NotificationView {
    /// The outbox row's id.
    pub id: Uuid,
    /// What it is about.
    pub kind: NotificationKind,
    /// The channel name (`phone`, `sms`, `slack_dm`, a plugin id, ...).
    pub channel: String,
    /// The user id or group the notification went to.
    pub target: String,
    /// Where it is in its delivery.
    pub status: NotificationStatus,
    /// The escalation tier that sent it, for pages.
    pub tier: Option<i32>,
    /// Delivery attempts so far.
    pub attempts: i32,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When it was handed to its channel.
    pub handed_at: Option<DateTime<Utc>>,
    /// When the channel accepted it.
    pub sent_at: Option<DateTime<Utc>>,
    /// The channel's id of what it sent (a Twilio call SID, a Slack `channel:ts`).
    pub external_id: Option<String>,
    /// Why the last attempt failed, or why it was cancelled.
    pub last_error: Option<String>,
    /// For a folded notification: the delivery it went out with.
    pub folded_into: Option<Uuid>,
    /// For a delivery that others were folded into: the numbers of the alerts it covered besides its
    /// own, lowest first.
    pub covers: Vec<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbox_names_are_the_stored_ones() {
        let statuses: Vec<&str> = NotificationStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            statuses,
            ["pending", "sending", "sent", "failed", "cancelled", "folded"]
        );
        let kinds: Vec<&str> = NotificationKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "alert",
                "handoff_outgoing",
                "handoff_incoming",
                "oncall_changed",
                "update"
            ]
        );
        for status in NotificationStatus::ALL {
            assert_eq!(status.as_str().parse(), Ok(status));
        }
        assert!("delivered".parse::<NotificationStatus>().is_err());
    }
}
