//! `/api/v1/incidents`: the knowledge base — CRUD (soft delete), weighted search with highlights,
//! fingerprint lookup, merge, history.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use nightowl_api::incidents::{
    Highlights, HistoryEntry, Incident, IncidentDetail, IncidentInput, MarkdownInput, MergeInput,
    RenderedMarkdown, SearchHit,
};
use nightowl_api::{ErrorBody, OffsetPage};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{Json, TenantTx};
use super::pagination::OffsetParams;
use super::routes::Route;
use crate::db;
use crate::db::incidents::{IncidentFilter, MergeRefusal};
use crate::state::AppState;
use nightowl_api::Role::{Engineer, Manager, Readonly};
use utoipa_axum::routes;

/// The routes of the knowledge base, with who may call them.
pub fn routes() -> Vec<Route> {
    vec![
        Route::read(routes!(list_incidents), Readonly),
        Route::write(routes!(create_incident), Engineer),
        Route::read(routes!(get_incident), Readonly),
        Route::write(routes!(update_incident), Engineer),
        Route::write(routes!(delete_incident), Manager),
        Route::write(routes!(review_incident), Engineer),
        Route::compute(routes!(render_markdown), Readonly),
        Route::read(routes!(incident_history), Readonly),
        Route::read(routes!(search_incidents), Readonly),
        Route::read(routes!(incidents_by_fingerprint), Readonly),
        Route::write(routes!(merge_incident), Manager),
    ]
}

/// Longest search query accepted.
const MAX_QUERY_CHARS: usize = 1000;

/// Filters of the incident list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncidentQuery {
    /// info, warning, major or critical.
    pub severity: Option<String>,
    pub category: Option<String>,
    /// Incidents affecting this service.
    pub service: Option<String>,
    /// Comma-separated tags; an incident must have all of them.
    pub tags: Option<String>,
}

impl IncidentQuery {
    fn tag_list(&self) -> Vec<String> {
        self.tags
            .as_deref()
            .map(|t| {
                t.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn filter<'a>(&'a self, tags: &'a [String]) -> IncidentFilter<'a> {
        let given = |v: &'a Option<String>| v.as_deref().filter(|v| !v.is_empty());
        IncidentFilter {
            severity: given(&self.severity),
            category: given(&self.category),
            service: given(&self.service),
            tags,
        }
    }
}

/// Live incidents (not merged, not deleted), most recently updated first.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents", params(IncidentQuery, OffsetParams),
    responses((status = 200, body = OffsetPage<Incident>), (status = 400, body = ErrorBody)))]
pub async fn list_incidents(
    mut t: TenantTx,
    Query(q): Query<IncidentQuery>,
    Query(page): Query<OffsetParams>,
) -> Result<Json<OffsetPage<Incident>>, ApiError> {
    let (limit, offset) = page.resolve()?;
    let tags = q.tag_list();
    let (items, total) = db::incidents::list(&mut t, &q.filter(&tags), limit, offset).await?;
    Ok(Json(OffsetPage {
        items,
        total,
        offset,
        limit,
    }))
}

fn map_write_error(err: sqlx::Error) -> ApiError {
    if db::is_foreign_key_violation(&err) {
        ApiError::invalid_field("runbook_id", "no such runbook")
    } else {
        err.into()
    }
}

/// Adds an incident to the knowledge base.
#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents", request_body = IncidentInput,
    responses((status = 201, body = Incident), (status = 422, body = ErrorBody)))]
pub async fn create_incident(
    State(state): State<AppState>,
    mut t: TenantTx,
    Json(input): Json<IncidentInput>,
) -> Result<(StatusCode, Json<Incident>), ApiError> {
    let by = t.principal.label();
    let incident = db::incidents::create(&mut t, &input, &by, state.clock.now())
        .await
        .map_err(map_write_error)?;
    t.commit().await?;
    Ok((StatusCode::CREATED, Json(incident)))
}

/// An incident with its history and linked alerts; merged and deleted incidents stay readable here.
#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents", params(("id" = Uuid, Path)),
    responses((status = 200, body = IncidentDetail), (status = 404, body = ErrorBody)))]
