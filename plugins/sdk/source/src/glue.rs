//! Conversions between the WIT records of the `source` world and the SDK's plain types.

pub use nightowl_plugin_sdk::wit::nightowl::plugin::types;
use nightowl_plugin_sdk::wit::{error, kvs, request};

use crate::{Alert, Source, Status};

/// Calls `T::parse` on a WIT request and converts the answer back.
pub fn parse<T: Source>(req: types::InboundRequest) -> Result<Vec<types::ParsedAlert>, types::PluginError> {
    T::parse(&request(req))
        .map(|alerts| alerts.into_iter().map(alert).collect())
        .map_err(error)
}

fn alert(a: Alert) -> types::ParsedAlert {
    types::ParsedAlert {
        fingerprint: a.fingerprint,
        status: match a.status {
            Status::Firing => types::AlertStatus::Firing,
            Status::Resolved => types::AlertStatus::Resolved,
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
