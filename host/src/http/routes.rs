//! Route declarations: every route is declared once, next to its handler, with how its caller
//! authenticates, the least role it needs, which API key scopes may call it and whether it is
//! audited. The router, the guard every request passes ([`guard`]), the audit recorder and the
//! RBAC, isolation and audit tests are all built from these declarations, so a route cannot be
//! added without a rule, and no rule lives anywhere else.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use nightowl_api::Role;
use utoipa_axum::router::UtoipaMethodRouter;

use super::audit_log;
use super::error::ApiError;
use crate::auth::{self, AuthError, Principal};
use crate::state::AppState;

/// A scope an API key can be narrowed to. A key without scopes may call every route its role
/// allows; a key with scopes only the routes that accept one.
pub use nightowl_api::admin::ApiKeyScope as Scope;

/// A boxed future, as returned by [`SignedCallback::verify`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The check of a request that an external system signed instead of sending credentials (a Slack
/// button press, a Twilio voice callback). It sees the raw body, since signatures cover the bytes
/// as sent, and answers who is acting, in which tenant.
pub trait SignedCallback: Send + Sync {
    /// Verifies the signature of the request and names the principal it acts as. A missing, forged
    /// or stale signature is an error, and the handler never runs.
    fn verify<'a>(
        &'a self,
        state: &'a AppState,
        parts: &'a Parts,
        body: &'a Bytes,
    ) -> BoxFuture<'a, Result<Principal, AuthError>>;
}

/// How the caller of a route proves who it is, and what it must be.
#[derive(Clone, Copy)]
pub enum Access {
    /// No credentials: probes, scrapers and the sign-in form.
    Public,
    /// A tenant principal (session cookie, OIDC JWT, API key or, in dev mode, dev headers) with at
    /// least `min_role`; a key narrowed by scopes must hold one of `scopes`.
    Principal {
        /// The least role that may call the route.
        min_role: Role,
        /// Key scopes that may call it (empty: only keys without scopes).
        scopes: &'static [Scope],
    },
    /// As [`Access::Principal`] with the read scope, or a read-only API key in the `key` query
    /// parameter: calendar apps subscribe by URL and cannot send headers.
    CalendarKey {
        /// The least role of the key's owner.
        min_role: Role,
    },
    /// A request signed by an external system, checked by the verifier over the raw body.
    Signed(&'static dyn SignedCallback),
}

impl fmt::Debug for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Access::Public => f.write_str("Public"),
            Access::Principal { min_role, scopes } => f
                .debug_struct("Principal")
                .field("min_role", min_role)
                .field("scopes", scopes)
                .finish(),
            Access::CalendarKey { min_role } => {
                f.debug_struct("CalendarKey").field("min_role", min_role).finish()
            }
            Access::Signed(_) => f.write_str("Signed"),
        }
    }
}

/// Whether successful calls of a route become audit log rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audit {
    /// Every successful call is recorded with its actor and (redacted) request body.
    Recorded,
    /// Not recorded, and why (e.g. reads change nothing; each alert row already records its source).
    Skipped(&'static str),
}

/// The rule of one route, as the tests and the guard see it.
#[derive(Debug, Clone)]
pub struct RouteSpec {
    /// HTTP method.
    pub method: Method,
    /// Route template, e.g. `/api/v1/users/{id}`.
    pub path: String,
    /// Who may call it.
    pub access: Access,
    /// Whether it is audited.
    pub audit: Audit,
}

impl RouteSpec {
    /// The least role a tenant principal needs, or `None` for public routes and signed callbacks
    /// (whose verifier decides).
    pub fn min_role(&self) -> Option<Role> {
        match self.access {
            Access::Principal { min_role, .. } | Access::CalendarKey { min_role } => Some(min_role),
            Access::Public | Access::Signed(_) => None,
        }
    }

    /// Whether an API key narrowed to `scopes` may call this route.
    pub fn scopes_allow(&self, scopes: &[Scope]) -> bool {
        let accepted: &[Scope] = match self.access {
            Access::Principal { scopes, .. } => scopes,
            Access::CalendarKey { .. } => &[Scope::Read],
            Access::Public | Access::Signed(_) => return true,
        };
        scopes.is_empty() || scopes.iter().any(|s| accepted.contains(s))
    }

