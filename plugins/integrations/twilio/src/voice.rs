//! Phone calls: the call's TwiML (the alert read out, then one digit gathered: 4 acknowledge,
//! 5 escalate, 6 resolve, * repeat; silence hangs up politely) and the answer to the digit pressed.
//! The TwiML goes inline with the call request, so Twilio fetches nothing from NightOwl to start it.

use nightowl_plugin_sdk_channel::incidents::{AlertDetails, OpError};
use nightowl_plugin_sdk_channel::{Error, Request, Response, config};

use crate::api::{self, Resource};
use crate::inbound::{act, form_value, query_value, unchanged};
use crate::sms::{Action, Bundle};
use crate::twiml::{self, Verb};

/// What the menu says.
pub const MENU: &str = "Press 4 to acknowledge, 5 to escalate, 6 to resolve, or star to repeat.";
/// What is said when nobody pressed anything.
pub const GOODBYE: &str = "No input received. Goodbye.";
/// How long the phone rings before Twilio gives up (`no-answer`), in seconds.
const RING_SECS: &str = "30";

/// Starts a call to `to` reading out the alert (and how many more it stands for); answers the call
/// SID.
pub fn call(details: &AlertDetails, to: &str, bundle: Option<&Bundle>) -> Result<String, Error> {
    let from = api::from_number()?;
    let twiml = twiml::document(&call_verbs(details, bundle));
    let status = callback_url("status", &details.alert.id, None)?;
    api::create(
        Resource::Calls,
        &[
            ("To", to),
            ("From", &from),
            ("Twiml", &twiml),
            ("Timeout", RING_SECS),
            ("StatusCallback", &status),
            ("StatusCallbackMethod", "POST"),
            ("StatusCallbackEvent", "answered"),
            ("StatusCallbackEvent", "completed"),
            // A voicemail that picks up is not the person: Twilio says who answered (`AnsweredBy`).
            ("MachineDetection", "Enable"),
        ],
    )
}

/// The whole call: the alert, the menu, and goodbye when no digit comes.
pub fn call_verbs(details: &AlertDetails, bundle: Option<&Bundle>) -> Vec<Verb> {
    let mut said = spoken(details);
    if let Some(b) = bundle {
        said.push(' ');
        said.push_str(&b.spoken());
    }
    vec![
        Verb::Say(said),
        gather(&details.alert.id, details.number, bundle),
        Verb::Say(GOODBYE.into()),
        Verb::Hangup,
    ]
}

/// What the menu says; for a page that stands for more alerts, what each digit covers.
pub fn menu(number: u64, bundle: Option<&Bundle>) -> String {
    match bundle {
        None => MENU.into(),
        Some(b) => format!(
            "Press 4 to acknowledge all {} alerts, 5 to escalate them all, 6 to resolve alert {number} only, or star to repeat.",
            b.more + 1
        ),
    }
}

/// `NightOwl alert 1234. Severity critical. <title>. Service checkout-api. Suggested fix: <first
/// sentence>.`
pub fn spoken(details: &AlertDetails) -> String {
    let a = &details.alert;
    let mut text = format!(
        "NightOwl alert {}. Severity {}. {}.",
        details.number,
        a.severity,
        a.title.trim().trim_end_matches('.')
    );
    if let Some(service) = a.service.as_deref().filter(|s| !s.trim().is_empty()) {
        text.push_str(&format!(" Service {}.", service.trim()));
    }
    if let Some(fix) = a.suggested_solution.as_deref().and_then(first_sentence) {
        text.push_str(&format!(" Suggested fix: {fix}."));
    }
    text
}

fn first_sentence(text: &str) -> Option<String> {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let end = flat
        .match_indices(['.', '!', '?'])
        .map(|(i, _)| i)
        .find(|&i| flat[i + 1..].is_empty() || flat[i + 1..].starts_with(' '))
        .unwrap_or(flat.len());
    let sentence = flat[..end].trim();
    (!sentence.is_empty()).then(|| sentence.to_string())
}

fn gather(alert_id: &str, number: u64, bundle: Option<&Bundle>) -> Verb {
    // Without a public URL there is nowhere to send the digit: the menu still plays and the
    // callback fails visibly on Twilio's side rather than the page not going out at all.
    let action = callback_url("acknowledge", alert_id, bundle).unwrap_or_default();
    Verb::Gather {
        action,
        prompt: menu(number, bundle),
    }
}

