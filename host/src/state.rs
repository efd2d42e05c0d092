//! Everything a request handler or worker needs, built once at start-up and cheap to clone.

use std::sync::Arc;

use sqlx::PgPool;

use crate::audit::AuditLog;
use crate::auth::oidc::Oidc;
use crate::auth::oidc::login::OidcLogin;
use crate::auth::throttle::Logins;
use crate::cache::Redis;
use crate::channels::egress::{Egress, Grants};
use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::gate::TenantGate;
use crate::db::health::DbHealth;
use crate::metrics::Metrics;
use crate::plugins::runtime::CallSlots;
use crate::plugins::{Registry, Runtime};
use crate::secrets::Sealer;
use crate::worker::supervise::WorkerHealth;

/// Shared application state.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The pool. Handlers never take it directly: they get a tenant-scoped transaction
    /// (`http::extract::TenantTx`).
    pub db: PgPool,
    pub redis: Arc<Redis>,
    pub config: Arc<Config>,
    pub clock: SharedClock,
    pub metrics: Metrics,
    pub sealer: Sealer,
    /// Present when an OIDC issuer is configured.
    pub oidc: Option<Arc<Oidc>>,
    /// The browser sign-in through that issuer, when a client id is configured too.
    pub oidc_login: Option<Arc<OidcLogin>>,
    /// Loaded plugins (scanned once here; `serve` starts the watcher).
    pub plugins: Arc<Registry>,
    /// The audit log writer (flush it with `audit.shutdown()` before exiting).
    pub audit: Arc<AuditLog>,
    /// Bounded password hashing and failed sign-in limits.
    pub logins: Arc<Logins>,
    /// Whether this process's worker loops run (`/readyz`).
    pub workers: Arc<WorkerHealth>,
    /// Whether PostgreSQL answers, kept current by a watchdog (API requests get a fast 503 while it
    /// does not).
    pub db_health: Arc<DbHealth>,
    /// Each tenant's share of the pool for request transactions.
    pub tenant_gate: Arc<TenantGate>,
    /// Alert events for the browsers' event streams.
    pub live: Arc<crate::events::live::LiveEvents>,
}

impl AppState {
    /// Builds the state from configuration and an open pool.
    pub fn new(config: Config, db: PgPool, clock: SharedClock) -> anyhow::Result<AppState> {
        let sealer = config.sealer()?;
        // Bearer tokens only for an audience named on purpose (never the browser client's id by
        // default: its ID tokens are not API tokens).
        let oidc = match (&config.oidc_issuer, &config.oidc_audience) {
            (Some(issuer), Some(audience)) => Some(Arc::new(Oidc::new(
                issuer,
                audience,
                config.oidc_jwks_url.as_deref(),
            )?)),
            (Some(_), None) if config.oidc_client_id.is_none() => anyhow::bail!(
                "NIGHTOWL_OIDC_ISSUER needs NIGHTOWL_OIDC_AUDIENCE (Bearer tokens), \
                 NIGHTOWL_OIDC_CLIENT_ID (browser sign-in) or both"
            ),
            (None, Some(_)) => anyhow::bail!("NIGHTOWL_OIDC_AUDIENCE needs NIGHTOWL_OIDC_ISSUER"),
            _ => None,
        };
        let oidc_login = match (&config.oidc_issuer, &config.oidc_client_id) {
            (Some(issuer), Some(client_id)) => {
                // Sign-ins in progress live in Redis only; without it the sign-in could never finish.
                if config.redis_url.is_none() {
                    anyhow::bail!(
                        "the OIDC browser sign-in (NIGHTOWL_OIDC_CLIENT_ID) needs NIGHTOWL_REDIS_URL"
                    );
                }
                Some(Arc::new(OidcLogin::new(
                    issuer,
                    client_id,
                    config.oidc_client_secret()?.as_ref().map(|s| s.expose()),
                    &config.oidc_redirect_uri(),
                )?))
            }
            (None, Some(_)) => anyhow::bail!("NIGHTOWL_OIDC_CLIENT_ID needs NIGHTOWL_OIDC_ISSUER"),
            _ => None,
        };
        let metrics = Metrics::new();
        let cache_dir = config.plugin_cache_dir.clone().unwrap_or_else(|| {
            let uid = rustix::process::geteuid().as_raw();
            std::env::temp_dir().join(format!("nightowl-wasm-cache-{uid}"))
        });
        let runtime = Arc::new(Runtime::new(
            Some(&cache_dir),
            metrics.registry(),
            match config.plugin_concurrency {
                Some(n) => CallSlots::new(n, config.plugin_queue),
                None => CallSlots::per_core(config.plugin_queue),
            },
            clock.clone(),
        )?);
        let grants = Grants::parse(&config.plugin_grants)
            .map_err(|e| anyhow::anyhow!("NIGHTOWL_PLUGIN_GRANTS: {e}"))?;
        let extra_ca = match &config.plugin_http_ca_file {
            Some(path) => Some(
                std::fs::read(path)
                    .map_err(|e| anyhow::anyhow!("NIGHTOWL_PLUGIN_HTTP_CA_FILE {}: {e}", path.display()))?,
            ),
            None => None,
        };
        let egress = Egress::new(grants, config.plugin_http_allow_loopback, extra_ca.as_deref())?;
        let plugins = Arc::new(Registry::new(runtime, egress, Some(config.plugin_dir.clone())));
        let audit = Arc::new(AuditLog::start(db.clone(), metrics.registry())?);
        let logins = Arc::new(Logins::new(
            config.login_failures_per_account,
            config.login_failures_per_address,
        ));
        Ok(AppState {
            audit,
            logins,
            workers: Arc::new(WorkerHealth::default()),
            live: Arc::default(),
            db_health: Arc::new(DbHealth::watch(&config.database_url)),
            tenant_gate: Arc::new(TenantGate::new(
                config.database_max_connections,
                config.tenant_pool_share_percent,
            )),
            db,
            redis: Arc::new(Redis::new(config.redis_url.as_deref())?),
            config: Arc::new(config),
            clock,
            metrics,
            sealer,
            oidc,
            oidc_login,
            plugins,
        })
    }
}
