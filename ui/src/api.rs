//! The JSON API, one typed function per endpoint, with the shared `nightowl-api` types: the UI never
//! spells a JSON shape of its own. Requests go to the same origin with the session cookie.

use gloo_net::http::{Request, RequestBuilder, Response};
use nightowl_api::admin::{Identity, LoginInput};
use nightowl_api::alerts::{Alert, ResolveResponse};
use nightowl_api::escalation::AlertEscalation;
use nightowl_api::incidents::SimilarIncident;
use nightowl_api::notifications::NotificationView;
use nightowl_api::{CursorPage, ErrorBody};
use serde::de::DeserializeOwned;

/// Why a call did not give what was asked.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// No session (or it expired): the person signs in again.
    Unauthorized,
    /// The API's answer: its status, stable `code` and message.
    Api {
        status: u16,
        code: String,
        message: String,
    },
    /// The request did not get an answer.
    Network(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Unauthorized => f.write_str("Your session has ended. Please sign in again."),
            ApiError::Api { message, code, .. } => write!(f, "{message} ({code})"),
            ApiError::Network(e) => write!(f, "NightOwl could not be reached: {e}"),
        }
    }
}

pub type Result<T> = std::result::Result<T, ApiError>;

async fn send(req: std::result::Result<Request, gloo_net::Error>) -> Result<Response> {
    let req = req.map_err(|e| ApiError::Network(e.to_string()))?;
    let response = req.send().await.map_err(|e| ApiError::Network(e.to_string()))?;
    match response.status() {
        200..=299 => Ok(response),
        401 => Err(ApiError::Unauthorized),
        status => {
            let body: Option<ErrorBody> = response.json().await.ok();
            Err(match body {
                Some(b) => ApiError::Api {
                    status,
                    code: b.code,
                    message: b.message,
                },
                None => ApiError::Api {
                    status,
                    code: "http_error".into(),
                    message: format!("HTTP {status}"),
                },
            })
        }
    }
}

async fn json<T: DeserializeOwned>(req: std::result::Result<Request, gloo_net::Error>) -> Result<T> {
    send(req)
        .await?
        .json()
        .await
        .map_err(|e| ApiError::Network(format!("unreadable answer: {e}")))
}

fn get(path: &str) -> RequestBuilder {
    Request::get(path).header("accept", "application/json")
}

fn post(path: &str) -> RequestBuilder {
    Request::post(path).header("accept", "application/json")
}

fn patch(path: &str) -> RequestBuilder {
    Request::patch(path).header("accept", "application/json")
}

/// Who is signed in.
pub async fn ping() -> Result<Identity> {
    json(get("/api/v1/ping").build()).await
}

/// Signs in with a local password (sets the session cookie).
pub async fn login(input: &LoginInput) -> Result<Identity> {
    json(post("/api/v1/auth/login").json(input)).await
}

/// Ends the session.
pub async fn logout() -> Result<()> {
    send(post("/api/v1/auth/logout").build()).await.map(|_| ())
}

/// Filters of the alert list, as its URL carries them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertFilter {
    pub status: Option<String>,
    pub severity: Option<String>,
    pub service: Option<String>,
    pub source: Option<String>,
    pub cursor: Option<String>,
}

impl AlertFilter {
    /// The query string (without `?`).
    pub fn query(&self) -> String {
        let pairs = [
            ("status", &self.status),
            ("severity", &self.severity),
            ("service", &self.service),
            ("source", &self.source),
            ("cursor", &self.cursor),
        ];
        pairs
            .iter()
            .filter_map(|(k, v)| {
                v.as_deref()
                    .filter(|v| !v.is_empty())
                    .map(|v| format!("{k}={}", encode(v)))
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

fn encode(v: &str) -> String {
    js_sys::encode_uri_component(v).into()
}

/// A page of alerts, newest first.
pub async fn alerts(filter: &AlertFilter) -> Result<CursorPage<Alert>> {
    json(get(&format!("/api/v1/alerts?limit=50&{}", filter.query())).build()).await
}

/// One alert by id or number.
pub async fn alert(key: &str) -> Result<Alert> {
    json(get(&format!("/api/v1/alerts/{}", encode(key))).build()).await
}

/// The alert's escalation and its steps.
pub async fn escalation(key: &str) -> Result<AlertEscalation> {
    json(get(&format!("/api/v1/alerts/{}/escalation", encode(key))).build()).await
}

/// The notifications about the alert.
pub async fn notifications(key: &str) -> Result<Vec<NotificationView>> {
    json(get(&format!("/api/v1/alerts/{}/notifications", encode(key))).build()).await
}

/// Knowledge-base incidents like the alert, best first.
pub async fn similar_incidents(key: &str) -> Result<Vec<SimilarIncident>> {
    json(get(&format!("/api/v1/alerts/{}/similar-incidents", encode(key))).build()).await
}

/// Acknowledges the alert as the signed-in person.
pub async fn acknowledge(key: &str) -> Result<Alert> {
    json(patch(&format!("/api/v1/alerts/{}/acknowledge", encode(key))).build()).await
}

/// Resolves the alert as the signed-in person.
pub async fn resolve(key: &str) -> Result<ResolveResponse> {
    json(patch(&format!("/api/v1/alerts/{}/resolve", encode(key))).build()).await
}

/// Escalates the alert to its next tier now.
pub async fn escalate(key: &str) -> Result<()> {
    send(post(&format!("/api/v1/alerts/{}/escalate", encode(key))).build())
        .await
        .map(|_| ())
}
