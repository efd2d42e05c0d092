//! Queries on `public.api_keys`. The table is global, so every query names the tenant explicitly.

use chrono::{DateTime, Utc};
use nightowl_api::Role;
use nightowl_api::Slug;
use nightowl_api::admin::{ApiKey, ApiKeyScope};
use sqlx::PgConnection;
use uuid::Uuid;

const COLUMNS: &str =
    "id, name, prefix, role, scopes, expires_at, last_used_at, revoked_at, created_by, created_at";

/// What is stored for a new key.
pub struct NewKey<'a> {
    pub tenant_id: Uuid,
    pub name: &'a str,
    pub key_hash: &'a [u8],
    pub prefix: &'a str,
    pub role: Role,
    pub scopes: &'a [ApiKeyScope],
    pub expires_at: Option<DateTime<Utc>>,
    pub created_by: Option<&'a str>,
}

/// Stores a key.
pub async fn create(conn: &mut PgConnection, k: NewKey<'_>) -> Result<ApiKey, sqlx::Error> {
    let row: ApiKey = sqlx::query_as(&format!(
        "insert into api_keys (tenant_id, name, key_hash, prefix, role, scopes, expires_at, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning {COLUMNS}"
    ))
    .bind(k.tenant_id)
    .bind(k.name)
    .bind(k.key_hash)
    .bind(k.prefix)
    .bind(k.role.as_str())
    .bind(k.scopes)
    .bind(k.expires_at)
    .bind(k.created_by)
    .fetch_one(conn)
    .await?;
    Ok(row)
}

/// A key as authentication reads it, with its tenant.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyOwner {
    pub id: Uuid,
    pub prefix: String,
    pub role: Role,
    pub scopes: Vec<ApiKeyScope>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub tenant_id: Uuid,
    pub tenant_slug: Slug,
    pub tenant_name: String,
}

/// The key with this hash, revoked and expired ones included (authentication tells them apart).
pub async fn find_by_hash(conn: &mut PgConnection, key_hash: &[u8]) -> Result<Option<KeyOwner>, sqlx::Error> {
    sqlx::query_as(
        "select k.id, k.prefix, k.role, k.scopes, k.expires_at, k.revoked_at, k.last_used_at,
                t.id as tenant_id, t.slug as tenant_slug, t.name as tenant_name
         from api_keys k join tenants t on t.id = k.tenant_id
         where k.key_hash = $1",
    )
    .bind(key_hash)
    .fetch_optional(conn)
    .await
}

/// Records that the key was used at `now`.
pub async fn touch(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    sqlx::query("update api_keys set last_used_at = $2 where id = $1")
        .bind(id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Keys of a tenant, newest first, after the `(created_at, id)` cursor when given.
pub async fn list(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<ApiKey>, sqlx::Error> {
    let rows: Vec<ApiKey> = sqlx::query_as(&format!(
        "select {COLUMNS} from api_keys
         where tenant_id = $1 and ($2::timestamptz is null or (created_at, id) < ($2, $3))
         order by created_at desc, id desc limit $4"
    ))
    .bind(tenant_id)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows)
}

/// Revokes a key of the tenant (idempotent); `None` when the tenant has no such key.
pub async fn revoke(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<ApiKey>, sqlx::Error> {
    let row: Option<ApiKey> = sqlx::query_as(&format!(
        "update api_keys set revoked_at = coalesce(revoked_at, $3)
         where tenant_id = $1 and id = $2 returning {COLUMNS}"
    ))
    .bind(tenant_id)
    .bind(id)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    Ok(row)
}
