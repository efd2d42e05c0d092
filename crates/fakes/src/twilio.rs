//! [`FakeTwilio`]: a fake Twilio REST API over HTTPS for tests. It serves the two resources NightOwl's
//! Twilio plugin creates, `POST /2010-04-01/Accounts/{AccountSid}/Calls.json` (a phone call, its TwiML
//! inline) and `…/Messages.json` (an SMS); checks the credentials, the content type and the
//! parameters as Twilio does and answers as Twilio does; records every request; keeps the calls and
//! messages it created; and fails on cue ([`FakeTwilio::fail_next`]).
//!
//! Like Twilio, it answers a created resource with HTTP 201 and its JSON, and errors with their HTTP
//! status and `{"code": <Twilio error code>, "message": …, "more_info": …, "status": …}`. The codes it
//! gives, check by check, are listed on [`FakeTwilio`].

mod account;
pub mod segments;
#[cfg(test)]
mod tests;
pub mod twiml;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::tls::TlsServer;
use account::Account;
pub use segments::{SmsEncoding, num_segments, sms_encoding};
pub use twiml::Twiml;

/// An account SID in Twilio's shape (`AC` and 32 hex digits), for tests that need one; the fake
/// takes any.
pub const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
/// The REST API version in every path and in callbacks' `ApiVersion`.
pub const API_VERSION: &str = "2010-04-01";

/// A REST resource of an account that the fake serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    /// `Calls.json`: starts a phone call.
    Calls,
    /// `Messages.json`: sends an SMS.
    Messages,
}

