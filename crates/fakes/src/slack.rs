//! [`FakeSlack`]: a fake Slack Web API over HTTPS for tests. It serves the methods NightOwl's Slack
//! plugin calls under `/api/<method>` (`chat.postMessage`, `chat.update`, `chat.postEphemeral`,
//! `views.open`, `conversations.open`, `auth.test`) and `response_url`s under `/response/<id>`;
//! checks the token, the content type and the arguments as Slack does and answers as Slack does;
//! records every call; and fails on cue ([`FakeSlack::fail_next`]).
//!
//! Like Slack, it answers errors with HTTP 200 and `{"ok": false, "error": "<reason>"}`, except rate
//! limits (429 with `Retry-After`) and server errors (5xx).

mod request;
mod workspace;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use serde_json::{Map, Value, json};
use tokio::sync::watch;

use crate::tls::TlsServer;
use request::MediaType;
use workspace::Workspace;

/// The fake workspace's team id.
pub const TEAM_ID: &str = "T0FAKETEAM";
/// The bot's user id (`auth.test`'s `user_id`, the author of its messages).
pub const BOT_USER_ID: &str = "U0FAKEBOT";
/// The bot's bot id.
pub const BOT_ID: &str = "B0FAKEBOT";
/// The app's id (what interaction payloads carry as `api_app_id`).
pub const APP_ID: &str = "A0FAKEAPP";

/// How many times Slack accepts a `response_url`.
const RESPONSE_URL_USES: u32 = 5;
/// What [`Call::method`] says for a `response_url` call.
pub const RESPONSE_URL: &str = "response_url";

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Call {
    /// The Web API method (`chat.postMessage`), or [`RESPONSE_URL`].
    pub method: String,
    /// The request path (`/api/chat.postMessage`, `/response/<id>`).
    pub path: String,
    /// The request headers.
    pub headers: HeaderMap,
    /// The arguments as a JSON object: a JSON body as sent, form fields as strings (JSON-encoded
    /// `blocks`, `attachments` and `view` decoded), query parameters included; `null` when the body
    /// could not be read.
    pub body: Value,
    /// The body as sent (lossy UTF-8).
    pub raw_body: String,
    /// When it arrived.
    pub at: Instant,
    /// What the fake answered; `None` while a [`Failure::Stall`] holds it (or if the client gave up
    /// before the stall ended).
    pub answer: Option<Answer>,
}

impl Call {
    /// A header's value, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// An answer the fake gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The `Retry-After` header, in seconds (rate limits).
    pub retry_after: Option<u64>,
    /// The JSON body.
    pub body: Value,
}

/// A failure to answer with instead of doing the call ([`FakeSlack::fail_next`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// HTTP 429 with `Retry-After: <secs>` and `{"ok": false, "error": "ratelimited"}`, as the Web API
    /// answers a rate-limited call.
    RateLimited {
        /// Seconds in `Retry-After`.
        retry_after_secs: u64,
    },
    /// HTTP 500.
    ServerError,
    /// Wait this long, then do the call as usual: to run a client into its timeout.
    Stall(Duration),
    /// HTTP 200 with `{"ok": false, "error": <this>}`, e.g. `channel_not_found`, `not_in_channel`,
    /// `invalid_auth`, `ratelimited`. (From a `response_url`: HTTP 404 for `expired_url` and
    /// `used_url`, 400 for others.)
    Error(String),
}

/// A message the bot posted, with its latest content.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The conversation id (a `D…` id when posted to a user).
    pub channel: String,
    /// Its timestamp, Slack's id of it in the conversation.
    pub ts: String,
    /// The parent's `ts` when it is a thread reply.
    pub thread_ts: Option<String>,
    /// Its text (the notification fallback when it has blocks).
    pub text: String,
    /// Its blocks, if any.
    pub blocks: Option<Value>,
    /// How many times `chat.update` changed it.
    pub edits: u32,
}

/// A Slack Web API error: the `error` reason and, for argument errors, Slack's detail messages
/// (`response_metadata.messages`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SlackError {
    pub error: String,
    pub messages: Vec<String>,
}

impl SlackError {
    pub(crate) fn new(error: &str) -> SlackError {
        SlackError {
            error: error.to_owned(),
            messages: Vec::new(),
        }
    }

