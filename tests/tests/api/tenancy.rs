//! Schema-per-tenant provisioning and per-schema migration tracking.

use nightowl::db::migrate;
use nightowl::tenancy::{self, Slug};
use nightowl_tests::{TestApp, database_url, random_slug};

async fn applied_versions(app: &TestApp, slug: &Slug) -> Vec<i64> {
    sqlx::query_scalar(&format!(
        "select version from {}._sqlx_migrations where success order by version",
        slug.schema()
    ))
    .fetch_all(app.db())
    .await
    .unwrap()
}

#[tokio::test]
async fn each_tenant_schema_tracks_its_own_migrations_and_migrate_all_brings_every_one_up() {
    let app = TestApp::spawn().await;
    let a = app.tenant().await;
    let b = app.tenant().await;
    let latest = migrate::latest_tenant_version();
    assert_eq!(applied_versions(&app, &a.tenant.slug).await.last(), Some(&latest));
    assert_eq!(applied_versions(&app, &b.tenant.slug).await.last(), Some(&latest));

    // Simulate tenant B lagging behind: empty schema, no recorded versions.
    let schema = b.tenant.slug.schema();
    sqlx::query(&format!("drop schema {schema} cascade"))
        .execute(app.db())
        .await
        .unwrap();
    sqlx::query(&format!("create schema {schema}"))
        .execute(app.db())
        .await
        .unwrap();
    migrate::migrate_all(app.db(), &database_url()).await.unwrap();
    assert_eq!(applied_versions(&app, &b.tenant.slug).await.last(), Some(&latest));
    let tables: i64 =
        sqlx::query_scalar("select count(*) from information_schema.tables where table_schema = $1")
            .bind(&schema)
            .fetch_one(app.db())
            .await
            .unwrap();
    assert!(tables >= 15, "tenant tables re-created: {tables}");
    // A's schema was left as it was.
    assert_eq!(
        applied_versions(&app, &a.tenant.slug).await.len(),
        applied_versions(&app, &b.tenant.slug).await.len()
    );
}

#[tokio::test]
async fn creating_a_tenant_twice_or_with_a_bad_slug_is_refused() {
    let app = TestApp::spawn().await;
    let slug = random_slug();
    tenancy::create_tenant(app.db(), &database_url(), &slug, "one")
        .await
        .unwrap();
    let again = tenancy::create_tenant(app.db(), &database_url(), &slug, "two").await;
    assert!(matches!(again, Err(tenancy::TenancyError::Exists(_))));
    for bad in ["public; drop table tenants", "Tenant", "x"] {
        assert!(Slug::parse(bad).is_err());
        assert!(tenancy::find_tenant(app.db(), bad).await.unwrap().is_none());
    }
    tenancy::drop_tenant(app.db(), &slug).await.unwrap();
    assert!(
        tenancy::find_tenant(app.db(), slug.as_str())
            .await
            .unwrap()
            .is_none()
    );
}
