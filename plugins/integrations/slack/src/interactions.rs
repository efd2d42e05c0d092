//! `/interactions`: button clicks on alert messages and the "Add to knowledge base" form. Slack posts a
//! form with one field, `payload`, holding JSON.
//!
//! - `block_actions` `ack` / `escalate`: acknowledge or escalate as the clicking Slack member. On
//!   success the answer is an empty 200 and nothing else: the host's status notice then edits the
//!   message. A refusal (`forbidden`: the "link your account" text) or failure is told to the clicker
//!   alone through the payload's `response_url` (ephemeral, the original message left as it is).
//! - `block_actions` `kb_add`: opens the form (`views.open`), pre-filled from the alert.
//! - `view_submission` of that form: creates the knowledge-base incident linked to the alert and
//!   confirms to the submitter (`chat.postEphemeral`); the empty 200 closes the form, or
//!   `{"response_action": "errors", ...}` keeps it open with the reason under the title.
//! - Anything else (the runbook link button, unknown actions, other payload types): an empty 200.

use std::collections::BTreeMap;

use nightowl_plugin_sdk_channel::incidents::{self, AlertDetails, IncidentDraft, KbHit, OpError};
use nightowl_plugin_sdk_channel::{Error, Request, Response, log};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::api::{self, Budget};
use crate::message::{ACK, ESCALATE, KB_ADD, alert_name};
use crate::mrkdwn::{escape, link, truncate};
use crate::reply::{actor, op_failure};

/// `callback_id` of the knowledge-base form.
pub const KB_FORM: &str = "kb_add";
/// `action_id` of every input of the form (inputs are told apart by their `block_id`).
pub const INPUT: &str = "value";
/// The severities the form offers, as NightOwl names them.
const SEVERITIES: [&str; 4] = ["critical", "major", "warning", "info"];

/// The part of an interaction payload NightOwl reads.
#[derive(Debug, Deserialize)]
struct Payload {
    #[serde(rename = "type")]
    kind: String,
    user: Option<Id>,
    trigger_id: Option<String>,
    response_url: Option<String>,
    channel: Option<Id>,
    container: Option<Container>,
    #[serde(default)]
    actions: Vec<Action>,
    view: Option<View>,
}

#[derive(Debug, Deserialize)]
struct Id {
    id: String,
}

#[derive(Debug, Deserialize)]
struct Container {
    channel_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Action {
    action_id: String,
    value: Option<String>,
}

#[derive(Debug, Deserialize)]
struct View {
    #[serde(default)]
    callback_id: String,
    #[serde(default)]
    private_metadata: String,
    #[serde(default)]
    state: State,
}

#[derive(Debug, Default, Deserialize)]
struct State {
    /// block_id → action_id → what was entered.
    #[serde(default)]
    values: BTreeMap<String, BTreeMap<String, Input>>,
}

#[derive(Debug, Deserialize)]
struct Input {
    value: Option<String>,
    selected_option: Option<Choice>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    value: String,
}

/// What the form carries from the click to the submission (its `private_metadata`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KbFormMeta {
    /// The alert the incident is linked to.
    pub alert_id: String,
    /// Its number, for the confirmation.
    pub alert_number: u64,
    /// Where the button was clicked: the confirmation goes there.
    pub channel_id: Option<String>,
    /// Who clicked: the confirmation is for them.
    pub user_id: String,
}

/// Answers one interaction (signature already checked).
pub fn handle(req: &Request) -> Result<Response, Error> {
    let raw = req
        .form()
        .into_iter()
        .find(|(k, _)| k == "payload")
        .map(|(_, v)| v)
        .ok_or_else(|| Error::InvalidPayload("interaction without a payload field".into()))?;
    let p: Payload =
        serde_json::from_str(&raw).map_err(|e| Error::InvalidPayload(format!("interaction payload: {e}")))?;
    match p.kind.as_str() {
        "block_actions" => {
            block_actions(&p);
            Ok(Response::empty(200))
        }
        "view_submission" => view_submission(&p),
        _ => Ok(Response::empty(200)),
    }
}