    pub(crate) fn invalid_arguments(message: &str) -> SlackError {
        SlackError {
            error: "invalid_arguments".into(),
            messages: vec![message.to_owned()],
        }
    }

    pub(crate) fn missing_field(name: &str) -> SlackError {
        SlackError::invalid_arguments(&format!("[ERROR] missing required field: {name}"))
    }

    pub(crate) fn invalid_blocks(messages: Vec<String>) -> SlackError {
        SlackError {
            error: "invalid_blocks".into(),
            messages,
        }
    }
}

/// A scripted failure and how many more calls it applies to.
#[derive(Debug)]
struct Scripted {
    method: Option<String>,
    failure: Failure,
    remaining: usize,
}

#[derive(Debug, Default)]
struct Inner {
    calls: Vec<Call>,
    scripted: Vec<Scripted>,
    workspace: Workspace,
    response_url_uses: HashMap<String, u32>,
}

impl Inner {
    /// The first scripted failure for `method`, used up by one.
    fn take_failure(&mut self, method: &str) -> Option<Failure> {
        let i = self
            .scripted
            .iter()
            .position(|s| s.method.as_deref().is_none_or(|m| m == method))?;
        let failure = self.scripted[i].failure.clone();
        self.scripted[i].remaining -= 1;
        if self.scripted[i].remaining == 0 {
            self.scripted.remove(i);
        }
        Some(failure)
    }
}

struct Shared {
    token: String,
    inner: Mutex<Inner>,
    /// Bumped whenever a call is recorded or answered, for [`FakeSlack::wait_for`].
    changed: watch::Sender<u64>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking test thread must not hide every later assertion behind a poisoned lock.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn bump(&self) {
        self.changed.send_modify(|n| *n += 1);
    }
}

/// A fake Slack Web API for one bot token, listening on `https://localhost:<port>` until dropped.
///
/// Conversations must be declared ([`FakeSlack::add_channel`]); posting anywhere else is
/// `channel_not_found`, as for a channel the bot cannot see. Posting to a user id (`U…`/`W…`) goes to
/// the bot's DM with them, as in Slack.
pub struct FakeSlack {
    server: TlsServer,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for FakeSlack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeSlack")
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

impl FakeSlack {
    /// Starts a fake that accepts `bot_token` (anything else is `invalid_auth`), with a certificate
    /// from the [shared test CA](crate::TestCa::shared). Panics if it cannot listen on loopback.
    pub async fn start(bot_token: &str) -> FakeSlack {
        let shared = Arc::new(Shared {
            token: bot_token.to_owned(),
            inner: Mutex::new(Inner::default()),
            changed: watch::channel(0).0,
        });
        let router = Router::new()
            .route("/api/{method}", any(web_api))
            .route("/response/{id}", post(response_url))
            .with_state(shared.clone());
        let server = TlsServer::start(router)
            .await
            .expect("fake Slack listens on loopback");
        FakeSlack { server, shared }
    }

    /// `https://localhost:<port>`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// `https://localhost:<port>/api`: what replaces `https://slack.com/api` (the Slack plugin's
    /// `api_base_url` setting).
    pub fn api_url(&self) -> String {
        format!("{}/api", self.base_url())
    }

    /// A `response_url` of this fake, to put into interaction and slash command payloads.
    pub fn response_url(&self, id: &str) -> String {
        format!("{}/response/{id}", self.base_url())
    }

    /// The HTTPS server (its address, the CA that signed its certificate).
    pub fn server(&self) -> &TlsServer {
        &self.server
    }

    /// The PEM certificate of the CA to trust to reach it.
    pub fn ca_pem(&self) -> &str {
        self.server.ca_pem()
    }

    /// Declares a channel the bot is in.
    pub fn add_channel(&self, id: &str) {
        self.shared.lock().workspace.add_channel(id);
    }

    /// Declares a channel that exists but that the bot has not joined: posting there is
    /// `not_in_channel`.
    pub fn add_channel_not_joined(&self, id: &str) {
        self.shared.lock().workspace.add_channel_not_joined(id);
    }

    /// Makes the next `count` calls to `method` (any call, `response_url`s included, when `None`) fail
    /// with `failure`. Scripts apply in the order given; each call uses up at most one.
    pub fn fail_next(&self, method: Option<&str>, failure: Failure, count: usize) {
        if count == 0 {
            return;
        }
        self.shared.lock().scripted.push(Scripted {
            method: method.map(str::to_owned),
            failure,
            remaining: count,
        });
    }

