//! The part of the NightOwl plugin SDK that every world shares: the inbound [`Request`], the [`Error`]
//! a plugin call fails with, and the host imports every world has ([`log`], [`config`]).
//!
//! Plugins do not depend on this crate directly: they depend on the crate of their world,
//! `nightowl-plugin-sdk-source` or `nightowl-plugin-sdk-channel`, which re-exports it. One crate per
//! world is what keeps a plugin's component to its own world: each world crate embeds the WIT world
//! it implements, and the component linker merges every world embedded in a binary, so one crate
//! holding both would make every source plugin export the channel API too (and the other way round).
//! This crate embeds only `log`, `config` and `types`, which both worlds import.

#![warn(missing_docs)]

use serde::de::DeserializeOwned;

/// WIT bindings and conversions for the world crates; not part of the plugin-facing API.
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod wit;

pub mod config;
pub mod log;

/// An HTTP request delivered to the plugin (a webhook for sources, a callback for channels).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// Upper-case HTTP method (`POST`).
    pub method: String,
    /// Path below the plugin's mount point, starting with `/`.
    pub path: String,
    /// The query string without the `?`, when there is one.
    pub query: Option<String>,
    /// Header names are lower case.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
    /// The URL the sender used (what signature checks such as Twilio's cover).
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

    /// The body as `application/x-www-form-urlencoded` name/value pairs, decoded, in order (Slack
    /// slash commands and interactions, Twilio webhooks). A body that is not a form yields whatever
    /// pairs its `&`-separated pieces decode to; check the fields you need.
    pub fn form(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(&self.body).into_owned().collect()
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

/// Why a plugin call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Malformed or foreign payload: the sender gets a 4xx with this text, nothing is stored.
    InvalidPayload(String),
    /// Signature or token check failed.
    Unauthorized(String),
    /// A remote API failed; the host may retry.
    Upstream(String),
    /// A bug inside the plugin.
    Internal(String),
}

impl Error {
    /// The kind as plugin test cases name it (`invalid_payload`, `unauthorized`, `upstream`, `internal`).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidPayload(_) => "invalid_payload",
            Error::Unauthorized(_) => "unauthorized",
            Error::Upstream(_) => "upstream",
            Error::Internal(_) => "internal",
        }
    }

    /// The plugin's own text, without the kind.
    pub fn message(&self) -> &str {
        match self {
            Error::InvalidPayload(m) | Error::Unauthorized(m) | Error::Upstream(m) | Error::Internal(m) => m,
        }
    }
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

impl std::error::Error for Error {}

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
    fn form_bodies_are_decoded() {
        let req = Request {
            body: b"command=%2Fnightowl&text=ack+%2312&empty=".to_vec(),
            ..Request::default()
        };
        assert_eq!(
            req.form(),
            vec![
                ("command".into(), "/nightowl".into()),
                ("text".into(), "ack #12".into()),
                ("empty".into(), String::new()),
            ]
        );
    }

    #[test]
    fn headers_match_case_insensitively() {
        let req = Request::json_body("{}");
        assert_eq!(req.header("Content-Type"), Some("application/json"));
        assert_eq!(req.header("x-missing"), None);
    }
}
