//! Calls to the Slack Web API through the host's `http-client` (the host adds
//! `Authorization: Bearer <bot_token>`; the plugin only names the secret) and to the `response_url`
//! Slack hands out with slash commands and button clicks, and how their failures map to NightOwl's
//! retry rule: [`Error::Upstream`] for what may pass (HTTP 429 / `rate_limited`, 5xx, timeouts,
//! connection failures), any other kind for what will fail the same way again (`channel_not_found`,
//! `invalid_auth`, ...). Every message names the Slack method and Slack's reason.

use nightowl_plugin_sdk_channel::http::{self, Auth, HttpError};
use nightowl_plugin_sdk_channel::{Error, config};
use serde_json::{Value, json};

/// Where the Web API is when the `api_base_url` setting is not set.
pub const DEFAULT_BASE_URL: &str = "https://slack.com/api";

/// The secret setting holding the bot token.
pub const BOT_TOKEN: &str = "bot_token";

/// How long a call may take: a notification has 10 s in all, a callback must be answered within
/// Slack's 3 s (the host stops it at 2.5 s), so a slow Slack call must give up in time to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// Inside `notify`.
    Notify,
    /// Inside `handle_inbound`.
    Inbound,
}

impl Budget {
    fn timeout_ms(self) -> u32 {
        match self {
            Budget::Notify => 8_000,
            Budget::Inbound => 2_000,
        }
    }
}

/// Calls a Web API method with a JSON body; answers Slack's JSON when it says `"ok": true`.
pub fn call(method: &str, body: &Value, budget: Budget) -> Result<Value, Error> {
    let req = http::Request::post(format!("{}/{method}", base_url()))
        .json(body)
        .auth(Auth::Bearer(BOT_TOKEN.into()))
        .timeout_ms(budget.timeout_ms());
    let resp = http::send(&req).map_err(|e| transport_error(method, &e))?;
    if let Some(e) = status_error(method, &resp) {
        return Err(e);
    }
    let answer: Value = resp.json_body().map_err(|_| {
        Error::Upstream(format!(
            "slack {method}: the answer is not JSON (HTTP {})",
            resp.status
        ))
    })?;
    if answer["ok"].as_bool() == Some(true) {
        Ok(answer)
    } else {
        Err(slack_error(method, &answer))
    }
}

/// Where a posted message is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    /// Channel id (a `D…` id for a DM, whatever was posted to).
    pub channel: String,
    /// The message's timestamp, Slack's id of it within the channel.
    pub ts: String,
}

/// `chat.postMessage`; answers where the message went.
pub fn post_message(body: &Value, budget: Budget) -> Result<Posted, Error> {
    let answer = call("chat.postMessage", body, budget)?;
    match (answer["channel"].as_str(), answer["ts"].as_str()) {
        (Some(channel), Some(ts)) => Ok(Posted {
            channel: channel.into(),
            ts: ts.into(),
        }),
        _ => Err(Error::Upstream(
            "slack chat.postMessage: the answer names no channel and ts".into(),
        )),
    }
}

/// `conversations.open` with one user: the id of the bot's DM channel with them.
pub fn open_dm(user: &str, budget: Budget) -> Result<String, Error> {
    let answer = call("conversations.open", &json!({ "users": user }), budget)?;
    answer["channel"]["id"]
        .as_str()
        .map(Into::into)
        .ok_or_else(|| Error::Upstream("slack conversations.open: the answer names no channel".into()))
}

/// Posts to a `response_url` (no credentials: the URL is the credential, and it is valid for 30
/// minutes and 5 uses).
pub fn respond(response_url: &str, body: &Value) -> Result<(), Error> {
    let req = http::Request::post(response_url)
        .json(body)
        .timeout_ms(Budget::Inbound.timeout_ms());
    let resp = http::send(&req).map_err(|e| transport_error("response_url", &e))?;
    status_error("response_url", &resp).map_or(Ok(()), Err)
}

fn base_url() -> String {
    config::get("api_base_url")
        .map(|u| u.trim().trim_end_matches('/').to_string())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| DEFAULT_BASE_URL.into())
}

fn transport_error(method: &str, e: &HttpError) -> Error {
    let message = format!("slack {method}: {e}");
    if e.is_transient() {
        Error::Upstream(message)
    } else {
        // Denied by the host (host not granted, secret not set), a malformed request or an
        // oversized answer: trying again changes nothing.
        Error::Internal(message)
    }
}

/// The error for a non-2xx HTTP status, if it is one.
fn status_error(method: &str, resp: &http::Response) -> Option<Error> {
    match resp.status {
        200..=299 => None,
        429 => Some(Error::Upstream(format!(
            "slack {method}: rate_limited (HTTP 429{})",
            resp.header("retry-after")
                .map(|s| format!(", retry after {s} s"))
                .unwrap_or_default()
        ))),
        408 | 500..=599 => Some(Error::Upstream(format!("slack {method}: HTTP {}", resp.status))),
        status => Some(Error::Internal(format!("slack {method}: HTTP {status}"))),
    }
}

/// `ok: false` reasons that pass: Slack is busy or failed on its side.
const TRANSIENT: &[&str] = &[
    "rate_limited",
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
];

/// `ok: false` reasons about the token or its scopes: an admin has to fix the app.
const AUTH: &[&str] = &[
    "not_authed",
    "invalid_auth",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "no_permission",
    "missing_scope",
    "not_allowed_token_type",
    "ekm_access_denied",
];

fn slack_error(method: &str, answer: &Value) -> Error {
    let reason = answer["error"].as_str().unwrap_or("unknown_error");
    let mut message = format!("slack {method}: {reason}");
    if let Some(needed) = answer["needed"].as_str() {
        message.push_str(&format!(" (needs scope {needed})"));
    }
    let details: Vec<&str> = answer["response_metadata"]["messages"]
        .as_array()
        .map(|m| m.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !details.is_empty() {
        message.push_str(&format!(": {}", details.join("; ")));
    }
    if TRANSIENT.contains(&reason) {
        Error::Upstream(message)
    } else if AUTH.contains(&reason) {
        Error::Unauthorized(message)
    } else {
        Error::InvalidPayload(message)
    }
}