    /// Every call so far, in the order they arrived.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.lock().calls.clone()
    }

    /// The calls to `method` (or [`RESPONSE_URL`]) so far.
    pub fn calls_to(&self, method: &str) -> Vec<Call> {
        self.shared
            .lock()
            .calls
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    /// Waits until `n` calls to `method` have arrived (each answered, unless stalled), and returns the
    /// calls to it. Panics after `timeout`, listing the calls that did arrive.
    pub async fn wait_for(&self, method: &str, n: usize, timeout: Duration) -> Vec<Call> {
        let mut changes = self.shared.changed.subscribe();
        let arrived =
            tokio::time::timeout(timeout, changes.wait_for(|_| self.calls_to(method).len() >= n)).await;
        if arrived.is_err() {
            let seen: Vec<String> = self.calls().iter().map(|c| c.method.clone()).collect();
            panic!("fake Slack: {n} call(s) to {method} expected within {timeout:?}; calls: {seen:?}");
        }
        self.calls_to(method)
    }

    /// Every message the bot posted, with its latest content, in the order posted.
    pub fn messages(&self) -> Vec<Message> {
        self.shared.lock().workspace.messages().to_vec()
    }

    /// The message posted in `channel` at `ts`, if any.
    pub fn message(&self, channel: &str, ts: &str) -> Option<Message> {
        self.shared
            .lock()
            .workspace
            .messages()
            .iter()
            .find(|m| m.channel == channel && m.ts == ts)
            .cloned()
    }

    /// The id of the bot's DM with `user`, once opened.
    pub fn dm_with(&self, user: &str) -> Option<String> {
        self.shared.lock().workspace.dm_with(user).map(str::to_owned)
    }
}

/// `/api/<method>`.
async fn web_api(
    State(shared): State<Arc<Shared>>,
    Path(method): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let read = request::read(&headers, query.as_deref(), &body);
    let args = read
        .as_ref()
        .map_or(Value::Null, |r| Value::Object(r.args.clone()));
    let call = Call {
        method: method.clone(),
        path: format!("/api/{method}"),
        headers,
        body: args,
        raw_body: String::from_utf8_lossy(&body).into_owned(),
        at: Instant::now(),
        answer: None,
    };
    let answer = |inner: &mut Inner, failure: Option<Failure>| match failure {
        Some(f) => failure_answer(&f, false),
        None => {
            let (status, body) = api_answer(&shared.token, &mut inner.workspace, &method, &read);
            Answer {
                status,
                retry_after: None,
                body,
            }
        }
    };
    respond(&shared, call, answer).await
}

/// `/response/<id>`: Slack's `response_url`, no token (the URL is the credential), JSON only.
async fn response_url(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(MediaType::parse)
        .is_some_and(|m| m.essence == "application/json");
    let parsed: Option<Map<String, Value>> = is_json.then(|| serde_json::from_slice(&body).ok()).flatten();
    let call = Call {
        method: RESPONSE_URL.into(),
        path: format!("/response/{id}"),
        headers,
        body: parsed.clone().map_or(Value::Null, Value::Object),
        raw_body: String::from_utf8_lossy(&body).into_owned(),
        at: Instant::now(),
        answer: None,
    };
    let answer = |inner: &mut Inner, failure: Option<Failure>| match failure {
        Some(f) => failure_answer(&f, true),
        None => {
            let uses = inner.response_url_uses.entry(id.clone()).or_default();
            let result = match &parsed {
                None => Err((400, "invalid_payload")),
                Some(_) if *uses >= RESPONSE_URL_USES => Err((404, "used_url")),
                Some(message) if !has_response_content(message) => Err((400, "no_text")),
                Some(_) => Ok(()),
            };
            match result {
                Ok(()) => {
                    *uses += 1;
                    Answer {
                        status: 200,
                        retry_after: None,
                        body: json!({ "ok": true }),
                    }
                }
                Err((status, error)) => Answer {
                    status,
                    retry_after: None,
                    body: json!({ "ok": false, "error": error }),
                },
            }
        }
    };
    respond(&shared, call, answer).await
}

/// Records `call` and answers it with `answer` (after a scripted stall, if any). A call that is not
/// stalled is recorded together with its answer, so a waiting test never sees it half done.
async fn respond(
    shared: &Shared,
    mut call: Call,
    answer: impl FnOnce(&mut Inner, Option<Failure>) -> Answer,
) -> Response {
    // The lock is only held in blocks without an await: the handler's future must be Send.
    let recorded = {
        let mut inner = shared.lock();
        match inner.take_failure(&call.method) {
            Some(Failure::Stall(delay)) => {
                inner.calls.push(call);
                Err((inner.calls.len() - 1, delay, answer))
            }
            failure => {
                let given = answer(&mut inner, failure);
                call.answer = Some(given.clone());
                inner.calls.push(call);
                Ok(given)
            }
        }
    };
    shared.bump();
    let given = match recorded {
        Ok(given) => given,
        Err((index, delay, answer)) => {
            tokio::time::sleep(delay).await;
            let given = {
                let mut inner = shared.lock();
                let given = answer(&mut inner, None);
                inner.calls[index].answer = Some(given.clone());
                given
            };
            shared.bump();
            given
        }
    };
    let status = StatusCode::from_u16(given.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        given.body.to_string(),
    )
        .into_response();
    if let Some(secs) = given.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// The answer to a Web API call that was not scripted to fail.
fn api_answer(
    token: &str,
    workspace: &mut Workspace,
    method: &str,
    read: &Result<request::ApiRequest, SlackError>,
) -> (u16, Value) {
    if !workspace::METHODS.contains(&method) {
        return (
            404,
            json!({ "ok": false, "error": "unknown_method", "req_method": method }),
        );
    }
    let (result, warnings) = match read {
        Err(e) => (Err(e.clone()), Vec::new()),
        Ok(r) => {
            let result = match r.token.as_deref() {
                None => Err(SlackError::new("not_authed")),
                Some(t) if t != token => Err(SlackError::new("invalid_auth")),
                Some(_) => workspace.call(method, &r.args),
            };
            (result, r.warnings.clone())
        }
    };
    (200, slack_body(result, &warnings))
}

/// `{"ok": …}` with the method's fields or the error, and Slack's warnings and detail messages.
fn slack_body(result: Result<Map<String, Value>, SlackError>, warnings: &[&str]) -> Value {
    let mut body = Map::new();
    let mut metadata = Map::new();
    match result {
        Ok(fields) => {
            body.insert("ok".into(), true.into());
            body.extend(fields);
        }
        Err(e) => {
            body.insert("ok".into(), false.into());
            body.insert("error".into(), e.error.into());
            if !e.messages.is_empty() {
                metadata.insert("messages".into(), e.messages.into());
            }
        }
    }
    if !warnings.is_empty() {
        body.insert("warning".into(), warnings.join(",").into());
        metadata.insert("warnings".into(), warnings.into());
    }
    if !metadata.is_empty() {
        body.insert("response_metadata".into(), metadata.into());
    }
    Value::Object(body)
}

/// The answer for a scripted failure (not a stall: that is handled before).
fn failure_answer(failure: &Failure, response_url: bool) -> Answer {
    let (status, error) = match failure {
        Failure::RateLimited { .. } => (429, "ratelimited".to_owned()),
        Failure::ServerError => (500, "internal_error".to_owned()),
        Failure::Error(e) if response_url => {
            let status = if matches!(e.as_str(), "expired_url" | "used_url") {
                404
            } else {
                400
            };
            (status, e.clone())
        }
        Failure::Error(e) => (200, e.clone()),
        Failure::Stall(_) => unreachable!("a stall answers as usual once over"),
    };
    let retry_after = match failure {
        Failure::RateLimited { retry_after_secs } => Some(*retry_after_secs),
        _ => None,
    };
    Answer {
        status,
        retry_after,
        body: json!({ "ok": false, "error": error }),
    }
}

/// Whether a `response_url` message says something (or deletes the original).
fn has_response_content(message: &Map<String, Value>) -> bool {
    let text = message
        .get("text")
        .and_then(Value::as_str)
        .is_some_and(|t| !t.is_empty());
    let blocks = message
        .get("blocks")
        .and_then(Value::as_array)
        .is_some_and(|b| !b.is_empty());
    let delete = message.get("delete_original").and_then(Value::as_bool) == Some(true);
    text || blocks || delete
}
