//! API keys: `nwl_` + 32 random base64url characters. Only the SHA-256 is stored; the first 12
//! characters are kept as a display prefix.

use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{Actor, AuthError, Principal};
use crate::db;
use crate::state::AppState;
use crate::tenancy::Tenant;

/// Every key starts with this.
pub const KEY_PREFIX: &str = "nwl_";
/// Length of the displayed prefix.
pub const PREFIX_LEN: usize = 12;

/// A newly generated key: the raw value (shown once) and what is stored.
#[derive(Debug)]
pub struct GeneratedKey {
    pub raw: String,
    pub hash: Vec<u8>,
    pub prefix: String,
}

/// Makes a new random key.
pub fn generate() -> GeneratedKey {
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let raw = format!(
        "nwl_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    GeneratedKey {
        hash: hash(&raw),
        prefix: raw[..PREFIX_LEN].to_owned(),
        raw,
    }
}

/// SHA-256 of a raw key, as stored.
pub fn hash(raw: &str) -> Vec<u8> {
    Sha256::digest(raw.as_bytes()).to_vec()
}

/// Resolves `X-API-Key` to a principal; refuses unknown, revoked and expired keys.
pub async fn authenticate(state: &AppState, raw: &str) -> Result<Principal, AuthError> {
    let mut conn = state.db.acquire().await?;
    let row = db::api_keys::find_by_hash(&mut conn, &hash(raw.trim()))
        .await?
        .ok_or(AuthError::Invalid)?;
    let now = state.clock.now();
    if row.revoked_at.is_some() {
        return Err(AuthError::Revoked);
    }
    if row.expires_at.is_some_and(|at| at <= now) {
        return Err(AuthError::Expired);
    }
    // Recording every use would turn each request into a write; a minute's resolution is enough to
    // answer "is this key still used?".
    if row
        .last_used_at
        .is_none_or(|at| now - at > chrono::Duration::minutes(1))
    {
        db::api_keys::touch(&mut conn, row.id, now).await?;
    }
    Ok(Principal {
        tenant: Tenant {
            id: row.tenant_id,
            slug: row.tenant_slug,
            name: row.tenant_name,
        },
        role: row.role,
        actor: Actor::ApiKey {
            id: row.id,
            prefix: row.prefix,
        },
        scopes: row.scopes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_unique_and_hash_to_what_is_stored() {
        let a = generate();
        let b = generate();
        assert_ne!(a.raw, b.raw);
        assert!(a.raw.starts_with("nwl_") && a.raw.len() == 36);
        assert_eq!(a.hash, hash(&a.raw));
        assert_eq!(a.hash.len(), 32);
        assert!(a.raw.starts_with(&a.prefix));
    }
}
