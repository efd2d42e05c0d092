//! Test channel plugin: proves the notification path through the plugin runtime without a real
//! service. It delivers every notification, except to recipients whose name contains `flaky` (any case) (the
//! first attempt fails), `broken` (every attempt fails) or `slow` (the call spins until the host stops
//! it at the plugin's deadline). The external id it reports names the recipient and the attempt, so
//! tests can see which call delivered.

use nightowl_plugin_sdk_channel::{
    Channel, Delivery, Destination, Error, Notification, Request, Response, Subject, channel_plugin, log,
};

/// The plugin.
pub struct Recorder;

impl Channel for Recorder {
    fn notify(n: &Notification) -> Result<Delivery, Error> {
        let (id, name) = match &n.destination {
            Destination::Person(p) => (p.user_id.as_str(), p.name.as_str()),
            Destination::Group(g) => (g.as_str(), g.as_str()),
        };
        let subject = match &n.subject {
            Subject::Alert(a) => format!("alert:{}:tier{}", a.alert.id, a.tier),
            Subject::HandoffOutgoing(h) => format!("handoff-outgoing:{}", h.roster),
            Subject::HandoffIncoming(h) => format!("handoff-incoming:{}", h.roster),
            Subject::OncallChanged { roster, .. } => format!("oncall-changed:{roster}"),
        };
        let lower = name.to_lowercase();
        if lower.contains("slow") {
            log::info(&format!("stalling on {subject} for {name}"));
            loop {
                std::hint::spin_loop();
            }
        }
        if lower.contains("broken") || (lower.contains("flaky") && n.attempt == 1) {
            log::warn(&format!("refusing {subject} for {name} (attempt {})", n.attempt));
            return Err(Error::Upstream(format!("simulated outage for {name}")));
        }
        log::info(&format!("delivered {subject} to {name}"));
        Ok(Delivery {
            external_id: Some(format!("rec:{id}:{}", n.attempt)),
            details: vec![("subject".into(), subject)],
        })
    }

    fn handle_inbound(_req: &Request) -> Result<Response, Error> {
        Err(Error::InvalidPayload("the recorder takes no callbacks".into()))
    }
}

channel_plugin!(Recorder);

#[cfg(test)]
mod tests {
    use super::*;
    use nightowl_plugin_sdk_channel::{AlertEvent, AlertNotice, AlertRef, Responder};

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
        assert_eq!(
            Recorder::notify(&to("Alice", 1)),
            Ok(Delivery {
                external_id: Some("rec:u1:1".into()),
                details: vec![("subject".into(), "alert:a1:tier2".into())],
            })
        );
    }

    #[test]
    fn flaky_fails_the_first_attempt_and_broken_every_attempt() {
        assert!(matches!(
            Recorder::notify(&to("Flaky Fred", 1)),
            Err(Error::Upstream(_))
        ));
        assert!(Recorder::notify(&to("Flaky Fred", 2)).is_ok());
        assert!(matches!(
            Recorder::notify(&to("broken bob", 3)),
            Err(Error::Upstream(_))
        ));
        assert!(matches!(
            Recorder::handle_inbound(&Request::default()),
            Err(Error::InvalidPayload(_))
        ));
    }
}
