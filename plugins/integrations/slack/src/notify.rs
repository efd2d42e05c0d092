//! What a notification becomes in Slack. An alert gets one top-level message per destination; later
//! notices about it (the host hands back its `"<channel>:<ts>"` as `previous_external_id`) edit that
//! message when its status changed (acknowledged, resolved: `chat.update`, buttons that no longer apply
//! removed) and reply in its thread (every later notice: status, escalation, next tier, repeat). The
//! delivery's external id stays the top-level message's, so every later notice finds it again.
//! Handoff and on-call notices are single messages.
//!
//! Where a message goes: a group destination is a Slack channel id (empty: the `default_channel`
//! setting). A person gets a DM (their Slack member id from NightOwl) — unless the escalation tier
//! notifies through `slack_channel` (the host's `nightowl.channel` setting of the call), which means
//! the team channel: the message goes to `default_channel` and mentions them.

use nightowl_plugin_sdk_channel::incidents::{self, AlertDetails};
use nightowl_plugin_sdk_channel::{
    AlertEvent, AlertNotice, Delivery, Destination, Error, Notification, Subject, config, log,
};
use serde_json::json;

use crate::PLUGIN_ID;
use crate::api::{self, Budget, Posted};
use crate::message::{self, Message};
use crate::mrkdwn::person;

/// The setting naming the channel of `slack_channel` tiers and team notices.
pub const DEFAULT_CHANNEL: &str = "default_channel";
/// The host's setting naming the escalation channel of the call (`slack_dm`, `slack_channel`, ...).
pub const ESCALATION_CHANNEL: &str = "nightowl.channel";

/// Sends one notification.
pub fn notify(n: &Notification) -> Result<Delivery, Error> {
    match &n.subject {
        Subject::Alert(notice) => alert(n, notice),
        Subject::HandoffOutgoing(h) => post(&n.destination, message::handoff(true, h)),
        Subject::HandoffIncoming(h) => post(&n.destination, message::handoff(false, h)),
        Subject::OncallChanged {
            roster,
            previous,
            current,
        } => post(
            &n.destination,
            message::oncall_changed(roster, previous.as_ref(), current.as_ref()),
        ),
    }
}

fn alert(n: &Notification, notice: &AlertNotice) -> Result<Delivery, Error> {
    let details = details(notice);
    let Some(earlier) = n.previous_external_id.as_deref().and_then(Posted::parse) else {
        if notice.event == AlertEvent::Reminder {
            // A repeat of an alert whose message is gone (or never went out here) is no news:
            // the contract is a thread reply, never a new post.
            log::info(&format!(
                "reminder for alert {} has no earlier message to reply to; skipped",
                notice.alert.id
            ));
            return Ok(Delivery {
                external_id: None,
                details: vec![("skipped".into(), "no earlier message to reply to".into())],
            });
        }
        return post(&n.destination, message::alert(&details));
    };
    let mut facts = Vec::new();
    if matches!(notice.event, AlertEvent::Acknowledged | AlertEvent::Resolved) {
        let m = addressed(&n.destination, message::alert(&details));
        api::call(
            "chat.update",
            &json!({
                "channel": earlier.channel,
                "ts": earlier.ts,
                "text": m.text,
                "blocks": m.blocks,
            }),
            Budget::Notify,
        )?;
        facts.push(("updated".to_string(), earlier.external_id()));
    }
    let reply = api::post_message(
        &json!({
            "channel": earlier.channel,
            "thread_ts": earlier.ts,
            "text": message::thread_note(notice.event, notice.tier, &details),
            "unfurl_links": false,
        }),
        Budget::Notify,
    )?;
    facts.push(("thread_reply".to_string(), reply.external_id()));
    Ok(Delivery {
        external_id: Some(earlier.external_id()),
        details: facts,
    })
}

/// The alert as the host knows it now. When the host cannot say, the notice's own summary still
/// makes a message (without number, cluster or on-call): a notification beats none. A fix in it is
/// then shown as unreviewed, since nothing says it was reviewed.
fn details(notice: &AlertNotice) -> AlertDetails {
    match incidents::alert_details(&notice.alert.id) {
        Ok(d) => d,
        Err(e) => {
            log::warn(&format!(
                "alert details of {} unavailable ({e}); posting the summary only",
                notice.alert.id
            ));
            AlertDetails {
                alert: notice.alert.clone(),
                solution_reviewed: false,
                ..AlertDetails::default()
            }
        }
    }
}

/// Posts a new top-level message to the destination.
fn post(to: &Destination, m: Message) -> Result<Delivery, Error> {
    let channel = channel(to)?;
    let m = addressed(to, m);
    let posted = api::post_message(&m.post_to(&channel), Budget::Notify)?;
    Ok(Delivery {
        external_id: Some(posted.external_id()),
        details: vec![("channel".into(), posted.channel), ("ts".into(), posted.ts)],
    })
}

/// Whether a person's notice goes to the team channel (a `slack_channel` tier) rather than a DM.
fn in_team_channel(to: &Destination) -> bool {
    matches!(to, Destination::Person(_))
        && config::get(ESCALATION_CHANNEL).as_deref() == Some("slack_channel")
}

/// A person's message in the team channel names them: a mention in the notification text and a line
/// above the blocks.
fn addressed(to: &Destination, mut m: Message) -> Message {
    if let (true, Destination::Person(p)) = (in_team_channel(to), to) {
        let who = person(p);
        m.text = format!("{who}: {}", m.text);
        m.blocks.insert(
            0,
            json!({"type": "context", "elements": [{"type": "mrkdwn", "text": format!(":bell: For {who}")}]}),
        );
    }
    m
}

/// The Slack channel of a destination: a group's channel id (the `default_channel` setting when the
/// tier names none), the team channel for a person on a `slack_channel` tier, or the bot's DM with a
/// person.
fn channel(to: &Destination) -> Result<String, Error> {
    match to {
        Destination::Group(id) if !id.trim().is_empty() => Ok(id.trim().to_string()),
        Destination::Group(_) => default_channel("the escalation tier names no channel"),
        Destination::Person(_) if in_team_channel(to) => {
            default_channel("the tier notifies through slack_channel")
        }
        Destination::Person(p) => match p.identity(PLUGIN_ID) {
            Some(user) => api::open_dm(user, Budget::Notify),
            None => Err(Error::InvalidPayload(format!(
                "{} has no Slack member id in NightOwl: set slack_user_id on their profile",
                p.name
            ))),
        },
    }
}

fn default_channel(why: &str) -> Result<String, Error> {
    config::get(DEFAULT_CHANNEL)
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            Error::InvalidPayload(format!(
                "no Slack channel: {why} and the setting default_channel is not set"
            ))
        })
}

impl Posted {
    /// Reads a delivery's external id, `"<channel>:<ts>"`.
    pub fn parse(external_id: &str) -> Option<Posted> {
        match external_id.split_once(':') {
            Some((channel, ts)) if !channel.is_empty() && !ts.is_empty() => Some(Posted {
                channel: channel.into(),
                ts: ts.into(),
            }),
            _ => {
                log::warn(&format!(
                    "previous external id {external_id:?} is not <channel>:<ts>; posting anew"
                ));
                None
            }
        }
    }

    /// `"<channel>:<ts>"`, the delivery's external id.
    pub fn external_id(&self) -> String {
        format!("{}:{}", self.channel, self.ts)
    }
}
