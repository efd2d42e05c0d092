//! States and kinds of outgoing notifications (rows of the notification outbox). No endpoint lists
//! them yet; they are here so the host, and later the UI's delivery view, name them the same way.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbox_names_are_the_stored_ones() {
        let statuses: Vec<&str> = NotificationStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(statuses, ["pending", "sending", "sent", "failed", "cancelled"]);
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
