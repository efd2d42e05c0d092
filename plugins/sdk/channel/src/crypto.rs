//! HMAC signatures keyed by a secret setting of the plugin's manifest (`crypto`): Slack's `v0`
//! request signature is HMAC-SHA256, Twilio's HMAC-SHA1. The secret never enters the plugin: the
//! host computes and compares the MAC. Natively the installed
//! [`testing::Host`](crate::testing::Host) computes it with the secret the test gave it.

/// Hash function of the HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    /// HMAC-SHA1 (Twilio).
    Sha1,
    /// HMAC-SHA256 (Slack).
    Sha256,
}

/// Why the host could not compute a MAC (typically: the secret is not set for this tenant, or the
/// manifest does not declare it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CryptoError(pub String);

impl std::fmt::Display for CryptoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CryptoError {}

/// The HMAC of `data` keyed with the secret setting named `key`.
pub fn hmac(alg: Alg, key: &str, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    #[cfg(target_arch = "wasm32")]
    {
        crate::wit::nightowl::plugin::crypto::hmac(wasm::alg(alg), key, data).map_err(CryptoError)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        crate::testing::hmac(alg, key, data)
    }
}

/// Whether `mac` is the HMAC of `data` under the secret setting named `key`, compared in constant
/// time.
pub fn verify_hmac(alg: Alg, key: &str, data: &[u8], mac: &[u8]) -> Result<bool, CryptoError> {
    #[cfg(target_arch = "wasm32")]
    {
        crate::wit::nightowl::plugin::crypto::verify_hmac(wasm::alg(alg), key, data, mac).map_err(CryptoError)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        crate::testing::verify_hmac(alg, key, data, mac)
    }
}

#[cfg(target_arch = "wasm32")]
mod wasm {
    use crate::wit::nightowl::plugin::crypto::HmacAlg;

    pub fn alg(alg: super::Alg) -> HmacAlg {
        match alg {
            super::Alg::Sha1 => HmacAlg::Sha1,
            super::Alg::Sha256 => HmacAlg::Sha256,
        }
    }
}
