//! Twilio's callbacks: the signature is checked before anything else (403 and nothing changes when
//! it fails), then the path decides: `/acknowledge` and `/escalate` (the digit of a call), `/sms`
//! (a reply), `/status` (how a call ended).

use nightowl_plugin_sdk_channel::incidents::{self, Actor, DeliveryOutcome, OpError};
use nightowl_plugin_sdk_channel::{Error, Request, Response, log};

use crate::sms::{self, Action, Reply};
use crate::twiml;
use crate::{PLUGIN_ID, signature, voice};

/// Routes a callback once its signature holds.
pub fn handle(req: &Request) -> Result<Response, Error> {
    if !signature::verify(req)? {
        log::warn(&format!(
            "twilio {}: missing or invalid x-twilio-signature",
            req.path
        ));
        // Twilio's documented answer to an unsigned request is 403, not 401.
        return Ok(Response::json(
            403,
            &serde_json::json!({
                "code": "invalid_signature",
                "message": "missing or invalid X-Twilio-Signature for this URL and body"
            }),
        ));
    }
    match req.path.as_str() {
        "/acknowledge" | "/escalate" => voice::handle_gather(req),
        "/sms" => Ok(handle_sms(req)),
        "/status" => Ok(handle_status(req)),
        other => Err(Error::InvalidPayload(format!(
            "no Twilio callback at {other}: expected /acknowledge, /escalate, /sms or /status"
        ))),
    }
}

/// Acts on the alert (by id or number) as the person with this phone number. The host refuses a
/// number that is no active engineer's (`forbidden`), and nothing changes.
pub fn act(action: Action, alert: &str, phone: &str, via: &str) -> Result<(), OpError> {
    let by = Actor::new(PLUGIN_ID, phone);
    match action {
        Action::Acknowledge => incidents::acknowledge(alert, &by, None),
        Action::Escalate => incidents::escalate(alert, &by, Some(&format!("escalated by {via}"))),
        Action::Resolve => incidents::resolve(alert, &by, None),
    }
}

/// Why nothing changed, in words: a resolved alert takes no action; an alert that is not escalating
/// (acknowledged, resolved, or out of tiers) cannot be escalated.
pub fn unchanged(action: Action) -> &'static str {
    match action {
        Action::Escalate => "it is not escalating any more (acknowledged, resolved or out of tiers)",
        Action::Acknowledge | Action::Resolve => "it is already resolved",
    }
}

/// An SMS reply (`From`, `Body`). Unknown numbers learn nothing about alerts.
fn handle_sms(req: &Request) -> Response {
    let from = form_value(req, "From").unwrap_or_default();
    let body = form_value(req, "Body").unwrap_or_default();
    let text = match sms::parse_reply(&body) {
        Reply::Act(action, number) => match act(action, &number.to_string(), &from, "SMS") {
            Ok(()) => format!("#{number} {}.", action.done()),
            Err(OpError::Forbidden(_)) => {
                "NightOwl: this number may not act on alerts. Ask an admin to add it to your profile.".into()
            }
            Err(OpError::NotFound) => format!("NightOwl: there is no alert #{number}."),
            Err(OpError::Conflict(_)) => format!("#{number}: nothing changed, {}.", unchanged(action)),
            Err(OpError::Internal(_)) => "NightOwl could not record that. Please try again.".into(),
        },
        // A bare `a`: the host knows the alert it last paged this person about.
        Reply::Bare(action) => match act(action, "last", &from, "SMS") {
            Ok(()) => format!("NightOwl: the last alert sent to you is {}.", action.done()),
            Err(OpError::Forbidden(_)) => {
                "NightOwl: this number may not act on alerts. Ask an admin to add it to your profile.".into()
            }
            Err(OpError::Conflict(_)) => format!("NightOwl: nothing changed, {}.", unchanged(action)),
            Err(_) => sms::bare_help(action),
        },
        Reply::Unknown => sms::HELP.into(),
    };
    twiml::message(&text)
}

/// How a call or a paging SMS ended (`CallStatus`, `MessageStatus`), told to the host: a call that
/// rang out, was busy or failed, and an SMS that was not delivered, are pages not answered (the
/// escalation goes on at the tier's deadline); an answered call or a delivered SMS reached the
/// person.
fn handle_status(req: &Request) -> Response {
    let (sid, status) = match form_value(req, "CallStatus") {
        Some(status) => (form_value(req, "CallSid"), status),
        None => (
            form_value(req, "MessageSid").or_else(|| form_value(req, "SmsSid")),
            form_value(req, "MessageStatus")
                .or_else(|| form_value(req, "SmsStatus"))
                .unwrap_or_default(),
        ),
    };
    let sid = sid.unwrap_or_default();
    let alert = query_value(req, "alert").unwrap_or_default();
    // Answering machine detection: a voicemail or a fax that picked up did not reach the person.
    let machine = form_value(req, "AnsweredBy")
        .filter(|by| by.starts_with("machine") || by == "fax")
        .map(|by| format!("{status}, answered by {by}"));
    let outcome = match status.as_str() {
        _ if machine.is_some() => Some(DeliveryOutcome::NotAnswered),
        "busy" | "no-answer" | "failed" | "canceled" | "undelivered" => Some(DeliveryOutcome::NotAnswered),
        "in-progress" | "completed" | "delivered" => Some(DeliveryOutcome::Answered),
        _ => None,
    };
    let status = machine.unwrap_or(status);
    let Some(outcome) = outcome.filter(|_| !sid.is_empty()) else {
        log::info(&format!("twilio {sid} about alert {alert}: {status}"));
        return twiml::answer(&[]);
    };
    if outcome == DeliveryOutcome::NotAnswered {
        log::warn(&format!("twilio {sid} about alert {alert}: {status}"));
    }
    match incidents::report_delivery(&sid, outcome, &status) {
        Ok(()) => {}
        // A call NightOwl did not place through this tenant's pages (or no longer knows).
        Err(OpError::NotFound) => log::info(&format!("twilio status for unknown {sid}: {status}")),
        Err(e) => log::warn(&format!("twilio status of {sid} not recorded: {e}")),
    }
    twiml::answer(&[])
}

/// The first value of a form field of the body.
pub fn form_value(req: &Request, name: &str) -> Option<String> {
    form_urlencoded::parse(&req.body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The first value of a query parameter.
pub fn query_value(req: &Request, name: &str) -> Option<String> {
    let query = req.query.as_deref()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
