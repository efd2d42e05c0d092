//! `/api/v1/alerts`: list, detail, acknowledge, resolve.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use nightowl_api::alerts::{Alert, ResolveResponse};
use nightowl_api::escalation::{AlertEscalation, EscalationEvent};
use nightowl_api::incidents::SimilarIncident;
use nightowl_api::{CursorPage, ErrorBody};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{Json, TenantTx};
use super::pagination::{CursorParams, next_cursor};
use super::routes::Route;
use crate::db;
use crate::db::alerts::{Ack, AlertFilter};
use crate::events::{self, AlertEvent, AlertEventKind};
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
}

/// Alerts newest first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", params(AlertQuery, CursorParams),
    responses((status = 200, body = CursorPage<Alert>), (status = 400, body = ErrorBody)))]
pub async fn list_alerts(
    mut t: TenantTx,
    Query(q): Query<AlertQuery>,
    Query(page): Query<CursorParams>,
) -> Result<Json<CursorPage<Alert>>, ApiError> {
    if let Some(s) = q.status.as_deref()
        && !["open", "firing", "acknowledged", "resolved"].contains(&s)
    {
        return Err(ApiError::bad_request(
            "invalid_filter",
            "status must be open, firing, acknowledged or resolved",
        ));
    }
    if let Some(s) = q.severity.as_deref()
        && !["critical", "major", "warning", "info"].contains(&s)
    {
        return Err(ApiError::bad_request(
            "invalid_filter",
            "severity must be critical, major, warning or info",
        ));
    }
    let (limit, after) = page.resolve()?;
    let filter = AlertFilter {
        status: q.status.as_deref(),
        severity: q.severity.as_deref(),
        service: q.service.as_deref(),
        source: q.source.as_deref(),
        since: q.since,
        until: q.until,
    };
    let items = db::alerts::list(&mut t, &filter, after, limit).await?;
    let next_cursor = next_cursor(&items, limit, |a| (a.created_at, a.id));
    Ok(Json(CursorPage { items, next_cursor }))
}

/// One alert.
#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "alerts", params(("id" = Uuid, Path)),
    responses((status = 200, body = Alert), (status = 404, body = ErrorBody)))]
pub async fn get_alert(mut t: TenantTx, Path(id): Path<Uuid>) -> Result<Json<Alert>, ApiError> {
    Ok(Json(
        db::alerts::get(&mut t, id)
            .await?
            .ok_or_else(|| ApiError::not_found("alert"))?,
    ))
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
    params(("id" = Uuid, Path), SimilarQuery),
    responses((status = 200, body = Vec<SimilarIncident>), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn similar_incidents(
    mut t: TenantTx,
    Path(id): Path<Uuid>,
    Query(q): Query<SimilarQuery>,
) -> Result<Json<Vec<SimilarIncident>>, ApiError> {
    let limit = super::pagination::bounded_limit(q.limit, 5, 20, "invalid_limit")?;
    let alert = db::alerts::get(&mut t, id)
        .await?
        .ok_or_else(|| ApiError::not_found("alert"))?;
    let text = db::incidents::match_text(&alert.title, alert.description.as_deref());
    let found = db::incidents::similar(&mut t, &alert.fingerprint, &text, limit).await?;
    Ok(Json(
        found
            .into_iter()
            .map(|s| SimilarIncident {
                linked: alert.matched_incident_id == Some(s.incident.id),
                matched_by: if s.rank.is_some() { "text" } else { "fingerprint" }.to_owned(),
                rank: s.rank,
                incident: s.incident,
            })
            .collect(),
    ))
}

/// Acknowledges an open alert (idempotent); a resolved alert cannot be acknowledged.
#[utoipa::path(patch, path = "/api/v1/alerts/{id}/acknowledge", tag = "alerts", params(("id" = Uuid, Path)),
    responses((status = 200, body = Alert), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn acknowledge_alert(
    State(state): State<AppState>,
    mut t: TenantTx,
    Path(id): Path<Uuid>,
) -> Result<Json<Alert>, ApiError> {
    let by = t.principal.label();
    match db::alerts::acknowledge(&mut t, id, &by, state.clock.now()).await? {
        None => return Err(ApiError::not_found("alert")),
        Some(Ack::Resolved) => {
            return Err(ApiError::conflict(
                "alert_resolved",
                "a resolved alert cannot be acknowledged",
            ));
        }
        // Only a real change is an event: a repeated acknowledge must not reach the workers twice.
        Some(Ack::Acknowledged) => {
            crate::escalation::stop(&mut t, id, "acknowledged", &by, state.clock.now()).await?;
            publish(&mut t, id, AlertEventKind::Acknowledged).await?;
        }
        Some(Ack::AlreadyAcknowledged) => {}
    }
    let alert = db::alerts::get(&mut t, id)
        .await?
        .ok_or_else(|| ApiError::not_found("alert"))?;
    t.commit().await?;
    Ok(Json(alert))
}

/// Resolves an alert (idempotent) and says whether the knowledge base already covers it.
#[utoipa::path(patch, path = "/api/v1/alerts/{id}/resolve", tag = "alerts", params(("id" = Uuid, Path)),
    responses((status = 200, body = ResolveResponse), (status = 404, body = ErrorBody)))]
pub async fn resolve_alert(
    State(state): State<AppState>,
    mut t: TenantTx,
    Path(id): Path<Uuid>,
) -> Result<Json<ResolveResponse>, ApiError> {
    let by = t.principal.label();
    let now = state.clock.now();
    let resolved = db::alerts::resolve(&mut t, id, &by, now)
        .await?
        .ok_or_else(|| ApiError::not_found("alert"))?;
    if let Some(resolved) = resolved {
        // Only an alert this call actually closed counts towards its incident's resolutions.
        resolved.record_on_incident(&mut t, &by, now).await?;
        crate::escalation::stop(&mut t, id, "resolved", &by, now).await?;
        publish(&mut t, id, AlertEventKind::Resolved).await?;
    }
    let alert = db::alerts::get(&mut t, id)
        .await?
        .ok_or_else(|| ApiError::not_found("alert"))?;
    let kb_entry_exists = match alert.matched_incident_id {
        Some(_) => true,
        None => db::incidents::by_fingerprint(&mut t, &alert.fingerprint)
            .await?
            .is_some(),
    };
    let tenant = t.principal.tenant.slug.to_string();
    t.commit().await?;
    state.redis.forget_open_alert(&tenant, &alert.fingerprint).await;
    Ok(Json(ResolveResponse {
        alert,
        kb_entry_exists,
        add_to_kb_prompt: !kb_entry_exists,
    }))
}

/// Queues an alert event in the request's transaction.
async fn publish(t: &mut TenantTx, alert_id: Uuid, event: AlertEventKind) -> Result<(), sqlx::Error> {
    let tenant = t.principal.tenant.slug.to_string();
    events::publish(
        t,
        &AlertEvent {
            tenant,
            alert_id,
            event,
            severity: None,
        },
    )
    .await
}

#[derive(sqlx::FromRow)]
struct EscalationRow {
    policy_id: Uuid,
    roster_id: Option<Uuid>,
    state: String,
    next_tier: i32,
    round: i32,
    next_at: chrono::DateTime<chrono::Utc>,
}

/// The alert's escalation: state, the tier due next and when, and every step so far.
#[utoipa::path(get, path = "/api/v1/alerts/{id}/escalation", tag = "alerts", params(("id" = Uuid, Path)),
    responses((status = 200, body = AlertEscalation), (status = 404, body = ErrorBody)))]
