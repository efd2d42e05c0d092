//! Liveness, readiness and Prometheus metrics. Unauthenticated: probes and scrapers carry no keys.

use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use nightowl_api::admin::{DependencyStatus, Readiness, ReadinessStatus};

use super::extract::Json;
use super::routes::Route;
use crate::db;
use crate::state::AppState;
use utoipa_axum::routes;

/// The routes of probes and the scrape endpoint, with who may call them.
pub fn routes() -> Vec<Route> {
    vec![
        Route::public(routes!(healthz)),
        Route::public(routes!(readyz)),
        Route::public(routes!(metrics)),
    ]
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", security(()),
    responses((status = 200, description = "Alive")))]
pub async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Ready to serve: 200 `ok` or `degraded` (Redis down: dedup and events fall back to PostgreSQL; or a
/// worker loop panicked and waits to restart), 503 `failed` when PostgreSQL is unreachable.
#[utoipa::path(get, path = "/readyz", tag = "health", security(()),
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let db_ping = async {
        if state.db_health.is_down() {
            return Err(sqlx::Error::PoolClosed);
        }
        let mut conn = state.db.acquire().await?;
        db::ping(&mut conn).await
    };
    let (db, redis) = tokio::join!(
        tokio::time::timeout(Duration::from_secs(2), db_ping),
        state.redis.health()
    );
    let db_ok = matches!(db, Ok(Ok(())));
    let workers = if state.workers.is_empty() {
        DependencyStatus::Disabled
    } else if state.workers.down().is_empty() {
        DependencyStatus::Ok
    } else {
        DependencyStatus::Down
    };
    let status = match (db_ok, redis, workers) {
        (false, _, _) => ReadinessStatus::Failed,
        (true, DependencyStatus::Down, _) | (true, _, DependencyStatus::Down) => ReadinessStatus::Degraded,
        (true, _, _) => ReadinessStatus::Ok,
    };
    let code = if db_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Readiness {
        status,
        database: if db_ok {
            DependencyStatus::Ok
        } else {
            DependencyStatus::Down
        },
        redis,
        workers,
    };
    (code, Json(body))
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "health", security(()),
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
