//! Which Slack workspace a callback comes from. When the tenant set the `team_id` setting, a signed
//! callback from any other workspace is refused: two tenants that share one Slack app (and so one
//! signing secret) cannot replay each other's requests into each other's NightOwl.

use nightowl_plugin_sdk_channel::{Error, Request, config};
use serde_json::Value;

/// The setting naming the tenant's Slack workspace (`T…`).
pub const TEAM_ID: &str = "team_id";

/// The workspace a callback names: `team_id` of a slash command or an event, `team.id` of an
/// interaction's payload; `None` when it names none (Slack's `url_verification`).
pub fn of(req: &Request) -> Option<String> {
    match req.path.as_str() {
        "/commands" => req
            .form()
            .into_iter()
            .find(|(k, _)| k == "team_id")
            .map(|(_, v)| v),
        "/interactions" => {
            let payload = req.form().into_iter().find(|(k, _)| k == "payload")?.1;
            let v: Value = serde_json::from_str(&payload).ok()?;
            v["team"]["id"].as_str().map(str::to_owned)
        }
        _ => {
            let v: Value = serde_json::from_slice(&req.body).ok()?;
            v["team_id"].as_str().map(str::to_owned)
        }
    }
}

/// Refuses a callback from another workspace than the tenant's, when the tenant named one.
pub fn check(req: &Request) -> Result<(), Error> {
    let Some(expected) = config::get(TEAM_ID).filter(|t| !t.is_empty()) else {
        return Ok(());
    };
    match of(req) {
        Some(team) if team != expected => Err(Error::Unauthorized(format!(
            "slack: the request comes from workspace {team}, not this tenant's {expected}"
        ))),
        _ => Ok(()),
    }
}
