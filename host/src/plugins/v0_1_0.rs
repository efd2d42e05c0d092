//! Host bindings of `nightowl:plugin@0.1.0` (wit/nightowl-plugin-0.1.0). Frozen with the WIT folder: a
//! new WIT version gets a new module beside this one.

use super::runtime::HostState;
use super::{ParsedAlert, PluginError, SourceStatus};

mod bindings {
    wasmtime::component::bindgen!({
        world: "source",
        path: "../wit/nightowl-plugin-0.1.0",
        imports: { default: trappable },
    });
}

mod channel_bindings {
    wasmtime::component::bindgen!({
        world: "channel",
        path: "../wit/nightowl-plugin-0.1.0",
        imports: { default: trappable },
        with: {
            "nightowl:plugin/types": super::bindings::nightowl::plugin::types,
            "nightowl:plugin/log": super::bindings::nightowl::plugin::log,
            "nightowl:plugin/config": super::bindings::nightowl::plugin::config,
        },
    });
}

use bindings::nightowl::plugin::{config, log, types};
pub use bindings::{Source, SourcePre};
use channel_bindings::exports::nightowl::plugin::channel_api as ch;
use channel_bindings::nightowl::plugin::incidents;
pub use channel_bindings::{Channel, ChannelPre};

impl types::Host for HostState {}

impl log::Host for HostState {
    fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        self.log_line(
            match level {
                log::Level::Trace | log::Level::Debug => tracing::Level::DEBUG,
                log::Level::Info => tracing::Level::INFO,
                log::Level::Warn => tracing::Level::WARN,
                log::Level::Error => tracing::Level::ERROR,
            },
            &message,
        );
        Ok(())
    }
}

impl config::Host for HostState {
    fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.config.get(&key).cloned())
    }
}

/// Adds the source world's host interfaces to a linker.
pub fn add_source_to_linker(linker: &mut wasmtime::component::Linker<HostState>) -> wasmtime::Result<()> {
    log::add_to_linker::<HostState, wasmtime::component::HasSelf<HostState>>(linker, |s| s)?;
    config::add_to_linker::<HostState, wasmtime::component::HasSelf<HostState>>(linker, |s| s)?;
    types::add_to_linker::<HostState, wasmtime::component::HasSelf<HostState>>(linker, |s| s)?;
    Ok(())
}

/// Adds what a 0.1.0 channel component imports beyond the 0.1.1 interfaces
/// ([`super::v0_1_1::add_channel_to_linker`], which serve its `incidents`, `http-client` and
/// `crypto` imports through semver matching): `log`, `config` and `types` at 0.1.0.
pub fn add_channel_to_linker(linker: &mut wasmtime::component::Linker<HostState>) -> wasmtime::Result<()> {
    add_source_to_linker(linker)
}

fn alert_ref(a: &super::AlertRef) -> incidents::AlertRef {
    incidents::AlertRef {
        id: a.id.clone(),
        title: a.title.clone(),
        status: a.status.clone(),
        severity: a.severity.clone(),
        priority: a.priority.clone(),
        service: a.service.clone(),
        description: a.description.clone(),
        suggested_solution: a.suggested_solution.clone(),
        occurrence_count: a.occurrence_count,
        url: a.url.clone(),
    }
}

fn responder(r: &super::Responder) -> incidents::Responder {
    incidents::Responder {
        user_id: r.user_id.clone(),
        name: r.name.clone(),
        phone: r.phone.clone(),
        timezone: r.timezone.clone(),
        identities: r.identities.clone(),
    }
}

fn handoff(h: &super::HandoffNotice) -> ch::HandoffNotice {
    ch::HandoffNotice {
        roster: h.roster.clone(),
        shift_start: h.shift_start.clone(),
        shift_end: h.shift_end.clone(),
        alerts: h.alerts.iter().map(alert_ref).collect(),
        summary: h.summary.clone(),
    }
}

/// Host notification → WIT notification.
pub fn notification(n: &super::Notification) -> ch::Notification {
    use super::{AlertEvent as E, Destination as D, Subject as S};
    ch::Notification {
        subject: match &n.subject {
            S::Alert { event, alert, tier } => ch::Subject::Alert(ch::AlertNotice {
                event: match event {
                    E::Triggered => ch::AlertEvent::Triggered,
                    E::Acknowledged => ch::AlertEvent::Acknowledged,
                    E::Resolved => ch::AlertEvent::Resolved,
                    E::Escalated => ch::AlertEvent::Escalated,
                    E::Reminder => ch::AlertEvent::Reminder,
                },
                alert: alert_ref(alert),
                tier: *tier,
            }),
            S::HandoffOutgoing(h) => ch::Subject::HandoffOutgoing(handoff(h)),
            S::HandoffIncoming(h) => ch::Subject::HandoffIncoming(handoff(h)),
            S::OncallChanged {
                roster,
                previous,
                current,
            } => ch::Subject::OncallChanged((
                roster.clone(),
                previous.as_ref().map(responder),
                current.as_ref().map(responder),
            )),
        },
        destination: match &n.destination {
            D::Person(p) => ch::Destination::Person(responder(p)),
            D::Group(g) => ch::Destination::Group(g.clone()),
        },
        previous_external_id: n.previous_external_id.clone(),
        attempt: n.attempt,
    }
}

/// WIT delivery → host delivery.
pub fn delivery(d: ch::Delivery) -> super::Delivery {
    super::Delivery {
        external_id: d.external_id,
        details: pairs(d.details),
    }
}

/// WIT response → host response.
pub fn response(r: types::InboundResponse) -> super::InboundResponse {
    super::InboundResponse {
        status: r.status,
        headers: pairs(r.headers),
        body: r.body,
    }
}

/// Host request → WIT request.
pub fn request(req: &super::InboundRequest) -> types::InboundRequest {
    types::InboundRequest {
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        headers: req
            .headers
            .iter()
            .map(|(k, v)| types::Kv {
                key: k.clone(),
                value: v.clone(),
            })
            .collect(),
        body: req.body.clone(),
        public_url: req.public_url.clone(),
    }
}

fn pairs(kvs: Vec<types::Kv>) -> Vec<(String, String)> {
    kvs.into_iter().map(|kv| (kv.key, kv.value)).collect()
}

/// WIT alert → host alert.
pub fn alert(a: types::ParsedAlert) -> ParsedAlert {
    ParsedAlert {
        fingerprint: a.fingerprint,
        status: match a.status {
            types::AlertStatus::Firing => SourceStatus::Firing,
            types::AlertStatus::Resolved => SourceStatus::Resolved,
        },
        title: a.title,
        description: a.description,
        severity: a.severity,
        service: a.service,
        labels: pairs(a.labels),
        annotations: pairs(a.annotations),
        starts_at: a.starts_at,
        ends_at: a.ends_at,
        links: a.links,
        agent_metadata: a.agent_metadata,
    }
}

/// WIT plugin error → host plugin error.
pub fn error(e: types::PluginError) -> PluginError {
    match e {
        types::PluginError::InvalidPayload(m) => PluginError::InvalidPayload(m),
        types::PluginError::Unauthorized(m) => PluginError::Unauthorized(m),
        types::PluginError::Upstream(m) => PluginError::Upstream(m),
        types::PluginError::Internal(m) => PluginError::Internal(m),
    }
}
