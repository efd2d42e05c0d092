//! `/api/v1/alerts`: list, detail, similar incidents, escalation view, notifications; acknowledge,
//! resolve and escalate through [`crate::alerts`]. The `{id}` of every alert path is the alert's id or its short
//! number (`1234`, or `#1234` written `%231234`), read as an [`AlertKey`]; text that is neither is
//! 400, as a malformed id is on the other resources.

use std::time::Duration;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use chrono::{DateTime, Utc};
use nightowl_api::alerts::{Alert, AlertKey, AlertStatus, ResolveResponse, Severity};
use nightowl_api::escalation::{AlertEscalation, EscalationState};
use nightowl_api::incidents::{MatchedBy, SimilarIncident};
use nightowl_api::notifications::NotificationView;
use nightowl_api::{CursorPage, ErrorBody};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::audit_log::AuditedId;
use super::error::ApiError;
use super::extract::{Json, TenantTx};
use super::pagination::{CursorParams, next_cursor};
use super::routes::Route;
use crate::alerts::{self, Actor};
use crate::auth::Principal;
use crate::db;
use crate::db::alerts::{AlertFilter, AlertSort};
use crate::escalation::plan::Position;
use crate::state::AppState;
use nightowl_api::Role::{Engineer, Readonly};
use utoipa_axum::routes;

/// The routes of alerts, with who may call them.
pub fn routes() -> Vec<Route> {
    vec![
        Route::read(routes!(list_alerts), Readonly),
        Route::read(routes!(get_alert), Readonly),
        Route::write(routes!(acknowledge_alert), Engineer),
        Route::write(routes!(resolve_alert), Engineer),
        Route::read(routes!(get_alert_escalation), Readonly),
        Route::read(routes!(alert_notifications), Readonly),
        Route::read(routes!(alert_events), Readonly),
        Route::read(routes!(similar_incidents), Readonly),
        Route::write(routes!(escalate_alert), Engineer),
    ]
}

/// Filters of the alert list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// `open` (firing or acknowledged), `firing`, `acknowledged` or `resolved`.
    pub status: Option<String>,
    /// critical, major, warning or info.
    pub severity: Option<String>,
    pub service: Option<String>,
    /// Source plugin id.
    pub source: Option<String>,
    /// Created at or after (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Created before (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// `newest` (default: most recently created first), `oldest`, or `last_fired` (most recently
    /// fired first). Send a cursor with the same `sort` as the page it came from: it holds only the
    /// last item's position in that order. With `last_fired`, an alert that fires again while someone
    /// pages moves to the front: a later page does not show it again, and an earlier one did not yet.
    pub sort: Option<String>,
}

/// Alerts newest first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", params(AlertQuery, CursorParams),
    responses((status = 200, body = CursorPage<Alert>), (status = 400, body = ErrorBody)))]
pub async fn list_alerts(
    mut t: TenantTx,
    Query(q): Query<AlertQuery>,
    Query(page): Query<CursorParams>,
) -> Result<Json<CursorPage<Alert>>, ApiError> {
    let statuses = match q.status.as_deref() {
        None => Vec::new(),
        Some("open") => AlertStatus::ALL.into_iter().filter(|s| s.is_open()).collect(),
        Some(s) => vec![AlertStatus::parse(s).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_filter",
                "status must be open, firing, acknowledged or resolved",
            )
        })?],
    };
    let severity = q
        .severity
        .as_deref()
        .map(|s| {
            Severity::parse(s).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_filter",
                    "severity must be critical, major, warning or info",
                )
            })
        })
        .transpose()?;
    let sort = match q.sort.as_deref() {
        None => AlertSort::default(),
        Some(s) => AlertSort::parse(s).ok_or_else(|| {
            ApiError::bad_request("invalid_filter", "sort must be newest, oldest or last_fired")
        })?,
    };
    let (limit, after) = page.resolve()?;
    let filter = AlertFilter {
        statuses,
        severity,
        service: q.service.as_deref(),
        source: q.source.as_deref(),
        since: q.since,
        until: q.until,
        sort,
    };
    let items = db::alerts::list(&mut t, &filter, after, limit).await?;
    let next_cursor = next_cursor(&items, limit, |a| sort.position(a));
    Ok(Json(CursorPage { items, next_cursor }))
}

/// The `{id}` of the alert paths.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AlertPath {
    /// The alert's id (UUID) or its number: `1234`, or `#1234` written `%231234`.
    #[param(value_type = String, example = "1234")]
    pub id: AlertKey,
}

