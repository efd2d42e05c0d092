//! One module per screen.

pub mod alert;
pub mod alerts;
pub mod login;
