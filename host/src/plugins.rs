//! The plugin runtime: WebAssembly components loaded from the plugin directory, called in a fresh,
//! sandboxed instance per call.
//!
//! - `manifest`: `plugin.toml` (id, kind, api line, capabilities, limits).
//! - `runtime`: one wasmtime `Engine` (component model, epoch interruption, pooling allocator,
//!   on-disk compilation cache), per-call `Store` with memory cap and deadline, fault accounting.
//! - `v0_1_0`, `v0_1_1`: host bindings of the `nightowl:plugin` worlds (one module per frozen WIT
//!   version; 0.1.1 adds the channel host imports, see [`crate::channels`]).
//! - `registry`: loading, import checks against granted capabilities, hot reload.

pub mod manifest;
pub mod registry;
pub mod runtime;
pub mod tester;
pub mod v0_1_0;
pub mod v0_1_1;

pub use manifest::{Kind, Manifest};
pub use registry::{LoadedPlugin, Registry};
pub use runtime::{CallError, FaultKind, Runtime};

/// An inbound HTTP request handed to a plugin.
#[derive(Debug, Clone, Default)]
pub struct InboundRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub public_url: String,
}

impl InboundRequest {
    /// Headers that carry NightOwl credentials: never handed to a plugin.
    pub const PRIVATE_HEADERS: [&str; 3] = ["authorization", "x-api-key", "cookie"];

    /// The request's headers as a plugin gets them: lower-case names, values that are text, and no
    /// NightOwl credentials.
    pub fn headers_from(headers: &axum::http::HeaderMap) -> Vec<(String, String)> {
        headers
            .iter()
            .filter(|(name, _)| !Self::PRIVATE_HEADERS.contains(&name.as_str()))
            .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
            .collect()
    }
}

/// What a channel plugin answers to an inbound request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboundResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Firing or resolved, as the source says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceStatus {
    Firing,
    Resolved,
}

/// One alert as a source plugin parsed it (version-independent host form).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ParsedAlert {
    pub fingerprint: Option<String>,
    pub status: SourceStatus,
    pub title: String,
    pub description: Option<String>,
    pub severity: Option<String>,
    pub service: Option<String>,
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub links: Vec<String>,
    pub agent_metadata: Option<String>,
}

/// A plugin's own refusal (as opposed to a fault of the sandbox).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginError {
    #[error("invalid payload: {0}")]
    InvalidPayload(String),
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    #[error("upstream failure: {0}")]
    Upstream(String),
    #[error("plugin error: {0}")]
    Internal(String),
}

/// An alert as channels show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AlertRef {
    pub id: String,
    /// The tenant's short number of the alert (`#1234`); 0 in payloads stored before numbers.
    #[serde(default)]
    pub number: i64,
    pub title: String,
    pub status: String,
    pub severity: String,
    pub priority: Option<String>,
    pub service: Option<String>,
    pub description: Option<String>,
    pub suggested_solution: Option<String>,
    pub occurrence_count: u32,
    /// Link to the alert in the NightOwl UI.
    pub url: String,
}

/// A person a channel reaches.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Responder {
    pub user_id: String,
    pub name: String,
    pub phone: Option<String>,
    pub timezone: String,
    /// External identities keyed by channel, e.g. ("slack", "U123").
    pub identities: Vec<(String, String)>,
}

/// What happened to an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertEvent {
    Triggered,
    Acknowledged,
    Resolved,
    Escalated,
    Reminder,
}

/// A shift summary or briefing at a roster handoff.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HandoffNotice {
    pub roster: String,
    /// RFC 3339.
    pub shift_start: String,
    pub shift_end: String,
    pub alerts: Vec<AlertRef>,
    /// Markdown the host prepared.
    pub summary: String,
}

/// What a notification is about.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Subject {
    Alert {
        event: AlertEvent,
        alert: AlertRef,
        /// 1-based escalation tier.
        tier: u32,
    },
    HandoffOutgoing(HandoffNotice),
    HandoffIncoming(HandoffNotice),
    OncallChanged {
        roster: String,
        previous: Option<Responder>,
        current: Option<Responder>,
    },
}

/// Where a notification goes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Destination {
    Person(Responder),
    /// A channel or group by the channel's own id.
    Group(String),
}

/// One notification for a channel plugin (version-independent host form of the WIT record).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Notification {
    pub subject: Subject,
    pub destination: Destination,
    pub previous_external_id: Option<String>,
    /// 1-based delivery attempt.
    pub attempt: u32,
}

/// What a channel reports about a delivery.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Delivery {
    pub external_id: Option<String>,
    pub details: Vec<(String, String)>,
}
