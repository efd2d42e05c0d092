//! Twilio request validation: `x-twilio-signature` is base64(HMAC-SHA1(auth token, URL + the POST
//! parameters sorted by name, each as name + value)). The URL is the full external URL Twilio called
//! (`req.public_url`, with its query). The host computes and compares the MAC in constant time
//! (`crypto.verify-hmac`), which also unlocks incident actions for the rest of the call.
//!
//! Rules as Twilio's own validators apply them (vectors in `tests/fixtures/signature_vectors.json`):
//! - the URL is tried as received and as the WHATWG URL parser writes it (`'` → `%27`), each with its
//!   port stripped and with the scheme's port written out (`:443`), since Twilio may have signed either;
//! - a repeated parameter contributes each distinct value, values sorted;
//! - a JSON body is signed through the URL: `?bodySHA256=<hex SHA-256 of the raw body>` is part of
//!   the signed URL, no parameters are added, and the hash must match the body received;
//! - the secondary token (`secondary_auth_token`, during a rotation) is tried when the primary fails.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use nightowl_plugin_sdk_channel::crypto::{self, Alg};
use nightowl_plugin_sdk_channel::{Error, Request, log};
use sha2::{Digest, Sha256};
use url::{Position, Url};

/// The secret settings a callback may be signed with, in the order they are tried.
pub const SECRETS: [&str; 2] = ["auth_token", "secondary_auth_token"];

/// Whether the request is signed by Twilio with one of the tenant's tokens. `Err` only when the
/// host cannot check at all (the primary token is not set).
pub fn verify(req: &Request) -> Result<bool, Error> {
    let Some(mac) = req
        .header("x-twilio-signature")
        .and_then(|s| STANDARD.decode(s.trim()).ok())
    else {
        return Ok(false);
    };
    let Some(data) = signed_strings(req) else {
        return Ok(false);
    };
    for (i, secret) in SECRETS.iter().enumerate() {
        for candidate in &data {
            match crypto::verify_hmac(Alg::Sha1, secret, candidate.as_bytes(), &mac) {
                Ok(true) => return Ok(true),
                Ok(false) => {}
                // The secondary token is optional: unset, it cannot match.
                Err(_) if i > 0 => return Ok(false),
                Err(e) => {
                    log::error(&format!("cannot check the Twilio signature: {e}"));
                    return Err(Error::Internal(format!(
                        "cannot check the Twilio signature ({e}); is auth_token set?"
                    )));
                }
            }
        }
    }
    Ok(false)
}

/// Every string Twilio may have signed for this request, or `None` when its `bodySHA256` does not
/// match the body (then nothing may have been signed for it).
pub fn signed_strings(req: &Request) -> Option<Vec<String>> {
    let params = params(req)?;
    Some(
        url_variants(&req.public_url)
            .into_iter()
            .map(|url| format!("{url}{params}"))
            .collect(),
    )
}

/// The parameters part of the signed string: empty for a JSON body (whose hash is in the URL).
fn params(req: &Request) -> Option<String> {
    if let Some(expected) = body_sha256(&req.public_url) {
        let actual = hex::encode(Sha256::digest(&req.body));
        return (actual.eq_ignore_ascii_case(&expected)).then(String::new);
    }
    let is_json = req
        .header("content-type")
        .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("application/json"));
    if is_json {
        return Some(String::new());
    }
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(&req.body).into_owned().collect();
    pairs.sort();
    pairs.dedup();
    Some(pairs.into_iter().map(|(k, v)| k + &v).collect())
}

fn body_sha256(url: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or(query);
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "bodySHA256")
        .map(|(_, v)| v.into_owned())
}

/// The URL as received (which may carry a `:443` the parser drops) and as the WHATWG parser writes
/// it, without and with its port.
pub fn url_variants(raw: &str) -> Vec<String> {
    let mut out = vec![raw.to_string()];
    if let Ok(url) = Url::parse(raw) {
        out.push(without_port(&url));
        out.push(with_port(&url));
    }
    let mut seen = Vec::new();
    out.retain(|u| {
        let new = !seen.contains(u);
        if new {
            seen.push(u.clone());
        }
        new
    });
    out
}

fn without_port(url: &Url) -> String {
    let mut u = url.clone();
    // Only fails for URLs that cannot have a port (no host): keep them as they are.
    let _ = u.set_port(None);
    u.to_string()
}

/// The URL with its port written out: its own, or the scheme's default (which the parser omits).
fn with_port(url: &Url) -> String {
    match (url.port(), url.port_or_known_default()) {
        (Some(_), _) | (None, None) => url.to_string(),
        (None, Some(port)) => format!(
            "{}:{port}{}",
            &url[..Position::AfterHost],
            &url[Position::BeforePath..]
        ),
    }
}
