//! Tenants: slug validation, schema names and provisioning (schema + migrations + registry row).
//! The registry and schema queries are in `db::tenants`.

use sqlx::PgPool;
use uuid::Uuid;

use crate::db;

/// A tenant slug that matched `^[a-z][a-z0-9_]{1,30}$`; the only way a schema name is built.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

/// Why a slug was refused.
#[derive(Debug, thiserror::Error)]
#[error("tenant slug {0:?} must match ^[a-z][a-z0-9_]{{1,30}}$")]
pub struct InvalidSlug(pub String);

impl Slug {
    /// Validates `raw`; nothing else can make a `Slug`.
    pub fn parse(raw: &str) -> Result<Slug, InvalidSlug> {
        let bytes = raw.as_bytes();
        let ok = (2..=31).contains(&bytes.len())
            && bytes[0].is_ascii_lowercase()
            && bytes[1..]
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_');
        if ok {
            Ok(Slug(raw.to_owned()))
        } else {
            Err(InvalidSlug(raw.to_owned()))
        }
    }

    /// The slug text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The tenant's schema, `tenant_<slug>`. Safe to splice into SQL: the slug alphabet needs no quoting.
    pub fn schema(&self) -> String {
        format!("tenant_{}", self.0)
    }
}

impl std::fmt::Display for Slug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

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
