//! The HTTP surface: router assembly and the middleware every request passes through.
//!
//! Layers, outermost first: request id → trace span (method, route, request id; never the query
//! string, which may carry a key) → panic recovery → metrics → JSON error bodies → CORS → timeout →
//! body limit → routing. Authenticated routes additionally pass `permissions::authorize`.

pub mod admin_config;
pub mod alerts;
pub mod api_keys;
pub mod audit_log;
pub mod docs;
pub mod error;
pub mod extract;
pub mod health;
pub mod identity;
pub mod incidents;
pub mod pagination;
pub mod permissions;
pub mod plugins;
pub mod policies;
pub mod rosters;
pub mod runbooks;
pub mod services;
pub mod users;
pub mod webhooks;

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use self::error::ApiError;
use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application router with its state.
pub fn app(state: AppState) -> Router {
    let (router, openapi) = api_router().split_for_parts();
    let config = state.config.clone();

    // Route layers added later run first: authorize, then the audit recorder (which needs the principal).
    let protected = router
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            audit_log::record_mutations,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            permissions::authorize,
        ));
    let public = Router::new()
        .route("/healthz", axum::routing::get(health::healthz))
        .route("/readyz", axum::routing::get(health::readyz))
        .route("/metrics", axum::routing::get(health::metrics))
        .route("/api/v1/auth/login", axum::routing::post(identity::login))
        .route("/api/v1/auth/logout", axum::routing::post(identity::logout));

    let cors = if config.cors_origins.is_empty() {
        None
    } else {
        let origins: Vec<HeaderValue> = config
            .cors_origins
            .iter()
            .filter_map(|o| o.parse().ok())
            .collect();
        Some(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_methods([
                    Method::GET,
                    Method::POST,
                    Method::PUT,
                    Method::PATCH,
                    Method::DELETE,
                ])
                .allow_headers([
                    header::CONTENT_TYPE,
                    header::AUTHORIZATION,
                    HeaderName::from_static("x-api-key"),
                ])
                .allow_credentials(true)
                .max_age(Duration::from_secs(3600)),
        )
    };

    Router::new()
        .merge(protected)
        .merge(public)
        .merge(SwaggerUi::new("/api/docs").url("/api/docs/openapi.json", openapi))
        .route_layer(middleware::from_fn(remember_route))
        .fallback(not_found)
        // Router::layer wraps what is already there, so the last layer added runs first.
        .layer(DefaultBodyLimit::max(config.body_limit_bytes))
        .layer(RequestBodyLimitLayer::new(config.body_limit_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(config.request_timeout_secs),
        ))
        .layer(tower::util::option_layer(cors))
        .layer(middleware::from_fn(refuse_nul))
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn_with_state(state.clone(), record_metrics))
        .layer(CatchPanicLayer::custom(|_panic| {
            ApiError::internal(anyhow::anyhow!("handler panicked")).into_response()
        }))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let request_id = req
                .headers()
                .get(REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            tracing::info_span!("request", method = %req.method(), path = req.uri().path(), request_id)
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

/// Every authenticated API route, with its OpenAPI description.
pub fn api_router() -> OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    OpenApiRouter::with_openapi(docs::ApiDoc::openapi())
        .routes(routes!(identity::ping))
        .routes(routes!(users::list_users, users::create_user))
        .routes(routes!(users::get_user, users::update_user, users::delete_user))
        .routes(routes!(users::deactivate_user))
        .routes(routes!(users::activate_user))
        .routes(routes!(services::list_services, services::create_service))
        .routes(routes!(
            services::get_service,
            services::update_service,
            services::delete_service
        ))
        .routes(routes!(api_keys::list_api_keys, api_keys::create_api_key))
        .routes(routes!(api_keys::revoke_api_key))
        .routes(routes!(admin_config::get_config, admin_config::put_config))
        .routes(routes!(plugins::list_plugins))
        .routes(routes!(plugins::reload_plugins))
        .routes(routes!(webhooks::receive_webhook))
        .routes(routes!(alerts::list_alerts))
        .routes(routes!(alerts::get_alert))
        .routes(routes!(alerts::acknowledge_alert))
        .routes(routes!(alerts::resolve_alert))
        .routes(routes!(alerts::get_alert_escalation))
        .routes(routes!(alerts::similar_incidents))
        .routes(routes!(alerts::escalate_alert))
        .routes(routes!(policies::list_policies, policies::create_policy))
        .routes(routes!(
            policies::get_policy,
            policies::update_policy,
            policies::delete_policy
        ))
        .routes(routes!(policies::dry_run))
        .routes(routes!(incidents::list_incidents, incidents::create_incident))
        .routes(routes!(
            incidents::get_incident,
            incidents::update_incident,
            incidents::delete_incident
        ))
        .routes(routes!(incidents::incident_history))
        .routes(routes!(incidents::search_incidents))
        .routes(routes!(incidents::incidents_by_fingerprint))
        .routes(routes!(incidents::merge_incident))
        .routes(routes!(runbooks::list_runbooks, runbooks::create_runbook))
        .routes(routes!(runbooks::list_runbook_templates))
        .routes(routes!(audit_log::list_audit_log))
        .routes(routes!(rosters::list_rosters, rosters::create_roster))
        .routes(routes!(
            rosters::get_roster,
            rosters::update_roster,
            rosters::delete_roster
        ))
        .routes(routes!(rosters::set_roster_members))
        .routes(routes!(rosters::list_overrides, rosters::create_override))
        .routes(routes!(rosters::delete_override))
        .routes(routes!(rosters::get_oncall))
        .routes(routes!(rosters::list_shifts))
        .routes(routes!(rosters::oncall_history))
        .routes(routes!(rosters::export_ics))
        .routes(routes!(
            runbooks::get_runbook,
            runbooks::update_runbook,
            runbooks::delete_runbook
        ))
}

