//! Queries on `tenant_config` (one row per tenant schema). Plugin settings live in
//! [`crate::db::plugin_settings`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// The stored row.
#[derive(Debug, sqlx::FromRow)]
pub struct ConfigRow {
    pub default_timezone: String,
    pub retention_days: i32,
    pub default_roster_id: Option<uuid::Uuid>,
    /// `{channel: seconds}`: the paging-storm rule ([`page_interval`]).
    pub page_interval_secs: sqlx::types::Json<BTreeMap<String, u32>>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "default_timezone, retention_days, default_roster_id, page_interval_secs, updated_at";

/// Reads the configuration, locking the row when `for_update`.
pub async fn get(conn: &mut PgConnection, for_update: bool) -> Result<ConfigRow, sqlx::Error> {
    let lock = if for_update { " for update" } else { "" };
    sqlx::query_as(&format!("select {COLUMNS} from tenant_config where id{lock}"))
        .fetch_one(conn)
        .await
}

/// Writes the whole row.
pub async fn put(conn: &mut PgConnection, c: &ConfigRow) -> Result<ConfigRow, sqlx::Error> {
    sqlx::query_as(&format!(
        "update tenant_config set default_timezone = $1, retention_days = $2, updated_at = $3,
                default_roster_id = $4, page_interval_secs = $5
         where id returning {COLUMNS}"
    ))
    .bind(&c.default_timezone)
    .bind(c.retention_days)
    .bind(c.updated_at)
    .bind(c.default_roster_id)
    .bind(&c.page_interval_secs)
    .fetch_one(conn)
    .await
}

/// Where alerts without a routed service go.
pub async fn default_roster(conn: &mut PgConnection) -> Result<Option<uuid::Uuid>, sqlx::Error> {
    sqlx::query_scalar("select default_roster_id from tenant_config where id")
        .fetch_one(conn)
        .await
}

/// The least time between two pages to one person through `channel` (`None`: no limit).
pub async fn page_interval(
    conn: &mut PgConnection,
    channel: &str,
) -> Result<Option<chrono::Duration>, sqlx::Error> {
    let secs: Option<i64> =
        sqlx::query_scalar("select (page_interval_secs ->> $1)::bigint from tenant_config where id")
            .bind(channel)
            .fetch_one(conn)
            .await?;
    Ok(secs.filter(|s| *s > 0).map(chrono::Duration::seconds))
}
