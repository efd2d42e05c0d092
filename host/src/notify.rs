//! Notifications: where a message is sent. Everything NightOwl tells a person or a team (escalation
//! pages, handoff notices) becomes a row of the outbox in the transaction that decided it, and a
//! worker hands it to a channel.
//!
//! - [`outbox`]: queueing, claiming and settling rows (the lifecycle, retries and leases).
//! - [`dispatch`]: which channel delivers a notification (the built-in `log`, or a channel plugin)
//!   and delivering one claimed row.
//! - [`fold`]: the paging-storm rule (one page per person, channel and interval; the pages in
//!   between go out folded into the next).
//! - [`handoff`]: the notices of roster handoffs.
//! - [`updates`]: status notices to the conversations that already have a message about an alert.
//!
//! Who is paged when is decided by `escalation`, which queues through [`outbox::queue`] and hears back
//! about failed deliveries; the loops that claim and deliver run in `worker`. This module also says
//! how channels see alerts and people ([`alert_ref`], [`responder`]).

pub mod dispatch;
pub mod fold;
pub mod handoff;
pub mod outbox;
pub mod updates;

use uuid::Uuid;

use crate::db::users::Person;
use crate::plugins::{AlertRef, Responder};

/// What every channel shows before a suggested solution no engineer has confirmed (an agent
/// reported it): the text goes to people who may run it at 3 a.m.
pub const UNREVIEWED: &str =
    "[UNREVIEWED: reported by an automated agent, not confirmed by an engineer; check before running]";

/// How channels see an alert.
pub fn alert_ref(a: &nightowl_api::alerts::Alert, public_url: &str) -> AlertRef {
    AlertRef {
        id: a.id.to_string(),
        number: a.number,
        title: a.title.clone(),
        status: a.status.to_string(),
        severity: a.severity.to_string(),
        priority: a.priority.map(|p| p.to_string()),
        service: a.service.clone(),
        description: a.description.clone(),
        suggested_solution: a.suggested_solution.as_ref().map(|s| match a.solution_reviewed {
            Some(false) => format!("{UNREVIEWED} {s}"),
            _ => s.clone(),
        }),
        occurrence_count: u32::try_from(a.occurrence_count).unwrap_or(0),
        url: alert_url(public_url, a.id),
    }
}

/// Link to an alert in the NightOwl UI.
pub fn alert_url(public_url: &str, id: Uuid) -> String {
    format!("{}/alerts/{id}", public_url.trim_end_matches('/'))
}

/// How channels see a person.
pub fn responder(p: &Person) -> Responder {
    Responder {
        user_id: p.id.to_string(),
        name: p.display_name.clone(),
        phone: p.phone.clone(),
        timezone: p.timezone.clone(),
        identities: p
            .slack_user_id
            .iter()
            .map(|id| ("slack".to_owned(), id.clone()))
            .chain(std::iter::once(("email".to_owned(), p.email.clone())))
            .collect(),
    }
}
