//! Browser sign-in through the OIDC issuer: the authorization code flow with PKCE, done by the
//! `openidconnect` crate. [`OidcLogin::start`] sends the browser to the issuer with a fresh state,
//! nonce and PKCE challenge, and keeps the verifier, the nonce and the path to come back to in Redis
//! under the state for ten minutes; [`OidcLogin::finish`] takes that record (once), exchanges the
//! code, verifies the ID token (signature against the issuer's keys, `iss`, `aud` = our client id,
//! `exp`, nonce) and maps its claims to tenant and user exactly as Bearer tokens are mapped.

use std::sync::Arc;
use std::time::Instant;

use axum::http::HeaderValue;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType, CoreGenderClaim,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdToken, IssuerUrl, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope, SignatureVerificationError,
    StandardErrorResponse, StandardTokenResponse, TokenResponse as _,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::{Mutex, RwLock};

use super::{MAX_KEY_AGE, MIN_REFETCH_INTERVAL};
use crate::auth::{AuthError, Principal, session};
use crate::cache::Redis;
use crate::state::AppState;

/// How long a sign-in may take between leaving for the issuer and coming back.
pub const PENDING_TTL: std::time::Duration = std::time::Duration::from_secs(600);

/// Claims beyond the standard ones, all kept: the tenant and role claims are named by configuration.
#[derive(Debug, Deserialize, Serialize)]
struct ExtraClaims {
    #[serde(flatten)]
    claims: Map<String, Value>,
}

impl AdditionalClaims for ExtraClaims {}

type IdTokenFields = openidconnect::IdTokenFields<
    ExtraClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

type OidcIdToken =
    IdToken<ExtraClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;

/// The relying party, built from the issuer's discovery document: authorization and token
/// endpoints set, signing keys loaded.
type RelyingParty = Party<EndpointSet>;

/// The relying party, before and after its token endpoint is known to be set.
type Party<HasTokenUrl> = openidconnect::Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    StandardTokenResponse<IdTokenFields, CoreTokenType>,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    HasTokenUrl,
    EndpointMaybeSet,
>;

/// What a sign-in in progress keeps server-side, under its state.
#[derive(Serialize, Deserialize)]
struct Pending {
    pkce_verifier: String,
    nonce: String,
    next: String,
}

/// Why a browser sign-in failed. [`LoginError::code`] is what the sign-in page is told; the
/// messages are for the log and carry no secret or token.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("OIDC browser sign-in is not configured")]
    NotConfigured,
    #[error("the callback's state is not this browser's sign-in in progress (or it was used or expired)")]
    StateMismatch,
    #[error("the issuer did not sign the person in: {0}")]
    Denied(String),
    #[error("the ID token was rejected: {0}")]
    TokenRejected(String),
    #[error("tenant {0:?} does not exist")]
    UnknownTenant(String),
    #[error("user is deactivated")]
    Deactivated,
    #[error("{0}")]
    AccountConflict(String),
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("too many sign-ins started from this address and not finished")]
    TooMany,
}

impl LoginError {
    /// Stable code for `/login?error=<code>`.
    pub fn code(&self) -> &'static str {
        match self {
            LoginError::NotConfigured => "oidc_not_configured",
            LoginError::StateMismatch => "oidc_state_mismatch",
            LoginError::Denied(_) => "oidc_denied",
            LoginError::TokenRejected(_) => "oidc_token_rejected",
            LoginError::UnknownTenant(_) => "oidc_unknown_tenant",
            LoginError::Deactivated => "oidc_user_deactivated",
            LoginError::AccountConflict(_) => "oidc_account_conflict",
            LoginError::Unavailable(_) => "oidc_unavailable",
            LoginError::TooMany => "oidc_too_many",
        }
    }
}

impl From<AuthError> for LoginError {
    fn from(err: AuthError) -> LoginError {
        match err {
            AuthError::UnknownTenant(slug) => LoginError::UnknownTenant(slug),
            AuthError::Deactivated => LoginError::Deactivated,
            AuthError::AccountConflict(why) => LoginError::AccountConflict(why),
            AuthError::Unavailable => LoginError::Unavailable("the database is unavailable".into()),
            AuthError::Internal(e) => LoginError::Unavailable(format!("{e:#}")),
            other => LoginError::TokenRejected(other.to_string()),
        }
    }
}

/// A sign-in sent to the issuer.
pub struct Started {
    /// Where to send the browser.
    pub authorize_url: url::Url,
    /// The state, for the cookie that ties the callback to this browser.
    pub state: String,
}

/// A finished sign-in.
pub struct SignedIn {
    /// Who signed in.
    pub principal: Principal,
    /// The `Set-Cookie` value of the new session.
    pub session_cookie: HeaderValue,
    /// The same-origin path to go on to.
    pub next: String,
}