impl Resource {
    /// Its name in paths: `Calls`, `Messages`.
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Calls => "Calls",
            Resource::Messages => "Messages",
        }
    }

    /// The resource a path segment (`Calls.json`) names.
    fn from_segment(segment: &str) -> Option<Resource> {
        match segment {
            "Calls.json" => Some(Resource::Calls),
            "Messages.json" => Some(Resource::Messages),
            _ => None,
        }
    }
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One request the fake received (named like [`FakeSlack`](crate::FakeSlack)'s record of one; the
/// phone call a request to `Calls.json` starts is a [`PhoneCall`]).
#[derive(Debug, Clone)]
pub struct Call {
    /// The resource requested; `None` for a path that is no resource the fake serves.
    pub resource: Option<Resource>,
    /// The HTTP method.
    pub method: Method,
    /// The request path (`/2010-04-01/Accounts/AC…/Calls.json`).
    pub path: String,
    /// The request headers.
    pub headers: HeaderMap,
    /// The form fields in the order sent, repeated names included; empty when the body is not a
    /// form (`application/x-www-form-urlencoded`), which Twilio does not read either.
    pub form: Vec<(String, String)>,
    /// The body as sent (lossy UTF-8).
    pub raw_body: String,
    /// When it arrived.
    pub at: Instant,
    /// What the fake answered; `None` while a [`Failure::Stall`] holds it.
    pub answer: Option<Answer>,
}

impl Call {
    /// A header's value, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The first value of the form field `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every value of the form field `name` in the order sent (`StatusCallbackEvent` is repeated).
    pub fn fields(&self, name: &str) -> Vec<&str> {
        self.form
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The `Twiml` field read as TwiML; `None` when there is none or it is not valid TwiML (the
    /// answer then says why).
    pub fn twiml(&self) -> Option<Twiml> {
        self.field("Twiml").and_then(|xml| Twiml::parse(xml).ok())
    }

    /// The SID of what the request created (`CA…`, `SM…`), if it was created.
    pub fn sid(&self) -> Option<&str> {
        self.answer
            .as_ref()
            .filter(|a| a.status == 201)
            .and_then(|a| a.body["sid"].as_str())
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

/// A failure to answer with instead of doing the request ([`FakeTwilio::fail_next`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// HTTP 429 with `Retry-After: <secs>` and error code 20429, as Twilio answers too many
    /// concurrent requests.
    RateLimited {
        /// Seconds in `Retry-After`.
        retry_after_secs: u64,
    },
    /// HTTP 500 with error code 20500.
    ServerError,
    /// Wait this long, then do the request as usual: to run a client into its timeout. The request
    /// is done even if the client gave up waiting, as Twilio would.
    Stall(Duration),
    /// Any Twilio error, e.g. `{ status: 400, code: 21610, message: "Attempt to send to unsubscribed
    /// recipient" }` or `{ status: 503, code: 20503, message: "Service unavailable" }`.
    Error {
        /// The HTTP status.
        status: u16,
        /// Twilio's error code.
        code: u32,
        /// Twilio's message.
        message: String,
    },
}

/// A phone call the fake created, as requested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneCall {
    /// `CA` and 32 hex digits.
    pub sid: String,
    /// Who is called (E.164).
    pub to: String,
    /// The caller ID (E.164).
    pub from: String,
    /// `queued`: the fake does not place the call.
    pub status: String,
    /// The inline TwiML, if the call was given its instructions so.
    pub twiml: Option<String>,
    /// The URL Twilio would fetch the instructions from, if given so.
    pub url: Option<String>,
    /// The TwiML application to run, if given so.
    pub application_sid: Option<String>,
    /// How long it may ring, in seconds (Twilio's default is 60).
    pub timeout: Option<u32>,
    /// Where Twilio would post its status changes.
    pub status_callback: Option<String>,
    /// `GET` or `POST` (Twilio's default is `POST`).
    pub status_callback_method: Option<String>,
    /// The status changes asked for (Twilio's default is `completed` only).
    pub status_callback_events: Vec<String>,
    /// `date_created` as answered (RFC 2822).
    pub date_created: String,
}

impl PhoneCall {
    /// Its inline TwiML, read.
    pub fn twiml(&self) -> Option<Twiml> {
        self.twiml.as_deref().and_then(|xml| Twiml::parse(xml).ok())
    }
}

/// An SMS the fake created, as requested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextMessage {
    /// `SM` and 32 hex digits.
    pub sid: String,
    /// The recipient (E.164).
    pub to: String,
    /// The sender (E.164, short code or alphanumeric sender ID); `None` when a Messaging Service
    /// picks it.
    pub from: Option<String>,
    /// The Messaging Service sending it, if any.
    pub messaging_service_sid: Option<String>,
    /// The text.
    pub body: String,
    /// How many SMS it takes ([`num_segments`]).
    pub num_segments: u32,
    /// `queued`, or `accepted` when a Messaging Service sends it.
    pub status: String,
    /// Where Twilio would post its status changes.
    pub status_callback: Option<String>,
    /// `date_created` as answered (RFC 2822).
    pub date_created: String,
}

/// A fresh SID: `prefix` (`CA`, `SM`, `MG` …) and 32 lowercase hex digits, unique in the process.
pub fn new_sid(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    // The process id keeps SIDs of two test binaries that run at once apart in shared logs.
    format!("{prefix}{:016x}{n:016x}", u64::from(std::process::id()))
}

/// A Twilio REST API error: HTTP status, Twilio's error code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TwilioError {
    pub status: u16,
    pub code: u32,
    pub message: String,
}

impl TwilioError {
    pub(crate) fn new(status: u16, code: u32, message: impl Into<String>) -> TwilioError {
        TwilioError {
            status,
            code,
            message: message.into(),
        }
    }

    /// A 400 with this code.
    pub(crate) fn bad_request(code: u32, message: impl Into<String>) -> TwilioError {
        TwilioError::new(400, code, message)
    }

    /// 20404 for a path that names nothing the caller may see.
    fn not_found(path: &str) -> TwilioError {
        TwilioError::new(404, 20404, format!("The requested resource {path} was not found"))
    }

    fn answer(&self) -> Answer {
        Answer {
            status: self.status,
            retry_after: None,
            body: json!({
                "code": self.code,
                "message": self.message,
                "more_info": format!("https://www.twilio.com/docs/errors/{}", self.code),
                "status": self.status,
            }),
        }
    }
}

/// A scripted failure and how many more requests it applies to.
#[derive(Debug)]
struct Scripted {
    resource: Option<Resource>,
    failure: Failure,
    remaining: usize,
}

#[derive(Debug, Default)]
struct Inner {
    calls: Vec<Call>,
    scripted: Vec<Scripted>,
    account: Account,
}

impl Inner {
    /// The first scripted failure for `resource`, used up by one.
    fn take_failure(&mut self, resource: Resource) -> Option<Failure> {
        let i = self
            .scripted
            .iter()
            .position(|s| s.resource.is_none_or(|r| r == resource))?;
        let failure = self.scripted[i].failure.clone();
        self.scripted[i].remaining -= 1;
        if self.scripted[i].remaining == 0 {
            self.scripted.remove(i);
        }
        Some(failure)
    }

    fn requests_to(&self, resource: Resource) -> impl Iterator<Item = &Call> {
        self.calls.iter().filter(move |c| c.resource == Some(resource))
    }
}

struct Shared {
    account_sid: String,
    auth_token: String,
    inner: Mutex<Inner>,
    /// Bumped whenever a request is recorded or answered, for [`FakeTwilio::wait_for`].
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

/// A fake Twilio REST API for one account, listening on `https://localhost:<port>` until dropped.
///
/// What it checks, in order, and what it answers when a check fails:
///
/// | check | HTTP | code |
/// |---|---|---|
/// | HTTP Basic auth is the account SID and the auth token | 401 (`WWW-Authenticate`) | 20003 `Authenticate` |
/// | the path's account is the authenticated one (Twilio shows another account's resources as absent) | 404 | 20404 |
/// | the path is `Calls.json` or `Messages.json` | 404 | 20404 |
/// | the method is `POST` (the fake lists nothing) | 405 | 20004 |
///
/// Then the parameters, read only from a form body (`application/x-www-form-urlencoded`, as Twilio;
/// any other body counts as no parameters). `Calls.json`:
///
/// | check | code |
/// |---|---|
/// | `To` given | 21201 |
/// | `From` given | 21213 |
/// | one of `Url`, `Twiml`, `ApplicationSid` | 21205 if none; 21200 if more than one |
/// | `To` is E.164 (`+`, 8 to 15 digits, no leading 0) | 21211 |
/// | `From` is E.164 | 21212 |
/// | `Url` is an absolute http(s) URL | 21205 |
/// | `ApplicationSid` is `AP` and 32 hex digits | 21218 |
/// | `Twiml` is at most 4000 characters | 32018 |
/// | `Twiml` is well-formed XML with the root `<Response>` | 12100 |
/// | `Twiml` holds only voice verbs, each with children and attributes it may have ([`twiml`]) | 12200 |
/// | `Method`, `StatusCallbackMethod` are `GET` or `POST` | 21209 |
/// | `Timeout` is a positive whole number | 21208 |
/// | `StatusCallback` is an absolute http(s) URL | 21609 |
/// | each `StatusCallbackEvent` is `initiated`, `ringing`, `answered` or `completed` | 21626 |
///
/// `Messages.json`:
///
/// | check | code |
/// |---|---|
/// | `To` given | 21604 |
/// | `From` or `MessagingServiceSid` given | 21603 |
/// | `Body` given (or `MediaUrl`, `ContentSid`) | 21602 |
/// | `Body` at most 1600 characters | 21617 |
/// | `To` is E.164 | 21211 |
/// | `From` is E.164, a short code (3 to 8 digits) or an alphanumeric sender ID (up to 11, a letter among them) | 21212 |
/// | `MessagingServiceSid` is `MG` and 32 hex digits | 21701 |
/// | `StatusCallback` is an absolute http(s) URL | 21609 |
///
/// Twilio checks inline TwiML when it runs the call (12100 and 12200 are the errors its debugger
/// shows then); the fake refuses it up front with those codes, so a test sees it at once.
pub struct FakeTwilio {
    server: TlsServer,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for FakeTwilio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeTwilio")
            .field("base_url", &self.base_url())
            .field("account_sid", &self.shared.account_sid)
            .finish_non_exhaustive()
    }
}

impl FakeTwilio {
    /// Starts a fake of the account `account_sid` that accepts `auth_token` (its primary token: the
    /// REST API takes no other), with a certificate from the [shared test CA](crate::TestCa::shared).
    /// Panics if it cannot listen on loopback.
    pub async fn start(account_sid: &str, auth_token: &str) -> FakeTwilio {
        let shared = Arc::new(Shared {
            account_sid: account_sid.to_owned(),
            auth_token: auth_token.to_owned(),
            inner: Mutex::new(Inner::default()),
            changed: watch::channel(0).0,
        });
        let router = Router::new()
            .route("/2010-04-01/Accounts/{account}/{resource}", any(account_resource))
            .fallback(unknown_path)
            .with_state(shared.clone());
        let server = TlsServer::start(router)
            .await
            .expect("fake Twilio listens on loopback");
        FakeTwilio { server, shared }
    }

    /// `https://localhost:<port>`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// `https://localhost:<port>`: what replaces `https://api.twilio.com` (the Twilio plugin's
    /// `api_base_url` setting); the plugin adds `/2010-04-01/Accounts/…`.
    pub fn api_url(&self) -> String {
        self.base_url()
    }

    /// The URL of a resource of the fake's account.
    pub fn resource_url(&self, resource: Resource) -> String {
        format!(
            "{}/{API_VERSION}/Accounts/{}/{resource}.json",
            self.base_url(),
            self.shared.account_sid
        )
    }

    /// The account SID it serves.
    pub fn account_sid(&self) -> &str {
        &self.shared.account_sid
    }

    /// The HTTPS server (its address, the CA that signed its certificate).
    pub fn server(&self) -> &TlsServer {
        &self.server
    }

    /// The PEM certificate of the CA to trust to reach it.
    pub fn ca_pem(&self) -> &str {
        self.server.ca_pem()
    }

    /// Makes the next `count` requests to `resource` (to either resource when `None`) fail with
    /// `failure`. Scripts apply in the order given; each request uses up at most one. A scripted
    /// failure answers before any check, credentials included.
    pub fn fail_next(&self, resource: Option<Resource>, failure: Failure, count: usize) {
        if count == 0 {
            return;
        }
        self.shared.lock().scripted.push(Scripted {
            resource,
            failure,
            remaining: count,
        });
    }

    /// Every request so far, in the order they arrived, unknown paths included.
    pub fn requests(&self) -> Vec<Call> {
        self.shared.lock().calls.clone()
    }

    /// The requests to `resource` so far.
    pub fn requests_to(&self, resource: Resource) -> Vec<Call> {
        self.shared.lock().requests_to(resource).cloned().collect()
    }

    /// The requests to `Calls.json` so far, answered with a call or not.
    pub fn calls(&self) -> Vec<Call> {
        self.requests_to(Resource::Calls)
    }

    /// The requests to `Messages.json` so far, answered with a message or not.
    pub fn messages(&self) -> Vec<Call> {
        self.requests_to(Resource::Messages)
    }

    /// How many requests to `resource` arrived so far.
    pub fn count(&self, resource: Resource) -> usize {
        self.shared.lock().requests_to(resource).count()
    }

    /// Waits until `n` requests to `resource` have arrived (each answered, unless stalled), and
    /// returns the requests to it. Panics after `timeout`, listing the requests that did arrive.
    pub async fn wait_for(&self, resource: Resource, n: usize, timeout: Duration) -> Vec<Call> {
        let mut changes = self.shared.changed.subscribe();
        let arrived = tokio::time::timeout(timeout, changes.wait_for(|_| self.count(resource) >= n)).await;
        if arrived.is_err() {
            let seen: Vec<String> = self.requests().iter().map(summary).collect();
            panic!(
                "fake Twilio: {n} request(s) to {resource}.json expected within {timeout:?}; requests: {seen:?}"
            );
        }
        self.requests_to(resource)
    }

    /// Every phone call created, in the order created.
    pub fn phone_calls(&self) -> Vec<PhoneCall> {
        self.shared.lock().account.calls().to_vec()
    }

    /// The phone call `sid` (`CA…`), if it was created.
    pub fn phone_call(&self, sid: &str) -> Option<PhoneCall> {
        self.shared
            .lock()
            .account
            .calls()
            .iter()
            .find(|c| c.sid == sid)
            .cloned()
    }

    /// Every SMS created, in the order created.
    pub fn text_messages(&self) -> Vec<TextMessage> {
        self.shared.lock().account.messages().to_vec()
    }

    /// The SMS `sid` (`SM…`), if it was created.
    pub fn text_message(&self, sid: &str) -> Option<TextMessage> {
        self.shared
            .lock()
            .account
            .messages()
            .iter()
            .find(|m| m.sid == sid)
            .cloned()
    }
}

/// `POST Calls.json — 201`: one request, for a panic message.
fn summary(call: &Call) -> String {
    let status = call
        .answer
        .as_ref()
        .map_or_else(|| "stalled".to_owned(), |a| a.status.to_string());
    format!("{} {} — {status}", call.method, call.path)
}

/// `/2010-04-01/Accounts/{account}/{resource}`.
async fn account_resource(
    State(shared): State<Arc<Shared>>,
    Path((account, segment)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = Call {
        resource: Resource::from_segment(&segment),
        method,
        path: uri.path().to_owned(),
        form: read_form(&headers, &body),
        headers,
        raw_body: String::from_utf8_lossy(&body).into_owned(),
        at: Instant::now(),
        answer: None,
    };
    let request = call.clone();
    let checker = Arc::clone(&shared);
    let answer = move |inner: &mut Inner, failure: Option<Failure>| match failure {
        Some(f) => failure_answer(&f),
        None => api_answer(&checker, inner, &account, &request),
    };
    respond(&shared, call, answer).await
}

/// What Twilio answers a request to `/Accounts/{account}/…`: the credentials, the account, the
/// resource and the method are checked, then the resource's parameters.
fn api_answer(shared: &Shared, inner: &mut Inner, account: &str, request: &Call) -> Answer {
    let checked = authenticate(shared, &request.headers)
        .and_then(|()| {
            if account != shared.account_sid {
                // Twilio does not tell an account whether another one exists.
                return Err(TwilioError::not_found(&request.path));
            }
            request
                .resource
                .ok_or_else(|| TwilioError::not_found(&request.path))
        })
        .and_then(|resource| {
            if request.method != Method::POST {
                return Err(TwilioError::new(405, 20004, "Method not allowed"));
            }
            inner.account.create(&shared.account_sid, resource, &request.form)
        });
    match checked {
        Ok(created) => Answer {
            status: 201,
            retry_after: None,
            body: created,
        },
        Err(e) => e.answer(),
    }
}

/// Any other path: Twilio's 404.
async fn unknown_path(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let call = Call {
        resource: None,
        method,
        path: path.clone(),
        form: read_form(&headers, &body),
        headers,
        raw_body: String::from_utf8_lossy(&body).into_owned(),
        at: Instant::now(),
        answer: None,
    };
    respond(&shared, call, move |_, _| TwilioError::not_found(&path).answer()).await
}

/// HTTP Basic auth with the account SID as user and the auth token as password.
fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<(), TwilioError> {
    let credentials = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, encoded)| STANDARD.decode(encoded.trim()).ok())
        .and_then(|decoded| String::from_utf8(decoded).ok());
    let valid = credentials
        .as_deref()
        .and_then(|c| c.split_once(':'))
        .is_some_and(|(user, password)| user == shared.account_sid && password == shared.auth_token);
    if valid {
        Ok(())
    } else {
        Err(TwilioError::new(401, 20003, "Authenticate"))
    }
}

