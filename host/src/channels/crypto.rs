//! `crypto.hmac` / `verify-hmac`: HMAC-SHA1 (Twilio) and HMAC-SHA256 (Slack) keyed by a secret setting
//! the plugin names; the key stays on the host side and verification is constant-time.

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};

use super::egress::Secrets;
use crate::plugins::Manifest;

/// The hash under the HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    Sha1,
    Sha256,
}

/// The secret's value, when `name` is a secret setting of the plugin that the tenant has set.
fn key<'a>(manifest: &Manifest, secrets: &'a Secrets, name: &str) -> Result<&'a [u8], String> {
    if !manifest.setting(name).is_some_and(|s| s.secret) {
        return Err(format!(
            "{name:?} is not a secret setting of plugin {}",
            manifest.id
        ));
    }
    secrets
        .get(name)
        .map(str::as_bytes)
        .ok_or_else(|| format!("secret {name:?} is not configured for this tenant"))
}

/// A MAC of `data` keyed with `key`.
fn keyed<M: Mac + KeyInit>(key: &[u8], data: &[u8]) -> M {
    // HMAC takes keys of any length.
    let mut mac = <M as KeyInit>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(data);
    mac
}

/// HMAC of `data` under the secret `name`.
pub fn hmac(
    manifest: &Manifest,
    secrets: &Secrets,
    alg: Alg,
    name: &str,
    data: &[u8],
) -> Result<Vec<u8>, String> {
    let key = key(manifest, secrets, name)?;
    Ok(match alg {
        Alg::Sha1 => keyed::<Hmac<sha1::Sha1>>(key, data)
            .finalize()
            .into_bytes()
            .to_vec(),
        Alg::Sha256 => keyed::<Hmac<sha2::Sha256>>(key, data)
            .finalize()
            .into_bytes()
            .to_vec(),
    })
}

/// Whether `tag` is the HMAC of `data` under the secret `name` (compared in constant time).
pub fn verify(
    manifest: &Manifest,
    secrets: &Secrets,
    alg: Alg,
    name: &str,
    data: &[u8],
    tag: &[u8],
) -> Result<bool, String> {
    let key = key(manifest, secrets, name)?;
    Ok(match alg {
        Alg::Sha1 => keyed::<Hmac<sha1::Sha1>>(key, data).verify_slice(tag).is_ok(),
        Alg::Sha256 => keyed::<Hmac<sha2::Sha256>>(key, data).verify_slice(tag).is_ok(),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn plugin() -> Manifest {
        Manifest::parse(
            r#"
            id = "chat"
            name = "Chat"
            version = "0.1.0"
            kind = "channel"
            api = "0.1"
            [[settings]]
            key = "signing_secret"
            secret = true
            [[settings]]
            key = "room"
            "#,
        )
        .unwrap()
    }

    #[test]
    fn slacks_published_signature_vector_verifies() {
        // The vector of slackapi/python-slack-sdk's signature tests, from Slack's "Verifying requests from
        // Slack" (docs.slack.dev/authentication/verifying-requests-from-slack).
        let secrets = Secrets::new(HashMap::from([(
            "signing_secret".to_owned(),
            "8f742231b10e8888abcd99yyyzzz85a5".to_owned(),
        )]));
        let body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        let base = format!("v0:1531420618:{body}");
        let expected =
            hex::decode("a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503").unwrap();
        let m = plugin();
        assert_eq!(
            hmac(&m, &secrets, Alg::Sha256, "signing_secret", base.as_bytes()).unwrap(),
            expected
        );
        assert!(
            verify(
                &m,
                &secrets,
                Alg::Sha256,
                "signing_secret",
                base.as_bytes(),
                &expected
            )
            .unwrap()
        );
        let mut forged = expected.clone();
        forged[0] ^= 1;
        assert!(
            !verify(
                &m,
                &secrets,
                Alg::Sha256,
                "signing_secret",
                base.as_bytes(),
                &forged
            )
            .unwrap()
        );
        assert!(
            !verify(
                &m,
                &secrets,
                Alg::Sha256,
                "signing_secret",
                b"v0:1531420619:x",
                &expected
            )
            .unwrap()
        );
    }

    #[test]
    fn only_declared_and_configured_secrets_key_a_mac() {
        let m = plugin();
        let none = Secrets::default();
        assert!(
            hmac(&m, &none, Alg::Sha1, "signing_secret", b"x")
                .unwrap_err()
                .contains("not configured")
        );
        assert!(
            hmac(&m, &none, Alg::Sha1, "room", b"x")
                .unwrap_err()
                .contains("not a secret setting")
        );
    }
}
