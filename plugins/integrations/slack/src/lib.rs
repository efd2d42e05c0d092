//! NightOwl's Slack channel plugin: posts alerts to channels and DMs as Block Kit messages with
//! buttons, keeps them up to date (status edits and thread replies), sends handoff and on-call
//! notices, and answers the Slack app's callbacks: the `/nightowl` slash command, button clicks and
//! the "Add to knowledge base" modal, and the Events API's URL check.
//!
//! Where things are: [`notify`] decides what a notification becomes (new post, edit, thread reply) and
//! [`message`] renders it; [`api`] calls Slack and maps its failures to NightOwl's retry rules;
//! [`signature`] checks every callback before anything else, [`workspace`] that it comes from the
//! tenant's workspace; [`events`], [`commands`] and
//! [`interactions`] answer the three callback URLs, and [`reply`] words their refusals; [`mrkdwn`] and
//! [`when`] format text and times.
//! Setup for people: `docs/slack.md`.

pub mod api;
pub mod commands;
pub mod events;
pub mod interactions;
pub mod message;
pub mod mrkdwn;
pub mod notify;
pub mod reply;
pub mod signature;
pub mod when;
pub mod workspace;

use nightowl_plugin_sdk_channel::{
    Channel, Delivery, Error, Notification, Request, Response, channel_plugin,
};

/// The plugin's id: the `channel` of every [`Actor`](nightowl_plugin_sdk_channel::incidents::Actor)
/// it acts as, and the key of people's Slack identities.
pub const PLUGIN_ID: &str = "slack";

/// The plugin.
pub struct Slack;

impl Channel for Slack {
    fn notify(n: &Notification) -> Result<Delivery, Error> {
        notify::notify(n)
    }

    /// Checks the Slack signature first, whatever the path, then routes by path.
    fn handle_inbound(req: &Request) -> Result<Response, Error> {
        signature::verify(req)?;
        workspace::check(req)?;
        match req.path.as_str() {
            "/events" => events::handle(req),
            "/commands" => commands::handle(req),
            "/interactions" => interactions::handle(req),
            other => Err(Error::InvalidPayload(format!(
                "no Slack callback at {other}: expected /events, /commands or /interactions"
            ))),
        }
    }
}

channel_plugin!(Slack);