pub async fn get_alert_escalation(
    mut t: TenantTx,
    Path(id): Path<Uuid>,
) -> Result<Json<AlertEscalation>, ApiError> {
    let policy: Option<Option<Uuid>> =
        sqlx::query_scalar("select escalation_policy_id from alerts where id = $1")
            .bind(id)
            .fetch_optional(&mut *t)
            .await?;
    let Some(policy) = policy else {
        return Err(ApiError::not_found("alert"));
    };
    let row: Option<EscalationRow> = sqlx::query_as(
        "select policy_id, roster_id, state, next_tier, round, next_at from alert_escalations where alert_id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *t)
    .await?;
    let events: Vec<EscalationEvent> = sqlx::query_as::<
        _,
        (
            i64,
            Option<Uuid>,
            Option<i32>,
            Option<i32>,
            String,
            Option<String>,
            Option<String>,
            serde_json::Value,
            chrono::DateTime<chrono::Utc>,
        ),
    >(
        "select id, policy_id, tier, round, action, target, channel, detail, created_at
         from escalation_events where alert_id = $1 order by created_at, id",
    )
    .bind(id)
    .fetch_all(&mut *t)
    .await?
    .into_iter()
    .map(
        |(id, policy_id, tier, round, action, target, channel, detail, created_at)| EscalationEvent {
            id,
            policy_id,
            tier,
            round,
            action,
            target,
            channel,
            detail,
            created_at,
        },
    )
    .collect();
    let active = row.as_ref().is_some_and(|r| r.state == "active");
    Ok(Json(AlertEscalation {
        alert_id: id,
        policy_id: row.as_ref().map(|r| r.policy_id).or(policy),
        roster_id: row.as_ref().and_then(|r| r.roster_id),
        state: row.as_ref().map(|r| r.state.clone()),
        next_tier: row.as_ref().filter(|_| active).map(|r| r.next_tier + 1),
        round: row.as_ref().map(|r| r.round),
        next_at: row.as_ref().filter(|_| active).map(|r| r.next_at),
        events,
    }))
}

/// Fires the alert's next escalation tier now instead of at its deadline.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/escalate", tag = "alerts", params(("id" = Uuid, Path)),
    responses((status = 202), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn escalate_alert(
    State(state): State<AppState>,
    mut t: TenantTx,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let exists: bool = sqlx::query_scalar("select exists(select 1 from alerts where id = $1)")
        .bind(id)
        .fetch_one(&mut *t)
        .await?;
    if !exists {
        return Err(ApiError::not_found("alert"));
    }
    let by = t.principal.label();
    if !crate::escalation::escalate_now(&mut t, id, &by, Some("manual"), state.clock.now()).await? {
        return Err(ApiError::conflict(
            "not_escalating",
            "the alert has no running escalation (acknowledged, resolved, exhausted or never routed)",
        ));
    }
    // Wake the workers: the next tier is due now.
    crate::escalation::wake(&mut t, crate::events::CHANNEL).await?;
    t.commit().await?;
    Ok(StatusCode::ACCEPTED)
}
