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

use bindings::nightowl::plugin::{config, log, types};
pub use bindings::{Source, SourcePre};

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