/// The form fields of an `application/x-www-form-urlencoded` body, in order; none for any other body.
fn read_form(headers: &HeaderMap, body: &[u8]) -> Vec<(String, String)> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| {
            essence
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Vec::new();
    }
    form_urlencoded::parse(body).into_owned().collect()
}

/// Records `call` and answers it with `answer` (after a scripted stall, if any). A request that is
/// not stalled is recorded together with its answer, so a waiting test never sees it half done.
async fn respond(
    shared: &Arc<Shared>,
    mut call: Call,
    answer: impl FnOnce(&mut Inner, Option<Failure>) -> Answer + Send + 'static,
) -> Response {
    // The lock is only held in blocks without an await: the handler's future must be Send.
    let recorded = {
        let mut inner = shared.lock();
        let failure = call.resource.and_then(|r| inner.take_failure(r));
        match failure {
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
            // In a task of its own, which a client hanging up does not cancel: Twilio places the
            // call it was asked for even when the client stopped waiting for the answer.
            let shared = Arc::clone(shared);
            let finish = tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let given = {
                    let mut inner = shared.lock();
                    let given = answer(&mut inner, None);
                    inner.calls[index].answer = Some(given.clone());
                    given
                };
                shared.bump();
                given
            });
            match finish.await {
                Ok(given) => given,
                // The runtime is shutting down: nobody reads this answer.
                Err(_) => TwilioError::new(500, 20500, "Internal Server Error").answer(),
            }
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
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Twilio API\""),
        );
    }
    response
}

/// The answer for a scripted failure (not a stall: that is handled before).
fn failure_answer(failure: &Failure) -> Answer {
    match failure {
        Failure::RateLimited { retry_after_secs } => Answer {
            retry_after: Some(*retry_after_secs),
            ..TwilioError::new(429, 20429, "Too Many Requests").answer()
        },
        Failure::ServerError => TwilioError::new(500, 20500, "Internal Server Error").answer(),
        Failure::Error {
            status,
            code,
            message,
        } => TwilioError::new(*status, *code, message.clone()).answer(),
        Failure::Stall(_) => unreachable!("a stall answers as usual once over"),
    }
}
