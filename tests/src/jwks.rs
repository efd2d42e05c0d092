//! A local OIDC issuer for tests: discovery document, JWKS endpoint and RSA signing keys that can be
//! rotated while it runs, and a scripted provider for the browser sign-in: `/authorize` approves a
//! user the test describes (or answers `access_denied`), `/token` checks the client, the one-use code,
//! the redirect URI and the PKCE verifier and returns an ID token signed with the current key. What
//! both endpoints received is recorded for the test to check.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Form, Query, State};
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, LOCATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::RsaPrivateKey;
use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// An RSA signing key with its id.
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    encoding: EncodingKey,
    jwk: Value,
}

impl SigningKey {
    /// Generates a 2048-bit key.
    pub fn generate(kid: &str) -> SigningKey {
        let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("rsa key");
        let pem = private.to_pkcs1_pem(LineEnding::LF).expect("pem");
        let jwk = json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
            "n": b64(&private.n().to_bytes_be()), "e": b64(&private.e().to_bytes_be()),
        });
        SigningKey {
            kid: kid.to_owned(),
            encoding: EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
            jwk,
        }
    }

    /// Signs `claims` as an RS256 JWT naming this key.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The relying party the provider knows: its credentials and its one redirect URI.
#[derive(Debug, Clone)]
pub struct Registration {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
}

/// A call of `/token`: the client it authenticated as (HTTP basic), the form it sent, and the
/// provider's answer (`ok`, or the RFC 6749 error code).
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub client_id: Option<String>,
    pub form: BTreeMap<String, String>,
    pub answer: String,
}

/// A code handed out by `/authorize`, and what `/token` must see with it.
struct Grant {
    client_id: String,
    redirect_uri: String,
    code_challenge: String,
    nonce: Option<String>,
}

/// The provider's script and records.
struct Provider {
    registration: Option<Registration>,
    /// Claims of the user `/authorize` approves, copied into ID tokens.
    user: Map<String, Value>,
    /// Answer `/authorize` with `access_denied`.
    deny: bool,
    /// Claims put into ID tokens last, over the right ones (a wrong nonce, a wrong audience).
    tampered: Map<String, Value>,
    codes: HashMap<String, Grant>,
    authorizations: Vec<BTreeMap<String, String>>,
    token_requests: Vec<TokenRequest>,
}

struct Shared {
    url: String,
    published: Mutex<Vec<Value>>,
    /// The key ID tokens are signed with: the last one given or published.
    signer: Mutex<Option<SigningKey>>,
    provider: Mutex<Provider>,
}

/// The fake issuer.
pub struct Issuer {
    pub url: String,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Issuer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Issuer {
    /// Starts the issuer on a loopback port, publishing `keys` and signing with the last of them.
    pub async fn start(keys: &[&SigningKey]) -> Issuer {
        Issuer::start_on("127.0.0.1:0".parse().unwrap(), keys).await
    }

    /// Starts the issuer on `addr` (port 0: any free one).
    pub async fn start_on(addr: SocketAddr, keys: &[&SigningKey]) -> Issuer {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            url: url.clone(),
            published: Mutex::new(keys.iter().map(|k| k.jwk.clone()).collect()),
            signer: Mutex::new(keys.last().map(|k| (*k).clone())),
            provider: Mutex::new(Provider {
                registration: None,
                user: json!({ "sub": "fake-user", "email": "user@example.com", "name": "Fake User" })
                    .as_object()
                    .unwrap()
                    .clone(),
                deny: false,
                tampered: Map::new(),
                codes: HashMap::new(),
                authorizations: Vec::new(),
                token_requests: Vec::new(),
            }),
        });
        let app = axum::Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(shared.clone());
        let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Issuer { url, shared, server }
    }

    /// Publishes an additional key (rotation); ID tokens are signed with it from now on.
    pub fn publish(&self, key: &SigningKey) {
        self.shared.published.lock().unwrap().push(key.jwk.clone());
        *self.shared.signer.lock().unwrap() = Some(key.clone());
    }

    /// Registers the relying party `/authorize` and `/token` accept (one at a time).
    pub fn register(&self, registration: Registration) {
        self.provider().registration = Some(registration);
    }

    /// The claims of the user the provider signs in (`sub`, `email`, `name`, the tenant and role
    /// claims, ...), replacing the previous user's.
    pub fn set_user(&self, claims: Value) {
        self.provider().user = claims.as_object().expect("claims are an object").clone();
    }

    /// Whether `/authorize` refuses (`error=access_denied`) instead of approving.
    pub fn deny(&self, deny: bool) {
        self.provider().deny = deny;
    }

    /// Claims put into every ID token over the right ones, e.g. `{"nonce": "other"}`.
    pub fn tamper_id_tokens(&self, claims: Value) {
        self.provider().tampered = claims.as_object().expect("claims are an object").clone();
    }

    /// The query of every `/authorize` call, in order.
    pub fn authorizations(&self) -> Vec<BTreeMap<String, String>> {
        self.provider().authorizations.clone()
    }

    /// Every `/token` call, in order.
    pub fn token_requests(&self) -> Vec<TokenRequest> {
        self.provider().token_requests.clone()
    }

    fn provider(&self) -> std::sync::MutexGuard<'_, Provider> {
        self.shared.provider.lock().unwrap()
    }
}

