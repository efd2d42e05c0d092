//! Request and response types of the NightOwl HTTP API, shared by the host and the web UI.
//!
//! Everything here compiles for `wasm32-unknown-unknown`, so the UI uses the same types (and the same
//! validation rules) as the server. The closed sets of strings the API speaks (alert status, severity,
//! escalation state, ...) are enums here with their wire spellings; the optional `sqlx` feature (the
//! host's, never the UI's) lets them and the row-shaped structs be read straight from PostgreSQL.

#![warn(missing_docs)]

mod text;

pub mod admin;
pub mod alerts;
pub mod error;
pub mod escalation;
pub mod incidents;
pub mod notifications;
pub mod page;
pub mod role;
pub mod rosters;
pub mod stats;
pub mod tenant;
pub mod validate;

pub use error::ErrorBody;
pub use page::{CursorPage, OffsetPage};
pub use role::Role;
pub use tenant::{InvalidSlug, Slug};
pub use text::InvalidValue;
pub use validate::{FieldErrors, Validate};
