//! What NightOwl's Slack messages look like (Block Kit): the alert message with its buttons, the
//! thread notes that follow it, handoff notices and the on-call change. Pure functions of the data;
//! [`notify`](crate::notify) decides which one goes where. Every message has a `text` too: Slack
//! shows it in notifications and where blocks cannot be shown.

use nightowl_plugin_sdk_channel::incidents::AlertDetails;
use nightowl_plugin_sdk_channel::{AlertEvent, AlertRef, HandoffNotice, Responder};
use serde_json::{Value, json};

use crate::mrkdwn::{escape, from_markdown, link, person, truncate};
use crate::when::slack_date;

/// `action_id` of the Acknowledge button (its `value` is the alert id).
pub const ACK: &str = "ack";
/// `action_id` of the Escalate button (its `value` is the alert id).
pub const ESCALATE: &str = "escalate";
/// `action_id` of the View runbook link button (Slack reports its clicks too; they are ignored).
pub const RUNBOOK: &str = "runbook";
/// `action_id` of the Add to knowledge base button (its `value` is the alert id).
pub const KB_ADD: &str = "kb_add";
/// `block_id` of the alert message's buttons.
pub const ACTIONS_BLOCK: &str = "alert_actions";

/// Slack caps a section's text at 3000 characters and a field's at 2000.
const SECTION_MAX: usize = 2900;
const FIELD_MAX: usize = 1900;
/// Alerts listed in a handoff notice before "… and N more".
const HANDOFF_ALERTS_MAX: usize = 15;

/// A message: the notification text and the blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Plain fallback (mrkdwn), shown in notifications.
    pub text: String,
    /// Block Kit blocks.
    pub blocks: Vec<Value>,
}

impl Message {
    /// The `chat.postMessage` body for a channel.
    pub fn post_to(&self, channel: &str) -> Value {
        json!({
            "channel": channel,
            "text": self.text,
            "blocks": self.blocks,
            "unfurl_links": false,
            "unfurl_media": false,
        })
    }
}

/// Emoji and word of a severity.
pub fn severity(severity: &str) -> (&'static str, String) {
    let emoji = match severity {
        "critical" => ":red_circle:",
        "major" => ":large_orange_circle:",
        "warning" => ":large_yellow_circle:",
        "info" => ":large_blue_circle:",
        _ => ":white_circle:",
    };
    (emoji, capitalised(severity))
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "Unknown".into(),
    }
}

/// `#42 Disk full`, or just the title when the number is unknown.
pub fn alert_name(d: &AlertDetails) -> String {
    if d.number > 0 {
        format!("#{} {}", d.number, d.alert.title)
    } else {
        d.alert.title.clone()
    }
}

/// The alert message: what, how bad, where, who is on call, the known fix, links, and the buttons
/// that still apply to its status (Acknowledge and Escalate only while it fires).
pub fn alert(d: &AlertDetails) -> Message {
    let a = &d.alert;
    let (emoji, word) = severity(&a.severity);
    let name = alert_name(d);
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": truncate(&name, 150), "emoji": true},
    })];
    blocks.push(json!({"type": "section", "fields": fields(d)}));
    if let Some(description) = a.description.as_deref().filter(|s| !s.trim().is_empty()) {
        blocks.push(section(&truncate(&escape(description), SECTION_MAX)));
    }
    blocks.push(section(&solution(d)));
    let status = status_lines(d);
    if !status.is_empty() {
        blocks.push(context(&[status.join("\n")]));
    }
    blocks.push(context(&links(d)));
    blocks.push(json!({"type": "actions", "block_id": ACTIONS_BLOCK, "elements": buttons(d)}));

    let mut text = format!("{emoji} {word}: {}", escape(&name));
    if let Some(service) = &a.service {
        text.push_str(&format!(" ({})", escape(service)));
    }
    if a.status != "firing" {
        text.push_str(&format!(" — {}", a.status));
    }
    Message { text, blocks }
}

fn fields(d: &AlertDetails) -> Vec<Value> {
    let a = &d.alert;
    let (emoji, word) = severity(&a.severity);
    let mut severity = format!("{emoji} {word}");
    if let Some(p) = &a.priority {
        severity.push_str(&format!(" · {}", escape(p)));
    }
    let mut fields = vec![
        field("Severity", &severity),
        field("Status", &status_word(&a.status)),
    ];
    for (label, value) in [
        ("Service", &a.service),
        ("Cluster", &d.cluster),
        ("Namespace", &d.namespace),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            fields.push(field(label, &escape(v)));
        }
    }
    fields.push(field("On call", &on_call(&d.on_call)));
    fields
}

