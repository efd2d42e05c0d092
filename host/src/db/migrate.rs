//! Migrations: `migrations/global` in `public`, `migrations/tenant` in every `tenant_<slug>` schema,
//! each schema tracking its own applied versions in its own `_sqlx_migrations` table.

use sqlx::migrate::{MigrateError, Migrator};
use sqlx::{Connection, Executor, PgConnection, PgPool};

use crate::tenancy::{self, Slug};

static GLOBAL: Migrator = sqlx::migrate!("../migrations/global");
static TENANT: Migrator = sqlx::migrate!("../migrations/tenant");

/// Opens a dedicated connection whose search path is exactly `schema`. A dedicated connection (not
/// one from the pool) because the session-level search path must never leak into request handling.
async fn connect_in(database_url: &str, schema: &str) -> Result<PgConnection, sqlx::Error> {
    let mut conn = PgConnection::connect(database_url).await?;
    conn.execute(format!("set search_path to {schema}").as_str())
        .await?;
    Ok(conn)
}

/// Applies pending global migrations.
pub async fn migrate_global(database_url: &str) -> Result<(), MigrateError> {
    let mut conn = connect_in(database_url, "public").await?;
    GLOBAL.run(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

/// Applies pending tenant migrations to one tenant schema (which must exist).
pub async fn migrate_tenant(database_url: &str, slug: &Slug) -> Result<(), MigrateError> {
    let mut conn = connect_in(database_url, &slug.schema()).await?;
    TENANT.run(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

/// Brings the global schema and every registered tenant schema up to date; returns how many
/// tenant schemas were checked.
pub async fn migrate_all(pool: &PgPool, database_url: &str) -> anyhow::Result<usize> {
    migrate_global(database_url).await?;
    let tenants = tenancy::list_tenants(pool).await?;
    for tenant in &tenants {
        migrate_tenant(database_url, &tenant.slug)
            .await
            .map_err(|e| anyhow::anyhow!("migrating tenant {}: {e}", tenant.slug))?;
    }
    Ok(tenants.len())
}

/// The tenant migrations compiled into this binary (tests replay them step by step to check upgrades).
pub fn tenant_migrations() -> &'static Migrator {
    &TENANT
}

/// Newest tenant migration version compiled into this binary.
pub fn latest_tenant_version() -> i64 {
    TENANT.iter().map(|m| m.version).max().unwrap_or(0)
}
