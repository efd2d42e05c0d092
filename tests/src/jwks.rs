//! A local OIDC issuer for tests: discovery document, JWKS endpoint and RSA signing keys that can be
//! rotated while it runs.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::routing::get;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::RsaPrivateKey;
use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};

/// An RSA signing key with its id.
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
        let b64 = |bytes: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let jwk = json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
            "n": b64(private.n().to_bytes_be()), "e": b64(private.e().to_bytes_be()),
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

/// The fake issuer.
pub struct Issuer {
    pub url: String,
    published: Arc<Mutex<Vec<Value>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Issuer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Issuer {
    /// Starts the issuer on a loopback port, publishing `keys`.
    pub async fn start(keys: &[&SigningKey]) -> Issuer {
        let published = Arc::new(Mutex::new(keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let discovery = json!({ "issuer": url, "jwks_uri": format!("{url}/jwks") });
        let app = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(move || async move { Json(discovery) }),
            )
            .route(
                "/jwks",
                get(|State(keys): State<Arc<Mutex<Vec<Value>>>>| async move {
                    Json(json!({ "keys": keys.lock().unwrap().clone() }))
                }),
            )
            .with_state(published.clone());
        let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Issuer {
            url,
            published,
            server,
        }
    }

    /// Publishes an additional key (rotation).
    pub fn publish(&self, key: &SigningKey) {
        self.published.lock().unwrap().push(key.jwk.clone());
    }
}