/// `{public}/api/v1/twilio/{path}?tenant={tenant}&alert={alert}` (with `&more=12&worst=critical`
/// for a page standing for more alerts, so `*` can repeat it): where Twilio posts back. Twilio
/// signs exactly this URL, so nothing in it can be swapped.
pub fn callback_url(path: &str, alert_id: &str, bundle: Option<&Bundle>) -> Result<String, Error> {
    let public = config::get("nightowl.public_url")
        .map(|u| u.trim().trim_end_matches('/').to_string())
        .filter(|u| !u.is_empty())
        .ok_or_else(|| Error::Internal("twilio: nightowl.public_url is not set".into()))?;
    let tenant = config::get("nightowl.tenant").unwrap_or_default();
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("tenant", &tenant)
        .append_pair("alert", alert_id);
    if let Some(b) = bundle {
        query
            .append_pair("more", &b.more.to_string())
            .append_pair("worst", &b.worst_severity);
    }
    Ok(format!("{public}/api/v1/twilio/{path}?{}", query.finish()))
}

/// The bundle a callback URL carries (signed with it).
fn bundle_of(req: &Request) -> Option<Bundle> {
    let more = query_value(req, "more")?.parse::<u64>().ok().filter(|n| *n > 0)?;
    Some(Bundle {
        more,
        worst_severity: query_value(req, "worst").unwrap_or_else(|| "unknown".into()),
    })
}

/// The digit pressed (`/acknowledge` and `/escalate`; the digit decides, whichever path).
pub fn handle_gather(req: &Request) -> Result<Response, Error> {
    let Some(alert) = query_value(req, "alert").filter(|a| !a.is_empty()) else {
        return Ok(twiml::answer(&[
            Verb::Say("This call does not name an alert. Goodbye.".into()),
            Verb::Hangup,
        ]));
    };
    let bundle = bundle_of(req);
    // Only the menu needs the number; the digit acts without reading the alert first.
    let number = || crate::notify::details(&alert).map(|d| d.number).unwrap_or(0);
    let action = match form_value(req, "Digits").as_deref().map(str::trim) {
        Some("4") => Action::Acknowledge,
        Some("5") => Action::Escalate,
        Some("6") => Action::Resolve,
        Some("*") => return repeat(&alert, bundle.as_ref()),
        _ => {
            return Ok(twiml::answer(&[
                Verb::Say("Sorry, that is not an option.".into()),
                gather(&alert, number(), bundle.as_ref()),
                Verb::Say(GOODBYE.into()),
                Verb::Hangup,
            ]));
        }
    };
    // On an outbound call the person NightOwl called is `To`; on a call they made, `From`.
    let inbound = form_value(req, "Direction").is_some_and(|d| d.starts_with("inbound"));
    let callee = form_value(req, if inbound { "From" } else { "To" }).unwrap_or_default();
    let said = match act(action, &alert, &callee, "phone") {
        Ok(()) => match (&bundle, action) {
            (Some(b), Action::Acknowledge | Action::Escalate) => format!(
                "All {} alerts are {}. Thank you. Goodbye.",
                b.more + 1,
                action.done()
            ),
            _ => format!("The alert is {}. Thank you. Goodbye.", action.done()),
        },
        Err(OpError::Forbidden(_)) => {
            "This phone number may not change alerts in NightOwl. Nothing was changed. Goodbye.".into()
        }
        Err(OpError::NotFound) => "NightOwl does not know this alert. Goodbye.".into(),
        Err(OpError::Conflict(_)) => format!("Nothing was changed: {}. Goodbye.", unchanged(action)),
        Err(OpError::Internal(_)) => {
            return Ok(twiml::answer(&[
                Verb::Say("NightOwl could not record that. Please try again.".into()),
                gather(&alert, number(), bundle.as_ref()),
                Verb::Say(GOODBYE.into()),
                Verb::Hangup,
            ]));
        }
    };
    Ok(twiml::answer(&[Verb::Say(said), Verb::Hangup]))
}

/// `*`: the whole alert again, then the menu.
fn repeat(alert: &str, bundle: Option<&Bundle>) -> Result<Response, Error> {
    match crate::notify::details(alert) {
        Ok(details) => Ok(twiml::answer(&call_verbs(&details, bundle))),
        Err(_) => Ok(twiml::answer(&[
            Verb::Say(menu(0, bundle)),
            gather(alert, 0, bundle),
            Verb::Say(GOODBYE.into()),
            Verb::Hangup,
        ])),
    }
}
