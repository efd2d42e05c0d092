//! `/api/v1/admin/plugins`: what is installed, and a rescan without waiting for the watcher.

use axum::extract::State;
use nightowl_api::ErrorBody;
use serde::Serialize;
use utoipa::ToSchema;

use super::extract::Json;
use super::routes::Route;
use crate::plugins::registry::{PluginFailure, PluginInfo, ScanReport};
use crate::state::AppState;
use nightowl_api::Role::Admin;
use utoipa_axum::routes;

/// The routes of plugin administration, with who may call them.
pub fn routes() -> Vec<Route> {
    vec![
        Route::read(routes!(list_plugins), Admin),
        Route::write(routes!(reload_plugins), Admin),
    ]
}

/// Installed plugins and directories that failed to load.
#[derive(Debug, Serialize, ToSchema)]
pub struct PluginList {
    pub plugins: Vec<PluginInfo>,
    /// Directories with no working version, and why.
    pub failed: Vec<PluginFailure>,
}

/// Installed plugins.
#[utoipa::path(get, path = "/api/v1/admin/plugins", tag = "admin",
    responses((status = 200, body = PluginList), (status = 403, body = ErrorBody)))]
pub async fn list_plugins(State(state): State<AppState>) -> Json<PluginList> {
    Json(PluginList {
        plugins: state.plugins.list(),
        failed: state.plugins.failures(),
    })
}

/// Rescans the plugin directory now: loads new and changed plugins, drops removed ones.
#[utoipa::path(post, path = "/api/v1/admin/plugins/reload", tag = "admin",
    responses((status = 200, body = ScanReport), (status = 403, body = ErrorBody)))]
pub async fn reload_plugins(State(state): State<AppState>) -> Json<ScanReport> {
    Json(state.plugins.scan().await)
}
