//! `/api/v1/services`: the service catalogue (name, cluster, namespace, owner, tier).

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use nightowl_api::admin::{Service, ServiceInput};
use nightowl_api::{ErrorBody, OffsetPage};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{Json, TenantTx};
use super::pagination::OffsetParams;
use super::routes::Route;
use crate::db;
use nightowl_api::Role::{Manager, Readonly};
use utoipa_axum::routes;

/// The routes of services, with who may call them.
pub fn routes() -> Vec<Route> {
    vec![
        Route::read(routes!(list_services), Readonly),
        Route::write(routes!(create_service), Manager),
        Route::read(routes!(get_service), Readonly),
        Route::write(routes!(update_service), Manager),
        Route::write(routes!(delete_service), Manager),
    ]
}

/// Filters of the service list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServiceFilter {
    /// Name contains this text (case-insensitive).
    pub q: Option<String>,
}

/// Services ordered by name.
#[utoipa::path(get, path = "/api/v1/services", tag = "services", params(ServiceFilter, OffsetParams),
    responses((status = 200, body = OffsetPage<Service>)))]
pub async fn list_services(
    mut t: TenantTx,
    Query(filter): Query<ServiceFilter>,
    Query(page): Query<OffsetParams>,
) -> Result<Json<OffsetPage<Service>>, ApiError> {
    let (limit, offset) = page.resolve()?;
    let q = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let (items, total) = db::services::list(&mut t, q, limit, offset).await?;
    Ok(Json(OffsetPage {
        items,
        total,
        offset,
        limit,
    }))
}

/// One service.
#[utoipa::path(get, path = "/api/v1/services/{id}", tag = "services", params(("id" = Uuid, Path)),
    responses((status = 200, body = Service), (status = 404, body = ErrorBody)))]
pub async fn get_service(mut t: TenantTx, Path(id): Path<Uuid>) -> Result<Json<Service>, ApiError> {
    Ok(Json(
        db::services::get(&mut t, id)
            .await?
            .ok_or_else(|| ApiError::not_found("service"))?,
    ))
}

fn map_write_error(err: sqlx::Error) -> ApiError {
    if db::is_unique_violation(&err, "services_name_key") {
        ApiError::conflict("service_exists", "a service with this name already exists")
    } else if db::is_foreign_key_violation(&err) {
        ApiError::invalid_field("owner_user_id", "no such user")
    } else {
        err.into()
    }
}

/// Adds a service.
#[utoipa::path(post, path = "/api/v1/services", tag = "services", request_body = ServiceInput,
    responses((status = 201, body = Service), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_service(
    mut t: TenantTx,
    Json(input): Json<ServiceInput>,
) -> Result<(StatusCode, Json<Service>), ApiError> {
    let service = db::services::create(&mut t, &input)
        .await
        .map_err(map_write_error)?;
    t.commit().await?;
    Ok((StatusCode::CREATED, Json(service)))
}

/// Replaces a service's fields.
#[utoipa::path(put, path = "/api/v1/services/{id}", tag = "services", params(("id" = Uuid, Path)),
    request_body = ServiceInput,
    responses((status = 200, body = Service), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_service(
    mut t: TenantTx,
    Path(id): Path<Uuid>,
    Json(input): Json<ServiceInput>,
) -> Result<Json<Service>, ApiError> {
    let service = db::services::update(&mut t, id, &input)
        .await
        .map_err(map_write_error)?
        .ok_or_else(|| ApiError::not_found("service"))?;
    t.commit().await?;
    Ok(Json(service))
}

/// Removes a service.
#[utoipa::path(delete, path = "/api/v1/services/{id}", tag = "services", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_service(mut t: TenantTx, Path(id): Path<Uuid>) -> Result<StatusCode, ApiError> {
    if !db::services::delete(&mut t, id).await? {
        return Err(ApiError::not_found("service"));
    }
    t.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
