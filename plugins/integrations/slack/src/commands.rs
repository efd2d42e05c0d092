//! `/commands`: the `/nightowl` slash command (a form-encoded POST). Subcommands: `search <words>`,
//! `oncall [roster]`, `ack <#n>`, `resolve <#n> [notes]`, `roster [name]`, `help`; anything else
//! answers the usage. The answer is the HTTP response itself (`{"response_type", "text", "blocks"?}`):
//! ephemeral (only the caller sees it) unless it tells the channel something happened to an alert.

use nightowl_plugin_sdk_channel::incidents::{self, OpError, Responder, RosterOnCall};
use nightowl_plugin_sdk_channel::{Error, Request, Response};
use serde_json::{Value, json};

use crate::message::alert_name;
use crate::mrkdwn::{escape, link, person, truncate};
use crate::reply::{actor, alert_label, op_failure};
use crate::when;

/// Knowledge-base hits a search shows.
pub const SEARCH_HITS: u32 = 3;
/// Shifts `roster` shows.
pub const SHIFTS: u32 = 5;

/// What the command answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// Whether the whole channel sees it (`in_channel`) or only the caller (`ephemeral`).
    pub in_channel: bool,
    /// mrkdwn text.
    pub text: String,
    /// Block Kit blocks, when the text alone does not do.
    pub blocks: Option<Vec<Value>>,
}

impl Reply {
    fn ephemeral(text: impl Into<String>) -> Reply {
        Reply {
            in_channel: false,
            text: text.into(),
            blocks: None,
        }
    }

    fn in_channel(text: impl Into<String>) -> Reply {
        Reply {
            in_channel: true,
            text: text.into(),
            blocks: None,
        }
    }

    /// The response body Slack expects.
    pub fn to_json(&self) -> Value {
        let mut body = json!({
            "response_type": if self.in_channel { "in_channel" } else { "ephemeral" },
            "text": self.text,
        });
        if let Some(blocks) = &self.blocks {
            body["blocks"] = Value::Array(blocks.clone());
        }
        body
    }
}

/// Answers one slash command (signature already checked).
pub fn handle(req: &Request) -> Result<Response, Error> {
    let form = req.form();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    };
    if field("ssl_check") == "1" {
        // Slack checking the certificate of the command URL: nothing to run.
        return Ok(Response::empty(200));
    }
    let user = field("user_id");
    if user.is_empty() {
        return Err(Error::InvalidPayload("slash command without user_id".into()));
    }
    let command = Some(field("command"))
        .filter(|c| !c.is_empty())
        .unwrap_or("/nightowl");
    let (sub, rest) = split_word(field("text"));
    let reply = match sub.to_lowercase().as_str() {
        "search" => search(rest, user, command),
        "oncall" | "on-call" => oncall(rest, user),
        "ack" | "acknowledge" => ack(rest, user, command),
        "resolve" => resolve(rest, user, command),
        "roster" | "shifts" => roster(rest, user, command),
        "" | "help" => Reply::ephemeral(usage(command)),
        _ => Reply::ephemeral(format!("Unknown command `{}`.\n{}", escape(sub), usage(command))),
    };
    Ok(Response::json(200, &reply.to_json()))
}

/// The first word and the rest, both trimmed.
fn split_word(text: &str) -> (&str, &str) {
    let text = text.trim();
    match text.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (text, ""),
    }
}

/// The help text.
pub fn usage(command: &str) -> String {
    let c = escape(command);
    format!(
        "*NightOwl* commands:\n\
         • `{c} search <words>`: search the knowledge base\n\
         • `{c} oncall [roster]`: who is on call now\n\
         • `{c} ack <#number>`: acknowledge an alert\n\
         • `{c} resolve <#number> [notes]`: resolve an alert, with optional notes\n\
         • `{c} roster [name]`: the next shifts of a roster\n\
         • `{c} help`: this list"
    )
}

fn search(query: &str, user: &str, command: &str) -> Reply {
    if query.is_empty() {
        return Reply::ephemeral(format!("Usage: `{} search <words>`", escape(command)));
    }
    let hits = match incidents::search_kb_highlighted(query, SEARCH_HITS) {
        Ok(hits) => hits,
        Err(e) => {
            return Reply::ephemeral(op_failure(
                "search the knowledge base",
                "nothing to search",
                user,
                &e,
            ));
        }
    };
    if hits.is_empty() {
        return Reply::ephemeral(format!("No knowledge-base incident matches “{}”.", escape(query)));
    }
    let title = format!(
        "Knowledge base: {} for “{}”",
        if hits.len() == 1 {
            "1 match".to_string()
        } else {
            format!("{} matches", hits.len())
        },
        escape(query)
    );
    let mut blocks = vec![json!({"type": "section", "text": {"type": "mrkdwn", "text": title}})];
    for m in &hits {
        let mut text = if m.hit.url.is_empty() {
            format!("*{}*", escape(&m.hit.title))
        } else {
            format!("*{}*", link(&m.hit.url, &m.hit.title))
        };
        let passage = highlighted(&m.fragments);
        if !passage.is_empty() {
            text.push_str(&format!("\n{passage}"));
        }
        if let Some(solution) = m.hit.solution.as_deref().filter(|s| !s.trim().is_empty()) {
            text.push_str(&format!(
                "\n_Solution:_ {}",
                escape(&truncate(solution.trim(), 300))
            ));
        }
        blocks.push(json!({"type": "divider"}));
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(&text, 2900)}}));
    }
    Reply {
        in_channel: false,
        text: title,
        blocks: Some(blocks),
    }
}