async fn not_found(req: Request) -> ApiError {
    ApiError::not_found(&format!("route {} {}", req.method(), req.uri().path()))
}

/// Copies the matched route template into the response, where the outer metrics layer can see it.
async fn remember_route(req: Request, next: Next) -> Response {
    let matched = req.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(req).await;
    if let Some(matched) = matched {
        response.extensions_mut().insert(matched);
    }
    response
}

/// Observes `nightowl_api_request_duration_seconds` labelled with the route template (not the raw
/// path, which would give a series per id).
async fn record_metrics(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let started = Instant::now();
    let response = next.run(req).await;
    let path = response
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        .unwrap_or("unmatched");
    state
        .metrics
        .api_request_duration
        .with_label_values(&[method.as_str(), path, response.status().as_str()])
        .observe(started.elapsed().as_secs_f64());
    response
}

/// Refuses `%00` in the path or query: PostgreSQL text cannot hold NUL, and no identifier or filter of
/// ours contains one.
async fn refuse_nul(req: Request, next: Next) -> Response {
    let uri = req.uri();
    let raw = format!("{}?{}", uri.path(), uri.query().unwrap_or(""));
    if raw.to_ascii_lowercase().contains("%00") {
        return ApiError::bad_request("invalid_query", "the URL must not contain NUL (%00)").into_response();
    }
    next.run(req).await
}

/// Gives error answers produced outside our handlers (405, 408, 413, extractor rejections) the same
/// `{code, message}` shape as ours, keeping their text as the message.
async fn json_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned());
    let message = text
        .ok()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    let code = match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthenticated",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_request",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let body = serde_json::to_vec(&nightowl_api::ErrorBody {
        code: code.into(),
        message,
        details: None,
    })
    .unwrap_or_default();
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn permission_table_lists_exactly_the_routes_of_the_router() {
        let (_, openapi) = api_router().split_for_parts();
        let mut routed = BTreeSet::new();
        for (path, item) in &openapi.paths.paths {
            for (method, op) in [
                ("GET", &item.get),
                ("POST", &item.post),
                ("PUT", &item.put),
                ("PATCH", &item.patch),
                ("DELETE", &item.delete),
            ] {
                if op.is_some() {
                    routed.insert((method.to_owned(), path.clone()));
                }
            }
        }
        // Public routes documented in the spec but served without the authorize layer.
        for public in ["/api/v1/auth/login", "/api/v1/auth/logout", "/healthz", "/readyz"] {
            routed.retain(|(_, p)| p != public);
        }
        let table: BTreeSet<_> = permissions::ROUTES
            .iter()
            .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
            .collect();
        assert_eq!(routed, table);
    }
}
