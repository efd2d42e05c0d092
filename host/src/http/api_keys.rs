//! `/api/v1/admin/api-keys`: machine credentials of the tenant. The raw key is answered once, at creation.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use nightowl_api::admin::{ApiKey, ApiKeyInput, ApiKeyScope, CreatedApiKey};
use nightowl_api::{CursorPage, ErrorBody};
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{Json, TenantTx};
use super::pagination::{CursorParams, next_cursor};
use super::routes::Route;
use crate::auth::api_key;
use crate::db;
use crate::state::AppState;
use nightowl_api::Role::Admin;
use utoipa_axum::routes;

/// The routes of API keys, with who may call them.
pub fn routes() -> Vec<Route> {
    vec![
        Route::read(routes!(list_api_keys), Admin),
        Route::write(routes!(create_api_key), Admin),
        Route::write(routes!(revoke_api_key), Admin),
    ]
}

/// The tenant's keys, newest first (masked: prefix only).
#[utoipa::path(get, path = "/api/v1/admin/api-keys", tag = "admin", params(CursorParams),
    responses((status = 200, body = CursorPage<ApiKey>), (status = 403, body = ErrorBody)))]
pub async fn list_api_keys(
    mut t: TenantTx,
    Query(page): Query<CursorParams>,
) -> Result<Json<CursorPage<ApiKey>>, ApiError> {
    let (limit, after) = page.resolve()?;
    let tenant_id = t.principal.tenant.id;
    let items = db::api_keys::list(&mut t, tenant_id, after, limit).await?;
    let next_cursor = next_cursor(&items, limit, |k| (k.created_at, k.id));
    Ok(Json(CursorPage { items, next_cursor }))
}

/// Creates a key; the answer holds the raw key, which is never shown again.
#[utoipa::path(post, path = "/api/v1/admin/api-keys", tag = "admin", request_body = ApiKeyInput,
    responses((status = 201, body = CreatedApiKey), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_api_key(
    State(state): State<AppState>,
    mut t: TenantTx,
    Json(input): Json<ApiKeyInput>,
) -> Result<(StatusCode, Json<CreatedApiKey>), ApiError> {
    if input.role > t.principal.role {
        return Err(ApiError::forbidden(
            "a key cannot have a higher role than its creator",
        ));
    }
    if input.expires_at.is_some_and(|at| at <= state.clock.now()) {
        return Err(ApiError::invalid_field("expires_at", "must be in the future"));
    }
    // Validation refused unknown scopes.
    let scopes: Vec<ApiKeyScope> = input
        .scopes
        .iter()
        .filter_map(|s| ApiKeyScope::parse(s))
        .collect();
    let generated = api_key::generate();
    let created_by = t.principal.label();
    let new = db::api_keys::NewKey {
        tenant_id: t.principal.tenant.id,
        name: input.name.trim(),
        key_hash: &generated.hash,
        prefix: &generated.prefix,
        role: input.role,
        scopes: &scopes,
        expires_at: input.expires_at,
        created_by: Some(&created_by),
    };
    let key = db::api_keys::create(&mut t, new).await?;
    t.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiKey {
            key: generated.raw,
            api_key: key,
        }),
    ))
}

/// Revokes a key at once (idempotent).
#[utoipa::path(delete, path = "/api/v1/admin/api-keys/{id}", tag = "admin", params(("id" = Uuid, Path)),
    responses((status = 200, body = ApiKey), (status = 404, body = ErrorBody)))]
pub async fn revoke_api_key(
    State(state): State<AppState>,
    mut t: TenantTx,
    Path(id): Path<Uuid>,
) -> Result<Json<ApiKey>, ApiError> {
    let tenant_id = t.principal.tenant.id;
    let key = db::api_keys::revoke(&mut t, tenant_id, id, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found("API key"))?;
    t.commit().await?;
    Ok(Json(key))
}
