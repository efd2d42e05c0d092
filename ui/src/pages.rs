//! One module per screen.

pub mod alert;
pub mod alerts;
pub mod dashboard;
pub mod incident;
pub mod incident_edit;
pub mod incidents;
pub mod login;
