//! Slack request signing (`v0`): every callback carries `x-slack-request-timestamp` and
//! `x-slack-signature: v0=<hex HMAC-SHA256 of "v0:{timestamp}:{raw body}">` keyed with the app's
//! signing secret. The host computes the HMAC (the plugin never sees the secret); a request outside
//! five minutes of NightOwl's clock is refused as a possible replay.

use nightowl_plugin_sdk_channel::crypto::{self, Alg};
use nightowl_plugin_sdk_channel::{Error, Request, log, now_unix};

/// The secret setting the signature is keyed with.
pub const SECRET: &str = "signing_secret";

/// How far the request's timestamp may be from now, either way (Slack's recommendation).
pub const MAX_SKEW_SECS: i64 = 5 * 60;

/// `Ok` when the request is signed by Slack and fresh; `Unauthorized` otherwise.
pub fn verify(req: &Request) -> Result<(), Error> {
    let timestamp = req
        .header("x-slack-request-timestamp")
        .ok_or_else(|| unauthorized("missing x-slack-request-timestamp header"))?;
    let signature = req
        .header("x-slack-signature")
        .ok_or_else(|| unauthorized("missing x-slack-signature header"))?;
    let sent: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| unauthorized("x-slack-request-timestamp is not a number"))?;
    if (now_unix() - sent).abs() > MAX_SKEW_SECS {
        return Err(unauthorized(
            "request timestamp is more than 5 minutes from now (replayed or clock skew)",
        ));
    }
    let mac = signature
        .strip_prefix("v0=")
        .and_then(|h| hex::decode(h).ok())
        .ok_or_else(|| unauthorized("x-slack-signature is not v0=<hex>"))?;
    // The base string uses the timestamp exactly as sent and the raw body byte for byte.
    let mut base = format!("v0:{timestamp}:").into_bytes();
    base.extend_from_slice(&req.body);
    match crypto::verify_hmac(Alg::Sha256, SECRET, &base, &mac) {
        Ok(true) => Ok(()),
        Ok(false) => Err(unauthorized("signature does not match")),
        Err(e) => {
            log::error(&format!("cannot check the Slack signature: {e}"));
            Err(Error::Internal(format!(
                "cannot check the Slack signature ({e}); is signing_secret set?"
            )))
        }
    }
}

fn unauthorized(why: &str) -> Error {
    Error::Unauthorized(format!("slack: {why}"))
}
