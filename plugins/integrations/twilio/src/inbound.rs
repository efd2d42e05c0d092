//! Twilio's callbacks: the signature is checked before anything else (403 and nothing changes when
//! it fails), then the path decides: `/acknowledge` and `/escalate` (the digit of a call), `/sms`
//! (a reply), `/status` (how a call ended).

use nightowl_plugin_sdk_channel::incidents::{self, Actor, OpError};
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
        return Ok(Response::text(403, "twilio: invalid signature"));
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
pub fn act(action: Action, alert: &str, phone: &str) -> Result<(), OpError> {
    let by = Actor::new(PLUGIN_ID, phone);
    match action {
        Action::Acknowledge => incidents::acknowledge(alert, &by, None),
        Action::Escalate => incidents::escalate(alert, &by, Some("escalated by phone")),
        Action::Resolve => incidents::resolve(alert, &by, None),
    }
}

/// An SMS reply (`From`, `Body`). Unknown numbers learn nothing about alerts.
fn handle_sms(req: &Request) -> Response {
    let from = form_value(req, "From").unwrap_or_default();
    let body = form_value(req, "Body").unwrap_or_default();
    let text = match sms::parse_reply(&body) {
        Reply::Act(action, number) => match act(action, &number.to_string(), &from) {
            Ok(()) => format!("#{number} {}.", action.done()),
            Err(OpError::Forbidden(_)) => {
                "NightOwl: this number may not act on alerts. Ask an admin to add it to your profile.".into()
            }
            Err(OpError::NotFound) => format!("NightOwl: there is no alert #{number}."),
            Err(OpError::Conflict(_)) => format!("#{number}: nothing changed, it is already resolved."),
            Err(OpError::Internal(_)) => "NightOwl could not record that. Please try again.".into(),
        },
        // A bare `a`: the host knows the alert it last paged this person about.
        Reply::Bare(action) => match act(action, "last", &from) {
            Ok(()) => format!("NightOwl: the last alert sent to you is {}.", action.done()),
            Err(OpError::Forbidden(_)) => {
                "NightOwl: this number may not act on alerts. Ask an admin to add it to your profile.".into()
            }
            Err(OpError::Conflict(_)) => "NightOwl: nothing changed, that alert is already resolved.".into(),
            Err(_) => sms::bare_help(action),
        },
        Reply::Unknown => sms::HELP.into(),
    };
    twiml::message(&text)
}

/// How a call ended (`CallStatus`). Logged; telling the escalation that a page was not answered needs
/// a host function the 0.1.1 API does not have, so it goes on at the tier's deadline.
fn handle_status(req: &Request) -> Response {
    let status = form_value(req, "CallStatus").unwrap_or_default();
    let alert = query_value(req, "alert").unwrap_or_default();
    let sid = form_value(req, "CallSid").unwrap_or_default();
    match status.as_str() {
        "busy" | "no-answer" | "failed" | "canceled" => {
            log::warn(&format!("twilio call {sid} about alert {alert}: {status}"));
        }
        _ => log::info(&format!("twilio call {sid} about alert {alert}: {status}")),
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
