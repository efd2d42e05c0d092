//! Guest SDK for NightOwl plugins.
//!
//! A source plugin is a type implementing [`Source`] plus one line, `source_plugin!(MyType);`. The SDK
//! converts between the `nightowl:plugin@0.1.0` WIT types and the plain Rust types here, so plugin
//! logic never touches raw bindings and compiles (and is unit-tested) natively as well as for
//! `wasm32-wasip2`.

use serde::de::DeserializeOwned;

#[cfg(all(target_arch = "wasm32", feature = "source"))]
#[doc(hidden)]
pub mod source_bindings {
    wit_bindgen::generate!({
        world: "source",
        path: "../../wit/nightowl-plugin-0.1.0",
        default_bindings_module: "nightowl_plugin_sdk::source_bindings",
        pub_export_macro: true,
        export_macro_name: "export_source_world",
    });
}

#[cfg(all(target_arch = "wasm32", feature = "source"))]
#[doc(hidden)]
pub mod source_glue;

/// An HTTP request delivered to the plugin (a webhook for sources).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// Path below the plugin's mount point, starting with `/`.
    pub path: String,
    pub query: Option<String>,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The URL the sender used.
    pub public_url: String,
}

impl Request {
    /// A POST with a JSON body (for tests).
    pub fn json_body(body: &str) -> Request {
        Request {
            method: "POST".into(),
            path: "/".into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
            ..Request::default()
        }
    }

    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON into `T`; errors name the JSON path that did not fit.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::InvalidPayload("empty body; expected JSON".into()));
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| Error::InvalidPayload(format!("invalid JSON payload: {e}")))
    }
}

/// Firing or resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Status {
    #[default]
    Firing,
    Resolved,
}

/// One alert as the plugin understood it; the host normalises severity and fingerprint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Alert {
    /// The source's dedup key; the host derives one from title + labels when absent.
    pub fingerprint: Option<String>,
    pub status: Status,
    /// Must not be empty.
    pub title: String,
    pub description: Option<String>,
    /// Severity or priority text as the source sent it.
    pub severity: Option<String>,
    pub service: Option<String>,
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
    /// RFC 3339.
    pub starts_at: Option<String>,
    /// RFC 3339.
    pub ends_at: Option<String>,
    pub links: Vec<String>,
    /// JSON object text describing what an automated agent did.
    pub agent_metadata: Option<String>,
}

/// Why a plugin call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Malformed or foreign payload: the sender gets a 4xx with this text, nothing is stored.
    InvalidPayload(String),
    /// Signature or token check failed.
    Unauthorized(String),
    /// A remote API failed.
    Upstream(String),
    /// A bug inside the plugin.
    Internal(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::InvalidPayload(m) => write!(f, "invalid payload: {m}"),
            Error::Unauthorized(m) => write!(f, "unauthorized: {m}"),
            Error::Upstream(m) => write!(f, "upstream: {m}"),
            Error::Internal(m) => write!(f, "internal: {m}"),
        }
    }
}

/// An alert source: turns one webhook delivery into alerts.
pub trait Source {
    /// Parses a delivery. Pure: no network, no state kept between calls.
    fn parse(req: &Request) -> Result<Vec<Alert>, Error>;
}

/// Host logging; the host tags each line with plugin, version and tenant. A no-op outside wasm.
pub mod log {
    /// Logs at info level.
    pub fn info(message: &str) {
        emit(1, message)
    }

    /// Logs at warn level.
    pub fn warn(message: &str) {
        emit(2, message)
    }

    /// Logs at debug level.
    pub fn debug(message: &str) {
        emit(0, message)
    }

    #[cfg(all(target_arch = "wasm32", feature = "source"))]
    fn emit(level: u8, message: &str) {
        use crate::source_bindings::nightowl::plugin::log::{Level, log};
        log(
            match level {
                0 => Level::Debug,
                1 => Level::Info,
                _ => Level::Warn,
            },
            message,
        );
    }

    #[cfg(not(all(target_arch = "wasm32", feature = "source")))]
    fn emit(_level: u8, _message: &str) {}
}

/// Per-tenant plugin settings. Always empty outside wasm.
pub mod config {
    /// A setting's value.
    pub fn get(key: &str) -> Option<String> {
        #[cfg(all(target_arch = "wasm32", feature = "source"))]
        {
            crate::source_bindings::nightowl::plugin::config::get(key)
        }
        #[cfg(not(all(target_arch = "wasm32", feature = "source")))]
        {
            let _ = key;
            None
        }
    }
}

/// Registers a [`Source`] implementation as the component's `source-api` export.
#[macro_export]
macro_rules! source_plugin {
    ($ty:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct Export;
            impl $crate::source_bindings::exports::nightowl::plugin::source_api::Guest for Export {
                fn parse(
                    req: $crate::source_bindings::nightowl::plugin::types::InboundRequest,
                ) -> ::std::result::Result<
                    ::std::vec::Vec<$crate::source_bindings::nightowl::plugin::types::ParsedAlert>,
                    $crate::source_bindings::nightowl::plugin::types::PluginError,
                > {
                    $crate::source_glue::parse::<$ty>(req)
                }
            }
    $crate::source_bindings::export_source_world!(Export with_types_in $crate::source_bindings);
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_are_invalid_payloads() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Shape {
            alerts: Vec<u32>,
        }
        assert!(matches!(
            Request::json_body("").json::<Shape>(),
            Err(Error::InvalidPayload(_))
        ));
        assert!(matches!(
            Request::json_body("{\"alerts\": 1}").json::<Shape>(),
            Err(Error::InvalidPayload(_))
        ));
        assert!(Request::json_body("{\"alerts\": [1]}").json::<Shape>().is_ok());
    }

    #[test]
    fn headers_match_case_insensitively() {
        let req = Request::json_body("{}");
        assert_eq!(req.header("Content-Type"), Some("application/json"));
        assert_eq!(req.header("x-missing"), None);
    }
}