/// The alert an `{id}` path segment names, by id or by number, in the caller's tenant; the same 404
/// for an unknown number as for an unknown id.
async fn find(t: &mut TenantTx, key: AlertKey) -> Result<Uuid, ApiError> {
    db::alerts::resolve_key(t, key)
        .await?
        .ok_or_else(|| ApiError::not_found("alert"))
}

/// An alert read after an action on it.
async fn read(t: &mut TenantTx, id: Uuid) -> Result<Alert, ApiError> {
    db::alerts::get(t, id)
        .await?
        .ok_or_else(|| ApiError::not_found("alert"))
}

/// One alert, by id or number.
#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "alerts", params(AlertPath),
    responses((status = 200, body = Alert), (status = 404, body = ErrorBody)))]
pub async fn get_alert(mut t: TenantTx, Path(path): Path<AlertPath>) -> Result<Json<Alert>, ApiError> {
    let id = find(&mut t, path.id).await?;
    Ok(Json(read(&mut t, id).await?))
}

/// `?limit=` of the similar incidents.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SimilarQuery {
    /// How many, 1–20 (default 5).
    pub limit: Option<i64>,
}

/// Knowledge-base incidents like this alert, best first: those listing its fingerprint, then those
/// sharing at least two of its first words (the candidates enrichment chose from), so the engineer
/// sees the alternatives when the automatic link is missing or wrong.
#[utoipa::path(get, path = "/api/v1/alerts/{id}/similar-incidents", tag = "alerts",
    params(AlertPath, SimilarQuery),
    responses((status = 200, body = Vec<SimilarIncident>), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn similar_incidents(
    mut t: TenantTx,
    Path(path): Path<AlertPath>,
    Query(q): Query<SimilarQuery>,
) -> Result<Json<Vec<SimilarIncident>>, ApiError> {
    let limit = super::pagination::bounded_limit(q.limit, 5, 20, "invalid_limit")?;
    let id = find(&mut t, path.id).await?;
    let alert = read(&mut t, id).await?;
    let text = db::incidents::match_text(&alert.title, alert.description.as_deref());
    let found = db::incidents::similar(&mut t, &alert.fingerprint, &text, limit).await?;
    Ok(Json(
        found
            .into_iter()
            .map(|s| SimilarIncident {
                linked: alert.matched_incident_id == Some(s.incident.id),
                matched_by: if s.rank.is_some() {
                    MatchedBy::Text
                } else {
                    MatchedBy::Fingerprint
                },
                rank: s.rank,
                incident: s.incident,
            })
            .collect(),
    ))
}

/// Acknowledges an open alert (idempotent); a resolved alert cannot be acknowledged.
#[utoipa::path(patch, path = "/api/v1/alerts/{id}/acknowledge", tag = "alerts", params(AlertPath),
    responses((status = 200, body = Alert), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn acknowledge_alert(
    State(state): State<AppState>,
    mut t: TenantTx,
    Path(path): Path<AlertPath>,
) -> Result<(Extension<AuditedId>, Json<Alert>), ApiError> {
    let by = Actor::from(&t.principal);
    let tenant = t.principal.tenant.slug.clone();
    let id = find(&mut t, path.id).await?;
    alerts::acknowledge(&mut t, &tenant, id, &by, state.clock.now()).await?;
    let alert = read(&mut t, id).await?;
    t.commit().await?;
    Ok((AuditedId::of(id), Json(alert)))
}

/// Resolves an alert (idempotent) and says whether the knowledge base already covers it.
#[utoipa::path(patch, path = "/api/v1/alerts/{id}/resolve", tag = "alerts", params(AlertPath),
    responses((status = 200, body = ResolveResponse), (status = 404, body = ErrorBody)))]
pub async fn resolve_alert(
    State(state): State<AppState>,
    mut t: TenantTx,
    Path(path): Path<AlertPath>,
) -> Result<(Extension<AuditedId>, Json<ResolveResponse>), ApiError> {
    let by = Actor::from(&t.principal);
    let tenant = t.principal.tenant.slug.clone();
    let id = find(&mut t, path.id).await?;
    alerts::resolve(&mut t, &tenant, id, &by, state.clock.now()).await?;
    let alert = read(&mut t, id).await?;
    let kb_entry_exists = match alert.matched_incident_id {
        Some(_) => true,
        None => db::incidents::by_fingerprint(&mut t, &alert.fingerprint)
            .await?
            .is_some(),
    };
    t.commit().await?;
    state.redis.forget_open_alert(&tenant, &alert.fingerprint).await;
    Ok((
        AuditedId::of(id),
        Json(ResolveResponse {
            alert,
            kb_entry_exists,
            add_to_kb_prompt: !kb_entry_exists,
        }),
    ))
}