fn block_actions(p: &Payload) {
    let (Some(user), Some(action)) = (&p.user, p.actions.first()) else {
        return;
    };
    let user = user.id.as_str();
    let alert = action.value.as_deref().unwrap_or_default();
    let refused = match action.action_id.as_str() {
        ACK => incidents::acknowledge(alert, &actor(user), None)
            .err()
            .map(|e| op_failure("acknowledge this alert", "it no longer exists", user, &e)),
        ESCALATE => incidents::escalate(alert, &actor(user), None)
            .err()
            .map(|e| op_failure("escalate this alert", "it no longer exists", user, &e)),
        KB_ADD => open_kb_form(p, user, alert).err(),
        _ => None,
    };
    if let Some(text) = refused {
        tell(p, &text);
    }
}

/// Tells the person who clicked, and nobody else, leaving the message as it is.
fn tell(p: &Payload, text: &str) {
    let Some(url) = p.response_url.as_deref() else {
        log::warn(&format!("no response_url to tell the user: {text}"));
        return;
    };
    let body = json!({"response_type": "ephemeral", "replace_original": false, "text": text});
    if let Err(e) = api::respond(url, &body) {
        log::warn(&format!("could not tell the user ({e}): {text}"));
    }
}

/// Opens the knowledge-base form; `Err` is what to tell the clicker instead.
fn open_kb_form(p: &Payload, user: &str, alert: &str) -> Result<(), String> {
    let trigger = p
        .trigger_id
        .as_deref()
        .ok_or_else(|| "Slack sent no trigger_id, so the form cannot open.".to_string())?;
    let details = incidents::alert_details(alert).map_err(|e| {
        op_failure(
            "open the knowledge-base form",
            "the alert no longer exists",
            user,
            &e,
        )
    })?;
    let meta = KbFormMeta {
        alert_id: details.alert.id.clone(),
        alert_number: details.number,
        channel_id: p
            .channel
            .as_ref()
            .map(|c| c.id.clone())
            .or_else(|| p.container.as_ref().and_then(|c| c.channel_id.clone())),
        user_id: user.into(),
    };
    api::call(
        "views.open",
        &json!({"trigger_id": trigger, "view": kb_form(&details, &meta)}),
        Budget::Inbound,
    )
    .map(|_| ())
    .map_err(|e| {
        log::warn(&format!("knowledge-base form: {e}"));
        format!(
            "Could not open the knowledge-base form ({}).",
            escape(e.message())
        )
    })
}

