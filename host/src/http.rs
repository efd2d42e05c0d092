//! The HTTP surface: router assembly and the middleware every request passes through.
//!
//! Layers, outermost first: request id → trace span (method, route, request id; never the query
//! string, which may carry a key) → panic recovery → metrics → JSON error bodies → CORS → timeout →
//! body limit → routing. Every route is declared by its resource module (`routes()`, see [`routes`])
//! and passes its guard: authentication, role and key scopes as declared, then the audit recorder.

pub mod admin_config;
pub mod alerts;
pub mod api_keys;
pub mod audit_log;
pub mod channels;
pub mod client;
pub mod docs;
pub mod error;
pub mod extract;
pub mod health;
pub mod identity;
pub mod incidents;
pub mod oidc_login;
pub mod pagination;
pub mod plugins;
pub mod policies;
pub mod rosters;
pub mod routes;
pub mod runbooks;
pub mod serve;
pub mod services;
pub mod stats;
pub mod ui;
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
use self::routes::{Route, RouteSpec};
use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application router with its state.
pub fn app(state: AppState) -> Router {
    let (router, mut openapi) = api_router(&state).split_for_parts();
    docs::document_errors(&mut openapi, &route_table());
    let config = state.config.clone();

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
        .merge(router)
        .merge(SwaggerUi::new("/api/docs").url("/api/docs/openapi.json", openapi))
        .route_layer(middleware::from_fn(remember_route))
        // Unknown `/api` paths are JSON 404s; everything else is the web UI.
        .fallback(ui::fallback)
        // Router::layer wraps what is already there, so the last layer added runs first.
        .layer(DefaultBodyLimit::max(config.body_limit_bytes))
        .layer(RequestBodyLimitLayer::new(config.body_limit_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(config.request_timeout_secs),
        ))
        .layer(tower::util::option_layer(cors))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            refuse_while_database_down,
        ))
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

/// Every route of the API, as its resource module declares it.
pub fn routes() -> Vec<Route> {
    [
        health::routes(),
        identity::routes(),
        oidc_login::routes(),
        users::routes(),
        services::routes(),
        api_keys::routes(),
        admin_config::routes(),
        plugins::routes(),
        channels::routes(),
        webhooks::routes(),
        alerts::routes(),
        policies::routes(),
        incidents::routes(),
        runbooks::routes(),
        audit_log::routes(),
        rosters::routes(),
        stats::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The rule of every route: what the guard enforces, and what the RBAC, isolation and audit tests walk.
pub fn route_table() -> Vec<RouteSpec> {
    routes().iter().map(|r| r.spec().clone()).collect()
}

/// The router of every declared route, each behind its guard, with the OpenAPI description.
fn api_router(state: &AppState) -> OpenApiRouter<AppState> {
    routes().into_iter().fold(
        OpenApiRouter::with_openapi(docs::ApiDoc::openapi()),
        |router, route| router.routes(route.into_guarded(state)),
    )
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

/// While PostgreSQL is known to be down (`db::health`), answers API requests 503 with `Retry-After`
/// at once instead of letting each wait out the pool's acquire timeout (requests already waiting for
/// a connection give up in `DbHealth::or_down`). Health, readiness, metrics and the API docs are left
/// alone.
async fn refuse_while_database_down(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !path.starts_with("/api/") || path.starts_with("/api/docs") {
        return next.run(req).await;
    }
    if state.db_health.is_down() {
        return ApiError::unavailable().into_response();
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
    fn every_route_is_declared_once() {
        let table = route_table();
        let distinct: BTreeSet<_> = table.iter().map(|r| (r.method.clone(), r.path.clone())).collect();
        assert_eq!(distinct.len(), table.len(), "a route is declared twice");
        for route in &table {
            if route.method == axum::http::Method::GET {
                assert!(!route.is_audited(), "GET {} is audited", route.path);
            }
        }
    }
}
