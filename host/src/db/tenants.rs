//! Queries on the tenant registry (`public.tenants`) and on tenant schemas as a whole. They run
//! outside any tenant's search path, so unlike the other query modules they take any executor (the
//! pool included).

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::tenancy::Slug;

/// A row of `tenants`. The slug is as stored: callers validate it before use.
#[derive(Debug, sqlx::FromRow)]
pub struct TenantRow {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
}

/// Creates the tenant's (empty) schema unless it exists.
pub async fn create_schema(exec: impl PgExecutor<'_>, slug: &Slug) -> Result<(), sqlx::Error> {
    // The schema name comes from a validated slug: the only SQL built from text here.
    sqlx::query(&format!("create schema if not exists {}", slug.schema()))
        .execute(exec)
        .await?;
    Ok(())
}

/// Drops the tenant's schema with everything in it.
pub async fn drop_schema(exec: impl PgExecutor<'_>, slug: &Slug) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("drop schema if exists {} cascade", slug.schema()))
        .execute(exec)
        .await?;
    Ok(())
}

/// Registers a tenant (keeping the name of one registered before); returns its id.
pub async fn insert(exec: impl PgExecutor<'_>, slug: &Slug, name: &str) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar(
        "insert into tenants (slug, name) values ($1, $2)
         on conflict (slug) do update set name = tenants.name
         returning id",
    )
    .bind(slug.as_str())
    .bind(name)
    .fetch_one(exec)
    .await
}

/// Removes a tenant from the registry (its keys and sessions go with it).
pub async fn delete(exec: impl PgExecutor<'_>, slug: &Slug) -> Result<(), sqlx::Error> {
    sqlx::query("delete from tenants where slug = $1")
        .bind(slug.as_str())
        .execute(exec)
        .await?;
    Ok(())
}

/// The registered tenant with this slug.
pub async fn find(exec: impl PgExecutor<'_>, slug: &Slug) -> Result<Option<TenantRow>, sqlx::Error> {
    sqlx::query_as("select id, slug, name from tenants where slug = $1")
        .bind(slug.as_str())
        .fetch_optional(exec)
        .await
}

/// Every registered tenant, oldest first.
pub async fn list(exec: impl PgExecutor<'_>) -> Result<Vec<TenantRow>, sqlx::Error> {
    sqlx::query_as("select id, slug, name from tenants order by created_at, slug")
        .fetch_all(exec)
        .await
}