fn status_word(status: &str) -> String {
    match status {
        "firing" => ":fire: Firing".into(),
        "acknowledged" => ":eyes: Acknowledged".into(),
        "resolved" => ":white_check_mark: Resolved".into(),
        other => escape(&capitalised(other)),
    }
}

/// `<@U1> (primary), Bob`, or `nobody`.
fn on_call(people: &[Responder]) -> String {
    if people.is_empty() {
        return "nobody".into();
    }
    people
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if i == 0 && people.len() > 1 {
                format!("{} (primary)", person(p))
            } else {
                person(p)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The known fix, marked when nobody reviewed it, or "No known fix yet".
fn solution(d: &AlertDetails) -> String {
    let known = d
        .alert
        .suggested_solution
        .as_deref()
        .or(d.matched_incident.as_ref().and_then(|m| m.solution.as_deref()))
        .filter(|s| !s.trim().is_empty());
    let Some(fix) = known else {
        return "*Suggested solution*\nNo known fix yet".into();
    };
    let mut text = "*Suggested solution*".to_string();
    if !d.solution_reviewed {
        text.push_str(" :warning: _unreviewed (suggested by an agent)_");
    }
    text.push('\n');
    let source = d
        .matched_incident
        .as_ref()
        .filter(|m| !m.url.is_empty())
        .map(|m| format!("\n{}", link(&m.url, &format!("Knowledge base: {}", m.title))))
        .unwrap_or_default();
    text.push_str(&truncate(
        &from_markdown(fix),
        SECTION_MAX - text.len() - source.len().min(500),
    ));
    text.push_str(&truncate(&source, 500));
    text
}

/// Who acknowledged and resolved it, and when (Slack date tokens, in each reader's time zone).
pub fn status_lines(d: &AlertDetails) -> Vec<String> {
    let mut lines = Vec::new();
    let line = |emoji: &str, verb: &str, by: &Option<String>, at: &Option<String>| {
        let mut l = format!("{emoji} {verb}");
        if let Some(by) = by {
            l.push_str(&format!(" by {}", escape(by)));
        }
        if let Some(at) = at {
            l.push_str(&format!(" · {}", slack_date(at)));
        }
        l
    };
    if d.acknowledged_by.is_some() || d.acknowledged_at.is_some() || d.alert.status == "acknowledged" {
        lines.push(line(
            ":eyes:",
            "Acknowledged",
            &d.acknowledged_by,
            &d.acknowledged_at,
        ));
    }
    if d.resolved_by.is_some() || d.resolved_at.is_some() || d.alert.status == "resolved" {
        lines.push(line(
            ":white_check_mark:",
            "Resolved",
            &d.resolved_by,
            &d.resolved_at,
        ));
    }
    lines
}

/// The alert in NightOwl first, then the source's links (a context block holds at most 10).
fn links(d: &AlertDetails) -> Vec<String> {
    let mut out = Vec::new();
    if !d.alert.url.is_empty() {
        let label = if d.number > 0 {
            format!("Open #{} in NightOwl", d.number)
        } else {
            "Open in NightOwl".into()
        };
        out.push(link(&d.alert.url, &label));
    }
    let sources: Vec<&String> = d.links.iter().filter(|l| !l.trim().is_empty()).collect();
    for (i, url) in sources.iter().enumerate().take(9) {
        let label = if sources.len() == 1 {
            "Source".to_string()
        } else {
            format!("Source {}", i + 1)
        };
        out.push(link(url, &label));
    }
    if out.is_empty() {
        out.push(format!("Alert {}", escape(&d.alert.id)));
    }
    out
}

fn buttons(d: &AlertDetails) -> Vec<Value> {
    let id = d.alert.id.as_str();
    let mut out = Vec::new();
    if d.alert.status == "firing" {
        out.push(json!({
            "type": "button", "action_id": ACK, "value": id, "style": "primary",
            "text": {"type": "plain_text", "text": "Acknowledge"},
        }));
        out.push(json!({
            "type": "button", "action_id": ESCALATE, "value": id,
            "text": {"type": "plain_text", "text": "Escalate"},
        }));
    }
    if let Some(url) = d.runbook_url.as_deref().filter(|u| !u.is_empty()) {
        out.push(json!({
            "type": "button", "action_id": RUNBOOK, "value": id, "url": url,
            "text": {"type": "plain_text", "text": "View runbook"},
        }));
    }
    out.push(json!({
        "type": "button", "action_id": KB_ADD, "value": id,
        "text": {"type": "plain_text", "text": "Add to knowledge base"},
    }));
    out
}

/// The thread reply about an event on an alert already posted.
pub fn thread_note(event: AlertEvent, tier: u32, d: &AlertDetails) -> String {
    match event {
        AlertEvent::Triggered => {
            format!(":rotating_light: Still not acknowledged: notifying escalation tier {tier}.")
        }
        AlertEvent::Escalated => format!(":arrow_double_up: Escalated to tier {tier}."),
        AlertEvent::Reminder => format!(
            ":repeat: Fired again: {} occurrences so far.",
            d.alert.occurrence_count
        ),
        AlertEvent::Acknowledged => status_lines(d)
            .into_iter()
            .next()
            .unwrap_or_else(|| ":eyes: Acknowledged".into()),
        AlertEvent::Resolved => {
            let mut note = status_lines(d)
                .pop()
                .unwrap_or_else(|| ":white_check_mark: Resolved".into());
            if d.matched_incident.is_none() {
                note.push_str(
                    "\nKnow the fix? *Add to knowledge base* on the message above keeps it for next time.",
                );
            }
            note
        }
    }
}

/// A handoff notice: the host's summary, the alerts with links, the shift's bounds.
pub fn handoff(outgoing: bool, h: &HandoffNotice) -> Message {
    let title = if outgoing {
        format!("Shift summary: {}", h.roster)
    } else {
        format!("You are on call: {}", h.roster)
    };
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": truncate(&title, 150), "emoji": true},
    })];
    let summary = from_markdown(&h.summary);
    if !summary.is_empty() {
        blocks.push(section(&truncate(&summary, SECTION_MAX)));
    }
    if !h.alerts.is_empty() {
        blocks.push(section(&truncate(&alert_list(&h.alerts), SECTION_MAX)));
    }
    let end = if h.shift_end.is_empty() {
        "further notice".to_string()
    } else {
        slack_date(&h.shift_end)
    };
    blocks.push(context(&[format!(
        "Shift: {} – {end}",
        slack_date(&h.shift_start)
    )]));
    Message {
        text: escape(&title),
        blocks,
    }
}