/// Alert events as they happen (server-sent events, for the web UI): `event: alert` with
/// `{"alert_id", "event": "created" | "acknowledged" | "resolved", "severity"}` for each alert of the
/// caller's tenant that is created, acknowledged or resolved; `event: lagged` when events were
/// dropped because the client fell behind (reload what you show). A comment every 15 s keeps the
/// connection open; browsers reconnect by themselves (`retry: 3000`).
#[utoipa::path(get, path = "/api/v1/alerts/events", tag = "alerts",
    responses((status = 200, content_type = "text/event-stream", body = String), (status = 401, body = ErrorBody)))]
pub async fn alert_events(
    State(state): State<AppState>,
    principal: Principal,
) -> Sse<impl tokio_stream::Stream<Item = Result<Event, std::convert::Infallible>>> {
    use tokio_stream::StreamExt as _;
    use tokio_stream::wrappers::BroadcastStream;
    use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
    let tenant = principal.tenant.slug.clone();
    let hello = tokio_stream::once(Ok(Event::default()
        .retry(Duration::from_secs(3))
        .comment("nightowl")));
    let events = BroadcastStream::new(state.live.subscribe(&state.db)).filter_map(move |item| match item {
        Ok(change) if change.tenant == tenant => Some(Ok(Event::default().event("alert").data(
            serde_json::json!({
                "alert_id": change.alert_id,
                "event": change.event,
                "severity": change.severity,
            })
            .to_string(),
        ))),
        Ok(_) => None,
        Err(BroadcastStreamRecvError::Lagged(n)) => {
            Some(Ok(Event::default().event("lagged").data(n.to_string())))
        }
    });
    Sse::new(hello.chain(events)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// Every notification about the alert, oldest first: pages, status notices, and the deliveries its
/// folded pages went out with (a paging storm: `folded_into` names the delivery, whose `covers` lists
/// the alerts it stood for).
#[utoipa::path(get, path = "/api/v1/alerts/{id}/notifications", tag = "alerts", params(AlertPath),
    responses((status = 200, body = Vec<NotificationView>), (status = 404, body = ErrorBody)))]
pub async fn alert_notifications(
    mut t: TenantTx,
    Path(path): Path<AlertPath>,
) -> Result<Json<Vec<NotificationView>>, ApiError> {
    let id = find(&mut t, path.id).await?;
    Ok(Json(db::outbox::list_for_alert(&mut t, id).await?))
}

/// The alert's escalation: state, the tier due next and when, and every step so far.
#[utoipa::path(get, path = "/api/v1/alerts/{id}/escalation", tag = "alerts", params(AlertPath),
    responses((status = 200, body = AlertEscalation), (status = 404, body = ErrorBody)))]
pub async fn get_alert_escalation(
    mut t: TenantTx,
    Path(path): Path<AlertPath>,
) -> Result<Json<AlertEscalation>, ApiError> {
    let id = find(&mut t, path.id).await?;
    let Some(policy) = db::alerts::escalation_policy(&mut t, id).await? else {
        return Err(ApiError::not_found("alert"));
    };
    let row = db::escalations::of_alert(&mut t, id).await?;
    let events = db::escalations::events(&mut t, id).await?;
    let active = row.as_ref().is_some_and(|r| r.state == EscalationState::Active);
    Ok(Json(AlertEscalation {
        alert_id: id,
        policy_id: row.as_ref().map(|r| r.policy_id).or(policy),
        roster_id: row.as_ref().and_then(|r| r.roster_id),
        state: row.as_ref().map(|r| r.state),
        next_tier: row
            .as_ref()
            .filter(|_| active)
            .map(|r| Position::from_row(r.round, r.next_tier).tier_number()),
        round: row.as_ref().map(|r| r.round),
        next_at: row.as_ref().filter(|_| active).map(|r| r.next_at),
        events,
    }))
}

/// Fires the alert's next escalation tier now instead of at its deadline.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/escalate", tag = "alerts", params(AlertPath),
    responses((status = 202), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn escalate_alert(
    State(state): State<AppState>,
    mut t: TenantTx,
    Path(path): Path<AlertPath>,
) -> Result<(StatusCode, Extension<AuditedId>), ApiError> {
    let by = Actor::from(&t.principal);
    let id = find(&mut t, path.id).await?;
    alerts::escalate(&mut t, id, &by, state.clock.now()).await?;
    t.commit().await?;
    Ok((StatusCode::ACCEPTED, AuditedId::of(id)))
}
