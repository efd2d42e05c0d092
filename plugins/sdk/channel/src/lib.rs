//! SDK for NightOwl **channel** plugins: a plugin delivers notifications (Slack, phone, SMS, ...) and
//! answers the channel's callbacks (Slack interactions, Twilio webhooks).
//!
//! A channel plugin is a type implementing [`Channel`] plus one line, `channel_plugin!(MyType);`. The
//! SDK converts between the `nightowl:plugin@0.1.1` WIT records and the plain Rust types here, so the
//! plugin's logic never touches raw bindings and is unit-tested natively.
//!
//! ```
//! use nightowl_plugin_sdk_channel::{
//!     Channel, Delivery, Destination, Error, Notification, Request, Response, channel_plugin, log,
//! };
//!
//! /// Delivers by writing a log line.
//! pub struct Example;
//!
//! impl Channel for Example {
//!     fn notify(n: &Notification) -> Result<Delivery, Error> {
//!         let to = match &n.destination {
//!             Destination::Person(p) => p.name.as_str(),
//!             Destination::Group(g) => g.as_str(),
//!         };
//!         log::info(&format!("notifying {to}"));
//!         Ok(Delivery::default())
//!     }
//!
//!     fn handle_inbound(_req: &Request) -> Result<Response, Error> {
//!         Err(Error::InvalidPayload("this channel takes no callbacks".into()))
//!     }
//! }
//!
//! channel_plugin!(Example);
//! ```
//!
//! # Host interfaces
//!
//! Each host import has a module of plain functions and types: [`log`], [`config`], [`http`]
//! (`http-client`), [`crypto`] and [`incidents`], plus [`now_unix`] for the wall clock (NightOwl's
//! injected clock, so tests can move time). Only the functions a plugin calls become imports of its
//! component, and the host refuses a component importing an interface its `plugin.toml` does not
//! grant: a plugin calling [`http::send`] needs `capabilities = ["http-client"]`, [`crypto`] needs
//! `"crypto"`, [`incidents`] needs `"incidents"`.
//!
//! WIT version: a component built with this crate is a `nightowl:plugin@0.1.1` channel. `log` and
//! `config` come from the shared crate's bindings (generated from 0.1.0, which 0.1.1 left
//! unchanged); the component linker unifies them to 0.1.1 (the hidden `wit` module says why). A
//! plugin that must stay a 0.1.0 plugin generates its own bindings instead
//! (`plugins/testing/recorder`).
//!
//! # Testing natively
//!
//! Outside wasm the host imports are answered by a test double: build a [`testing::Host`] with the
//! settings, secrets, scripted HTTP answers and incident data a test needs, [`testing::Host::install`]
//! it on the test's thread, call the plugin, then read what it sent with [`testing::requests`] and
//! [`testing::calls`].
//!
//! ```
//! use nightowl_plugin_sdk_channel::{http, testing};
//!
//! testing::Host::new()
//!     .http("https://api.example.com/ping", http::Response::json(200, &serde_json::json!({"ok": true})))
//!     .install();
//! let answer = http::send(&http::Request::get("https://api.example.com/ping")).unwrap();
//! assert_eq!(answer.status, 200);
//! assert_eq!(testing::requests()[0].url, "https://api.example.com/ping");
//! ```

#![warn(missing_docs)]

pub use nightowl_plugin_sdk::{Error, Request, config, log};

pub mod crypto;
pub mod http;
pub mod incidents;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

/// WIT bindings of the `channel` world, used by [`channel_plugin!`]; not part of the plugin-facing API.
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod wit;

/// Conversions used by [`channel_plugin!`]; not part of the plugin-facing API.
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod glue;

/// Seconds since the Unix epoch by the wall clock. In a component that is NightOwl's injected clock
/// (tests on the host move it); natively it is the time the installed [`testing::Host`] was given
/// ([`testing::Host::now`], [`testing::set_now`]), or the system clock when none was.
pub fn now_unix() -> i64 {
    #[cfg(not(target_arch = "wasm32"))]
    if let Some(now) = testing::now() {
        return now;
    }
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// What happened to an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertEvent {
    /// A new alert fired.
    Triggered,
    /// Someone acknowledged it.
    Acknowledged,
    /// It was resolved.
    Resolved,
    /// It moved to the next escalation tier.
    Escalated,
    /// It is still open: a reminder.
    Reminder,
}

/// An alert as channels show it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertRef {
    /// NightOwl's alert id.
    pub id: String,
    /// Short summary.
    pub title: String,
    /// `firing`, `acknowledged` or `resolved`.
    pub status: String,
    /// `critical`, `major`, `warning` or `info`.
    pub severity: String,
    /// `P1`..`P5`, when known.
    pub priority: Option<String>,
    /// Affected service, when known.
    pub service: Option<String>,
    /// Longer text, when the source gave one.
    pub description: Option<String>,
    /// Known fix from the knowledge base, when one matched.
    pub suggested_solution: Option<String>,
    /// How often the alert fired (deduplicated deliveries count up).
    pub occurrence_count: u32,
    /// Link to the alert in the NightOwl UI.
    pub url: String,
}