pub async fn get_incident(mut t: TenantTx, Path(id): Path<Uuid>) -> Result<Json<IncidentDetail>, ApiError> {
    let incident = db::incidents::get(&mut t, id)
        .await?
        .ok_or_else(|| ApiError::not_found("incident"))?;
    let history = db::incidents::history(&mut t, id).await?;
    let alerts = db::incidents::linked_alerts(&mut t, id).await?;
    Ok(Json(IncidentDetail {
        incident,
        history,
        alerts,
    }))
}

async fn live_or_error(t: &mut TenantTx, id: Uuid) -> Result<Incident, ApiError> {
    let incident = db::incidents::get(t, id)
        .await?
        .ok_or_else(|| ApiError::not_found("incident"))?;
    if let Some(target) = incident.merged_into_id {
        return Err(ApiError::conflict(
            "incident_merged",
            format!("the incident was merged into {target}"),
        )
        .with_details(serde_json::json!({ "merged_into_id": target })));
    }
    if incident.archived_at.is_some() {
        return Err(ApiError::conflict("incident_deleted", "the incident was deleted"));
    }
    Ok(incident)
}

/// Replaces an incident's fields; the change is recorded field by field in its history.
#[utoipa::path(put, path = "/api/v1/incidents/{id}", tag = "incidents", params(("id" = Uuid, Path)),
    request_body = IncidentInput,
    responses((status = 200, body = Incident), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_incident(
    State(state): State<AppState>,
    mut t: TenantTx,
    Path(id): Path<Uuid>,
    Json(input): Json<IncidentInput>,
) -> Result<Json<Incident>, ApiError> {
    live_or_error(&mut t, id).await?;
    let incident = db::incidents::update(&mut t, id, &input, state.clock.now())
        .await
        .map_err(map_write_error)?
        .ok_or_else(|| ApiError::not_found("incident"))?;
    t.commit().await?;
    Ok(Json(incident))
}

/// Deletes an incident softly: it leaves lists and search but stays readable by id.
#[utoipa::path(delete, path = "/api/v1/incidents/{id}", tag = "incidents", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_incident(
    State(state): State<AppState>,
    mut t: TenantTx,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    live_or_error(&mut t, id).await?;
    let now = state.clock.now();
    db::incidents::archive(&mut t, id, now).await?;
    let by = t.principal.label();
    db::incidents::record_event(&mut t, id, "delete", None, None, &by, now).await?;
    t.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Confirms an incident: an engineer stands behind its solution. Incidents an agent created start
/// unreviewed; until confirmed, their solution is suggested as unreviewed and comes after reviewed
/// knowledge. Confirming a reviewed incident again changes nothing.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/review", tag = "incidents", params(("id" = Uuid, Path)),
    responses((status = 200, body = Incident), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn review_incident(
    State(state): State<AppState>,
    mut t: TenantTx,
    Path(id): Path<Uuid>,
) -> Result<Json<Incident>, ApiError> {
    let incident = live_or_error(&mut t, id).await?;
    if incident.reviewed {
        return Ok(Json(incident));
    }
    let by = t.principal.label();
    let reviewed = db::incidents::review(&mut t, id, &by, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found("incident"))?;
    t.commit().await?;
    Ok(Json(reviewed))
}

/// The incident's recorded changes, oldest first.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/history", tag = "incidents", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<HistoryEntry>), (status = 404, body = ErrorBody)))]
pub async fn incident_history(
    mut t: TenantTx,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<HistoryEntry>>, ApiError> {
    db::incidents::get(&mut t, id)
        .await?
        .ok_or_else(|| ApiError::not_found("incident"))?;
    Ok(Json(db::incidents::history(&mut t, id).await?))
}

/// Search parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words to find; `"exact phrase"`, `or` and `-excluded` work as in web search engines, and a plain
    /// last word also matches as a prefix (`crashloop` finds CrashLoopBackOff).
    pub q: String,
}

/// Full-text search: matches in title, category and error patterns (weight A) outrank symptoms, root
/// cause and services (B), which outrank solution and tags (C). Highlights are structured fragments.
/// The list's filters narrow the results.
#[utoipa::path(get, path = "/api/v1/incidents/search", tag = "incidents",
    params(SearchQuery, IncidentQuery, OffsetParams),
    responses((status = 200, body = Vec<SearchHit>), (status = 400, body = ErrorBody)))]
