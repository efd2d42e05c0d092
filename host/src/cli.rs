//! The command line: `serve`, `api`, `worker`, `migrate`, tenant and key administration, seeding.

use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use nightowl_api::Role;
use nightowl_api::admin::ApiKeyScope;
use sqlx::PgPool;

use crate::clock::SystemClock;
use crate::config::Config;
use crate::state::AppState;
use crate::tenancy::{self, Slug};
use crate::{auth, db, seed, telemetry};

/// NightOwl: alert intake, knowledge base and on-call escalation.
#[derive(Debug, Parser)]
#[command(name = "nightowl", version)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Command,
}

/// What to run.
#[derive(Debug, Subcommand)]
pub enum Command {
    #[command(flatten)]
    Database(DatabaseCommand),
    /// Plugin tools (no database needed).
    #[command(subcommand)]
    Plugin(PluginCommand),
}

/// Commands that work on the database.
#[derive(Debug, Subcommand)]
pub enum DatabaseCommand {
    /// HTTP API, web UI and background workers in one process (the single-node default).
    Serve,
    /// HTTP API only (scale out: N stateless replicas).
    Api,
    /// Background workers only (escalation, notifications, handoffs).
    Worker,
    /// Apply pending migrations to the global schema and every tenant schema.
    Migrate,
    /// Tenant administration.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// API key administration.
    #[command(subcommand)]
    Apikey(ApikeyCommand),
    /// Create the development tenant `acme` with users and services, if missing (idempotent).
    Seed(SeedArgs),
    /// Drop and re-create the demo tenant `acme` with a full data set (destructive).
    SeedDemo(SeedArgs),
}

/// Plugin subcommands.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Replay a payload through a source plugin and print what ingest would store (or the plugin's error),
    /// or run a directory of test cases through it.
    Test {
        /// A plugin directory (plugin.toml + plugin.wasm) or a .wasm file (a plugin.toml beside it is used
        /// when present).
        plugin: std::path::PathBuf,
        /// The payload file, sent as the webhook body.
        #[arg(required_unless_present = "cases", conflicts_with = "cases")]
        payload: Option<std::path::PathBuf>,
        /// Run the test cases in this directory instead (one directory per case with request.json and
        /// expected.json, e.g. plugins/integrations/alertmanager/tests/cases; or a single case directory);
        /// prints one line per case and fails when any case fails.
        #[arg(long, value_name = "DIR")]
        cases: Option<std::path::PathBuf>,
    },
}

/// Tenant subcommands.
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant: its schema, migrations and registry row.
    Create {
        /// Slug: ^[a-z][a-z0-9_]{1,30}$ (also names the schema tenant_<slug>).
        slug: String,
        /// Display name (defaults to the slug).
        #[arg(long)]
        name: Option<String>,
    },
    /// List tenants.
    List,
}

/// API key subcommands.
#[derive(Debug, Subcommand)]
pub enum ApikeyCommand {
    /// Create an API key and print it (once).
    Create {
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
        /// admin, manager, engineer or readonly.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// A name to recognise the key by.
        #[arg(long, default_value = "cli")]
        name: String,
        /// Narrow the key (repeat or comma-separate): `read` (reads only), `ingest` (alert webhooks
        /// only), `agent` (alert webhooks with agent fixes). None: everything the role allows.
        #[arg(long = "scope", value_delimiter = ',', value_parser = parse_scope)]
        scopes: Vec<ApiKeyScope>,
    },
}

/// Options of the seed commands.
#[derive(Debug, clap::Args)]
pub struct SeedArgs {
    /// Password for the seeded admin (alice@acme.example); a random one is generated and printed when
    /// absent.
    #[arg(long, env = "NIGHTOWL_SEED_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
}

