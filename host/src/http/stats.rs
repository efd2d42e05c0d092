//! `/api/v1/stats/...`: the dashboard's figures, computed in SQL.

use axum::extract::{Query, State};
use nightowl_api::ErrorBody;
use nightowl_api::alerts::Severity;
use nightowl_api::stats::{AlertStats, MttrDay};
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::ApiError;
use super::extract::{Json, TenantTx};
use super::routes::Route;
use crate::db;
use crate::state::AppState;
use nightowl_api::Role::Readonly;
use utoipa_axum::routes;

/// The routes of statistics, with who may call them.
pub fn routes() -> Vec<Route> {
    vec![Route::read(routes!(alert_stats), Readonly)]
}

/// The window of the statistics.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Window {
    /// Days back from today (UTC), 1 to 365 (default 30).
    pub days: Option<i32>,
}

/// Open alerts by severity, the daily mean time to resolve, and the alerts that fire most often.
#[utoipa::path(get, path = "/api/v1/stats/alerts", tag = "stats", params(Window),
    responses((status = 200, body = AlertStats), (status = 422, body = ErrorBody)))]
pub async fn alert_stats(
    State(state): State<AppState>,
    mut t: TenantTx,
    Query(window): Query<Window>,
) -> Result<Json<AlertStats>, ApiError> {
    let days = window.days.unwrap_or(30);
    if !(1..=365).contains(&days) {
        return Err(ApiError::invalid_field("days", "must be between 1 and 365"));
    }
    let now = state.clock.now();
    let today = now.date_naive();
    let from = today - chrono::Days::new(u64::try_from(days - 1).unwrap_or(0));
    let mut open_by_severity: std::collections::BTreeMap<String, i64> =
        Severity::ALL.iter().map(|s| (s.to_string(), 0)).collect();
    let mut firing = 0;
    for (severity, open, unacknowledged) in db::stats::open_by_severity(&mut t).await? {
        open_by_severity.insert(severity, open);
        firing += unacknowledged;
    }
    let mttr = db::stats::mttr(&mut t, from, today)
        .await?
        .into_iter()
        .map(|(day, resolved, mttr_minutes)| MttrDay {
            day,
            resolved,
            mttr_minutes,
        })
        .collect();
    let since = from.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let top_recurring = db::stats::top_recurring(&mut t, since, 10).await?;
    Ok(Json(AlertStats {
        open_by_severity,
        firing,
        mttr,
        top_recurring,
        days,
    }))
}