pub async fn search_incidents(
    mut t: TenantTx,
    Query(q): Query<SearchQuery>,
    Query(filter): Query<IncidentQuery>,
    Query(page): Query<OffsetParams>,
) -> Result<Json<Vec<SearchHit>>, ApiError> {
    let (limit, offset) = page.resolve()?;
    let query = q.q.trim();
    if query.is_empty() {
        return Err(ApiError::bad_request(
            "empty_query",
            "q must contain at least one word",
        ));
    }
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_request(
            "query_too_long",
            format!("q is limited to {MAX_QUERY_CHARS} characters"),
        ));
    }
    let tags = filter.tag_list();
    let rows = db::incidents::search(&mut t, query, &filter.filter(&tags), limit, offset).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| SearchHit {
                incident: r.incident,
                rank: r.rank,
                highlights: Highlights {
                    title: r.title,
                    symptoms: r.symptoms,
                    solution: r.solution,
                },
            })
            .collect(),
    ))
}

/// Live incidents that list this alert fingerprint (exact match, GIN index).
#[utoipa::path(get, path = "/api/v1/incidents/fingerprint/{fingerprint}", tag = "incidents",
    params(("fingerprint" = String, Path)), responses((status = 200, body = Vec<Incident>)))]
pub async fn incidents_by_fingerprint(
    mut t: TenantTx,
    Path(fingerprint): Path<String>,
) -> Result<Json<Vec<Incident>>, ApiError> {
    Ok(Json(
        db::incidents::list_by_fingerprint(&mut t, &fingerprint).await?,
    ))
}

/// Folds incident `{id}` into `target_id`. Arrays (fingerprints, services, clusters, namespaces, tags,
/// error patterns) are unioned, resolution counts summed and mean times weighted. The solution kept is
/// the target's, unless it has none or the source's was proven more often (more resolutions). Alerts
/// of the source now point at the target; the source is marked merged (soft delete); both histories
/// record the merge. Merging into itself, or involving a merged or deleted incident, is refused.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/merge", tag = "incidents", params(("id" = Uuid, Path)),
    request_body = MergeInput,
    responses((status = 200, body = Incident), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn merge_incident(
    State(state): State<AppState>,
    mut t: TenantTx,
    Path(id): Path<Uuid>,
    Json(input): Json<MergeInput>,
) -> Result<Json<Incident>, ApiError> {
    let by = t.principal.label();
    match db::incidents::merge(&mut t, id, input.target_id, &by, state.clock.now()).await? {
        Ok(target) => {
            t.commit().await?;
            Ok(Json(target))
        }
        Err(MergeRefusal::IntoItself) => Err(ApiError::bad_request(
            "merge_into_itself",
            "an incident cannot be merged into itself",
        )),
        Err(MergeRefusal::NotFound) => Err(ApiError::not_found("incident")),
        Err(MergeRefusal::NotLive(which)) => Err(ApiError::conflict(
            "incident_not_live",
            format!("incident {which} is already merged or deleted"),
        )),
    }
}

/// Renders a knowledge-base text (markdown) to sanitized HTML, as the web UI shows it: incident texts,
/// suggested fixes, and the editor's live preview. Raw HTML comes back as text; see
/// [`RenderedMarkdown`].
#[utoipa::path(post, path = "/api/v1/markdown", tag = "incidents", request_body = MarkdownInput,
    responses((status = 200, body = RenderedMarkdown), (status = 422, body = ErrorBody)))]
pub async fn render_markdown(Json(input): Json<MarkdownInput>) -> Json<RenderedMarkdown> {
    Json(RenderedMarkdown {
        html: crate::markdown::to_html(&input.text),
    })
}
