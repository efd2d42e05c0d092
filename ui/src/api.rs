//! The JSON API, one typed function per endpoint, with the shared `nightowl-api` types: the UI never
//! spells a JSON shape of its own. Requests go to the same origin with the session cookie.

use nightowl_api::admin::User;
use nightowl_api::admin::{
    ApiKey, ApiKeyInput, AuditRecord, CreatedApiKey, PluginConfig, PluginConfigInput, PluginList, Service,
    TenantConfig, TenantConfigInput, UserInput,
};
use nightowl_api::admin::{AuthMethods, Identity, LoginInput};
use nightowl_api::alerts::{Alert, ResolveResponse};
use nightowl_api::escalation::{
    AlertEscalation, ChannelOption, DryRun, DryRunInput, EscalationPolicy, PolicyInput,
};
use nightowl_api::incidents::{
    Incident, IncidentDetail, IncidentInput, MarkdownInput, MergeInput, RenderedMarkdown, SearchHit,
    SimilarIncident,
};
use nightowl_api::notifications::NotificationView;
use nightowl_api::rosters::{
    MembersInput, OnCallView, OverrideInput, Roster, RosterCalendar, RosterInput, RosterOnCallNow,
    RosterOverride,
};
use nightowl_api::stats::AlertStats;
use nightowl_api::{CursorPage, ErrorBody, OffsetPage};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

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
        /// Per-field messages of a validation error (`tiers[0].timeout_minutes`, ...).
        fields: Vec<(String, String)>,
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

impl ApiError {
    /// The validation messages about `field` (and the fields under it), joined.
    pub fn field(&self, field: &str) -> Option<String> {
        let ApiError::Api { fields, .. } = self else {
            return None;
        };
        let found: Vec<&str> = fields
            .iter()
            .filter(|(f, _)| f == field || f.starts_with(&format!("{field}.")))
            .map(|(_, m)| m.as_str())
            .collect();
        (!found.is_empty()).then(|| found.join("; "))
    }
}

pub type Result<T> = std::result::Result<T, ApiError>;

/// A request to the API: method, path and, for writes, a JSON body. Sent with the browser's own
/// `fetch` (same origin, so the session cookie goes along); a fetch library would add its HTTP types
/// and streams to every page of the bundle for no gain here.
struct Call {
    method: &'static str,
    path: String,
    body: Option<String>,
}

fn get(path: &str) -> Call {
    Call {
        method: "GET",
        path: path.to_owned(),
        body: None,
    }
}

fn write(method: &'static str, path: &str, body: Option<&impl Serialize>) -> Call {
    Call {
        method,
        path: path.to_owned(),
        // The shared input types always serialize.
        body: body.map(|b| serde_json::to_string(b).unwrap_or_default()),
    }
}

fn post(path: &str, body: Option<&impl Serialize>) -> Call {
    write("POST", path, body)
}

fn put(path: &str, body: &impl Serialize) -> Call {
    write("PUT", path, Some(body))
}

fn delete(path: &str) -> Call {
    write("DELETE", path, None::<&()>)
}

fn patch(path: &str) -> Call {
    write("PATCH", path, None::<&()>)
}

/// What the browser said went wrong, as text.
fn js_error(e: JsValue) -> ApiError {
    let message = e
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "the request failed".to_owned());
    ApiError::Network(message)
}

/// The body of an answer, as text.
async fn text(response: &web_sys::Response) -> Result<String> {
    JsFuture::from(response.text().map_err(js_error)?)
        .await
        .map_err(js_error)?
        .as_string()
        .ok_or_else(|| ApiError::Network("the answer is not text".into()))
}

