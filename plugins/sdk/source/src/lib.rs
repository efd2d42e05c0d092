//! SDK for NightOwl **source** plugins: a plugin turns one inbound webhook delivery into alerts.
//!
//! A source plugin is a type implementing [`Source`] plus one line, `source_plugin!(MyType);`. The SDK
//! converts between the `nightowl:plugin@0.1.0` WIT records and the plain Rust types here, so plugin
//! logic never touches raw bindings, and the same code compiles natively, where `cargo test` runs it
//! (and its data cases, see [`cases`]) without a wasm runtime.
//!
//! ```
//! use nightowl_plugin_sdk_source::{Alert, Error, Request, Source, source_plugin};
//!
//! /// Alerts from a hypothetical `{"problem": "..."}` webhook.
//! pub struct Example;
//!
//! #[derive(serde::Deserialize)]
//! struct Payload {
//!     problem: String,
//! }
//!
//! impl Source for Example {
//!     fn parse(req: &Request) -> Result<Vec<Alert>, Error> {
//!         let payload: Payload = req.json()?;
//!         Ok(vec![Alert { title: payload.problem, ..Alert::default() }])
//!     }
//! }
//!
//! source_plugin!(Example);
//! # let alerts = Example::parse(&Request::json_body(r#"{"problem": "disk full"}"#)).unwrap();
//! # assert_eq!(alerts[0].title, "disk full");
//! ```
//!
//! A source plugin imports only `log` and `config` ([`log`], [`config`]): it has no network, no
//! secrets and no incident access. This crate cannot reach the channel world's interfaces, so a
//! source plugin cannot import them by accident; the host refuses a component that does.

#![warn(missing_docs)]

pub use nightowl_plugin_sdk::{Error, Request, config, log};

#[cfg(not(target_arch = "wasm32"))]
pub mod cases;

/// WIT bindings of the `source` world, used by [`source_plugin!`]; not part of the plugin-facing API.
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod wit;

/// Conversions used by [`source_plugin!`]; not part of the plugin-facing API.
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod glue;

/// Whether the source says the problem is ongoing or over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The problem is ongoing.
    #[default]
    Firing,
    /// The problem is over; the host resolves the matching open alert.
    Resolved,
}

/// One alert as the plugin understood it; the host normalises severity and fingerprint.
///
/// Serialises (for data cases) with the field names below, `status` in lower case and label and
/// annotation pairs as `[name, value]` arrays, as the host prints a parsed alert.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Alert {
    /// The source's dedup key; the host derives one from title + labels when absent.
    pub fingerprint: Option<String>,
    /// Firing or resolved.
    pub status: Status,
    /// Short summary shown in lists and notifications. Must not be empty.
    pub title: String,
    /// Longer text, when the source gives one.
    pub description: Option<String>,
    /// Severity or priority text as the source sent it ("critical", "high", "P2", ...).
    pub severity: Option<String>,
    /// Affected service, when the source names one.
    pub service: Option<String>,
    /// The source's labels, in the order the plugin wants them stored.
    pub labels: Vec<(String, String)>,
    /// The source's annotations.
    pub annotations: Vec<(String, String)>,
    /// RFC 3339, as the source reported it.
    pub starts_at: Option<String>,
    /// RFC 3339, as the source reported it.
    pub ends_at: Option<String>,
    /// Links back into the source.
    pub links: Vec<String>,
    /// JSON object text describing what an automated agent did
    /// (`{"auto_resolved": true, "action": "..."}` makes the host store the alert resolved).
    pub agent_metadata: Option<String>,
}

/// An alert source: turns one webhook delivery into alerts.
pub trait Source {
    /// Parses a delivery. Pure: no network, no state kept between calls (each call runs in a fresh
    /// instance).
    fn parse(req: &Request) -> Result<Vec<Alert>, Error>;
}

/// Registers a [`Source`] implementation as the component's `source-api` export. Expands to nothing
/// outside wasm, so the plugin's logic stays testable natively.
#[macro_export]
macro_rules! source_plugin {
    ($ty:ty) => {
        #[cfg(target_arch = "wasm32")]
        // The generated export functions are `unsafe` FFI; the plugin's own code is not.
        #[allow(unsafe_code)]
        const _: () = {
            struct Export;
            impl $crate::wit::exports::nightowl::plugin::source_api::Guest for Export {
                fn parse(
                    req: $crate::glue::types::InboundRequest,
                ) -> ::std::result::Result<
                    ::std::vec::Vec<$crate::glue::types::ParsedAlert>,
                    $crate::glue::types::PluginError,
                > {
                    $crate::glue::parse::<$ty>(req)
                }
            }
    $crate::wit::export_source_world!(Export with_types_in $crate::wit);
        };
    };
}