fn parse_scope(s: &str) -> Result<ApiKeyScope, String> {
    ApiKeyScope::parse(s.trim()).ok_or_else(|| format!("unknown scope {s:?}: read, ingest or agent"))
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("unknown role {s:?}"))
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config;
    telemetry::init(&config);
    let command = match cli.command {
        // Needs no database: the plugin and the normaliser are all that run.
        Command::Plugin(PluginCommand::Test {
            plugin,
            payload,
            cases,
        }) => {
            return match (payload, cases) {
                (_, Some(cases)) => crate::plugins::tester::run_cases_and_print(&plugin, &cases).await,
                (Some(payload), None) => crate::plugins::tester::run(&plugin, &payload).await,
                (None, None) => anyhow::bail!("give a payload file or --cases DIR"),
            };
        }
        Command::Database(command) => command,
    };
    let pool = db::connect(&config)
        .await
        .with_context(|| format!("connecting to PostgreSQL at {}", redact(&config.database_url)))?;
    match command {
        DatabaseCommand::Serve => serve(config, pool, true, true).await,
        DatabaseCommand::Api => serve(config, pool, true, false).await,
        DatabaseCommand::Worker => serve(config, pool, false, true).await,
        DatabaseCommand::Migrate => {
            let n = db::migrate::migrate_all(&pool, &config.database_url).await?;
            println!("migrated the global schema and {n} tenant schema(s)");
            let sealer = config.sealer()?;
            let resealed = crate::secrets::reseal_unbound(&pool, &sealer).await?;
            if resealed > 0 {
                println!("bound {resealed} stored secret(s) to their tenant and field");
            }
            Ok(())
        }
        DatabaseCommand::Tenant(TenantCommand::Create { slug, name }) => {
            db::migrate::migrate_global(&config.database_url).await?;
            let slug = Slug::parse(&slug)?;
            let name = name.unwrap_or_else(|| slug.to_string());
            let tenant = tenancy::create_tenant(&pool, &config.database_url, &slug, &name).await?;
            println!(
                "created tenant {} ({}) in schema {}",
                tenant.slug,
                tenant.id,
                tenant.slug.schema()
            );
            Ok(())
        }
        DatabaseCommand::Tenant(TenantCommand::List) => {
            for t in tenancy::list_tenants(&pool).await? {
                println!("{}\t{}\t{}", t.slug, t.id, t.name);
            }
            Ok(())
        }
        DatabaseCommand::Apikey(ApikeyCommand::Create {
            tenant,
            role,
            name,
            scopes,
        }) => {
            let tenant = tenancy::find_tenant(&pool, &tenant)
                .await?
                .with_context(|| format!("no tenant {tenant:?}"))?;
            let key = create_scoped_api_key(&pool, &tenant, role, &name, &scopes).await?;
            println!("{key}");
            eprintln!("store this key now: it is not shown again");
            Ok(())
        }
        DatabaseCommand::Seed(args) => {
            db::migrate::migrate_global(&config.database_url).await?;
            seed::seed(&pool, &config.database_url, args.admin_password.as_deref())
                .await?
                .print();
            Ok(())
        }
        DatabaseCommand::SeedDemo(args) => {
            db::migrate::migrate_global(&config.database_url).await?;
            seed::seed_demo(&pool, &config.database_url, args.admin_password.as_deref())
                .await?
                .print();
            Ok(())
        }
    }
}

/// Creates a key directly (CLI and seed); returns the raw key.
pub async fn create_api_key(
    pool: &PgPool,
    tenant: &tenancy::Tenant,
    role: Role,
    name: &str,
) -> anyhow::Result<String> {
    create_scoped_api_key(pool, tenant, role, name, &[]).await
}

/// Creates an API key narrowed to `scopes` (none: everything the role allows); returns the raw key.
pub async fn create_scoped_api_key(
    pool: &PgPool,
    tenant: &tenancy::Tenant,
    role: Role,
    name: &str,
    scopes: &[ApiKeyScope],
) -> anyhow::Result<String> {
    let generated = auth::api_key::generate();
    let mut conn = pool.acquire().await?;
    db::api_keys::create(
        &mut conn,
        db::api_keys::NewKey {
            tenant_id: tenant.id,
            name,
            key_hash: &generated.hash,
            prefix: &generated.prefix,
            role,
            scopes,
            expires_at: None,
            created_by: Some("cli"),
        },
    )
    .await?;
    Ok(generated.raw)
}

async fn serve(config: Config, pool: PgPool, http: bool, workers: bool) -> anyhow::Result<()> {
    let migrate = config.migrate_on_start;
    if migrate {
        let n = db::migrate::migrate_all(&pool, &config.database_url).await?;
        tracing::info!(tenants = n, "migrations applied");
    }
    if config.dev_mode {
        tracing::warn!("dev mode is on: X-NightOwl-Dev-* headers authenticate without credentials");
    }
    let listen = config.listen;
    let poll = config.plugin_poll_secs;
    let state = AppState::new(config, pool, Arc::new(SystemClock))?;
    // Secrets sealed before they were bound to their place are rewritten with the migrations (here
    // when this process migrates on start, else by `nightowl migrate`), in the background: one
    // transaction per tenant, which must not hold up serving on a server with many tenants.
    if migrate {
        let (pool, sealer) = (state.db.clone(), state.sealer.clone());
        tokio::spawn(async move {
            match crate::secrets::reseal_unbound(&pool, &sealer).await {
                Ok(0) => {}
                Ok(resealed) => tracing::info!(resealed, "stored secrets bound to their tenant and field"),
                Err(e) => tracing::error!(error = %format!("{e:#}"), "stored secrets could not be checked"),
            }
        });
    }
    let report = state.plugins.scan().await;
    tracing::info!(loaded = ?report.loaded, failed = report.failed.len(), "plugins scanned");
    let _watcher = (poll > 0).then(|| state.plugins.spawn_watcher(std::time::Duration::from_secs(poll)));
    let worker = workers.then(|| {
        let name = format!(
            "{}:{}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "nightowl".into()),
            std::process::id()
        );
        tracing::info!(%name, "escalation, delivery and handoff workers started");
        crate::worker::spawn(state.clone(), name)
    });
    if http {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("binding {listen}"))?;
        tracing::info!(%listen, "serving HTTP");
        let idle = std::time::Duration::from_secs(state.config.idle_timeout_secs);
        crate::http::serve::serve(listener, crate::app(state.clone()), idle, shutdown_signal()).await?;
    } else {
        shutdown_signal().await;
    }
    if let Some(worker) = worker {
        worker.shutdown().await;
    }
    // Requests have finished: write every queued audit entry before exiting.
    state.audit.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM (Kubernetes' stop signal).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}
