//! `/api/v1/runbooks`: markdown runbooks, and the Kubernetes templates every tenant starts with.

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use nightowl_api::incidents::{Runbook, RunbookInput};
use nightowl_api::{ErrorBody, OffsetPage};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{Json, TenantTx};
use super::pagination::OffsetParams;
use super::routes::Route;
use crate::db;
use nightowl_api::Role::{Engineer, Manager, Readonly};
use utoipa_axum::routes;

/// The routes of runbooks, with who may call them.
pub fn routes() -> Vec<Route> {
    vec![
        Route::read(routes!(list_runbooks), Readonly),
        Route::write(routes!(create_runbook), Engineer),
        Route::read(routes!(list_runbook_templates), Readonly),
        Route::read(routes!(get_runbook), Readonly),
        Route::write(routes!(update_runbook), Engineer),
        Route::write(routes!(delete_runbook), Manager),
    ]
}

/// Filters of the runbook lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunbookQuery {
    pub category: Option<String>,
    pub tag: Option<String>,
}

async fn page(
    t: &mut TenantTx,
    templates: bool,
    q: RunbookQuery,
    p: OffsetParams,
) -> Result<Json<OffsetPage<Runbook>>, ApiError> {
    let (limit, offset) = p.resolve()?;
    let (items, total) = db::runbooks::list(
        t,
        templates,
        q.category.as_deref(),
        q.tag.as_deref(),
        limit,
        offset,
    )
    .await?;
    Ok(Json(OffsetPage {
        items,
        total,
        offset,
        limit,
    }))
}

/// The tenant's own runbooks, by title.
#[utoipa::path(get, path = "/api/v1/runbooks", tag = "incidents", params(RunbookQuery, OffsetParams),
    responses((status = 200, body = OffsetPage<Runbook>)))]
pub async fn list_runbooks(
    mut t: TenantTx,
    Query(q): Query<RunbookQuery>,
    Query(p): Query<OffsetParams>,
) -> Result<Json<OffsetPage<Runbook>>, ApiError> {
    page(&mut t, false, q, p).await
}

/// The pre-seeded templates (pod crashloop, OOMKilled, certificate expiry, etcd, node NotReady, PVC
/// pending, DNS failure).
#[utoipa::path(get, path = "/api/v1/runbooks/templates", tag = "incidents", params(RunbookQuery, OffsetParams),
    responses((status = 200, body = OffsetPage<Runbook>)))]
pub async fn list_runbook_templates(
    mut t: TenantTx,
    Query(q): Query<RunbookQuery>,
    Query(p): Query<OffsetParams>,
) -> Result<Json<OffsetPage<Runbook>>, ApiError> {
    page(&mut t, true, q, p).await
}

/// One runbook (own or template).
#[utoipa::path(get, path = "/api/v1/runbooks/{id}", tag = "incidents", params(("id" = Uuid, Path)),
    responses((status = 200, body = Runbook), (status = 404, body = ErrorBody)))]
pub async fn get_runbook(mut t: TenantTx, Path(id): Path<Uuid>) -> Result<Json<Runbook>, ApiError> {
    Ok(Json(
        db::runbooks::get(&mut t, id)
            .await?
            .ok_or_else(|| ApiError::not_found("runbook"))?,
    ))
}

/// Adds a runbook.
#[utoipa::path(post, path = "/api/v1/runbooks", tag = "incidents", request_body = RunbookInput,
    responses((status = 201, body = Runbook), (status = 422, body = ErrorBody)))]
pub async fn create_runbook(
    mut t: TenantTx,
    Json(input): Json<RunbookInput>,
) -> Result<(StatusCode, Json<Runbook>), ApiError> {
    let by = t.principal.label();
    let runbook = db::runbooks::create(&mut t, &input, &by).await?;
    t.commit().await?;
    Ok((StatusCode::CREATED, Json(runbook)))
}

/// Replaces a runbook's fields.
#[utoipa::path(put, path = "/api/v1/runbooks/{id}", tag = "incidents", params(("id" = Uuid, Path)),
    request_body = RunbookInput, responses((status = 200, body = Runbook), (status = 404, body = ErrorBody)))]
pub async fn update_runbook(
    mut t: TenantTx,
    Path(id): Path<Uuid>,
    Json(input): Json<RunbookInput>,
) -> Result<Json<Runbook>, ApiError> {
    let runbook = db::runbooks::update(&mut t, id, &input)
        .await?
        .ok_or_else(|| ApiError::not_found("runbook"))?;
    t.commit().await?;
    Ok(Json(runbook))
}

/// Deletes a runbook; incidents that linked it keep everything else.
#[utoipa::path(delete, path = "/api/v1/runbooks/{id}", tag = "incidents", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_runbook(mut t: TenantTx, Path(id): Path<Uuid>) -> Result<StatusCode, ApiError> {
    if !db::runbooks::delete(&mut t, id).await? {
        return Err(ApiError::not_found("runbook"));
    }
    t.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
