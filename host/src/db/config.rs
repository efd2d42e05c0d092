//! Queries on `tenant_config` (one row per tenant schema). Secret columns hold sealed bytes; this module
//! never sees plaintext.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// The stored row.
#[derive(Debug, sqlx::FromRow)]
pub struct ConfigRow {
    pub default_timezone: String,
    pub slack_workspace: Option<String>,
    pub slack_channel: Option<String>,
    pub twilio_account_sid: Option<String>,
    pub twilio_from_number: Option<String>,
    pub retention_days: i32,
    pub default_roster_id: Option<uuid::Uuid>,
    pub slack_bot_token_enc: Option<Vec<u8>>,
    pub slack_signing_secret_enc: Option<Vec<u8>>,
    pub twilio_auth_token_enc: Option<Vec<u8>>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "default_timezone, slack_workspace, slack_channel, twilio_account_sid, twilio_from_number, \
                       retention_days, default_roster_id, slack_bot_token_enc, slack_signing_secret_enc, twilio_auth_token_enc, updated_at";

impl ConfigRow {
    /// The sealed secrets, in the order of `secrets::CONFIG_SECRETS`.
    pub fn secrets_mut(&mut self) -> [&mut Option<Vec<u8>>; 3] {
        [
            &mut self.slack_bot_token_enc,
            &mut self.slack_signing_secret_enc,
            &mut self.twilio_auth_token_enc,
        ]
    }
}

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
        "update tenant_config set default_timezone = $1, slack_workspace = $2, slack_channel = $3,
                twilio_account_sid = $4, twilio_from_number = $5, retention_days = $6,
                slack_bot_token_enc = $7, slack_signing_secret_enc = $8, twilio_auth_token_enc = $9,
                updated_at = $10, default_roster_id = $11
         where id returning {COLUMNS}"
    ))
    .bind(&c.default_timezone)
    .bind(&c.slack_workspace)
    .bind(&c.slack_channel)
    .bind(&c.twilio_account_sid)
    .bind(&c.twilio_from_number)
    .bind(c.retention_days)
    .bind(&c.slack_bot_token_enc)
    .bind(&c.slack_signing_secret_enc)
    .bind(&c.twilio_auth_token_enc)
    .bind(c.updated_at)
    .bind(c.default_roster_id)
    .fetch_one(conn)
    .await
}

/// Where alerts without a routed service go.
pub async fn default_roster(conn: &mut PgConnection) -> Result<Option<uuid::Uuid>, sqlx::Error> {
    sqlx::query_scalar("select default_roster_id from tenant_config where id")
        .fetch_one(conn)
        .await
}
