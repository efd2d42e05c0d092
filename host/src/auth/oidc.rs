//! OIDC Bearer tokens: signature checked against the issuer's JWKS (fetched, cached, refetched when a
//! token names a key we have not seen, so rotated keys are picked up), then `iss`, `aud` and `exp`.
//! The tenant comes from a claim; the user is found by subject or e-mail and created at first sign-in
//! ([`principal_from_claims`], which the browser sign-in in [`login`] shares).

pub mod login;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use nightowl_api::Role;
use serde_json::{Map, Value};
use tokio::sync::{Mutex, RwLock};

use super::{AuthError, Principal};
use crate::state::AppState;
use crate::{db, tenancy};

/// Keys are refetched at least this often, to notice removed (compromised) keys.
const MAX_KEY_AGE: Duration = Duration::from_secs(3600);
/// An unknown `kid` triggers a refetch at most this often, so forged kids cannot hammer the issuer.
const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(5);
/// Only asymmetric algorithms: a symmetric one would let anyone who knows the public key sign.
const ALLOWED: [Algorithm; 8] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

#[derive(Default)]
struct KeyCache {
    keys: HashMap<String, Jwk>,
    fetched_at: Option<Instant>,
}

/// A configured OIDC issuer.
pub struct Oidc {
    issuer: String,
    audience: String,
    jwks_url: Option<String>,
    http: reqwest::Client,
    cache: RwLock<KeyCache>,
    refetch: Mutex<()>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

impl Oidc {
    /// An issuer whose keys are fetched on first use.
    pub fn new(issuer: &str, audience: &str, jwks_url: Option<&str>) -> anyhow::Result<Oidc> {
        Ok(Oidc {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            jwks_url: jwks_url.map(str::to_owned),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()?,
            cache: RwLock::new(KeyCache::default()),
            refetch: Mutex::new(()),
        })
    }

    /// Verifies a token and returns its claims.
    pub async fn verify(&self, token: &str) -> Result<Map<String, Value>, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| AuthError::Token(e.to_string()))?;
        if !ALLOWED.contains(&header.alg) {
            return Err(AuthError::Token(format!(
                "algorithm {:?} is not accepted",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| AuthError::Token("token header has no kid".into()))?;
        let jwk = self.key(&kid).await?;
        if let Some(alg) = jwk.common.key_algorithm
            && alg.to_string() != format!("{:?}", header.alg)
        {
            return Err(AuthError::Token("token algorithm does not match the key".into()));
        }
        let key = DecodingKey::from_jwk(&jwk).map_err(|e| AuthError::Token(format!("unusable key: {e}")))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| AuthError::Token(e.to_string()))?;
        Ok(data.claims)
    }

    async fn key(&self, kid: &str) -> Result<Jwk, AuthError> {
        {
            let cache = self.cache.read().await;
            if cache.fetched_at.is_some_and(|at| at.elapsed() < MAX_KEY_AGE)
                && let Some(jwk) = cache.keys.get(kid)
            {
                return Ok(jwk.clone());
            }
        }
        let _one_fetch_at_a_time = self.refetch.lock().await;
        let recently = self
            .cache
            .read()
            .await
            .fetched_at
            .is_some_and(|at| at.elapsed() < MIN_REFETCH_INTERVAL);
        if !recently {
            let keys = self.fetch_keys().await.map_err(|e| {
                tracing::warn!(issuer = %self.issuer, error = %e, "cannot fetch OIDC signing keys");
                AuthError::Token("the issuer's signing keys are unavailable".into())
            })?;
            *self.cache.write().await = KeyCache {
                keys,
                fetched_at: Some(Instant::now()),
            };
        }
        self.cache
            .read()
            .await
            .keys
            .get(kid)
            .cloned()
            .ok_or_else(|| AuthError::Token("token signed by a key the issuer does not publish".into()))
    }

    async fn fetch_keys(&self) -> anyhow::Result<HashMap<String, Jwk>> {
        let url = match &self.jwks_url {
            Some(url) => url.clone(),
            None => {
                let discovery = format!(
                    "{}/.well-known/openid-configuration",
                    self.issuer.trim_end_matches('/')
                );
                let doc: Value = self
                    .http
                    .get(discovery)
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await?;
                doc.get("jwks_uri")
                    .and_then(Value::as_str)
                    .ok_or_else(|| anyhow::anyhow!("discovery document has no jwks_uri"))?
                    .to_owned()
            }
        };
        let set: JwkSet = self
            .http
            .get(url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(set
            .keys
            .into_iter()
            .filter_map(|k| k.common.key_id.clone().map(|kid| (kid, k)))
            .collect())
    }
}

/// Verifies the token, finds its tenant and user (creating the user at first sign-in).
pub async fn authenticate(state: &AppState, oidc: &Oidc, token: &str) -> Result<Principal, AuthError> {
    let claims = oidc.verify(token).await?;
    principal_from_claims(state, &claims).await
}

/// The tenant and user the claims of a verified token name: the tenant from the configured claim,
/// the user by subject or e-mail, created at first sign-in with the role claim or the default role.
pub async fn principal_from_claims(
    state: &AppState,
    claims: &Map<String, Value>,
) -> Result<Principal, AuthError> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
    let config = &state.config;
    let slug = text(&config.oidc_tenant_claim)
        .ok_or_else(|| AuthError::Token(format!("token has no {} claim", config.oidc_tenant_claim)))?;
    let tenant = tenancy::find_tenant(&state.db, &slug)
        .await?
        .ok_or_else(|| AuthError::UnknownTenant(slug.clone()))?;
    let subject = text("sub").ok_or_else(|| AuthError::Token("token has no sub".into()))?;
    let email = text("email").ok_or_else(|| AuthError::Token("token has no email claim".into()))?;
    let claimed_role = match text(&config.oidc_role_claim) {
        Some(name) => {
            Some(Role::parse(&name).ok_or_else(|| AuthError::Token(format!("unknown role {name:?}")))?)
        }
        None => None,
    };
    let display_name = text("name").unwrap_or_else(|| email.clone());
    let email_verified = claims.get("email_verified").and_then(Value::as_bool) == Some(true);

    let mut tx = db::begin_tenant(&state.db, &tenant.slug, &email).await?;
    let user = db::users::sign_in_oidc(
        &mut tx,
        db::users::OidcIdentity {
            subject: &subject,
            email: &email,
            email_verified,
            display_name: &display_name,
            claimed_role,
            default_role: config.oidc_default_role,
        },
    )
    .await
    .map_err(|e| match e {
        db::users::OidcSignInError::Db(e) => AuthError::from(e),
        refused => AuthError::AccountConflict(refused.to_string()),
    })?;
    tx.commit().await?;
    super::active_user_principal(tenant, user)
}
