//! `/api/v1/admin/plugins`: what is installed, a rescan without waiting for the watcher, and each
//! plugin's settings for this tenant (declared by its manifest; secrets sealed and only ever
//! reported as configured + last characters).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use nightowl_api::ErrorBody;
use nightowl_api::admin::{PluginConfig, PluginConfigInput, PluginList};

use super::error::ApiError;
use super::extract::{Json, TenantTx};
use super::routes::Route;
use crate::channels::settings::{self, UpdateError};
use crate::plugins::LoadedPlugin;
use crate::plugins::registry::ScanReport;
use crate::secrets::SecretError;
use crate::state::AppState;
use nightowl_api::Role::Admin;
use utoipa_axum::routes;

/// The routes of plugin administration, with who may call them.
pub fn routes() -> Vec<Route> {
    vec![
        Route::read(routes!(list_plugins), Admin),
        Route::write(routes!(reload_plugins), Admin),
        Route::read(routes!(get_plugin_config), Admin),
        Route::write(routes!(put_plugin_config), Admin),
    ]
}

/// Installed plugins (with their sandbox fault counts and, for sources, the webhook URL to give the
/// sender) and directories that failed to load.
#[utoipa::path(get, path = "/api/v1/admin/plugins", tag = "admin",
    responses((status = 200, body = PluginList), (status = 403, body = ErrorBody)))]
pub async fn list_plugins(State(state): State<AppState>) -> Json<PluginList> {
    // The registry knows the webhook's path; senders need the whole address.
    let base = state.config.public_url.trim_end_matches('/');
    let mut plugins = state.plugins.list();
    for p in &mut plugins {
        p.webhook_url = p.webhook_url.take().map(|path| format!("{base}{path}"));
    }
    Json(PluginList {
        plugins,
        failed: state.plugins.failures(),
    })
}

/// Rescans the plugin directory now: loads new and changed plugins, drops removed ones.
#[utoipa::path(post, path = "/api/v1/admin/plugins/reload", tag = "admin",
    responses((status = 200, body = ScanReport), (status = 403, body = ErrorBody)))]
pub async fn reload_plugins(State(state): State<AppState>) -> Json<ScanReport> {
    Json(state.plugins.scan().await)
}

fn installed(state: &AppState, id: &str) -> Result<std::sync::Arc<LoadedPlugin>, ApiError> {
    state.plugins.get(id).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_plugin",
            format!("no plugin {id:?} is installed"),
        )
    })
}

/// A plugin's settings for this tenant: every setting its manifest declares, plain values, and for
/// secrets only whether one is stored and its last characters.
#[utoipa::path(get, path = "/api/v1/admin/plugins/{id}/config", tag = "admin",
    params(("id" = String, Path, description = "Plugin id")),
    responses((status = 200, body = PluginConfig), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_plugin_config(
    State(state): State<AppState>,
    mut t: TenantTx,
    Path(id): Path<String>,
) -> Result<Json<PluginConfig>, ApiError> {
    let plugin = installed(&state, &id)?;
    let tenant = t.principal.tenant.slug.clone();
    let view = settings::view(&mut t, &state.sealer, &tenant, &plugin.manifest).await?;
    Ok(Json(view))
}

/// Changes a plugin's settings for this tenant: each named key is set (a secret is sealed) or, with
/// `null`, cleared; keys left out keep their value. All or nothing.
#[utoipa::path(put, path = "/api/v1/admin/plugins/{id}/config", tag = "admin", request_body = PluginConfigInput,
    params(("id" = String, Path, description = "Plugin id")),
    responses((status = 200, body = PluginConfig), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_plugin_config(
    State(state): State<AppState>,
    mut t: TenantTx,
    Path(id): Path<String>,
    Json(input): Json<PluginConfigInput>,
) -> Result<Json<PluginConfig>, ApiError> {
    let plugin = installed(&state, &id)?;
    let tenant = t.principal.tenant.slug.clone();
    let now = state.clock.now();
    match settings::update(
        &mut t,
        &state.sealer,
        &tenant,
        &plugin.manifest,
        &input.settings,
        now,
    )
    .await
    {
        Ok(()) => {}
        Err(UpdateError::Invalid(problems)) => {
            let fields: std::collections::BTreeMap<String, Vec<String>> = problems
                .into_iter()
                .map(|(k, v)| (format!("settings.{k}"), vec![v]))
                .collect();
            return Err(ApiError::validation(nightowl_api::FieldErrors(fields)));
        }
        Err(UpdateError::Seal(SecretError::NoKey)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "encryption_key_missing",
                SecretError::NoKey.to_string(),
            ));
        }
        Err(UpdateError::Seal(other)) => return Err(ApiError::internal(other)),
        Err(UpdateError::Db(e)) => return Err(e.into()),
    }
    let view = settings::view(&mut t, &state.sealer, &tenant, &plugin.manifest).await?;
    t.commit().await?;
    Ok(Json(view))
}