/// A person to notify.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Responder {
    /// NightOwl's user id.
    pub user_id: String,
    /// Display name.
    pub name: String,
    /// E.164 phone number, when known.
    pub phone: Option<String>,
    /// IANA time zone.
    pub timezone: String,
    /// External identities keyed by channel, e.g. `("slack", "U123")`.
    pub identities: Vec<(String, String)>,
}

impl Responder {
    /// The person's id on a channel (`identity("slack")` = their Slack member id), when known.
    pub fn identity(&self, channel: &str) -> Option<&str> {
        self.identities
            .iter()
            .find(|(c, id)| c == channel && !id.is_empty())
            .map(|(_, id)| id.as_str())
    }
}

/// What happened to which alert, and which escalation tier sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertNotice {
    /// What happened.
    pub event: AlertEvent,
    /// The alert.
    pub alert: AlertRef,
    /// Escalation tier (1-based) that sent the notice.
    pub tier: u32,
}

/// A shift summary or briefing at a roster handoff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoffNotice {
    /// The roster whose shift changes.
    pub roster: String,
    /// RFC 3339 start of the shift.
    pub shift_start: String,
    /// RFC 3339 end of the shift.
    pub shift_end: String,
    /// Alerts open or raised during the shift.
    pub alerts: Vec<AlertRef>,
    /// Markdown summary the host prepared.
    pub summary: String,
}

/// What a notification is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// Something happened to an alert.
    Alert(AlertNotice),
    /// For the person leaving the shift.
    HandoffOutgoing(HandoffNotice),
    /// For the person taking over.
    HandoffIncoming(HandoffNotice),
    /// "On-call has changed", for a team channel.
    OncallChanged {
        /// The roster.
        roster: String,
        /// Who was primary.
        previous: Option<Responder>,
        /// Who is primary now.
        current: Option<Responder>,
    },
}

/// Where a notification goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A person (direct message, call, SMS).
    Person(Responder),
    /// A channel or group, by the channel's own id (e.g. a Slack channel id).
    Group(String),
}

/// One notification to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// What it is about.
    pub subject: Subject,
    /// Where it goes.
    pub destination: Destination,
    /// External id of an earlier message about the same alert, so the plugin can update it or reply
    /// in its thread instead of posting anew.
    pub previous_external_id: Option<String>,
    /// Delivery attempt, starting at 1.
    pub attempt: u32,
}

/// What the plugin reports about a delivery.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    /// The channel's id of what was sent (Slack `channel:ts`, a Twilio call SID); the host stores it
    /// and hands it back as [`Notification::previous_external_id`].
    pub external_id: Option<String>,
    /// Extra facts for the outbox row (e.g. a permalink).
    pub details: Vec<(String, String)>,
}

/// The HTTP answer to a channel callback.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Response headers.
    pub headers: Vec<(String, String)>,
    /// Response body.
    pub body: Vec<u8>,
}

impl Response {
    /// A response without a body (e.g. `200` to acknowledge a callback).
    pub fn empty(status: u16) -> Response {
        Response {
            status,
            ..Response::default()
        }
    }

    /// A JSON response (`content-type: application/json`).
    pub fn json(status: u16, body: &serde_json::Value) -> Response {
        Response {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    /// A plain-text response (`content-type: text/plain; charset=utf-8`).
    pub fn text(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON (for tests).
    pub fn body_json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

/// A notification channel.
pub trait Channel {
    /// Sends one notification. An [`Error::Upstream`] makes the host retry with backoff.
    fn notify(n: &Notification) -> Result<Delivery, Error>;

    /// Answers a callback from the channel (Slack interactions, Twilio webhooks). Must verify the
    /// request's signature before acting on it.
    fn handle_inbound(req: &Request) -> Result<Response, Error>;
}

/// Registers a [`Channel`] implementation as the component's `channel-api` export. Expands to nothing
/// outside wasm, so the plugin's logic stays testable natively.
#[macro_export]
macro_rules! channel_plugin {
    ($ty:ty) => {
        #[cfg(target_arch = "wasm32")]
        // The generated export functions are `unsafe` FFI; the plugin's own code is not.
        #[allow(unsafe_code)]
        const _: () = {
            struct Export;
            impl $crate::wit::exports::nightowl::plugin::channel_api::Guest for Export {
                fn notify(
                    n: $crate::glue::api::Notification,
                ) -> ::std::result::Result<$crate::glue::api::Delivery, $crate::glue::types::PluginError>
                {
                    $crate::glue::notify::<$ty>(n)
                }

                fn handle_inbound(
                    req: $crate::glue::types::InboundRequest,
                ) -> ::std::result::Result<
                    $crate::glue::types::InboundResponse,
                    $crate::glue::types::PluginError,
                > {
                    $crate::glue::handle_inbound::<$ty>(req)
                }
            }
    $crate::wit::export_channel_world!(Export with_types_in $crate::wit);
        };
    };
}
