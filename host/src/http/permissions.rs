//! The permission matrix: the minimum role of every authenticated route, in one table. The authorize
//! layer looks each request up here (by method and matched route template) and fails closed: a route
//! missing from the table answers 403 to everyone. A test checks the table against the router.

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use nightowl_api::Role;

use super::error::ApiError;
use crate::auth;
use crate::state::AppState;

use Role::{Admin, Engineer, Manager, Readonly};

/// `(method, route template, minimum role)`.
pub const ROUTES: &[(&str, &str, Role)] = &[
    ("GET", "/api/v1/ping", Readonly),
    ("GET", "/api/v1/users", Readonly),
    ("POST", "/api/v1/users", Admin),
    ("GET", "/api/v1/users/{id}", Readonly),
    ("PUT", "/api/v1/users/{id}", Admin),
    ("DELETE", "/api/v1/users/{id}", Admin),
    ("POST", "/api/v1/users/{id}/deactivate", Admin),
    ("POST", "/api/v1/users/{id}/activate", Admin),
    ("GET", "/api/v1/services", Readonly),
    ("POST", "/api/v1/services", Manager),
    ("GET", "/api/v1/services/{id}", Readonly),
    ("PUT", "/api/v1/services/{id}", Manager),
    ("DELETE", "/api/v1/services/{id}", Manager),
    ("GET", "/api/v1/admin/api-keys", Admin),
    ("POST", "/api/v1/admin/api-keys", Admin),
    ("DELETE", "/api/v1/admin/api-keys/{id}", Admin),
    ("GET", "/api/v1/admin/config", Admin),
    ("PUT", "/api/v1/admin/config", Admin),
    ("GET", "/api/v1/admin/plugins", Admin),
    ("POST", "/api/v1/admin/plugins/reload", Admin),
    ("POST", "/api/v1/webhooks/{source}", Engineer),
    ("GET", "/api/v1/alerts", Readonly),
    ("GET", "/api/v1/alerts/{id}", Readonly),
    ("PATCH", "/api/v1/alerts/{id}/acknowledge", Engineer),
    ("PATCH", "/api/v1/alerts/{id}/resolve", Engineer),
    ("GET", "/api/v1/alerts/{id}/escalation", Readonly),
    ("GET", "/api/v1/alerts/{id}/similar-incidents", Readonly),
    ("POST", "/api/v1/alerts/{id}/escalate", Engineer),
    ("GET", "/api/v1/escalation-policies", Readonly),
    ("POST", "/api/v1/escalation-policies", Manager),
    ("GET", "/api/v1/escalation-policies/{id}", Readonly),
    ("PUT", "/api/v1/escalation-policies/{id}", Manager),
    ("DELETE", "/api/v1/escalation-policies/{id}", Manager),
    ("POST", "/api/v1/escalation-policies/{id}/dry-run", Readonly),
    ("GET", "/api/v1/incidents", Readonly),
    ("POST", "/api/v1/incidents", Engineer),
    ("GET", "/api/v1/incidents/{id}", Readonly),
    ("PUT", "/api/v1/incidents/{id}", Engineer),
    ("DELETE", "/api/v1/incidents/{id}", Manager),
    ("GET", "/api/v1/incidents/{id}/history", Readonly),
    ("GET", "/api/v1/incidents/search", Readonly),
    ("GET", "/api/v1/incidents/fingerprint/{fingerprint}", Readonly),
    ("POST", "/api/v1/incidents/{id}/merge", Manager),
    ("GET", "/api/v1/runbooks", Readonly),
    ("POST", "/api/v1/runbooks", Engineer),
    ("GET", "/api/v1/runbooks/templates", Readonly),
    ("GET", "/api/v1/runbooks/{id}", Readonly),
    ("PUT", "/api/v1/runbooks/{id}", Engineer),
    ("DELETE", "/api/v1/runbooks/{id}", Manager),
    ("GET", "/api/v1/audit-log", Admin),
    ("GET", "/api/v1/rosters", Readonly),
    ("POST", "/api/v1/rosters", Manager),
    ("GET", "/api/v1/rosters/{id}", Readonly),
    ("PUT", "/api/v1/rosters/{id}", Manager),
    ("DELETE", "/api/v1/rosters/{id}", Manager),
    ("PUT", "/api/v1/rosters/{id}/members", Manager),
    ("GET", "/api/v1/rosters/{id}/overrides", Readonly),
    ("POST", "/api/v1/rosters/{id}/overrides", Engineer),
    ("DELETE", "/api/v1/rosters/{id}/overrides/{override_id}", Engineer),
    ("GET", "/api/v1/rosters/{id}/oncall", Readonly),
    ("GET", "/api/v1/rosters/{id}/shifts", Readonly),
    ("GET", "/api/v1/rosters/{id}/oncall/history", Readonly),
    ("GET", "/api/v1/rosters/{id}/export.ics", Readonly),
];

/// Minimum role for a route, or `None` when the route is not in the table.
pub fn min_role(method: &Method, path: &str) -> Option<Role> {
    let method = if method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    ROUTES
        .iter()
        .find(|(m, p, _)| *m == method.as_str() && *p == path)
        .map(|(_, _, role)| *role)
}

/// The `key` query parameter of a calendar feed route.
fn calendar_key(route: &str, query: Option<&str>) -> Option<String> {
    if !route.ends_with(".ics") {
        return None;
    }
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "key")
        .map(|(_, v)| v.to_owned())
}

fn has_credentials(headers: &axum::http::HeaderMap) -> bool {
    ["x-api-key", "authorization", "cookie"]
        .iter()
        .any(|h| headers.contains_key(*h))
}

/// Authenticates the caller, checks the matrix and the key's scopes, and hands the principal on.
pub async fn authorize(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let Some(required) = min_role(req.method(), &path) else {
        let allowed: Vec<&str> = ROUTES
            .iter()
            .filter(|(_, p, _)| *p == path)
            .map(|(m, _, _)| *m)
            .collect();
        if !allowed.is_empty() {
            let allow = allowed.join(", ");
            let mut response = ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("{} is not allowed here; use {allow}", req.method()),
            )
            .into_response();
            if let Ok(value) = allow.parse() {
                response.headers_mut().insert(axum::http::header::ALLOW, value);
            }
            return response;
        }
        tracing::error!(method = %req.method(), path, "route has no entry in the permission table");
        return ApiError::forbidden("this route is not open to any role").into_response();
    };
    let principal = match calendar_key(&path, req.uri().query()) {
        // Calendar apps cannot send headers: feeds take a read-only API key in the URL.
        Some(key) if !has_credentials(req.headers()) => match auth::api_key::authenticate(&state, &key).await
        {
            Ok(p) if p.scopes == ["read"] => Ok(p),
            Ok(_) => {
                return ApiError::forbidden("keys in URLs must be limited to the read scope").into_response();
            }
            Err(err) => Err(err),
        },
        _ => auth::authenticate(&state, req.headers()).await,
    };
    let principal = match principal {
        Ok(p) => p,
        Err(err) => return ApiError::from(err).into_response(),
    };
    if principal.role < required {
        return ApiError::forbidden(format!("requires role {required}; you have {}", principal.role))
            .with_details(serde_json::json!({ "required_role": required, "role": principal.role }))
            .into_response();
    }
    if !principal.scope_allows(req.method(), &path) {
        return ApiError::forbidden(format!(
            "this API key is limited to scopes {:?}",
            principal.scopes
        ))
        .into_response();
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}
