//! Calls to Twilio's REST API through the host's `http-client` (the host adds basic auth with the
//! account SID and the `auth_token` secret; the plugin only names the secret), and how their
//! failures map to NightOwl's retry rule: [`Error::Upstream`] for what may pass (HTTP 429, 5xx,
//! timeouts, connection failures), a permanent kind for what will fail the same way again (an
//! invalid `To`, bad credentials). Every message names the resource and Twilio's error code.

use nightowl_plugin_sdk_channel::http::{self, Auth, HttpError};
use nightowl_plugin_sdk_channel::{Error, config};
use serde::Deserialize;

/// Where the REST API is when the `api_base_url` setting is not set.
pub const DEFAULT_BASE_URL: &str = "https://api.twilio.com";

/// The secret setting holding the auth token (the API password).
pub const AUTH_TOKEN: &str = "auth_token";

/// Leaves two of the ten seconds of `notify` for the host's bookkeeping.
const TIMEOUT_MS: u32 = 8_000;

/// Twilio error codes that are about the account's credentials: an admin has to fix the settings.
const AUTH_CODES: &[u64] = &[20003, 20005, 20008];

/// Twilio error codes that pass: Twilio is busy or failed on its side.
const TRANSIENT_CODES: &[u64] = &[20429, 20500, 20503];

/// A REST resource under the account: `Calls` or `Messages`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// `Calls.json`: starts a phone call.
    Calls,
    /// `Messages.json`: sends an SMS.
    Messages,
}

impl Resource {
    fn name(self) -> &'static str {
        match self {
            Resource::Calls => "Calls",
            Resource::Messages => "Messages",
        }
    }
}

#[derive(Deserialize)]
struct Created {
    sid: Option<String>,
}

#[derive(Deserialize, Default)]
struct TwilioError {
    code: Option<u64>,
    message: Option<String>,
}

/// The account SID setting, required by the manifest.
pub fn account_sid() -> Result<String, Error> {
    config::get("account_sid")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::Internal("twilio: account_sid is not set".into()))
}

/// The number calls and SMS come from, required by the manifest.
pub fn from_number() -> Result<String, Error> {
    config::get("from_number")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::Internal("twilio: from_number is not set".into()))
}

/// The URL of a resource of the account.
pub fn url(resource: Resource, account_sid: &str) -> String {
    let base = config::get("api_base_url")
        .map(|u| u.trim().trim_end_matches('/').to_string())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| DEFAULT_BASE_URL.into());
    let sid: String = form_urlencoded::byte_serialize(account_sid.as_bytes()).collect();
    format!("{base}/2010-04-01/Accounts/{sid}/{}.json", resource.name())
}

/// Creates a call or a message with these form fields; answers Twilio's SID of it.
pub fn create(resource: Resource, fields: &[(&str, &str)]) -> Result<String, Error> {
    let sid = account_sid()?;
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let req = http::Request::post(url(resource, &sid))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .auth(Auth::Basic(sid, AUTH_TOKEN.into()))
        .timeout_ms(TIMEOUT_MS);
    let what = resource.name();
    let resp = http::send(&req).map_err(|e| transport_error(what, &e))?;
    if !resp.is_success() {
        return Err(status_error(what, &resp));
    }
    let created: Created = resp.json_body().map_err(|_| {
        Error::Upstream(format!(
            "twilio {what}: the answer is not JSON (HTTP {})",
            resp.status
        ))
    })?;
    created
        .sid
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::Upstream(format!("twilio {what}: the answer names no sid")))
}

fn transport_error(what: &str, e: &HttpError) -> Error {
    let message = format!("twilio {what}: {e}");
    if e.is_transient() {
        Error::Upstream(message)
    } else {
        // Denied by the host (host not granted, secret not set), a malformed request or an
        // oversized answer: trying again changes nothing.
        Error::Internal(message)
    }
}

/// The error for a non-2xx answer, from its status and Twilio's `{"code", "message"}`.
fn status_error(what: &str, resp: &http::Response) -> Error {
    let detail: TwilioError = resp.json_body().unwrap_or_default();
    let mut message = format!("twilio {what}: HTTP {}", resp.status);
    if let Some(code) = detail.code {
        message.push_str(&format!(", code {code}"));
    }
    if let Some(text) = detail.message.as_deref().filter(|t| !t.is_empty()) {
        message.push_str(&format!(": {text}"));
    }
    let code = detail.code.unwrap_or(0);
    match resp.status {
        408 | 429 | 500..=599 => Error::Upstream(message),
        _ if TRANSIENT_CODES.contains(&code) => Error::Upstream(message),
        401 | 403 => Error::Unauthorized(message),
        _ if AUTH_CODES.contains(&code) => Error::Unauthorized(message),
        // 400 with 21211 (invalid To), 21408 (region not enabled), 21610 (the person texted STOP):
        // the same request fails again, so the host moves on instead of retrying.
        _ => Error::InvalidPayload(message),
    }
}