/// The passages with the matched words in bold. Slack's bold must hug its words, so the spaces
/// around a highlighted piece stay outside the asterisks.
fn highlighted(fragments: &[incidents::Fragment]) -> String {
    let mut out = String::new();
    for f in fragments {
        let core = f.text.trim();
        if f.highlighted && !core.is_empty() && !core.contains('*') {
            let lead = &f.text[..f.text.len() - f.text.trim_start().len()];
            let trail = &f.text[f.text.trim_end().len()..];
            out.push_str(&format!("{lead}*{}*{trail}", escape(core)));
        } else {
            out.push_str(&escape(&f.text));
        }
    }
    out.trim().replace('\n', " ")
}

fn oncall(roster: &str, user: &str) -> Reply {
    let filter = Some(roster).filter(|r| !r.is_empty());
    match incidents::rosters_on_call(filter) {
        Ok(list) if list.is_empty() => Reply::ephemeral("There are no rosters yet."),
        Ok(list) => Reply::ephemeral(list.iter().map(on_call_now).collect::<Vec<_>>().join("\n\n")),
        Err(OpError::NotFound) => Reply::ephemeral(format!("There is no roster “{}”.", escape(roster))),
        Err(e) => Reply::ephemeral(op_failure("look up who is on call", "no such roster", user, &e)),
    }
}

/// `*Payments* (Europe/Berlin)`, then primary until when (in the roster's offset) and secondary.
fn on_call_now(r: &RosterOnCall) -> String {
    let who = |p: &Option<Responder>| p.as_ref().map(person).unwrap_or_else(|| "nobody".into());
    let mut text = format!(
        "*{}* ({})\nPrimary: {}",
        escape(&r.roster),
        escape(&r.timezone),
        who(&r.primary)
    );
    if let (Some(_), Some(until)) = (&r.primary, &r.until) {
        text.push_str(&format!(" until {}", escape(&when::at(until))));
    }
    if r.secondary.is_some() {
        text.push_str(&format!("\nSecondary: {}", who(&r.secondary)));
    }
    text
}

fn ack(rest: &str, user: &str, command: &str) -> Reply {
    let (alert, _) = split_word(rest);
    if alert.is_empty() {
        return Reply::ephemeral(format!("Usage: `{} ack <#number>`", escape(command)));
    }
    let label = alert_label(alert);
    match incidents::acknowledge(alert, &actor(user), None) {
        Ok(()) => Reply::in_channel(format!(":eyes: <@{user}> acknowledged {}.", shown(alert, &label))),
        Err(e) => Reply::ephemeral(op_failure(
            &format!("acknowledge {label}"),
            &format!("there is no alert {label}"),
            user,
            &e,
        )),
    }
}

fn resolve(rest: &str, user: &str, command: &str) -> Reply {
    let (alert, notes) = split_word(rest);
    if alert.is_empty() {
        return Reply::ephemeral(format!("Usage: `{} resolve <#number> [notes]`", escape(command)));
    }
    let label = alert_label(alert);
    let notes = Some(notes).filter(|n| !n.is_empty());
    match incidents::resolve(alert, &actor(user), notes) {
        Ok(()) => {
            let mut text = format!(":white_check_mark: <@{user}> resolved {}.", shown(alert, &label));
            if let Some(notes) = notes {
                text.push_str(&format!("\n> {}", escape(notes)));
            }
            Reply::in_channel(text)
        }
        Err(e) => Reply::ephemeral(op_failure(
            &format!("resolve {label}"),
            &format!("there is no alert {label}"),
            user,
            &e,
        )),
    }
}

/// The alert as a link with its number and title, or its label when the details are unavailable.
fn shown(alert: &str, label: &str) -> String {
    match incidents::alert_details(alert) {
        Ok(d) if !d.alert.url.is_empty() => link(&d.alert.url, &alert_name(&d)),
        Ok(d) => escape(&alert_name(&d)),
        Err(_) => escape(label),
    }
}

fn roster(name: &str, user: &str, command: &str) -> Reply {
    let name = if name.is_empty() {
        match incidents::rosters_on_call(None) {
            Ok(list) if list.is_empty() => return Reply::ephemeral("There are no rosters yet."),
            Ok(list) if list.len() == 1 => list[0].roster.clone(),
            Ok(list) => {
                let names: Vec<String> = list.iter().map(|r| format!("`{}`", escape(&r.roster))).collect();
                return Reply::ephemeral(format!(
                    "Which roster? `{} roster <name>`, with one of: {}",
                    escape(command),
                    names.join(", ")
                ));
            }
            Err(e) => return Reply::ephemeral(op_failure("list the rosters", "no rosters", user, &e)),
        }
    } else {
        name.to_string()
    };
    match incidents::upcoming_shifts(&name, SHIFTS) {
        Ok(shifts) if shifts.is_empty() => {
            Reply::ephemeral(format!("No upcoming shifts in {}.", escape(&name)))
        }
        Ok(shifts) => {
            let mut lines = vec![format!("*Next shifts of {}*", escape(&name))];
            for s in &shifts {
                lines.push(format!(
                    "• {}: {}",
                    escape(&when::span(&s.start, &s.end)),
                    person(&s.responder)
                ));
            }
            Reply::ephemeral(lines.join("\n"))
        }
        Err(OpError::NotFound) => Reply::ephemeral(format!("There is no roster “{}”.", escape(&name))),
        Err(e) => Reply::ephemeral(op_failure("list the shifts", "no such roster", user, &e)),
    }
}
