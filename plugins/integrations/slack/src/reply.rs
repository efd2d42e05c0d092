//! What a person is told in Slack when NightOwl refuses or fails what they asked for (a slash
//! command, a button, the knowledge-base form). Shared by [`commands`](crate::commands) and
//! [`interactions`](crate::interactions) so the same refusal reads the same everywhere.

use nightowl_plugin_sdk_channel::incidents::{Actor, OpError};
use nightowl_plugin_sdk_channel::log;

use crate::PLUGIN_ID;
use crate::mrkdwn::escape;

/// The actor for a Slack member id: the host maps it to a NightOwl user through their
/// `slack_user_id`.
pub fn actor(user: &str) -> Actor {
    Actor::new(PLUGIN_ID, user)
}

/// `#12` for `12` or `#12`; anything else (an alert id) as given.
pub fn alert_label(alert: &str) -> String {
    match alert.trim_start_matches('#').parse::<u64>() {
        Ok(n) => format!("#{n}"),
        Err(_) => alert.to_string(),
    }
}

/// The "link your account" answer to a `forbidden`: who to ask, and the member id to give them.
pub fn not_linked(user: &str, reason: &str) -> String {
    format!(
        ":lock: NightOwl did not accept this from your Slack account ({}). If your Slack account is not \
         linked to your NightOwl user yet, ask a NightOwl admin to set your Slack member ID `{}` on your \
         NightOwl profile; only active engineers and admins can act on alerts.",
        escape(reason),
        escape(user)
    )
}

/// Why `action` (e.g. "acknowledge #12") did not happen. `missing` is said for `not_found`. Internal
/// failures are logged and told without their details.
pub fn op_failure(action: &str, missing: &str, user: &str, e: &OpError) -> String {
    match e {
        OpError::Forbidden(reason) => not_linked(user, reason),
        OpError::NotFound => format!("Could not {action}: {missing}."),
        OpError::Conflict(why) => format!("Could not {action}: {}.", escape(why.trim_end_matches('.'))),
        OpError::Internal(why) => {
            log::error(&format!("{action} for slack user {user} failed: {why}"));
            format!("NightOwl could not {action} just now. Try again, or use the NightOwl web UI.")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_alert_numbers() {
        assert_eq!(alert_label("12"), "#12");
        assert_eq!(alert_label("#12"), "#12");
        assert_eq!(alert_label("0b6f…"), "0b6f…");
    }

    #[test]
    fn forbidden_tells_whom_to_ask_and_the_member_id() {
        let text = op_failure(
            "acknowledge #12",
            "there is no alert #12",
            "W111",
            &OpError::Forbidden("unknown slack user".into()),
        );
        assert!(
            text.contains("ask a NightOwl admin to set your Slack member ID `W111`"),
            "{text}"
        );
        assert!(text.contains("unknown slack user"), "{text}");
    }
}
