//! Who is calling. Credentials are tried in a fixed order — session cookie (UI), Bearer JWT (OIDC),
//! `X-API-Key`, then the dev headers (only with `--dev-mode`) — and the first one present decides:
//! a present but bad credential is a 401, never a fall-through to the next kind.

pub mod api_key;
pub mod oidc;
pub mod password;
pub mod session;
pub mod throttle;

use axum::http::HeaderMap;
use nightowl_api::Role;
use nightowl_api::admin::{ActorType, ApiKeyScope};
use uuid::Uuid;

use crate::db;
use crate::state::AppState;
use crate::tenancy::{self, Tenant};

/// Name of the session cookie set by the local login.
pub const SESSION_COOKIE: &str = "nightowl_session";
/// Dev-mode header naming the tenant.
pub const DEV_TENANT_HEADER: &str = "x-nightowl-dev-tenant";
/// Dev-mode header naming the role (defaults to admin).
pub const DEV_ROLE_HEADER: &str = "x-nightowl-dev-role";

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub tenant: Tenant,
    pub role: Role,
    pub actor: Actor,
    /// Narrowing of the role (API keys only); each route declares the scopes it accepts
    /// (`http::routes::Scope`).
    pub scopes: Vec<ApiKeyScope>,
}

/// What kind of caller it is.
#[derive(Debug, Clone)]
pub enum Actor {
    User {
        id: Uuid,
        email: String,
    },
    ApiKey {
        id: Uuid,
        prefix: String,
    },
    Dev,
    /// A channel's callback (a Slack button, a Twilio webhook) for a tenant named in its URL, before
    /// the channel plugin has checked its signature; the plugin then acts as the person it maps.
    Channel {
        plugin: String,
    },
}

impl Principal {
    /// `user`, `api_key` or `dev`.
    pub fn actor_type(&self) -> ActorType {
        match self.actor {
            Actor::User { .. } => ActorType::User,
            Actor::ApiKey { .. } => ActorType::ApiKey,
            Actor::Dev => ActorType::Dev,
            Actor::Channel { .. } => ActorType::System,
        }
    }

    /// User or key id.
    pub fn actor_id(&self) -> Option<Uuid> {
        match &self.actor {
            Actor::User { id, .. } | Actor::ApiKey { id, .. } => Some(*id),
            Actor::Dev | Actor::Channel { .. } => None,
        }
    }

    /// A human-readable name for logs, history and audit: e-mail, `key:<prefix>` or `dev`.
    pub fn label(&self) -> String {
        crate::alerts::Actor::from(self).label()
    }
}

/// Why a request could not be authenticated. Every variant answers 401.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no credentials: send X-API-Key, a Bearer token or a session cookie")]
    Missing,
    #[error("invalid credentials")]
    Invalid,
    #[error("API key expired")]
    Expired,
    #[error("API key revoked")]
    Revoked,
    #[error("session expired or signed out")]
    SessionExpired,
    #[error("user is deactivated")]
    Deactivated,
    #[error("token rejected: {0}")]
    Token(String),
    #[error("tenant {0:?} does not exist")]
    UnknownTenant(String),
    /// The token's identity cannot be given the account it names (see `db::users::sign_in_oidc`).
    #[error("{0}")]
    AccountConflict(String),
    #[error("the database is unavailable")]
    Unavailable,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AuthError {
    fn from(err: sqlx::Error) -> Self {
        if crate::db::health::is_unavailable(&err) {
            AuthError::Unavailable
        } else {
            AuthError::Internal(err.into())
        }
    }
}

impl AuthError {
    /// Stable error code for the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Missing => "unauthenticated",
            AuthError::Invalid => "invalid_credentials",
            AuthError::Expired => "api_key_expired",
            AuthError::Revoked => "api_key_revoked",
            AuthError::SessionExpired => "session_expired",
            AuthError::Deactivated => "user_deactivated",
            AuthError::Token(_) => "invalid_token",
            AuthError::UnknownTenant(_) => "unknown_tenant",
            AuthError::AccountConflict(_) => "account_conflict",
            AuthError::Unavailable => "unavailable",
            AuthError::Internal(_) => "internal",
        }
    }
}

/// Authenticates a request from its headers.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Principal, AuthError> {
    if let Some(token) = session::cookie_value(headers) {
        return session::authenticate(state, &token).await;
    }
    if let Some(value) = headers.get(axum::http::header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .ok_or(AuthError::Invalid)?
            .trim();
        // Senders that can only set `Authorization` (Alertmanager's webhook config) pass API keys as
        // Bearer tokens; keys are told apart from JWTs by their prefix.
        if token.starts_with(api_key::KEY_PREFIX) {
            return api_key::authenticate(state, token).await;
        }
        let oidc = state
            .oidc
            .as_ref()
            .ok_or_else(|| AuthError::Token("OIDC is not configured".into()))?;
        return oidc::authenticate(state, oidc, token.trim()).await;
    }
    if let Some(value) = headers.get("x-api-key") {
        let key = value.to_str().map_err(|_| AuthError::Invalid)?;
        return api_key::authenticate(state, key).await;
    }
    if state.config.dev_mode
        && let Some(slug) = headers.get(DEV_TENANT_HEADER).and_then(|v| v.to_str().ok())
    {
        let tenant = tenancy::find_tenant(&state.db, slug)
            .await?
            .ok_or_else(|| AuthError::UnknownTenant(slug.to_owned()))?;
        let role = match headers.get(DEV_ROLE_HEADER) {
            Some(v) => v.to_str().ok().and_then(Role::parse).ok_or(AuthError::Invalid)?,
            None => Role::Admin,
        };
        return Ok(Principal {
            tenant,
            role,
            actor: Actor::Dev,
            scopes: Vec::new(),
        });
    }
    Err(AuthError::Missing)
}

/// Resolves a signed-in user of `tenant` to a principal, refusing deactivated users.
async fn user_principal(state: &AppState, tenant: Tenant, user_id: Uuid) -> Result<Principal, AuthError> {
    let mut tx = db::begin_tenant(&state.db, &tenant.slug, "auth").await?;
    let user = db::users::get(&mut tx, user_id)
        .await?
        .ok_or(AuthError::Invalid)?;
    tx.commit().await?;
    active_user_principal(tenant, user)
}

/// The principal of a user row, unless the user is deactivated.
fn active_user_principal(tenant: Tenant, user: db::users::UserRow) -> Result<Principal, AuthError> {
    if !user.is_active {
        return Err(AuthError::Deactivated);
    }
    let role = user.role;
    Ok(Principal {
        tenant,
        role,
        actor: Actor::User {
            id: user.id,
            email: user.email,
        },
        scopes: Vec::new(),
    })
}
