//! Database access: the pool and migrations here, query functions per aggregate in submodules.
//! Query functions take a connection (normally a tenant-scoped transaction), never the pool; only
//! the ones that work across tenants (`tenants`, the audit writer's insert) take any executor.

pub mod alerts;
pub mod api_keys;
pub mod audit;
pub mod config;
pub mod demo;
pub mod escalations;
pub mod events;
pub mod gate;
pub mod health;
pub mod incidents;
pub mod migrate;
pub mod outbox;
pub mod plugin_settings;
pub mod policies;
pub mod rosters;
pub mod runbooks;
pub mod services;
pub mod sessions;
pub mod stats;
pub mod tenants;
pub mod users;

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::config::Config;

/// Opens the pool. Connections are checked before use so a restarted PostgreSQL is picked up.
pub async fn connect(config: &Config) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(config.database_max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(true)
        .connect(&config.database_url)
        .await
}

/// A round trip to PostgreSQL (readiness).
pub async fn ping(conn: &mut sqlx::PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("select 1").execute(conn).await?;
    Ok(())
}

/// True when `err` is a unique-constraint violation of the constraint or index named `name`.
pub fn is_unique_violation(err: &sqlx::Error, name: &str) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation() && db.constraint() == Some(name))
}

/// True when `err` is a foreign-key violation (a referenced row is missing or still referenced).
pub fn is_foreign_key_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_foreign_key_violation())
}

/// A transaction confined to one tenant's schema.
/// Whether a transaction failed only because it raced another one (deadlock `40P01`, serialization
/// failure `40001`): PostgreSQL rolled it back whole, and running it again is safe.
pub fn is_transient_conflict(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "40P01" || code == "40001")
}

pub type Tx = sqlx::Transaction<'static, sqlx::Postgres>;

/// Begins a transaction whose search path is `tenant_<slug>, public` and whose `nightowl.actor`
/// setting names who acts (read by the history trigger). Both are `SET LOCAL`: they end with the
/// transaction, so a pooled connection never carries one tenant's path into the next request.
pub async fn begin_tenant(
    pool: &PgPool,
    slug: &crate::tenancy::Slug,
    actor: &str,
) -> Result<Tx, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("select set_config('search_path', $1, true), set_config('nightowl.actor', $2, true)")
        .bind(format!("{}, public", slug.schema()))
        .bind(actor)
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}
