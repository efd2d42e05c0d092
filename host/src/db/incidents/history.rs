//! The incident's history: events that are not field changes (create, merge, delete) recorded here;
//! field changes are written by the `incidents_history` trigger, which reads `nightowl.actor`.

use chrono::{DateTime, Utc};
use nightowl_api::incidents::HistoryEntry;
use sqlx::PgConnection;
use uuid::Uuid;

/// Records an event (create/merge/delete) that is not a field change.
pub async fn record_event(
    conn: &mut PgConnection,
    id: Uuid,
    change_type: &str,
    field: Option<&str>,
    new_value: Option<serde_json::Value>,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into incident_history (incident_id, change_type, field, new_value, changed_by, changed_at)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(change_type)
    .bind(field)
    .bind(new_value)
    .bind(by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The incident's history, oldest first.
pub async fn history(conn: &mut PgConnection, id: Uuid) -> Result<Vec<HistoryEntry>, sqlx::Error> {
    sqlx::query_as(
        "select id, change_type, field, old_value, new_value, changed_by, changed_at from incident_history
         where incident_id = $1 order by changed_at, id",
    )
    .bind(id)
    .fetch_all(conn)
    .await
}
