//! Tenants: slug validation, schema names and provisioning (schema + migrations + registry row).
//! The registry and schema queries are in `db::tenants`.

use sqlx::PgPool;
use uuid::Uuid;

use crate::db;

/// Tenant slugs are an API type (the UI validates them with the same rules); the host only re-exports them.
pub use nightowl_api::{InvalidSlug, Slug};

/// A tenant as the rest of the host refers to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: Uuid,
    pub slug: Slug,
    pub name: String,
}

/// Failure to provision or find a tenant.
#[derive(Debug, thiserror::Error)]
pub enum TenancyError {
    #[error(transparent)]
    InvalidSlug(#[from] InvalidSlug),
    #[error("tenant {0:?} already exists")]
    Exists(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Creates the schema, migrates it, then registers the tenant: a tenant is visible only once its
/// schema is complete. Re-running after a failure picks up where it stopped.
pub async fn create_tenant(
    pool: &PgPool,
    database_url: &str,
    slug: &Slug,
    name: &str,
) -> Result<Tenant, TenancyError> {
    if find_tenant(pool, slug.as_str()).await?.is_some() {
        return Err(TenancyError::Exists(slug.to_string()));
    }
    db::tenants::create_schema(pool, slug).await?;
    db::migrate::migrate_tenant(database_url, slug).await?;
    let id = db::tenants::insert(pool, slug, name).await?;
    Ok(Tenant {
        id,
        slug: slug.clone(),
        name: name.to_owned(),
    })
}

/// Removes a tenant with all its data (schema, keys, sessions). Used by `seed-demo` and tests.
pub async fn drop_tenant(pool: &PgPool, slug: &Slug) -> Result<(), TenancyError> {
    let mut tx = pool.begin().await?;
    db::tenants::delete(&mut *tx, slug).await?;
    db::tenants::drop_schema(&mut *tx, slug).await?;
    tx.commit().await?;
    Ok(())
}

/// Looks a tenant up by slug; an invalid slug is simply not found.
pub async fn find_tenant(pool: &PgPool, slug: &str) -> Result<Option<Tenant>, sqlx::Error> {
    let Ok(slug) = Slug::parse(slug) else {
        return Ok(None);
    };
    let row = db::tenants::find(pool, &slug).await?;
    Ok(row.map(|r| Tenant {
        id: r.id,
        slug,
        name: r.name,
    }))
}

/// Every registered tenant, oldest first.
pub async fn list_tenants(pool: &PgPool) -> Result<Vec<Tenant>, sqlx::Error> {
    let rows = db::tenants::list(pool).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Slug::parse(&r.slug).ok().map(|slug| Tenant {
                id: r.id,
                slug,
                name: r.name,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_the_documented_pattern() {
        for ok in ["acme", "a1", "team_42", "abcdefghijklmnopqrstuvwxyz01234"] {
            assert!(Slug::parse(ok).is_ok(), "{ok} refused");
        }
        for bad in [
            "",
            "a",
            "1abc",
            "_abc",
            "Acme",
            "ac-me",
            "ac me",
            "acme;drop",
            "abcdefghijklmnopqrstuvwxyz012345",
            "tenant\"x",
            "é_x",
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn schema_name_is_prefixed() {
        assert_eq!(Slug::parse("acme").unwrap().schema(), "tenant_acme");
    }
}
