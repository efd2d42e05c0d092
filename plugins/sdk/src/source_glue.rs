//! Conversions between the WIT types of the `source` world and the SDK's plain types.

use crate::source_bindings::nightowl::plugin::types as wit;
use crate::{Alert, Error, Request, Source, Status};

/// Calls `T::parse` on a WIT request and converts the answer back.
pub fn parse<T: Source>(req: wit::InboundRequest) -> Result<Vec<wit::ParsedAlert>, wit::PluginError> {
    let req = Request {
        method: req.method,
        path: req.path,
        query: req.query,
        headers: req.headers.into_iter().map(|kv| (kv.key, kv.value)).collect(),
        body: req.body,
        public_url: req.public_url,
    };
    T::parse(&req)
        .map(|alerts| alerts.into_iter().map(alert).collect())
        .map_err(error)
}

fn kvs(pairs: Vec<(String, String)>) -> Vec<wit::Kv> {
    pairs
        .into_iter()
        .map(|(key, value)| wit::Kv { key, value })
        .collect()
}

fn alert(a: Alert) -> wit::ParsedAlert {
    wit::ParsedAlert {
        fingerprint: a.fingerprint,
        status: match a.status {
            Status::Firing => wit::AlertStatus::Firing,
            Status::Resolved => wit::AlertStatus::Resolved,
        },
        title: a.title,
        description: a.description,
        severity: a.severity,
        service: a.service,
        labels: kvs(a.labels),
        annotations: kvs(a.annotations),
        starts_at: a.starts_at,
        ends_at: a.ends_at,
        links: a.links,
        agent_metadata: a.agent_metadata,
    }
}

fn error(e: Error) -> wit::PluginError {
    match e {
        Error::InvalidPayload(m) => wit::PluginError::InvalidPayload(m),
        Error::Unauthorized(m) => wit::PluginError::Unauthorized(m),
        Error::Upstream(m) => wit::PluginError::Upstream(m),
        Error::Internal(m) => wit::PluginError::Internal(m),
    }
}