/// Sends the call; a 2xx answer's body, else the API's error.
async fn send(call: Call) -> Result<String> {
    let init = web_sys::RequestInit::new();
    init.set_method(call.method);
    let headers = web_sys::Headers::new().map_err(js_error)?;
    headers.set("accept", "application/json").map_err(js_error)?;
    if let Some(body) = &call.body {
        headers
            .set("content-type", "application/json")
            .map_err(js_error)?;
        init.set_body(&JsValue::from_str(body));
    }
    init.set_headers(&headers);
    let window = web_sys::window().ok_or_else(|| ApiError::Network("no window".into()))?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(&call.path, &init))
        .await
        .map_err(js_error)?
        .unchecked_into();
    match response.status() {
        200..=299 => text(&response).await,
        401 => Err(ApiError::Unauthorized),
        status => {
            let body: Option<ErrorBody> = text(&response)
                .await
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok());
            Err(match body {
                Some(b) => {
                    let fields = b
                        .details
                        .as_ref()
                        .and_then(|d| d.as_object())
                        .map(|m| {
                            m.iter()
                                .flat_map(|(field, messages)| {
                                    messages
                                        .as_array()
                                        .into_iter()
                                        .flatten()
                                        .filter_map(|m| m.as_str())
                                        .map(move |m| (field.clone(), m.to_owned()))
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    ApiError::Api {
                        status,
                        code: b.code,
                        message: b.message,
                        fields,
                    }
                }
                None => ApiError::Api {
                    status,
                    code: "http_error".into(),
                    message: format!("HTTP {status}"),
                    fields: Vec::new(),
                },
            })
        }
    }
}

/// Sends the call and reads its answer as `T`.
async fn json<T: DeserializeOwned>(call: Call) -> Result<T> {
    let body = send(call).await?;
    serde_json::from_str(&body).map_err(|e| ApiError::Network(format!("unreadable answer: {e}")))
}

/// Who is signed in.
pub async fn ping() -> Result<Identity> {
    json(get("/api/v1/ping")).await
}

/// Signs in with a local password (sets the session cookie).
pub async fn login(input: &LoginInput) -> Result<Identity> {
    json(post("/api/v1/auth/login", Some(input))).await
}

/// How people can sign in here.
pub async fn auth_methods() -> Result<AuthMethods> {
    json(get("/api/v1/auth/methods")).await
}

/// Ends the session.
pub async fn logout() -> Result<()> {
    send(post("/api/v1/auth/logout", None::<&()>)).await.map(|_| ())
}

/// A query string (without `?`) of the pairs that have a value.
pub fn query(pairs: &[(&str, &Option<String>)]) -> String {
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

/// Filters and order of the alert list, as its URL carries them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertFilter {
    pub status: Option<String>,
    pub severity: Option<String>,
    pub service: Option<String>,
    pub source: Option<String>,
    /// `1h`, `24h`, `7d` or `30d` back from now (when the list loads).
    pub range: Option<String>,
    /// `newest` (default), `oldest` or `last_fired`.
    pub sort: Option<String>,
    pub cursor: Option<String>,
}

impl AlertFilter {
    /// The page's query string (without `?`).
    pub fn query(&self) -> String {
        query(&[
            ("status", &self.status),
            ("severity", &self.severity),
            ("service", &self.service),
            ("source", &self.source),
            ("range", &self.range),
            ("sort", &self.sort),
            ("cursor", &self.cursor),
        ])
    }

    /// The API's query string: the range becomes the instant it starts at.
    fn api_query(&self) -> String {
        let hours = match self.range.as_deref() {
            Some("1h") => Some(1.0),
            Some("24h") => Some(24.0),
            Some("7d") => Some(24.0 * 7.0),
            Some("30d") => Some(24.0 * 30.0),
            _ => None,
        };
        let since = hours.map(|h: f64| {
            let start = js_sys::Date::new(&(js_sys::Date::now() - h * 3_600_000.0).into());
            String::from(start.to_iso_string())
        });
        query(&[
            ("status", &self.status),
            ("severity", &self.severity),
            ("service", &self.service),
            ("source", &self.source),
            ("since", &since),
            ("sort", &self.sort),
            ("cursor", &self.cursor),
        ])
    }
}

pub fn encode(v: &str) -> String {
    js_sys::encode_uri_component(v).into()
}

/// A page of alerts.
pub async fn alerts(filter: &AlertFilter) -> Result<CursorPage<Alert>> {
    json(get(&format!("/api/v1/alerts?limit=50&{}", filter.api_query()))).await
}

/// Alert figures over the last `days` days.
pub async fn alert_stats(days: u32) -> Result<AlertStats> {
    json(get(&format!("/api/v1/stats/alerts?days={days}"))).await
}

/// Who is on call now, for every roster.
pub async fn oncall_now() -> Result<Vec<RosterOnCallNow>> {
    json(get("/api/v1/oncall")).await
}

/// Filters of the knowledge base, as its URL carries them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncidentFilter {
    /// Words to search for; without them the list is the most recently changed incidents.
    pub q: Option<String>,
    pub severity: Option<String>,
    pub category: Option<String>,
    pub service: Option<String>,
    /// Comma-separated; an incident must have each.
    pub tags: Option<String>,
    pub offset: Option<String>,
}

impl IncidentFilter {
    /// The query string (without `?`).
    pub fn query(&self) -> String {
        query(&[
            ("q", &self.q),
            ("severity", &self.severity),
            ("category", &self.category),
            ("service", &self.service),
            ("tags", &self.tags),
            ("offset", &self.offset),
        ])
    }
}

/// Incidents, most recently changed first.
pub async fn incidents(filter: &IncidentFilter, limit: u32) -> Result<OffsetPage<Incident>> {
    json(get(&format!(
        "/api/v1/incidents?limit={limit}&{}",
        filter.query()
    )))
    .await
}

/// Incidents matching words (and the filters), best first, with highlights.
pub async fn search_incidents(filter: &IncidentFilter, limit: u32) -> Result<Vec<SearchHit>> {
    json(get(&format!(
        "/api/v1/incidents/search?limit={limit}&{}",
        filter.query()
    )))
    .await
}

/// One incident with its history and linked alerts.
pub async fn incident(id: &str) -> Result<IncidentDetail> {
    let body = send(get(&format!("/api/v1/incidents/{}", encode(id)))).await?;
    IncidentDetail::from_json(&body).map_err(|e| ApiError::Network(format!("unreadable answer: {e}")))
}

/// Creates an incident.
pub async fn create_incident(input: &IncidentInput) -> Result<Incident> {
    json(post("/api/v1/incidents", Some(input))).await
}

/// Replaces an incident's fields.
pub async fn update_incident(id: Uuid, input: &IncidentInput) -> Result<Incident> {
    json(put(&format!("/api/v1/incidents/{id}"), input)).await
}

/// Confirms an incident (an engineer stands behind it).
pub async fn review_incident(id: Uuid) -> Result<Incident> {
    json(post(&format!("/api/v1/incidents/{id}/review"), None::<&()>)).await
}

/// A knowledge-base text rendered (sanitized HTML).
pub async fn render_markdown(text: &str) -> Result<String> {
    let input = MarkdownInput {
        text: text.to_owned(),
    };
    json::<RenderedMarkdown>(post("/api/v1/markdown", Some(&input)))
        .await
        .map(|r| r.html)
}

/// Folds incident `source` into `target`; answers the target as it now is.
pub async fn merge_incidents(source: Uuid, target: Uuid) -> Result<Incident> {
    json(post(
        &format!("/api/v1/incidents/{source}/merge"),
        Some(&MergeInput { target_id: target }),
    ))
    .await
}

/// One alert by id or number.
pub async fn alert(key: &str) -> Result<Alert> {
    json(get(&format!("/api/v1/alerts/{}", encode(key)))).await
}

/// The alert's escalation and its steps.
pub async fn escalation(key: &str) -> Result<AlertEscalation> {
    json(get(&format!("/api/v1/alerts/{}/escalation", encode(key)))).await
}

/// The notifications about the alert.
pub async fn notifications(key: &str) -> Result<Vec<NotificationView>> {
    json(get(&format!("/api/v1/alerts/{}/notifications", encode(key)))).await
}

/// Knowledge-base incidents like the alert, best first.
pub async fn similar_incidents(key: &str) -> Result<Vec<SimilarIncident>> {
    json(get(&format!("/api/v1/alerts/{}/similar-incidents", encode(key)))).await
}

/// Acknowledges the alert as the signed-in person.
pub async fn acknowledge(key: &str) -> Result<Alert> {
    json(patch(&format!("/api/v1/alerts/{}/acknowledge", encode(key)))).await
}

/// Resolves the alert as the signed-in person.
pub async fn resolve(key: &str) -> Result<ResolveResponse> {
    json(patch(&format!("/api/v1/alerts/{}/resolve", encode(key)))).await
}

/// Escalates the alert to its next tier now.
pub async fn escalate(key: &str) -> Result<()> {
    send(post(
        &format!("/api/v1/alerts/{}/escalate", encode(key)),
        None::<&()>,
    ))
    .await
    .map(|_| ())
}

/// Every roster.
pub async fn rosters() -> Result<Vec<Roster>> {
    json(get("/api/v1/rosters")).await
}

/// One roster with its members.
pub async fn roster(id: &str) -> Result<Roster> {
    json(get(&format!("/api/v1/rosters/{}", encode(id)))).await
}

/// `days` days of the roster's calendar from the local date `start` (`YYYY-MM-DD`), laid out in `tz`
/// (the roster's zone when `None`).
pub async fn roster_calendar(id: &str, start: &str, days: u32, tz: Option<&str>) -> Result<RosterCalendar> {
    let tz = tz.map(|z| format!("&tz={}", encode(z))).unwrap_or_default();
    json(get(&format!(
        "/api/v1/rosters/{}/calendar?start={}&days={days}{tz}",
        encode(id),
        encode(start)
    )))
    .await
}

/// Who is on call for the roster now.
pub async fn roster_oncall(id: &str) -> Result<OnCallView> {
    json(get(&format!("/api/v1/rosters/{}/oncall", encode(id)))).await
}

/// Adds an override or leave.
pub async fn add_override(roster: &str, input: &OverrideInput) -> Result<RosterOverride> {
    json(post(
        &format!("/api/v1/rosters/{}/overrides", encode(roster)),
        Some(input),
    ))
    .await
}

/// Removes an override or leave.
pub async fn delete_override(roster: &str, id: Uuid) -> Result<()> {
    send(delete(&format!(
        "/api/v1/rosters/{}/overrides/{id}",
        encode(roster)
    )))
    .await
    .map(|_| ())
}

/// The tenant's users (the first 200, by name).
pub async fn users() -> Result<OffsetPage<User>> {
    json(get("/api/v1/users?limit=200")).await
}

/// Every escalation policy.
pub async fn policies() -> Result<Vec<EscalationPolicy>> {
    json(get("/api/v1/escalation-policies")).await
}

/// One escalation policy.
pub async fn policy(id: &str) -> Result<EscalationPolicy> {
    json(get(&format!("/api/v1/escalation-policies/{}", encode(id)))).await
}

/// Creates an escalation policy.
pub async fn create_policy(input: &PolicyInput) -> Result<EscalationPolicy> {
    json(post("/api/v1/escalation-policies", Some(input))).await
}

/// Replaces an escalation policy.
pub async fn update_policy(id: Uuid, input: &PolicyInput) -> Result<EscalationPolicy> {
    json(put(&format!("/api/v1/escalation-policies/{id}"), input)).await
}

/// The channels a tier can notify through.
pub async fn channels() -> Result<Vec<ChannelOption>> {
    json(get("/api/v1/escalation-policies/channels")).await
}

/// Who the policy would notify, when and how, for an alert nobody acknowledges.
pub async fn dry_run(id: Uuid, input: &DryRunInput) -> Result<DryRun> {
    json(post(
        &format!("/api/v1/escalation-policies/{id}/dry-run"),
        Some(input),
    ))
    .await
}

/// The service catalogue (the first 200, by name).
pub async fn services() -> Result<OffsetPage<Service>> {
    json(get("/api/v1/services?limit=200")).await
}

/// Creates a user.
pub async fn create_user(input: &UserInput) -> Result<User> {
    json(post("/api/v1/users", Some(input))).await
}

/// Replaces a user's fields.
pub async fn update_user(id: Uuid, input: &UserInput) -> Result<User> {
    json(put(&format!("/api/v1/users/{id}"), input)).await
}

/// Deactivates (`active` false) or activates a user.
pub async fn set_user_active(id: Uuid, active: bool) -> Result<User> {
    let action = if active { "activate" } else { "deactivate" };
    json(post(&format!("/api/v1/users/{id}/{action}"), None::<&()>)).await
}

/// API keys, newest first.
pub async fn api_keys() -> Result<CursorPage<ApiKey>> {
    json(get("/api/v1/admin/api-keys?limit=200")).await
}

/// Creates an API key; the answer holds the key itself, this once.
pub async fn create_api_key(input: &ApiKeyInput) -> Result<CreatedApiKey> {
    let body = send(post("/api/v1/admin/api-keys", Some(input))).await?;
    CreatedApiKey::from_json(&body).map_err(|e| ApiError::Network(format!("unreadable answer: {e}")))
}

/// Revokes an API key.
pub async fn revoke_api_key(id: Uuid) -> Result<ApiKey> {
    json(delete(&format!("/api/v1/admin/api-keys/{id}"))).await
}

/// Installed plugins.
pub async fn plugins() -> Result<PluginList> {
    json(get("/api/v1/admin/plugins")).await
}

/// A plugin's settings for this tenant (secrets only as "configured, ends in").
pub async fn plugin_config(id: &str) -> Result<PluginConfig> {
    json(get(&format!("/api/v1/admin/plugins/{}/config", encode(id)))).await
}

/// Changes some of a plugin's settings.
pub async fn set_plugin_config(id: &str, input: &PluginConfigInput) -> Result<PluginConfig> {
    json(put(
        &format!("/api/v1/admin/plugins/{}/config", encode(id)),
        input,
    ))
    .await
}

/// A page of the audit log, newest first; `query` holds the filters (`actor=...&action=...`).
pub async fn audit_log(query: &str) -> Result<CursorPage<AuditRecord>> {
    json(get(&format!("/api/v1/audit-log?limit=100&{query}"))).await
}

/// Replaces a roster's settings.
pub async fn update_roster(id: Uuid, input: &RosterInput) -> Result<Roster> {
    json(put(&format!("/api/v1/rosters/{id}"), input)).await
}

/// Sets a roster's members, in rotation order.
pub async fn set_roster_members(id: Uuid, user_ids: &[Uuid]) -> Result<Roster> {
    let input = MembersInput {
        user_ids: user_ids.to_vec(),
    };
    json(put(&format!("/api/v1/rosters/{id}/members"), &input)).await
}

/// The tenant's settings.
pub async fn tenant_config() -> Result<TenantConfig> {
    json(get("/api/v1/admin/config")).await
}

/// Replaces the tenant's settings.
pub async fn set_tenant_config(input: &TenantConfigInput) -> Result<TenantConfig> {
    json(put("/api/v1/admin/config", input)).await
}
