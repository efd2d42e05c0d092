//! Development and demo data. `seed` is idempotent (adds what is missing to tenant `acme`);
//! `seed-demo` drops `acme` and builds it again, and also prints a fresh admin API key.

use nightowl_api::Role;
use nightowl_api::admin::ServiceInput;
use rand::Rng;
use rand::distributions::Alphanumeric;
use sqlx::PgPool;

use crate::auth::password;
use crate::tenancy::{self, Slug, Tenant};
use crate::{cli, db};

/// Slug of the seeded tenant.
pub const DEMO_TENANT: &str = "acme";

const USERS: [(&str, &str, Role, &str, &str, &str); 2] = [
    (
        "alice@acme.example",
        "Alice Admin",
        Role::Admin,
        "Europe/Berlin",
        "+4915112345678",
        "U0ALICE01",
    ),
    (
        "bob@acme.example",
        "Bob Engineer",
        Role::Engineer,
        "America/New_York",
        "+12125550142",
        "U0BOB0002",
    ),
];

const SERVICES: [(&str, &str, &str, &str, i16); 4] = [
    (
        "checkout-api",
        "Takes orders and payments from the web shop",
        "prod-eu-1",
        "shop",
        1,
    ),
    (
        "payments-db",
        "PostgreSQL cluster behind checkout",
        "prod-eu-1",
        "payments",
        1,
    ),
    ("search", "Product search (OpenSearch)", "prod-eu-1", "search", 2),
    (
        "notifications-worker",
        "Sends order e-mails and push messages",
        "prod-us-1",
        "notify",
        3,
    ),
];

/// What seeding did, for the operator.
#[derive(Debug)]
pub struct SeedReport {
    pub tenant: Tenant,
    /// Set when the admin's password was generated now (printed once).
    pub generated_password: Option<String>,
    /// Set by `seed-demo`.
    pub api_key: Option<String>,
}

impl SeedReport {
    /// Prints the credentials an operator needs to try the install.
    pub fn print(&self) {
        println!(
            "tenant {} ready (schema {})",
            self.tenant.slug,
            self.tenant.slug.schema()
        );
        println!("admin sign-in: tenant {} / {}", self.tenant.slug, USERS[0].0);
        if let Some(password) = &self.generated_password {
            println!("admin password (generated, shown once): {password}");
        }
        if let Some(key) = &self.api_key {
            println!("admin API key (shown once): {key}");
        }
    }
}

/// Ensures tenant `acme` with its users and services exists. Running it again changes nothing.
pub async fn seed(
    pool: &PgPool,
    database_url: &str,
    admin_password: Option<&str>,
) -> anyhow::Result<SeedReport> {
    let slug = Slug::parse(DEMO_TENANT)?;
    let tenant = match tenancy::find_tenant(pool, DEMO_TENANT).await? {
        Some(t) => {
            db::migrate::migrate_tenant(database_url, &t.slug).await?;
            t
        }
        None => tenancy::create_tenant(pool, database_url, &slug, "Acme Corp").await?,
    };
    let mut tx = db::begin_tenant(pool, &tenant.slug, "seed").await?;
    for (email, display_name, role, timezone, phone, slack) in USERS {
        let user = db::users::UserWrite {
            email,
            display_name,
            role,
            timezone,
            phone: Some(phone),
            slack_user_id: Some(slack),
            password_hash: None,
            is_active: true,
        };
        db::users::create_if_missing(&mut tx, user).await?;
    }
    let admin = db::users::find_by_email(&mut tx, USERS[0].0)
        .await?
        .expect("admin inserted above");
    let mut generated_password = None;
    if admin.password_hash.is_none() || admin_password.is_some() {
        let plain = match admin_password {
            Some(p) => p.to_owned(),
            None => {
                let p: String = rand::thread_rng()
                    .sample_iter(&Alphanumeric)
                    .take(20)
                    .map(char::from)
                    .collect();
                generated_password = Some(p.clone());
                p
            }
        };
        let hash = tokio::task::spawn_blocking(move || password::hash(&plain)).await??;
        db::users::set_password_hash(&mut tx, admin.id, &hash).await?;
    }
    for (name, description, cluster, namespace, tier) in SERVICES {
        let service = ServiceInput {
            name: name.into(),
            description: Some(description.into()),
            cluster: Some(cluster.into()),
            namespace: Some(namespace.into()),
            owner_user_id: Some(admin.id),
            tier,
            roster_id: None,
        };
        db::services::create_if_missing(&mut tx, &service).await?;
    }
    tx.commit().await?;
    Ok(SeedReport {
        tenant,
        generated_password,
        api_key: None,
    })
}

/// Drops tenant `acme` and everything in it, then seeds it afresh with an admin API key.
pub async fn seed_demo(
    pool: &PgPool,
    database_url: &str,
    admin_password: Option<&str>,
) -> anyhow::Result<SeedReport> {
    tenancy::drop_tenant(pool, &Slug::parse(DEMO_TENANT)?).await?;
    let mut report = seed(pool, database_url, admin_password).await?;
    report.api_key = Some(cli::create_api_key(pool, &report.tenant, Role::Admin, "demo").await?);
    let mut tx = db::begin_tenant(pool, &report.tenant.slug, "seed-demo").await?;
    db::demo::load(&mut tx).await?;
    tx.commit().await?;
    Ok(report)
}