/// The form, pre-filled from the alert: its title, its alert name and title as error patterns, its
/// service, its description as the symptoms. Root cause and solution are for the person to write.
pub fn kb_form(d: &AlertDetails, meta: &KbFormMeta) -> Value {
    let a = &d.alert;
    let mut patterns: Vec<&str> = Vec::new();
    for p in [d.label("alertname"), Some(a.title.as_str())]
        .into_iter()
        .flatten()
    {
        if !p.trim().is_empty() && !patterns.contains(&p) {
            patterns.push(p);
        }
    }
    let severity = if SEVERITIES.contains(&a.severity.as_str()) {
        a.severity.as_str()
    } else {
        "major"
    };
    let from = if a.url.is_empty() {
        escape(&alert_name(d))
    } else {
        link(&a.url, &alert_name(d))
    };
    json!({
        "type": "modal",
        "callback_id": KB_FORM,
        "title": {"type": "plain_text", "text": "Add to knowledge base"},
        "submit": {"type": "plain_text", "text": "Add"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": serde_json::to_string(meta).unwrap_or_default(),
        "blocks": [
            {"type": "context", "elements": [{"type": "mrkdwn", "text": format!("From alert {from}")}]},
            input("title", "Title", false, false, Some(&a.title), None),
            {
                "type": "input",
                "block_id": "severity",
                "label": {"type": "plain_text", "text": "Severity"},
                "element": {
                    "type": "static_select",
                    "action_id": INPUT,
                    "options": SEVERITIES.iter().map(|s| option(s)).collect::<Vec<_>>(),
                    "initial_option": option(severity),
                },
            },
            input("services", "Services", true, false, a.service.as_deref(), Some("Comma-separated")),
            input("error_patterns", "Error patterns", true, true, Some(&patterns.join("\n")),
                  Some("One per line: texts that identify this problem in alerts")),
            input("symptoms", "Symptoms", true, true, a.description.as_deref(), None),
            input("root_cause", "Root cause", true, true, None, None),
            input("solution", "Solution", true, true, None, Some("What fixed it, step by step")),
        ],
    })
}

fn option(severity: &str) -> Value {
    let mut label = severity.to_string();
    label[..1].make_ascii_uppercase();
    json!({"text": {"type": "plain_text", "text": label}, "value": severity})
}

fn input(
    block: &str,
    label: &str,
    optional: bool,
    multiline: bool,
    initial: Option<&str>,
    hint: Option<&str>,
) -> Value {
    let mut element = json!({"type": "plain_text_input", "action_id": INPUT, "multiline": multiline});
    // Slack refuses an initial value longer than the input's 3000 characters.
    if let Some(v) = initial.map(str::trim).filter(|v| !v.is_empty()) {
        element["initial_value"] = json!(truncate(v, 3000));
    }
    let mut block = json!({
        "type": "input",
        "block_id": block,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": element,
    });
    if let Some(h) = hint {
        block["hint"] = json!({"type": "plain_text", "text": h});
    }
    block
}

fn view_submission(p: &Payload) -> Result<Response, Error> {
    let Some(view) = p.view.as_ref().filter(|v| v.callback_id == KB_FORM) else {
        return Ok(Response::empty(200));
    };
    let user = p
        .user
        .as_ref()
        .map(|u| u.id.as_str())
        .ok_or_else(|| Error::InvalidPayload("view_submission without a user".into()))?;
    let meta: KbFormMeta = serde_json::from_str(&view.private_metadata)
        .map_err(|e| Error::InvalidPayload(format!("knowledge-base form metadata: {e}")))?;
    let entered = |block: &str| -> Option<String> {
        let input = view.state.values.get(block)?.get(INPUT)?;
        input
            .value
            .clone()
            .or_else(|| input.selected_option.as_ref().map(|o| o.value.clone()))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let Some(title) = entered("title") else {
        return Ok(form_error("title", "Give the incident a title."));
    };
    let draft = IncidentDraft {
        title,
        severity: entered("severity").unwrap_or_else(|| "major".into()),
        services: split(entered("services"), ','),
        error_patterns: split(entered("error_patterns"), '\n'),
        symptoms: entered("symptoms"),
        root_cause: entered("root_cause"),
        solution: entered("solution"),
    };
    match incidents::create_incident(&draft, &actor(user), Some(&meta.alert_id)) {
        Ok(hit) => {
            confirm(&meta, &hit);
            Ok(Response::empty(200))
        }
        Err(e) => Ok(form_error("title", &refusal(user, &e))),
    }
}

fn split(text: Option<String>, at: char) -> Vec<String> {
    text.map(|t| {
        t.split(at)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Into::into)
            .collect()
    })
    .unwrap_or_default()
}

/// Keeps the form open with `message` under the block.
fn form_error(block: &str, message: &str) -> Response {
    Response::json(
        200,
        &json!({"response_action": "errors", "errors": {block: message}}),
    )
}

/// Why the incident was not created, as plain text (form errors show no mrkdwn).
fn refusal(user: &str, e: &OpError) -> String {
    match e {
        OpError::Forbidden(_) => format!(
            "Your Slack account is not linked to an active NightOwl engineer. Ask a NightOwl admin to set \
             your Slack member ID ({user}) on your NightOwl profile."
        ),
        OpError::NotFound => "The alert no longer exists.".into(),
        OpError::Conflict(why) => why.clone(),
        OpError::Internal(why) => {
            log::error(&format!("creating a knowledge-base incident failed: {why}"));
            "NightOwl could not save it just now. Try again.".into()
        }
    }
}

/// Tells the submitter where the new incident is (a failure here is only logged: it exists).
fn confirm(meta: &KbFormMeta, hit: &KbHit) {
    let Some(channel) = meta.channel_id.as_deref() else {
        return;
    };
    let incident = if hit.url.is_empty() {
        escape(&hit.title)
    } else {
        link(&hit.url, &hit.title)
    };
    let alert = if meta.alert_number > 0 {
        format!("#{}", meta.alert_number)
    } else {
        "the alert".into()
    };
    let body = json!({
        "channel": channel,
        "user": meta.user_id,
        "text": format!(":books: Added {incident} to the knowledge base and linked {alert} to it."),
    });
    if let Err(e) = api::call("chat.postEphemeral", &body, Budget::Inbound) {
        log::warn(&format!("knowledge-base confirmation: {e}"));
    }
}
