//! Test channel plugin: proves the notification path through the plugin runtime without a real
//! service. It delivers every notification, except to recipients whose name contains `flaky` (any case) (the
//! first attempt fails), `broken` (every attempt fails) or `slow` (the call spins until the host stops
//! it at the plugin's deadline). The external id it reports names the recipient and the attempt, so
//! tests can see which call delivered.
//!
//! It is deliberately a `nightowl:plugin@0.1.0` plugin: the host's tests load it to prove that a
//! channel plugin built against the frozen 0.1.0 contract still loads and works on a host that speaks
//! 0.1.1. The channel SDK (`nightowl-plugin-sdk-channel`) follows the current contract, so building this
//! plugin with it would quietly make it a 0.1.1 plugin; instead it generates its own bindings from
//! `wit/nightowl-plugin-0.1.0` and implements the raw `channel-api` export itself. It imports `log`
//! only, and on the native target (unit tests) logging is a no-op because the generated imports
//! exist only inside a component.

mod bindings {
    // wit-bindgen's generated FFI glue is `unsafe`; the plugin's own code stays under `deny(unsafe_code)`.
    #![allow(unsafe_code)]

    wit_bindgen::generate!({
        world: "channel",
        path: "../../../wit/nightowl-plugin-0.1.0",
    });
}

use bindings::exports::nightowl::plugin::channel_api::{Delivery, Destination, Guest, Notification, Subject};
use bindings::nightowl::plugin::log::Level;
use bindings::nightowl::plugin::types::{InboundRequest, InboundResponse, Kv, PluginError};

/// The plugin.
pub struct Recorder;

impl Guest for Recorder {
    fn notify(n: Notification) -> Result<Delivery, PluginError> {
        let (id, name) = match &n.destination {
            Destination::Person(p) => (p.user_id.as_str(), p.name.as_str()),
            Destination::Group(g) => (g.as_str(), g.as_str()),
        };
        let subject = match &n.subject {
            Subject::Alert(a) => format!("alert:{}:tier{}", a.alert.id, a.tier),
            Subject::HandoffOutgoing(h) => format!("handoff-outgoing:{}", h.roster),
            Subject::HandoffIncoming(h) => format!("handoff-incoming:{}", h.roster),
            Subject::OncallChanged((roster, _, _)) => format!("oncall-changed:{roster}"),
        };
        let lower = name.to_lowercase();
        if lower.contains("slow") {
            log(Level::Info, &format!("stalling on {subject} for {name}"));
            loop {
                std::hint::spin_loop();
            }
        }
        if lower.contains("broken") || (lower.contains("flaky") && n.attempt == 1) {
            log(
                Level::Warn,
                &format!("refusing {subject} for {name} (attempt {})", n.attempt),
            );
            return Err(PluginError::Upstream(format!("simulated outage for {name}")));
        }
        log(Level::Info, &format!("delivered {subject} to {name}"));
        Ok(Delivery {
            external_id: Some(format!("rec:{id}:{}", n.attempt)),
            details: vec![Kv {
                key: "subject".into(),
                value: subject,
            }],
        })
    }

    fn handle_inbound(_req: InboundRequest) -> Result<InboundResponse, PluginError> {
        Err(PluginError::InvalidPayload(
            "the recorder takes no callbacks".into(),
        ))
    }
}

#[cfg(target_arch = "wasm32")]
// The generated export functions are `unsafe` FFI; the plugin's own code is not.
#[allow(unsafe_code)]
const _: () = {
    crate::bindings::export!(Recorder with_types_in crate::bindings);
};

fn log(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    bindings::nightowl::plugin::log::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (level, message);
}

#[cfg(test)]
mod tests {
    use super::*;
    use bindings::exports::nightowl::plugin::channel_api::{AlertEvent, AlertNotice};
    use bindings::nightowl::plugin::incidents::{AlertRef, Responder};

    fn to(name: &str, attempt: u32) -> Notification {
        Notification {
            subject: Subject::Alert(AlertNotice {
                event: AlertEvent::Triggered,
                alert: AlertRef {
                    id: "a1".into(),
                    title: "Disk full".into(),
                    status: "firing".into(),
                    severity: "critical".into(),
                    priority: None,
                    service: None,
                    description: None,
                    suggested_solution: None,
                    occurrence_count: 1,
                    url: String::new(),
                },
                tier: 2,
            }),
            destination: Destination::Person(Responder {
                user_id: "u1".into(),
                name: name.into(),
                phone: None,
                timezone: "UTC".into(),
                identities: vec![],
            }),
            previous_external_id: None,
            attempt,
        }
    }

    #[test]
    fn delivers_naming_recipient_attempt_and_subject() {
        let d = Recorder::notify(to("Alice", 1)).unwrap();
        assert_eq!(d.external_id.as_deref(), Some("rec:u1:1"));
        assert_eq!(
            d.details
                .iter()
                .map(|kv| (kv.key.as_str(), kv.value.as_str()))
                .collect::<Vec<_>>(),
            vec![("subject", "alert:a1:tier2")]
        );
    }

    #[test]
    fn flaky_fails_the_first_attempt_and_broken_every_attempt() {
        assert!(matches!(
            Recorder::notify(to("Flaky Fred", 1)),
            Err(PluginError::Upstream(_))
        ));
        assert!(Recorder::notify(to("Flaky Fred", 2)).is_ok());
        assert!(matches!(
            Recorder::notify(to("broken bob", 3)),
            Err(PluginError::Upstream(_))
        ));
        let req = InboundRequest {
            method: "POST".into(),
            path: "/".into(),
            query: None,
            headers: vec![],
            body: vec![],
            public_url: String::new(),
        };
        assert!(matches!(
            Recorder::handle_inbound(req),
            Err(PluginError::InvalidPayload(_))
        ));
    }
}
