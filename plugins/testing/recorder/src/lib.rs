//! Test channel plugin: proves the notification path through the plugin runtime without a real
//! service. It delivers every notification, except to recipients whose name contains `flaky` (any case) (the
//! first attempt fails), `broken` (every attempt fails) or `slow` (the call spins until the host stops
//! it at the plugin's deadline). The external id it reports names the recipient and the attempt, so
//! tests can see which call delivered.

#[cfg(target_arch = "wasm32")]
mod component {
    wit_bindgen::generate!({
        inline: "
            package test:recorder;
            world recorder {
                import nightowl:plugin/log@0.1.0;
                export nightowl:plugin/channel-api@0.1.0;
            }
        ",
        path: "../../../wit/nightowl-plugin-0.1.0",
        world: "test:recorder/recorder",
        generate_all,
    });

    use exports::nightowl::plugin::channel_api::{Delivery, Destination, Guest, Notification, Subject};
    use nightowl::plugin::log::{Level, log};
    use nightowl::plugin::types::{InboundRequest, InboundResponse, Kv, PluginError};

    struct Recorder;

    impl Guest for Recorder {
        fn notify(n: Notification) -> Result<Delivery, PluginError> {
            let (id, name) = match &n.destination {
                Destination::Person(p) => (p.user_id.clone(), p.name.clone()),
                Destination::Group(g) => (g.clone(), g.clone()),
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

    export!(Recorder);
}