    /// Whether successful calls are audited.
    pub fn is_audited(&self) -> bool {
        self.audit == Audit::Recorded
    }
}

/// A declared route: the handler with its OpenAPI description, and its rule.
pub struct Route {
    handler: UtoipaMethodRouter<AppState>,
    spec: RouteSpec,
}

const READS_CHANGE_NOTHING: Audit = Audit::Skipped("reads change nothing");

impl Route {
    /// A read (GET) for principals of at least `min_role`, open to read-scoped keys, not audited.
    pub fn read(handler: UtoipaMethodRouter<AppState>, min_role: Role) -> Route {
        let route = Route::new(
            handler,
            Access::Principal {
                min_role,
                scopes: &[Scope::Read],
            },
            READS_CHANGE_NOTHING,
        );
        assert!(
            route.spec.method == Method::GET,
            "{} {} is declared a read but is not a GET",
            route.spec.method,
            route.spec.path
        );
        route
    }

    /// A change for principals of at least `min_role`, refused to scoped keys, audited.
    pub fn write(handler: UtoipaMethodRouter<AppState>, min_role: Role) -> Route {
        Route::new(
            handler,
            Access::Principal {
                min_role,
                scopes: &[],
            },
            Audit::Recorded,
        )
    }

    /// A POST that computes an answer from its body and changes nothing (a preview): for principals
    /// of at least `min_role`, read-scoped keys included, not audited.
    pub fn compute(handler: UtoipaMethodRouter<AppState>, min_role: Role) -> Route {
        Route::new(
            handler,
            Access::Principal {
                min_role,
                scopes: &[Scope::Read],
            },
            READS_CHANGE_NOTHING,
        )
    }

    /// A read that a calendar app may also fetch with a read-only key in the URL.
    pub fn calendar(handler: UtoipaMethodRouter<AppState>, min_role: Role) -> Route {
        Route::new(handler, Access::CalendarKey { min_role }, READS_CHANGE_NOTHING)
    }

    /// A route anyone may call.
    pub fn public(handler: UtoipaMethodRouter<AppState>) -> Route {
        Route::new(handler, Access::Public, Audit::Skipped("no principal to record"))
    }

    /// A callback an external system signs, checked by `verifier`; audited as the principal it names.
    pub fn signed(handler: UtoipaMethodRouter<AppState>, verifier: &'static dyn SignedCallback) -> Route {
        Route::new(handler, Access::Signed(verifier), Audit::Recorded)
    }

    /// Accepts keys narrowed to these scopes, instead of the default of its kind (none for a write).
    pub fn scopes(mut self, extra: &'static [Scope]) -> Route {
        if let Access::Principal { scopes, .. } = &mut self.spec.access {
            *scopes = extra;
        }
        self
    }

    /// Not audited, for the reason given.
    pub fn unaudited(mut self, why: &'static str) -> Route {
        self.spec.audit = Audit::Skipped(why);
        self
    }

    fn new(handler: UtoipaMethodRouter<AppState>, access: Access, audit: Audit) -> Route {
        let (method, path) = method_and_path(&handler);
        Route {
            handler,
            spec: RouteSpec {
                method,
                path,
                access,
                audit,
            },
        }
    }

    /// The rule of this route.
    pub fn spec(&self) -> &RouteSpec {
        &self.spec
    }

    /// The handler wrapped in its guard (and, when audited, the audit recorder), ready for the router.
    pub fn into_guarded(self, state: &AppState) -> UtoipaMethodRouter<AppState> {
        let (schemas, paths, method_router) = self.handler;
        let spec = Arc::new(self.spec);
        let method_router = if spec.is_audited() {
            method_router.route_layer(middleware::from_fn_with_state(
                state.clone(),
                audit_log::record_mutations,
            ))
        } else {
            method_router
        };
        // Layers added later run first: the guard, then the audit recorder (which needs the principal).
        let method_router =
            method_router.route_layer(middleware::from_fn_with_state((state.clone(), spec), guard));
        (schemas, paths, method_router)
    }
}

