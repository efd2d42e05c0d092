//! Encryption of secret configuration values at rest (AES-256-GCM, key from the environment).
//!
//! Stored form (version 1): the byte `0x01`, a 12-byte random nonce, then the ciphertext and tag.
//! The key never touches the database, so a database dump alone does not reveal Slack or Twilio
//! credentials. Each value is bound to where it belongs: the tenant and the field are the
//! associated data ([`Place`]), so a sealed value copied into another column or another tenant's
//! row does not open (someone able to write the database cannot make tenant B send with tenant A's
//! token, or show a token's last characters through another field).
//!
//! Values sealed before version 1 (nonce and ciphertext, no associated data) open only through
//! [`Sealer::open_unbound`], which [`reseal_unbound`] uses at start-up to rewrite them bound.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use sqlx::PgPool;

const NONCE_LEN: usize = 12;
/// First byte of a version-1 value.
const V1: u8 = 1;

/// Where a sealed value belongs: its tenant and its field (e.g. `slack_bot_token`).
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    pub tenant: &'a str,
    pub field: &'a str,
}

impl Place<'_> {
    fn aad(&self) -> Vec<u8> {
        format!("nightowl-secret:v1:{}:{}", self.tenant, self.field).into_bytes()
    }
}

/// Why a secret could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("NIGHTOWL_SECRET_KEY is not set; secret configuration cannot be stored")]
    NoKey,
    #[error("the secret key must be 32 bytes encoded as base64: {0}")]
    BadKey(String),
    #[error("stored secret cannot be decrypted with the configured key")]
    Undecryptable,
}

/// Encrypts and decrypts secret values with the operator's key.
#[derive(Clone)]
pub struct Sealer {
    cipher: Option<Aes256Gcm>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("configured", &self.cipher.is_some())
            .finish()
    }
}

impl Sealer {
    /// A sealer from a base64 key; `None` gives one that refuses to seal (reads report "not set").
    pub fn from_base64(key: Option<&str>) -> Result<Sealer, SecretError> {
        let Some(key) = key.map(str::trim).filter(|k| !k.is_empty()) else {
            return Ok(Sealer { cipher: None });
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(key)
            .map_err(|e| SecretError::BadKey(e.to_string()))?;
        if bytes.len() != 32 {
            return Err(SecretError::BadKey(format!("decoded to {} bytes", bytes.len())));
        }
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes));
        Ok(Sealer { cipher: Some(cipher) })
    }

    /// Encrypts `plaintext` for `place` under a fresh random nonce.
    pub fn seal(&self, plaintext: &str, place: Place<'_>) -> Result<Vec<u8>, SecretError> {
        let cipher = self.cipher.as_ref().ok_or(SecretError::NoKey)?;
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let aad = place.aad();
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: &aad,
        };
        let ciphertext = cipher
            .encrypt(&nonce, payload)
            .map_err(|_| SecretError::Undecryptable)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    /// Decrypts a value [`Sealer::seal`] produced for the same `place` with the same key.
    pub fn open(&self, sealed: &[u8], place: Place<'_>) -> Result<String, SecretError> {
        let cipher = self.cipher.as_ref().ok_or(SecretError::NoKey)?;
        let Some((&V1, rest)) = sealed.split_first() else {
            return Err(SecretError::Undecryptable);
        };
        if rest.len() < NONCE_LEN {
            return Err(SecretError::Undecryptable);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let aad = place.aad();
        let payload = Payload {
            msg: ciphertext,
            aad: &aad,
        };
        let plain = cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| SecretError::Undecryptable)?;
        String::from_utf8(plain).map_err(|_| SecretError::Undecryptable)
    }

    /// What NightOwl wrote before version 1: a value bound to no place. Only to test the rewrite.
    #[doc(hidden)]
    pub fn seal_unbound(&self, plaintext: &str) -> Result<Vec<u8>, SecretError> {
        let cipher = self.cipher.as_ref().ok_or(SecretError::NoKey)?;
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .map_err(|_| SecretError::Undecryptable)?;
        Ok([nonce.as_slice(), &ciphertext].concat())
    }

    /// Decrypts a value sealed before values were bound to their place (nonce and ciphertext, no
    /// associated data). Only for rewriting such values ([`reseal_unbound`]).
    pub fn open_unbound(&self, sealed: &[u8]) -> Result<String, SecretError> {
        let cipher = self.cipher.as_ref().ok_or(SecretError::NoKey)?;
        if sealed.len() < NONCE_LEN {
            return Err(SecretError::Undecryptable);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let plain = cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| SecretError::Undecryptable)?;
        String::from_utf8(plain).map_err(|_| SecretError::Undecryptable)
    }
}

