//! Conversions between the WIT records of the `channel` world and the SDK's plain types.

use crate::incidents::{alert_ref, responder};
pub use crate::wit::exports::nightowl::plugin::channel_api as api;
pub use nightowl_plugin_sdk::wit::nightowl::plugin::types;
use nightowl_plugin_sdk::wit::{error, kvs, request};

use crate::{
    AlertEvent, AlertNotice, Channel, Delivery, Destination, HandoffNotice, Notification, Response, Subject,
};

/// Calls `T::notify` on a WIT notification and converts the answer back.
pub fn notify<T: Channel>(n: api::Notification) -> Result<api::Delivery, types::PluginError> {
    T::notify(&notification(n))
        .map(|d: Delivery| api::Delivery {
            external_id: d.external_id,
            details: kvs(d.details),
        })
        .map_err(error)
}

/// Calls `T::handle_inbound` on a WIT request and converts the answer back.
pub fn handle_inbound<T: Channel>(
    req: types::InboundRequest,
) -> Result<types::InboundResponse, types::PluginError> {
    T::handle_inbound(&request(req))
        .map(|r: Response| types::InboundResponse {
            status: r.status,
            headers: kvs(r.headers),
            body: r.body,
        })
        .map_err(error)
}

fn notification(n: api::Notification) -> Notification {
    Notification {
        subject: match n.subject {
            api::Subject::Alert(a) => Subject::Alert(AlertNotice {
                event: match a.event {
                    api::AlertEvent::Triggered => AlertEvent::Triggered,
                    api::AlertEvent::Acknowledged => AlertEvent::Acknowledged,
                    api::AlertEvent::Resolved => AlertEvent::Resolved,
                    api::AlertEvent::Escalated => AlertEvent::Escalated,
                    api::AlertEvent::Reminder => AlertEvent::Reminder,
                },
                alert: alert_ref(a.alert),
                tier: a.tier,
            }),
            api::Subject::HandoffOutgoing(h) => Subject::HandoffOutgoing(handoff(h)),
            api::Subject::HandoffIncoming(h) => Subject::HandoffIncoming(handoff(h)),
            api::Subject::OncallChanged((roster, previous, current)) => Subject::OncallChanged {
                roster,
                previous: previous.map(responder),
                current: current.map(responder),
            },
        },
        destination: match n.destination {
            api::Destination::Person(p) => Destination::Person(responder(p)),
            api::Destination::Group(g) => Destination::Group(g),
        },
        previous_external_id: n.previous_external_id,
        attempt: n.attempt,
    }
}

fn handoff(h: api::HandoffNotice) -> HandoffNotice {
    HandoffNotice {
        roster: h.roster,
        shift_start: h.shift_start,
        shift_end: h.shift_end,
        alerts: h.alerts.into_iter().map(alert_ref).collect(),
        summary: h.summary,
    }
}
