//! Request and response types of the NightOwl HTTP API, shared by the host and the web UI.
//!
//! Everything here compiles for `wasm32-unknown-unknown`, so the UI uses the same types (and the same
//! validation rules) as the server.

pub mod admin;
pub mod alerts;
pub mod error;
pub mod escalation;
pub mod incidents;
pub mod page;
pub mod role;
pub mod rosters;
pub mod validate;

pub use error::ErrorBody;
pub use page::{CursorPage, OffsetPage};
pub use role::Role;
pub use validate::{FieldErrors, Validate};
