//! `/events`: the Events API. Slack checks the Request URL with a `url_verification` challenge,
//! answered with `{"challenge": ...}`; NightOwl subscribes to no event, so any other delivery
//! (`event_callback`, ...) is acknowledged with an empty 200 and ignored (an error would make Slack
//! retry it and, repeated, disable the subscription).

use nightowl_plugin_sdk_channel::{Error, Request, Response};
use serde_json::{Value, json};

/// Answers one Events API delivery (signature already checked).
pub fn handle(req: &Request) -> Result<Response, Error> {
    let event: Value = req.json()?;
    if event["type"] != "url_verification" {
        return Ok(Response::empty(200));
    }
    let challenge = event["challenge"]
        .as_str()
        .ok_or_else(|| Error::InvalidPayload("url_verification without a challenge".into()))?;
    Ok(Response::json(200, &json!({ "challenge": challenge })))
}
