//! Queries on `plugin_settings`: per-tenant values of the settings plugin manifests declare. Secret
//! values are sealed bytes; this module never sees plaintext.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// One stored setting: a plain value or a sealed secret.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SettingRow {
    pub key: String,
    pub value: Option<String>,
    pub secret_enc: Option<Vec<u8>>,
}

/// A plugin's stored settings, locked for update when `for_update`.
pub async fn list(
    conn: &mut PgConnection,
    plugin: &str,
    for_update: bool,
) -> Result<Vec<SettingRow>, sqlx::Error> {
    let lock = if for_update { " for update" } else { "" };
    sqlx::query_as(&format!(
        "select key, value, secret_enc from plugin_settings where plugin_id = $1 order by key{lock}"
    ))
    .bind(plugin)
    .fetch_all(conn)
    .await
}

/// Every stored secret of every plugin (for resealing), by plugin and key.
pub async fn secrets(conn: &mut PgConnection) -> Result<Vec<(String, String, Vec<u8>)>, sqlx::Error> {
    sqlx::query_as(
        "select plugin_id, key, secret_enc from plugin_settings where secret_enc is not null
         order by plugin_id, key for update",
    )
    .fetch_all(conn)
    .await
}

/// Stores a plain value (`secret: None`) or a sealed secret (`value: None`).
pub async fn put(
    conn: &mut PgConnection,
    plugin: &str,
    key: &str,
    value: Option<&str>,
    secret: Option<&[u8]>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into plugin_settings (plugin_id, key, value, secret_enc, updated_at) values ($1, $2, $3, $4, $5)
         on conflict (plugin_id, key) do update
         set value = excluded.value, secret_enc = excluded.secret_enc, updated_at = excluded.updated_at",
    )
    .bind(plugin)
    .bind(key)
    .bind(value)
    .bind(secret)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes a setting.
pub async fn delete(conn: &mut PgConnection, plugin: &str, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("delete from plugin_settings where plugin_id = $1 and key = $2")
        .bind(plugin)
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}
