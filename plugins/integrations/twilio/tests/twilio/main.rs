//! The Twilio plugin's behaviour through its `Channel` entry points, natively, against the channel
//! SDK's test double of the host (scripted Twilio answers, alerts, linked phone numbers). One test
//! binary; one module per concern.

mod common;

mod inbound;
mod notify;
mod signing;
