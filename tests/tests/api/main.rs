//! The HTTP API end to end: real router on a loopback port, real PostgreSQL, real Redis.

mod admin;
mod alert_numbers;
mod alertmanager;
mod audit;
mod auth;
mod channels;
mod errors;
mod escalation;
mod hardening;
mod health;
mod isolation;
mod knowledge;
mod oidc_login;
mod pipeline;
mod plugin_cases;
mod rbac;
mod rosters;
mod routes;
mod sandbox;
mod schemathesis;
mod slack;
mod stats;
mod tenancy;
mod twilio;
mod ui;