/// What the issuer sends the browser back with: a code and the state, or an error.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Callback {
    /// The authorization code to exchange.
    pub code: Option<String>,
    /// The state the sign-in started with.
    pub state: Option<String>,
    /// The issuer's error code (RFC 6749), e.g. `access_denied`.
    pub error: Option<String>,
    /// The issuer's explanation of the error.
    pub error_description: Option<String>,
}

/// The issuer's metadata as last discovered.
struct Discovered {
    client: Arc<RelyingParty>,
    at: Instant,
}

/// The browser sign-in against one issuer, for one client registration.
pub struct OidcLogin {
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: Option<ClientSecret>,
    redirect_uri: RedirectUrl,
    http: reqwest::Client,
    discovered: RwLock<Option<Discovered>>,
    rediscover: Mutex<()>,
}

impl std::fmt::Debug for OidcLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcLogin")
            .field("issuer", &self.issuer.as_str())
            .field("client_id", &self.client_id.as_str())
            .field("redirect_uri", &self.redirect_uri.as_str())
            .finish()
    }
}

impl OidcLogin {
    /// Checks the URLs; the issuer is asked for its metadata at the first sign-in.
    pub fn new(
        issuer: &str,
        client_id: &str,
        client_secret: Option<&str>,
        redirect_uri: &str,
    ) -> anyhow::Result<OidcLogin> {
        use anyhow::Context as _;
        Ok(OidcLogin {
            issuer: IssuerUrl::new(issuer.to_owned()).context("NIGHTOWL_OIDC_ISSUER")?,
            client_id: ClientId::new(client_id.to_owned()),
            client_secret: client_secret.map(|s| ClientSecret::new(s.to_owned())),
            redirect_uri: RedirectUrl::new(redirect_uri.to_owned()).context("NIGHTOWL_PUBLIC_URL")?,
            // The crate's advice: a client that follows redirects could be steered at internal hosts.
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(std::time::Duration::from_secs(5))
                .build()?,
            discovered: RwLock::new(None),
            rediscover: Mutex::new(()),
        })
    }

