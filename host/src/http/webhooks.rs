//! `POST /api/v1/webhooks/{source}`: alert deliveries, parsed by the source plugin of that id.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use nightowl_api::ErrorBody;
use nightowl_api::alerts::IngestResponse;

use super::error::ApiError;
use super::extract::{self, Json};
use super::routes::{Route, Scope};
use crate::auth::Principal;
use crate::db;
use crate::ingest::{self, IngestError};
use crate::plugins::{CallError, FaultKind, InboundRequest, Kind, PluginError};
use crate::state::AppState;
use nightowl_api::Role::Engineer;
use utoipa_axum::routes;

/// The routes of alert intake, with who may call them.
pub fn routes() -> Vec<Route> {
    vec![
        Route::write(routes!(receive_webhook), Engineer)
            .scopes(&[Scope::Ingest, Scope::Agent])
            .unaudited("each alert row records its source and every repeat"),
    ]
}

/// Tries of a delivery's transaction that conflicted with a concurrent one.
const MAX_ATTEMPTS: u32 = 3;

fn ingest_error(err: IngestError) -> ApiError {
    match err {
        IngestError::UnknownSource(id) => ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_source",
            format!("no source plugin {id:?} is installed"),
        ),
        e @ IngestError::TooMany { received, max } => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_many_alerts", e.to_string())
                .with_details(serde_json::json!({ "received": received, "max": max }))
        }
        IngestError::Invalid(e) => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_alert", e.to_string())
                .with_details(serde_json::json!({ "index": e.index }))
        }
        IngestError::Plugin(CallError::Plugin(PluginError::InvalidPayload(m))) => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_payload", m)
        }
        IngestError::Plugin(CallError::Plugin(PluginError::Unauthorized(m))) => {
            ApiError::new(StatusCode::UNAUTHORIZED, "plugin_unauthorized", m)
        }
        IngestError::Plugin(CallError::Busy) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "plugins_busy",
            "every plugin slot is busy and the queue is full; retry shortly",
        )
        .retry_after(1),
        IngestError::Plugin(CallError::Plugin(other)) => {
            ApiError::new(StatusCode::BAD_GATEWAY, "plugin_error", other.to_string())
        }
        IngestError::Plugin(CallError::Fault {
            plugin,
            kind,
            message,
        }) => {
            let status = if kind == FaultKind::Timeout {
                StatusCode::GATEWAY_TIMEOUT
            } else {
                StatusCode::BAD_GATEWAY
            };
            ApiError::new(
                status,
                "plugin_fault",
                format!("plugin {plugin} failed: {message}"),
            )
            .with_details(serde_json::json!({ "plugin": plugin, "kind": kind.as_str() }))
        }
    }
}

/// Receives one delivery. Answered only after every alert of it is committed; an invalid delivery
/// writes nothing.
#[utoipa::path(post, path = "/api/v1/webhooks/{source}", tag = "alerts",
    params(("source" = String, Path, description = "Source plugin id, e.g. alertmanager, keep, generic")),
    request_body(content = String, description = "The source's native payload", content_type = "application/json"),
    responses((status = 200, body = IngestResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 422, body = ErrorBody), (status = 502, body = ErrorBody), (status = 503, body = ErrorBody), (status = 504, body = ErrorBody)))]
pub async fn receive_webhook(
    State(state): State<AppState>,
    principal: Principal,
    Path(source): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<IngestResponse>, ApiError> {
    let started = Instant::now();
    let plugin = state
        .plugins
        .get(&source)
        .filter(|p| p.manifest.kind == Kind::Source)
        .ok_or_else(|| ingest_error(IngestError::UnknownSource(source.clone())))?;
    let req = InboundRequest {
        method: "POST".into(),
        path: "/".into(),
        query: uri.query().map(str::to_owned),
        headers: InboundRequest::headers_from(&headers),
        body: body.to_vec(),
        public_url: uri.path().to_owned(),
    };
    let tenant = principal.tenant.slug.clone();
    let alerts = ingest::parse(&state, &plugin, &tenant, &req)
        .await
        .map_err(ingest_error)?;
    // An agent fix writes knowledge that is then suggested to on-call: only a key minted for it
    // (scope `agent`) may report one.
    let reports_fix = alerts
        .iter()
        .any(|a| a.agent.as_ref().is_some_and(|r| r.auto_resolved));
    if reports_fix && !principal.scopes.contains(&Scope::Agent) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "agent_scope_required",
            "reporting an agent fix (agent_metadata.auto_resolved) needs an API key with the agent scope",
        ));
    }

    // Rows are locked in fingerprint order, so concurrent deliveries queue rather than deadlock; a
    // conflict PostgreSQL still reports (it rolled the whole transaction back) is retried here, so
    // the sender never sees it.
    let _share = extract::tenant_share(&state, &principal).await?;
    let mut attempt = 1;
    let (results, cache) = loop {
        let mut tx = extract::begin(&state, &principal).await?;
        let stored = match ingest::store(&state, &mut tx, &tenant, &plugin.manifest.id, &alerts).await {
            Ok(stored) => tx.commit().await.map(|()| stored),
            Err(e) => Err(e),
        };
        match stored {
            Err(e) if attempt < MAX_ATTEMPTS && db::is_transient_conflict(&e) => {
                tracing::warn!(attempt, error = %e, "delivery conflicted with another; retrying");
                attempt += 1;
            }
            other => break other?,
        }
    };
    cache.apply(&state, &tenant).await;

    state
        .metrics
        .alert_processing_duration
        .with_label_values(&[plugin.manifest.id.as_str()])
        .observe(started.elapsed().as_secs_f64());
    Ok(Json(IngestResponse {
        source: plugin.manifest.id.clone(),
        alerts: results,
    }))
}
