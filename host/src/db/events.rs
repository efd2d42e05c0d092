//! `NOTIFY`: a message to every session listening on a channel, delivered when (and only if) the
//! caller's transaction commits.

use sqlx::PgConnection;

/// Queues `payload` on `channel` in the caller's transaction.
pub async fn notify(conn: &mut PgConnection, channel: &str, payload: &str) -> Result<(), sqlx::Error> {
    sqlx::query("select pg_notify($1, $2)")
        .bind(channel)
        .bind(payload)
        .execute(conn)
        .await?;
    Ok(())
}