async fn discovery(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let url = &shared.url;
    Json(json!({
        "issuer": url,
        "authorization_endpoint": format!("{url}/authorize"),
        "token_endpoint": format!("{url}/token"),
        "jwks_uri": format!("{url}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile"],
        "grant_types_supported": ["authorization_code"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["iss", "aud", "sub", "email", "name", "nonce", "iat", "exp"],
    }))
}

async fn jwks(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({ "keys": shared.published.lock().unwrap().clone() }))
}

/// Approves (or denies) at once: checks the client and its redirect URI (a mismatch is answered
/// here, never redirected), then the code flow's parameters, and sends the browser back.
async fn authorize(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let mut provider = shared.provider.lock().unwrap();
    provider.authorizations.push(query.clone());
    let param = |name: &str| query.get(name).map(String::as_str).unwrap_or("");
    let Some(registration) = provider.registration.clone() else {
        return oauth_error(StatusCode::BAD_REQUEST, "unauthorized_client");
    };
    if param("client_id") != registration.client_id || param("redirect_uri") != registration.redirect_uri {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    }
    let refusal = if param("response_type") != "code" {
        Some("unsupported_response_type")
    } else if !param("scope").split(' ').any(|s| s == "openid") {
        Some("invalid_scope")
    } else if param("code_challenge_method") != "S256" || param("code_challenge").is_empty() {
        Some("invalid_request")
    } else if provider.deny {
        Some("access_denied")
    } else {
        None
    };
    let mut back = url::Url::parse(&registration.redirect_uri).unwrap();
    match refusal {
        Some(error) => {
            back.query_pairs_mut().append_pair("error", error);
        }
        None => {
            let code = random_token();
            provider.codes.insert(
                code.clone(),
                Grant {
                    client_id: registration.client_id,
                    redirect_uri: registration.redirect_uri,
                    code_challenge: param("code_challenge").to_owned(),
                    nonce: query.get("nonce").cloned(),
                },
            );
            back.query_pairs_mut().append_pair("code", &code);
        }
    }
    if let Some(state) = query.get("state") {
        back.query_pairs_mut().append_pair("state", state);
    }
    (StatusCode::FOUND, [(LOCATION, back.to_string())]).into_response()
}

/// Exchanges a code: client authentication (HTTP basic), then the code (one use), its redirect URI
/// and the PKCE verifier, each refused as RFC 6749 says; then the tokens.
async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let mut provider = shared.provider.lock().unwrap();
    let client_id = basic_auth(&headers).and_then(|(id, secret)| {
        let registration = provider.registration.as_ref()?;
        (id == registration.client_id && secret == registration.client_secret).then_some(id)
    });
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    let outcome = match &client_id {
        None => Err((StatusCode::UNAUTHORIZED, "invalid_client")),
        Some(_) if field("grant_type") != "authorization_code" => {
            Err((StatusCode::BAD_REQUEST, "unsupported_grant_type"))
        }
        Some(client_id) => match provider.codes.remove(field("code")) {
            Some(grant)
                if grant.client_id == *client_id
                    && grant.redirect_uri == field("redirect_uri")
                    && b64(&Sha256::digest(field("code_verifier"))) == grant.code_challenge =>
            {
                Ok(grant)
            }
            _ => Err((StatusCode::BAD_REQUEST, "invalid_grant")),
        },
    };
    provider.token_requests.push(TokenRequest {
        client_id: client_id.clone(),
        form: form.clone(),
        answer: outcome
            .as_ref()
            .map_or_else(|(_, e)| (*e).to_owned(), |_| "ok".to_owned()),
    });
    let grant = match outcome {
        Ok(grant) => grant,
        Err((status, error)) => return oauth_error(status, error),
    };
    let now = chrono::Utc::now().timestamp();
    let mut claims = provider.user.clone();
    claims.insert("iss".into(), json!(shared.url));
    claims.insert("aud".into(), json!(grant.client_id));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + 300));
    if let Some(nonce) = grant.nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    claims.extend(provider.tampered.clone());
    let signer = shared
        .signer
        .lock()
        .unwrap()
        .clone()
        .expect("the issuer has a signing key");
    let body = json!({
        "access_token": random_token(),
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": signer.sign(&Value::Object(claims)),
    });
    (StatusCode::OK, [(CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

/// The client id and secret of an `Authorization: Basic` header (each form-urlencoded, RFC 6749
/// section 2.3.1).
fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let encoded = headers
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
    let (id, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    let mut response = (status, Json(json!({ "error": error }))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, "Basic realm=\"fake-oidc\"".parse().unwrap());
    }
    response
}

fn random_token() -> String {
    b64(&rand::random::<[u8; 24]>())
}
