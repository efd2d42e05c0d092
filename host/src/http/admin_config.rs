//! `/api/v1/admin/config`: per-tenant settings (time zone, retention, default roster, the
//! paging-storm rule). Channel
//! settings and secrets are per plugin: `http/plugins.rs`.

use axum::extract::State;
use nightowl_api::ErrorBody;
use nightowl_api::admin::{TenantConfig, TenantConfigInput};

use super::error::ApiError;
use super::extract::{Json, TenantTx};
use super::routes::Route;
use crate::db;
use crate::db::config::ConfigRow;
use crate::state::AppState;
use nightowl_api::Role::Admin;
use utoipa_axum::routes;

/// The routes of tenant configuration, with who may call them.
pub fn routes() -> Vec<Route> {
    vec![
        Route::read(routes!(get_config), Admin),
        Route::write(routes!(put_config), Admin),
    ]
}

fn view(row: ConfigRow) -> TenantConfig {
    TenantConfig {
        default_timezone: row.default_timezone,
        retention_days: row.retention_days,
        default_roster_id: row.default_roster_id,
        page_interval_secs: row.page_interval_secs.0,
        updated_at: row.updated_at,
    }
}

/// The tenant's configuration.
#[utoipa::path(get, path = "/api/v1/admin/config", tag = "admin",
    responses((status = 200, body = TenantConfig), (status = 403, body = ErrorBody)))]
pub async fn get_config(mut t: TenantTx) -> Result<Json<TenantConfig>, ApiError> {
    let row = db::config::get(&mut t, false).await?;
    Ok(Json(view(row)))
}

/// Replaces the configuration.
#[utoipa::path(put, path = "/api/v1/admin/config", tag = "admin", request_body = TenantConfigInput,
    responses((status = 200, body = TenantConfig), (status = 422, body = ErrorBody)))]
pub async fn put_config(
    State(state): State<AppState>,
    mut t: TenantTx,
    Json(input): Json<TenantConfigInput>,
) -> Result<Json<TenantConfig>, ApiError> {
    let mut row = db::config::get(&mut t, true).await?;
    row.default_timezone = input.default_timezone;
    row.retention_days = input.retention_days;
    if let Some(roster) = input.default_roster_id
        && db::rosters::get(&mut t, roster).await?.is_none()
    {
        return Err(ApiError::invalid_field(
            "default_roster_id",
            "no roster with this id",
        ));
    }
    row.default_roster_id = input.default_roster_id;
    row.page_interval_secs = sqlx::types::Json(input.page_interval_secs);
    row.updated_at = state.clock.now();
    let row = db::config::put(&mut t, &row).await?;
    t.commit().await?;
    Ok(Json(view(row)))
}