async fn reseal_tenant(pool: &PgPool, sealer: &Sealer, slug: &crate::tenancy::Slug) -> anyhow::Result<usize> {
    let mut tx = crate::db::begin_tenant(pool, slug, "system:secrets").await?;
    let rewritten = crate::channels::settings::reseal(&mut tx, sealer, slug, chrono::Utc::now()).await?;
    tx.commit().await?;
    Ok(rewritten)
}

/// Rewrites every tenant's plugin secrets not bound to their own place (sealed before version 1,
/// or bound to the `tenant_config` field they were moved from) as bound values; returns how many
/// were rewritten. Values that open neither way (another key) are left as
/// they are, and reported. Run at start-up and by `nightowl migrate`; a no-op without a key.
pub async fn reseal_unbound(pool: &PgPool, sealer: &Sealer) -> anyhow::Result<usize> {
    if sealer.cipher.is_none() {
        return Ok(0);
    }
    let mut rewritten = 0;
    for tenant in crate::tenancy::list_tenants(pool).await? {
        // One tenant that cannot be read (a schema being repaired) must not stop the others, or
        // the start-up.
        match reseal_tenant(pool, sealer, &tenant.slug).await {
            Ok(n) => rewritten += n,
            Err(e) => {
                tracing::error!(tenant = %tenant.slug, error = %format!("{e:#}"), "stored secrets not checked")
            }
        }
    }
    Ok(rewritten)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // 32 ASCII bytes
    const HERE: Place<'static> = Place {
        tenant: "acme",
        field: "slack_bot_token",
    };

    #[test]
    fn sealed_value_opens_with_the_same_key_only() {
        let sealer = Sealer::from_base64(Some(KEY)).unwrap();
        let sealed = sealer.seal("xoxb-secret-token", HERE).unwrap();
        assert!(!String::from_utf8_lossy(&sealed).contains("xoxb"));
        assert_eq!(sealer.open(&sealed, HERE).unwrap(), "xoxb-secret-token");

        let other = Sealer::from_base64(Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")).unwrap();
        assert!(matches!(
            other.open(&sealed, HERE),
            Err(SecretError::Undecryptable)
        ));
    }

    #[test]
    fn a_sealed_value_opens_only_in_its_own_tenant_and_field() {
        let sealer = Sealer::from_base64(Some(KEY)).unwrap();
        let sealed = sealer.seal("xoxb-secret-token", HERE).unwrap();
        for elsewhere in [
            Place {
                tenant: "acme",
                field: "twilio_auth_token",
            },
            Place {
                tenant: "globex",
                field: "slack_bot_token",
            },
        ] {
            assert!(matches!(
                sealer.open(&sealed, elsewhere),
                Err(SecretError::Undecryptable)
            ));
        }
        assert!(
            sealer.open_unbound(&sealed).is_err(),
            "a bound value is not an unbound one"
        );
    }

    #[test]
    fn unbound_values_open_only_for_resealing() {
        let sealer = Sealer::from_base64(Some(KEY)).unwrap();
        let unbound = sealer.seal_unbound("old-token").unwrap();
        assert!(sealer.open(&unbound, HERE).is_err());
        assert_eq!(sealer.open_unbound(&unbound).unwrap(), "old-token");
    }

    #[test]
    fn same_plaintext_seals_differently_each_time() {
        let sealer = Sealer::from_base64(Some(KEY)).unwrap();
        assert_ne!(sealer.seal("a", HERE).unwrap(), sealer.seal("a", HERE).unwrap());
    }

    #[test]
    fn missing_or_short_key_is_reported() {
        assert!(matches!(
            Sealer::from_base64(None).unwrap().seal("x", HERE),
            Err(SecretError::NoKey)
        ));
        assert!(matches!(
            Sealer::from_base64(Some("c2hvcnQ=")),
            Err(SecretError::BadKey(_))
        ));
    }
}
