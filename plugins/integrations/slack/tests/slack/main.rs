//! The Slack plugin's behaviour through its `Channel` entry points, natively, against the channel
//! SDK's test double of the host (scripted Slack answers, alerts, rosters, linked people). One test
//! binary; one module per concern.

mod common;

mod commands;
mod events;
mod interactions;
mod notify;
mod signing;
