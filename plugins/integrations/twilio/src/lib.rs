//! NightOwl's Twilio channel plugin: pages a person by phone call or SMS, sends SMS confirmations of
//! status changes, and answers Twilio's callbacks: the digit pressed during a call, SMS replies and
//! call status reports.
//!
//! Where things are: [`notify`] decides what a notification becomes (a call, an SMS, nothing) and
//! [`api`] sends it to Twilio's REST API, mapping Twilio's failures to NightOwl's retry rule;
//! [`twiml`] writes the XML a call runs and every callback answers; [`sms`] words and fits SMS
//! texts and reads replies; [`signature`] checks every callback before anything else; [`voice`]
//! answers the digit of a call, [`inbound`] routes the callbacks and acts on SMS replies.

pub mod api;
pub mod inbound;
pub mod notify;
pub mod signature;
pub mod sms;
pub mod twiml;
pub mod voice;

use nightowl_plugin_sdk_channel::{
    Channel, Delivery, Error, Notification, Request, Response, channel_plugin,
};

/// The plugin's id: the `channel` of every [`Actor`](nightowl_plugin_sdk_channel::incidents::Actor)
/// it acts as (the host matches the external id against the user's `phone`).
pub const PLUGIN_ID: &str = "twilio";

/// The plugin.
pub struct Twilio;

impl Channel for Twilio {
    fn notify(n: &Notification) -> Result<Delivery, Error> {
        notify::notify(n)
    }

    /// Checks Twilio's signature first, whatever the path; an unsigned request gets 403.
    fn handle_inbound(req: &Request) -> Result<Response, Error> {
        inbound::handle(req)
    }
}

channel_plugin!(Twilio);
