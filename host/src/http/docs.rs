//! The OpenAPI document, generated from the handler annotations and served at
//! `/api/docs/openapi.json` with a Swagger UI (bundled in the binary, so it works offline) at `/api/docs`.

use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

/// Top-level document; the paths come from the route declarations (`http::routes`).
#[derive(OpenApi)]
#[openapi(
    info(title = "NightOwl API", description = "Alert intake, knowledge base and on-call escalation."),
    modifiers(&Security),
    security(("api_key" = []), ("bearer" = []), ("session" = [])),
    tags(
        (name = "identity", description = "Who is calling; local sign-in"),
        (name = "alerts", description = "Alert intake (webhooks) and handling"),
        (name = "incidents", description = "Knowledge base: what broke and how it was fixed"),
        (name = "rosters", description = "On-call rotations, overrides and who is on call"),
        (name = "users", description = "People of the tenant"),
        (name = "services", description = "Service catalogue"),
        (name = "admin", description = "API keys, plugins and tenant configuration"),
        (name = "stats", description = "Dashboard figures: open alerts, time to resolve, recurring alerts"),
        (name = "health", description = "Liveness, readiness and metrics"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::auth::SESSION_COOKIE))),
        );
    }
}

/// Adds to every operation the error answers its route can give besides those its handler
/// documents, from the route's declaration, so the document lists every status the API answers
/// (schemathesis checks it in CI):
///
/// - every route: 400 (a malformed URL, query or path parameter) and 500;
/// - routes under `/api/`: 503 (the database is unavailable; `Retry-After`);
/// - routes that need credentials: 401 and 403; a signed callback: 401;
/// - routes with a path parameter: 404;
/// - routes with a request body: 413, 415 and 422;
/// - sign-in: 429 (`Retry-After`).
pub fn document_errors(openapi: &mut utoipa::openapi::OpenApi, routes: &[super::routes::RouteSpec]) {
    use super::routes::Access;
    use utoipa::openapi::{Ref, ResponseBuilder};
    for spec in routes {
        let Some(item) = openapi.paths.paths.get_mut(&spec.path) else {
            continue;
        };
        let operation = match spec.method.as_str() {
            "GET" => item.get.as_mut(),
            "POST" => item.post.as_mut(),
            "PUT" => item.put.as_mut(),
            "PATCH" => item.patch.as_mut(),
            "DELETE" => item.delete.as_mut(),
            _ => None,
        };
        let Some(operation) = operation else { continue };
        let mut statuses = vec![
            ("400", "Malformed URL, query or path parameter"),
            ("500", "Internal error; the server log has the request id"),
        ];
        if spec.path.starts_with("/api/") {
            statuses.push((
                "503",
                "The database is unavailable, or the server is saturated; see `Retry-After`",
            ));
        }
        match spec.access {
            Access::Principal { .. } | Access::CalendarKey { .. } => {
                statuses.push(("401", "Missing, invalid, expired or revoked credentials"));
                statuses.push(("403", "The caller's role or key scope does not allow this"));
            }
            Access::Signed(_) => statuses.push(("401", "Missing or invalid signature")),
            Access::Public => {}
        }
        if spec.path.contains('{') {
            statuses.push(("404", "Nothing with this id in the caller's tenant"));
        }
        if operation.request_body.is_some() {
            statuses.push(("413", "The body exceeds the size limit"));
            statuses.push(("415", "The body is not `application/json`"));
            statuses.push(("422", "The body is not valid for this operation"));
        }
        if spec.path == "/api/v1/auth/login" {
            statuses.push(("429", "Too many sign-ins; see `Retry-After`"));
        }
        for (status, description) in statuses {
            operation
                .responses
                .responses
                .entry(status.to_owned())
                .or_insert_with(|| {
                    ResponseBuilder::new()
                        .description(description)
                        .content(
                            "application/json",
                            utoipa::openapi::ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("ErrorBody")))
                                .build(),
                        )
                        .build()
                        .into()
                });
        }
    }
}
