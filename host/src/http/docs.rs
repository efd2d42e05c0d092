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