fn alert_list(alerts: &[AlertRef]) -> String {
    let mut lines = vec!["*Alerts*".to_string()];
    for a in alerts.iter().take(HANDOFF_ALERTS_MAX) {
        let (emoji, word) = severity(&a.severity);
        let title = if a.url.is_empty() {
            escape(&a.title)
        } else {
            link(&a.url, &a.title)
        };
        lines.push(format!("• {title} · {emoji} {word} · {}", escape(&a.status)));
    }
    if alerts.len() > HANDOFF_ALERTS_MAX {
        lines.push(format!("• … and {} more", alerts.len() - HANDOFF_ALERTS_MAX));
    }
    lines.join("\n")
}

/// "On-call for Payments is now <@U2> (was Alice)".
pub fn oncall_changed(roster: &str, previous: Option<&Responder>, current: Option<&Responder>) -> Message {
    let mut text = format!(
        "On-call for {} is now {}",
        escape(roster),
        current.map(person).unwrap_or_else(|| "nobody".into())
    );
    if let Some(p) = previous {
        text.push_str(&format!(" (was {})", person(p)));
    }
    Message {
        blocks: vec![section(&format!(":busts_in_silhouette: {text}"))],
        text,
    }
}

fn section(mrkdwn: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}})
}

fn field(label: &str, mrkdwn: &str) -> Value {
    json!({"type": "mrkdwn", "text": format!("*{label}*\n{}", truncate(mrkdwn, FIELD_MAX))})
}

fn context(items: &[String]) -> Value {
    let elements: Vec<Value> = items
        .iter()
        .map(|t| json!({"type": "mrkdwn", "text": truncate(t, SECTION_MAX)}))
        .collect();
    json!({"type": "context", "elements": elements})
}