    /// Starts a sign-in that comes back to `next` (a same-origin path; anything else becomes `/`):
    /// keeps what the callback needs in Redis and answers where to send the browser.
    pub async fn start(&self, redis: &Redis, next: Option<&str>) -> Result<Started, LoginError> {
        let client = self.client(false).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (authorize_url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        let pending = Pending {
            pkce_verifier: verifier.secret().clone(),
            nonce: nonce.secret().clone(),
            next: same_origin_path(next).to_owned(),
        };
        let record = serde_json::to_string(&pending).map_err(|e| LoginError::Unavailable(e.to_string()))?;
        redis
            .put_pending_login(state.secret(), &record, PENDING_TTL)
            .await
            .map_err(|e| LoginError::Unavailable(e.to_string()))?;
        Ok(Started {
            authorize_url,
            state: state.secret().clone(),
        })
    }

    /// Completes the sign-in the issuer sent the browser back from. `cookie_state` is the state this
    /// browser started with; the callback's must equal it, and its record is taken (used once).
    /// Nothing is written unless the ID token checks out: then the user (created at first sign-in)
    /// and a session, as the password sign-in starts one.
    pub async fn finish(
        &self,
        app: &AppState,
        callback: Callback,
        cookie_state: Option<&str>,
    ) -> Result<SignedIn, LoginError> {
        let state = callback
            .state
            .as_deref()
            .filter(|state| cookie_state == Some(*state))
            .ok_or(LoginError::StateMismatch)?;
        let record = app
            .redis
            .take_pending_login(state)
            .await
            .map_err(|e| LoginError::Unavailable(e.to_string()))?
            .ok_or(LoginError::StateMismatch)?;
        let pending: Pending = serde_json::from_str(&record).map_err(|_| LoginError::StateMismatch)?;
        if let Some(error) = callback.error {
            // The provider's words come through the browser: logged only as short printable text.
            let description = callback.error_description.unwrap_or_default();
            let said: String = format!("{error} {description}")
                .chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect();
            return Err(LoginError::Denied(said.trim().to_owned()));
        }
        let code = callback
            .code
            .ok_or_else(|| LoginError::Denied("the callback has neither code nor error".into()))?;

        let client = self.client(false).await?;
        let response = client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier))
            .request_async(&self.http)
            .await
            .map_err(|err| match err {
                RequestTokenError::ServerResponse(answer) => {
                    LoginError::TokenRejected(format!("the token endpoint answered {}", answer.error()))
                }
                // Only the error's text: a parse error's own value holds the body.
                other => LoginError::Unavailable(format!("token endpoint: {}", error_chain(&other))),
            })?;
        let id_token = response
            .id_token()
            .ok_or_else(|| LoginError::TokenRejected("the token response has no id_token".into()))?;
        let claims = self.verify(id_token, &Nonce::new(pending.nonce)).await?;
        let principal = super::principal_from_claims(app, &claims).await?;
        let user = principal
            .actor_id()
            .ok_or_else(|| LoginError::Unavailable("the claims named no user".into()))?;
        let session_cookie = session::start(app, &principal.tenant, user).await?;
        Ok(SignedIn {
            principal,
            session_cookie,
            next: pending.next,
        })
    }

    /// The ID token's claims, all of them, once its signature, issuer, audience, expiry and nonce
    /// check out.
    async fn verify(&self, id_token: &OidcIdToken, nonce: &Nonce) -> Result<Map<String, Value>, LoginError> {
        let check = |client: &RelyingParty| {
            id_token
                .claims(&client.id_token_verifier(), nonce)
                .map(serde_json::to_value)
        };
        let verified = match check(&*self.client(false).await?) {
            // The issuer may have rotated its keys since they were fetched.
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => check(&*self.client(true).await?),
            other => other,
        }
        .map_err(|e| LoginError::TokenRejected(e.to_string()))?;
        // Back to one map, the shape Bearer tokens are mapped from.
        match verified {
            Ok(Value::Object(claims)) => Ok(claims),
            _ => Err(LoginError::TokenRejected(
                "the claims are not a JSON object".into(),
            )),
        }
    }

    /// The relying party from the issuer's discovery document, discovered again after an hour, or
    /// at once when `keys_unknown` (a token signed by a key not in the set) unless that happened
    /// moments ago.
    async fn client(&self, keys_unknown: bool) -> Result<Arc<RelyingParty>, LoginError> {
        let fresh = |d: &Discovered| {
            let age = d.at.elapsed();
            age < MIN_REFETCH_INTERVAL || (!keys_unknown && age < MAX_KEY_AGE)
        };
        if let Some(d) = self.discovered.read().await.as_ref()
            && fresh(d)
        {
            return Ok(d.client.clone());
        }
        let _one_discovery_at_a_time = self.rediscover.lock().await;
        if let Some(d) = self.discovered.read().await.as_ref()
            && fresh(d)
        {
            return Ok(d.client.clone());
        }
        let metadata = CoreProviderMetadata::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| LoginError::Unavailable(format!("discovery: {}", error_chain(&e))))?;
        let token_url = metadata
            .token_endpoint()
            .cloned()
            .ok_or_else(|| LoginError::Unavailable("the discovery document has no token_endpoint".into()))?;
        let client = Arc::new(
            Party::<EndpointMaybeSet>::from_provider_metadata(
                metadata,
                self.client_id.clone(),
                self.client_secret.clone(),
            )
            .set_redirect_uri(self.redirect_uri.clone())
            .set_token_uri(token_url),
        );
        *self.discovered.write().await = Some(Discovered {
            client: client.clone(),
            at: Instant::now(),
        });
        Ok(client)
    }
}

/// `next` if it is a path on this site, else `/`: it must start with one `/` (`//host` is another
/// site), and hold no backslash (browsers read `/\host` as `//host`) and no control character.
pub fn same_origin_path(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control)
                && path.len() <= 2048 =>
        {
            path
        }
        _ => "/",
    }
}

/// An error with its causes, for the log.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_kept_only_when_it_is_a_path_on_this_site() {
        for kept in [
            "/",
            "/alerts/42",
            "/incidents?q=disk%20full",
            "/a/b#c",
            "/go?to=https://x",
        ] {
            assert_eq!(same_origin_path(Some(kept)), kept);
        }
        for refused in [
            "//evil.example",
            "///evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "/\\evil.example",
            "\\\\evil.example",
            "evil.example",
            "",
            "/alerts\r\nSet-Cookie: x=1",
            "/\t/evil.example",
        ] {
            assert_eq!(same_origin_path(Some(refused)), "/", "{refused:?}");
        }
        assert_eq!(same_origin_path(None), "/");
        assert_eq!(same_origin_path(Some(&format!("/{}", "a".repeat(3000)))), "/");
    }

    #[test]
    fn extra_claims_keep_the_configured_claims() {
        let claims: ExtraClaims =
            serde_json::from_value(serde_json::json!({"nightowl_tenant": "acme", "groups": ["ops"]}))
                .unwrap();
        assert_eq!(claims.claims["nightowl_tenant"], "acme");
        assert_eq!(claims.claims["groups"][0], "ops");
    }
}
