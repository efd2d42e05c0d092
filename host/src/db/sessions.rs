//! Queries on `public.sessions`.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// Stores a new session.
pub async fn create(
    conn: &mut PgConnection,
    token_hash: &[u8],
    tenant_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into sessions (token_hash, tenant_id, user_id, created_at, expires_at) values ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(tenant_id)
    .bind(user_id)
    .bind(now)
    .bind(expires_at)
    .execute(&mut *conn)
    .await?;
    // Sign-in is rare enough to carry the clean-up of expired sessions.
    sqlx::query("delete from sessions where expires_at < $1")
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Whose a live session is: the user and their tenant.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionOwner {
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    pub tenant_slug: String,
    pub tenant_name: String,
}

/// The owner of the live (unexpired) session with this token hash.
pub async fn find_live(
    conn: &mut PgConnection,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<SessionOwner>, sqlx::Error> {
    sqlx::query_as(
        "select s.user_id, t.id as tenant_id, t.slug as tenant_slug, t.name as tenant_name
         from sessions s join tenants t on t.id = s.tenant_id
         where s.token_hash = $1 and s.expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// Ends a session.
pub async fn delete(conn: &mut PgConnection, token_hash: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query("delete from sessions where token_hash = $1")
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends every session of a user (on deactivation or password change).
pub async fn delete_for_user(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("delete from sessions where tenant_id = $1 and user_id = $2")
        .bind(tenant_id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}
