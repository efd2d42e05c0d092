//! Outbound HTTP through the host (`http-client`). The host checks every request — https only, host in
//! the manifest's `[http] allowed_hosts` and the operator's grant, no private address, time and size
//! caps — and adds the credentials [`Auth`] names: the plugin never holds the secret. Natively the
//! installed [`testing::Host`](crate::testing::Host) records the request and answers what the test
//! scripted.

/// HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

/// Credentials the host adds to a request. Each names a secret setting of the plugin's manifest
/// (e.g. `"bot_token"`); the host puts its value on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// No credentials.
    None,
    /// `Authorization: Bearer <secret>`.
    Bearer(String),
    /// HTTP basic with this user name and the secret as password.
    Basic(String, String),
    /// A header with this name (first) whose value is the secret (second).
    Header(String, String),
}

/// A request to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// Absolute `https://` URL.
    pub url: String,
    /// Headers, names as given.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// Credentials the host adds.
    pub auth: Auth,
    /// Time limit for the whole exchange; the host caps it.
    pub timeout_ms: Option<u32>,
}

impl Request {
    /// A request without headers, body or credentials.
    pub fn new(method: Method, url: impl Into<String>) -> Request {
        Request {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
            auth: Auth::None,
            timeout_ms: None,
        }
    }

    /// A GET request.
    pub fn get(url: impl Into<String>) -> Request {
        Request::new(Method::Get, url)
    }

    /// A POST request.
    pub fn post(url: impl Into<String>) -> Request {
        Request::new(Method::Post, url)
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Request {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets a JSON body and `content-type: application/json; charset=utf-8`.
    pub fn json(mut self, body: &serde_json::Value) -> Request {
        self.headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
        self.headers
            .push(("content-type".into(), "application/json; charset=utf-8".into()));
        self.body = body.to_string().into_bytes();
        self
    }

    /// Sets the body as it is.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = body.into();
        self
    }

    /// Sets the credentials the host adds.
    pub fn auth(mut self, auth: Auth) -> Request {
        self.auth = auth;
        self
    }

    /// Sets the time limit (the host caps it).
    pub fn timeout_ms(mut self, ms: u32) -> Request {
        self.timeout_ms = Some(ms);
        self
    }

    /// The first value of a header (case-insensitive name).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }

    /// The body parsed as JSON (for tests checking what a plugin sent).
    pub fn body_json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

/// The answer of the remote server (any status: a 4xx or 5xx is a response, not an [`HttpError`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body (at most the host's cap, 1 MiB).
    pub body: Vec<u8>,
}

impl Response {
    /// A response with this status and body, without headers (for scripting a test double).
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// A JSON response (for scripting a test double).
    pub fn json(status: u16, body: &serde_json::Value) -> Response {
        Response {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    /// Adds a header (for scripting a test double); the name is stored in lower case.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body parsed as JSON into `T`.
    pub fn json_body<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

/// Why a request got no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The host refused it: not https, host not allowed, private address, secret not granted, ...
    Denied(String),
    /// No answer within the time limit.
    Timeout,
    /// DNS, TCP or TLS failed.
    Connection(String),
    /// The answer was larger than the host's cap.
    ResponseTooLarge,
    /// The request itself is malformed (bad URL, bad header).
    InvalidRequest(String),
}

impl HttpError {
    /// Whether trying again later may succeed (timeouts and connection failures), as opposed to a
    /// request that will fail the same way every time.
    pub fn is_transient(&self) -> bool {
        matches!(self, HttpError::Timeout | HttpError::Connection(_))
    }
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::Denied(m) => write!(f, "denied by the host: {m}"),
            HttpError::Timeout => write!(f, "timed out"),
            HttpError::Connection(m) => write!(f, "connection failed: {m}"),
            HttpError::ResponseTooLarge => write!(f, "response too large"),
            HttpError::InvalidRequest(m) => write!(f, "invalid request: {m}"),
        }
    }
}

impl std::error::Error for HttpError {}

/// Sends a request through the host.
pub fn send(req: &Request) -> Result<Response, HttpError> {
    #[cfg(target_arch = "wasm32")]
    {
        wasm::send(req)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        crate::testing::http_send(req)
    }
}

fn find<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[cfg(target_arch = "wasm32")]
mod wasm {
    use super::{Auth, HttpError, Method, Request, Response};
    use crate::wit::nightowl::plugin::http_client as wit;
    use nightowl_plugin_sdk::wit::{kvs, pairs};

    pub fn send(req: &Request) -> Result<Response, HttpError> {
        let wit_req = wit::Request {
            method: match req.method {
                Method::Get => wit::Method::Get,
                Method::Post => wit::Method::Post,
                Method::Put => wit::Method::Put,
                Method::Patch => wit::Method::Patch,
                Method::Delete => wit::Method::Delete,
            },
            url: req.url.clone(),
            headers: kvs(req.headers.clone()),
            body: req.body.clone(),
            auth: match &req.auth {
                Auth::None => wit::Auth::None,
                Auth::Bearer(secret) => wit::Auth::Bearer(secret.clone()),
                Auth::Basic(user, secret) => wit::Auth::Basic((user.clone(), secret.clone())),
                Auth::Header(name, secret) => wit::Auth::Header((name.clone(), secret.clone())),
            },
            timeout_ms: req.timeout_ms,
        };
        match wit::send(&wit_req) {
            Ok(r) => Ok(Response {
                status: r.status,
                headers: pairs(r.headers),
                body: r.body,
            }),
            Err(wit::HttpError::Denied(m)) => Err(HttpError::Denied(m)),
            Err(wit::HttpError::Timeout) => Err(HttpError::Timeout),
            Err(wit::HttpError::Connection(m)) => Err(HttpError::Connection(m)),
            Err(wit::HttpError::ResponseTooLarge) => Err(HttpError::ResponseTooLarge),
            Err(wit::HttpError::InvalidRequest(m)) => Err(HttpError::InvalidRequest(m)),
        }
    }
}
