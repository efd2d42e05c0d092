//! NightOwl host: the HTTP API, storage, tenancy, auth and the background workers behind the
//! `nightowl` binary. `main.rs` only parses the command line and calls [`cli::run`].

pub mod alerts;
pub mod audit;
pub mod auth;
pub mod cache;
pub mod channels;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod escalation;
pub mod events;
pub mod http;
pub mod ingest;
pub mod markdown;
pub mod metrics;
pub mod notify;
pub mod oncall;
pub mod plugins;
pub mod secrets;
pub mod seed;
pub mod state;
pub mod telemetry;
pub mod tenancy;
pub mod worker;

pub use http::app;
pub use state::AppState;
