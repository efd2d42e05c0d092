//! Recording mutations into the audit log (a layer on every authenticated route) and reading it back
//! (`GET /api/v1/audit-log`).

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Query, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, Utc};
use nightowl_api::admin::AuditRecord;
use nightowl_api::{CursorPage, ErrorBody};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use super::error::ApiError;
use super::extract::{Json, TenantTx};
use super::routes::Route;
use crate::audit::{self, AuditEntry};
use crate::auth::Principal;
use crate::state::AppState;
use nightowl_api::Role::Admin;
use utoipa_axum::routes;

/// The routes of the audit log, with who may call them.
pub fn routes() -> Vec<Route> {
    vec![Route::read(routes!(list_audit_log), Admin)]
}

/// The id an audited handler acted on, when its path may name the resource another way (an alert
/// by its number): put in the answer's extensions, it is what the audit row records, so the log
/// lists one id per resource however callers named it.
#[derive(Debug, Clone)]
pub struct AuditedId(pub String);

impl AuditedId {
    /// The answer extension naming `id`.
    pub fn of(id: impl ToString) -> axum::Extension<AuditedId> {
        axum::Extension(AuditedId(id.to_string()))
    }
}

/// The values of `{id}`-style segments of `route` in `path`, by name.
fn path_param(route: &str, path: &str, name: &str) -> Option<String> {
    route
        .split('/')
        .zip(path.split('/'))
        .find(|(template, _)| *template == format!("{{{name}}}"))
        .map(|(_, value)| value.to_owned())
}

/// Queues an audit entry for a successful call of an audited route (the route declarations say
/// which: `http::routes::Audit`). Runs after the guard, so the principal is known.
pub async fn record_mutations(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let Some(principal) = req.extensions().get::<Principal>().cloned() else {
        return next.run(req).await;
    };
    let (ip, user_agent, request_id) = {
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let ip = super::client::client_ip(
            req.extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
            req.headers(),
            &state.config.trusted_proxies,
        )
        .map(|ip| ip.to_string());
        (ip, header("user-agent"), header("x-request-id"))
    };
    let path_id = path_param(&route, req.uri().path(), "id");

    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, state.config.body_limit_bytes).await {
        Ok(bytes) => bytes,
        Err(_) => return super::routes::payload_too_large(),
    };
    let sent = serde_json::from_slice::<Value>(&bytes).ok().map(audit::redact);
    let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    if !response.status().is_success() {
        return response;
    }
    // A create names its new resource only in the answer.
    let audited = response.extensions().get::<AuditedId>().map(|a| a.0.clone());
    let (response, resource_id) = match audited.or(path_id) {
        Some(id) => (response, Some(id)),
        None if method == Method::POST => {
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
            let id = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_owned));
            (Response::from_parts(parts, Body::from(bytes)), id)
        }
        None => (response, None),
    };
    let (action, resource_type) = audit::describe_route(method.as_str(), &route);
    state
        .audit
        .record_now(AuditEntry {
            tenant: principal.tenant.slug.clone(),
            actor_type: principal.actor_type(),
            actor_id: principal.actor_id().map(|id| id.to_string()),
            actor_label: principal.label(),
            action,
            resource_type,
            resource_id,
            diff: sent.map(|v| json!({ "request": v })),
            ip,
            user_agent,
            request_id,
            created_at: state.clock.now(),
        })
        .await;
    response
}

/// Filters of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Actor: e-mail, `key:<prefix>` or user/key id.
    pub actor: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub action: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Text to find anywhere in an entry (what was sent, the resource id, actor, action), ignoring case.
    pub q: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
}

/// The tenant's audit log, newest first.
#[utoipa::path(get, path = "/api/v1/audit-log", tag = "admin", params(AuditQuery),
    responses((status = 200, body = CursorPage<AuditRecord>), (status = 400, body = ErrorBody)))]
pub async fn list_audit_log(
    mut t: TenantTx,
    Query(q): Query<AuditQuery>,
) -> Result<Json<CursorPage<AuditRecord>>, ApiError> {
    let limit = super::pagination::bounded_limit(q.limit, 50, 200, "invalid_pagination")?;
    let before: Option<i64> =
        match q.cursor.as_deref() {
            Some(c) => Some(c.parse().map_err(|_| {
                ApiError::bad_request("invalid_cursor", "cursor is not one this server issued")
            })?),
            None => None,
        };
    let filter = crate::db::audit::AuditFilter {
        actor: q.actor.as_deref(),
        resource_type: q.resource_type.as_deref(),
        resource_id: q.resource_id.as_deref(),
        action: q.action.as_deref(),
        since: q.since,
        until: q.until,
        text: q.q.as_deref(),
    };
    let items = crate::db::audit::list(&mut t, &filter, before, limit).await?;
    let next_cursor = (items.len() as i64 == limit)
        .then(|| items.last().map(|r| r.id.to_string()))
        .flatten();
    Ok(Json(CursorPage { items, next_cursor }))
}
