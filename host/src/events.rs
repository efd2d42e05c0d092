//! Alert lifecycle events for the escalation workers, published with PostgreSQL `NOTIFY` inside the
//! transaction that changes the alert: they are delivered exactly when (and only if) it commits, to
//! every process listening on [`CHANNEL`], Redis or not. Browsers get them through [`live`].

pub mod live;

use nightowl_api::Slug;
use nightowl_api::alerts::Severity;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

/// The `LISTEN` channel.
pub const CHANNEL: &str = "nightowl_alert_events";

/// What happened to an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertChangeKind {
    Created,
    Acknowledged,
    Resolved,
}

/// The payload of one notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertChange {
    pub tenant: Slug,
    pub alert_id: Uuid,
    pub event: AlertChangeKind,
    pub severity: Option<Severity>,
}

/// Queues the event in the caller's transaction.
pub async fn publish(conn: &mut PgConnection, event: &AlertChange) -> Result<(), sqlx::Error> {
    let payload = serde_json::to_string(event).expect("event serializes");
    crate::db::events::notify(conn, CHANNEL, &payload).await
}

/// Wakes the workers on [`CHANNEL`] without an event (something became due now), on commit. Workers
/// treat every notification as "look again", so the empty payload carries nothing.
pub async fn wake(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    crate::db::events::notify(conn, CHANNEL, "").await
}