/// The one method and path a `routes!(handler)` describes.
fn method_and_path(handler: &UtoipaMethodRouter<AppState>) -> (Method, String) {
    let paths = &handler.1.paths;
    assert!(paths.len() == 1, "declare one handler per route");
    let (path, item) = paths.iter().next().expect("one path");
    let methods: Vec<Method> = [
        (Method::GET, &item.get),
        (Method::POST, &item.post),
        (Method::PUT, &item.put),
        (Method::PATCH, &item.patch),
        (Method::DELETE, &item.delete),
    ]
    .into_iter()
    .filter(|(_, op)| op.is_some())
    .map(|(m, _)| m)
    .collect();
    assert!(methods.len() == 1, "{path}: declare one handler per route");
    (methods[0].clone(), path.clone())
}

/// Authenticates the caller as the route's [`Access`] says, checks role and key scopes, and hands
/// the principal to the handler. Every route passes here; there is no unguarded route.
pub async fn guard(
    State((state, spec)): State<(AppState, Arc<RouteSpec>)>,
    req: Request,
    next: Next,
) -> Response {
    // Authentication reads the database: give up on it when the database goes down meanwhile
    // (public routes, health checks among them, read nothing here).
    let authenticated = if matches!(spec.access, Access::Public) {
        Ok(authenticate(&state, &spec, req).await)
    } else {
        state.db_health.or_down(authenticate(&state, &spec, req)).await
    };
    let (principal, req) = match authenticated {
        Ok(Ok(authenticated)) => authenticated,
        Ok(Err(response)) => return *response,
        Err(down) => return ApiError::from(down).into_response(),
    };
    let Some(principal) = principal else {
        return next.run(req).await;
    };
    if let Some(required) = spec.min_role()
        && principal.role < required
    {
        return ApiError::forbidden(format!("requires role {required}; you have {}", principal.role))
            .with_details(serde_json::json!({ "required_role": required, "role": principal.role }))
            .into_response();
    }
    if !spec.scopes_allow(&principal.scopes) {
        return ApiError::forbidden(format!(
            "this API key is limited to scopes {:?}",
            principal.scopes
        ))
        .into_response();
    }
    let mut req = req;
    req.extensions_mut().insert(principal);
    next.run(req).await
}

/// The principal of a request (none for public routes), with the request to pass on.
async fn authenticate(
    state: &AppState,
    spec: &RouteSpec,
    req: Request,
) -> Result<(Option<Principal>, Request), Box<Response>> {
    let refuse = |err: AuthError| Box::new(ApiError::from(err).into_response());
    let principal = match spec.access {
        Access::Public => return Ok((None, req)),
        Access::Principal { .. } => auth::authenticate(state, req.headers()).await,
        Access::CalendarKey { .. } => match calendar_key(req.uri().query()) {
            Some(key) if !has_credentials(req.headers()) => {
                match auth::api_key::authenticate(state, &key).await {
                    Ok(p) if p.scopes == [Scope::Read] => Ok(p),
                    Ok(_) => {
                        return Err(Box::new(
                            ApiError::forbidden("keys in URLs must be limited to the read scope")
                                .into_response(),
                        ));
                    }
                    Err(err) => Err(err),
                }
            }
            _ => auth::authenticate(state, req.headers()).await,
        },
        Access::Signed(verifier) => {
            let (parts, body) = req.into_parts();
            let bytes = match axum::body::to_bytes(body, state.config.body_limit_bytes).await {
                Ok(bytes) => bytes,
                Err(_) => return Err(Box::new(payload_too_large())),
            };
            let principal = verifier.verify(state, &parts, &bytes).await.map_err(refuse)?;
            return Ok((Some(principal), Request::from_parts(parts, Body::from(bytes))));
        }
    };
    Ok((Some(principal.map_err(refuse)?), req))
}

/// The answer to a body over the configured limit.
pub fn payload_too_large() -> Response {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "request body exceeds the size limit",
    )
    .into_response()
}

/// The `key` query parameter of a calendar feed request.
fn calendar_key(query: Option<&str>) -> Option<String> {
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
