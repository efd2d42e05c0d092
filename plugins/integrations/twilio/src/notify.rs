//! What a notification becomes: a new or escalated alert is a phone call or an SMS (as the tier's
//! `nightowl.channel` says), a status change is a short confirmation SMS, and a phone tier never
//! calls about status changes (waking someone to say "resolved" helps nobody).

use nightowl_plugin_sdk_channel::incidents::{self, AlertDetails, OpError};
use nightowl_plugin_sdk_channel::{
    AlertEvent, AlertNotice, Delivery, Destination, Error, Notification, Responder, Subject, config,
};

use crate::api::{self, Resource};
use crate::sms::Bundle;
use crate::{sms, voice};

/// How the tier reaches people (`nightowl.channel`, set by the host from the tier's `notify_via`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// A phone call.
    Phone,
    /// An SMS.
    Sms,
}

impl Via {
    fn from_config() -> Result<Via, Error> {
        match config::get("nightowl.channel").as_deref().map(str::trim) {
            Some("phone") | Some("voice") => Ok(Via::Phone),
            Some("sms") => Ok(Via::Sms),
            other => Err(Error::InvalidPayload(format!(
                "twilio: nightowl.channel is {other:?}; expected phone or sms"
            ))),
        }
    }
}

/// Sends one notification.
pub fn notify(n: &Notification) -> Result<Delivery, Error> {
    let person = match &n.destination {
        Destination::Person(p) => p,
        Destination::Group(g) => {
            return Err(Error::InvalidPayload(format!(
                "twilio calls and texts people, not groups ({g})"
            )));
        }
    };
    let Subject::Alert(notice) = &n.subject else {
        return Ok(skipped("twilio pages about alerts only"));
    };
    let to = phone(person)?;
    let via = Via::from_config()?;
    if is_update(
        notice,
        config::get("nightowl.kind").as_deref(),
        n.previous_external_id.as_deref(),
    ) {
        return match via {
            Via::Phone => Ok(skipped("no call for a status update")),
            Via::Sms => confirm(notice, &to),
        };
    }
    let details = details(&notice.alert.id)?;
    let bundle = Bundle::from_config();
    let sid = match via {
        Via::Phone => voice::call(&details, &to, bundle.as_ref())?,
        Via::Sms => {
            let text = sms::bundle_text(
                details.number,
                &details.alert.severity,
                details.alert.service.as_deref(),
                &details.alert.title,
                bundle.as_ref(),
            );
            send_sms(&to, &text, Some(&details.alert.id))?
        }
    };
    Ok(Delivery {
        external_id: Some(sid),
        details: vec![("to".into(), to)],
    })
}

/// A status notice about an alert the person was already paged about, not a page. The host says which
/// (`nightowl.kind`: `alert` for a page, whatever its tier or round, `update` for a notice); a host
/// that does not is read by the event and the earlier message.
fn is_update(notice: &AlertNotice, kind: Option<&str>, previous: Option<&str>) -> bool {
    match notice.event {
        AlertEvent::Acknowledged | AlertEvent::Resolved => true,
        AlertEvent::Triggered | AlertEvent::Escalated | AlertEvent::Reminder => match kind {
            Some(kind) => kind == "update",
            None => notice.event != AlertEvent::Triggered && previous.is_some(),
        },
    }
}

fn confirm(notice: &AlertNotice, to: &str) -> Result<Delivery, Error> {
    let details = details(&notice.alert.id)?;
    let text = match notice.event {
        AlertEvent::Acknowledged => {
            sms::update_text(details.number, "acknowledged", details.acknowledged_by.as_deref())
        }
        AlertEvent::Resolved => sms::update_text(details.number, "resolved", details.resolved_by.as_deref()),
        AlertEvent::Escalated => sms::update_text(details.number, "escalated", None),
        AlertEvent::Reminder | AlertEvent::Triggered => sms::alert_text(
            details.number,
            &details.alert.severity,
            details.alert.service.as_deref(),
            &details.alert.title,
        ),
    };
    let sid = send_sms(to, &text, None)?;
    Ok(Delivery {
        external_id: Some(sid),
        details: vec![("to".into(), to.into())],
    })
}

/// Sends an SMS; a page asks Twilio to report its delivery (`/status`: undelivered or failed pages
/// count as not answered).
fn send_sms(to: &str, body: &str, page_of: Option<&str>) -> Result<String, Error> {
    let from = api::from_number()?;
    let status = page_of.and_then(|alert| voice::callback_url("status", alert, None).ok());
    let mut fields = vec![("To", to), ("From", from.as_str()), ("Body", body)];
    if let Some(url) = status.as_deref() {
        fields.push(("StatusCallback", url));
    }
    api::create(Resource::Messages, &fields)
}

/// The person's E.164 number; without one the page cannot go out, now or on a retry.
fn phone(person: &Responder) -> Result<String, Error> {
    person
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(String::from)
        .ok_or_else(|| {
            Error::InvalidPayload(format!(
                "twilio: {} ({}) has no phone number",
                person.name, person.user_id
            ))
        })
}

/// The alert's number and the rest of what a page says.
pub fn details(alert: &str) -> Result<AlertDetails, Error> {
    incidents::alert_details(alert).map_err(|e| match e {
        OpError::Internal(m) => Error::Upstream(format!("twilio: alert details of {alert}: {m}")),
        other => Error::InvalidPayload(format!("twilio: alert details of {alert}: {other}")),
    })
}

fn skipped(why: &str) -> Delivery {
    Delivery {
        external_id: None,
        details: vec![("skipped".into(), why.into())],
    }
}
