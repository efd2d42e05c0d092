//! Encryption of secret configuration values at rest (AES-256-GCM, key from the environment).
//!
//! Stored form: 12-byte random nonce followed by the ciphertext and tag. The key never touches the
//! database, so a database dump alone does not reveal Slack or Twilio credentials.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;

const NONCE_LEN: usize = 12;

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

    /// Encrypts `plaintext` under a fresh random nonce.
    pub fn seal(&self, plaintext: &str) -> Result<Vec<u8>, SecretError> {
        let cipher = self.cipher.as_ref().ok_or(SecretError::NoKey)?;
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .map_err(|_| SecretError::Undecryptable)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    /// Decrypts a value produced by [`Sealer::seal`] with the same key.
    pub fn open(&self, sealed: &[u8]) -> Result<String, SecretError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // 32 ASCII bytes

    #[test]
    fn sealed_value_opens_with_the_same_key_only() {
        let sealer = Sealer::from_base64(Some(KEY)).unwrap();
        let sealed = sealer.seal("xoxb-secret-token").unwrap();
        assert!(!String::from_utf8_lossy(&sealed).contains("xoxb"));
        assert_eq!(sealer.open(&sealed).unwrap(), "xoxb-secret-token");

        let other = Sealer::from_base64(Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")).unwrap();
        assert!(matches!(other.open(&sealed), Err(SecretError::Undecryptable)));
    }

    #[test]
    fn same_plaintext_seals_differently_each_time() {
        let sealer = Sealer::from_base64(Some(KEY)).unwrap();
        assert_ne!(sealer.seal("a").unwrap(), sealer.seal("a").unwrap());
    }

    #[test]
    fn missing_or_short_key_is_reported() {
        assert!(matches!(
            Sealer::from_base64(None).unwrap().seal("x"),
            Err(SecretError::NoKey)
        ));
        assert!(matches!(
            Sealer::from_base64(Some("c2hvcnQ=")),
            Err(SecretError::BadKey(_))
        ));
    }
}
