//! `GET /api/v1/stats/alerts`: what the dashboard shows about alerts, computed by the database.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Alert figures of the caller's tenant.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct AlertStats {
    /// Open alerts (firing or acknowledged) by severity; every severity is present.
    pub open_by_severity: BTreeMap<String, i64>,
    /// Open alerts nobody has acknowledged yet.
    pub firing: i64,
    /// One entry per UTC day of the window, oldest first, days without resolved alerts included.
    pub mttr: Vec<MttrDay>,
    /// The alerts that fired most often in the window, most first (at most 10).
    pub top_recurring: Vec<RecurringAlert>,
    /// The window, in days (ending today, UTC).
    pub days: i32,
}

/// Mean time to resolve of the alerts resolved on one day.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct MttrDay {
    /// The UTC day.
    pub day: NaiveDate,
    /// How many alerts were resolved that day.
    pub resolved: i64,
    /// Their mean time from first firing to resolution, in minutes; `null` when none was resolved.
    pub mttr_minutes: Option<f64>,
}

/// An alert that keeps firing: one fingerprint, its reports over the window.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct RecurringAlert {
    /// What identifies it across alerts.
    pub fingerprint: String,
    /// The latest alert's title.
    pub title: String,
    /// The latest alert's service.
    pub service: Option<String>,
    /// Reports (occurrences) over the window, repeats included.
    pub occurrences: i64,
    /// Alerts it opened over the window.
    pub alerts: i64,
    /// The latest alert.
    pub last_alert_id: Uuid,
    /// Its short number.
    pub last_number: i64,
}
