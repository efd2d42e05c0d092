//! Runtime configuration: one struct, every field settable by flag or `NIGHTOWL_*` variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use nightowl_api::Role;

/// Settings shared by every subcommand. `.env.example` documents the same variables.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// PostgreSQL connection URL (the source of truth).
    #[arg(
        long,
        global = true,
        env = "NIGHTOWL_DATABASE_URL",
        default_value = "postgres://nightowl:nightowl@127.0.0.1:5432/nightowl"
    )]
    pub database_url: String,

    /// Maximum PostgreSQL connections this process opens.
    #[arg(
        long,
        global = true,
        env = "NIGHTOWL_DATABASE_MAX_CONNECTIONS",
        default_value_t = 20
    )]
    pub database_max_connections: u32,

    /// Share of the pool one tenant's requests may hold at once, in percent (at least one
    /// connection): a tenant flooding the API cannot take the connections the others need.
    #[arg(
        long,
        global = true,
        env = "NIGHTOWL_TENANT_POOL_SHARE_PERCENT",
        default_value_t = 50
    )]
    pub tenant_pool_share_percent: u32,

    /// Redis URL for the dedup cache and cross-replica events. Optional: without it (or while it is down)
    /// NightOwl works from PostgreSQL alone and /readyz reports "degraded".
    #[arg(long, global = true, env = "NIGHTOWL_REDIS_URL")]
    pub redis_url: Option<String>,

    /// The externally visible base URL of NightOwl (links in notifications point here).
    #[arg(
        long,
        global = true,
        env = "NIGHTOWL_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub public_url: String,

    /// Address the HTTP server listens on.
    #[arg(
        long,
        global = true,
        env = "NIGHTOWL_LISTEN",
        default_value = "127.0.0.1:8080"
    )]
    pub listen: SocketAddr,

    /// Maximum request body size in bytes.
    #[arg(long, global = true, env = "NIGHTOWL_BODY_LIMIT_BYTES", default_value_t = 1024 * 1024)]
    pub body_limit_bytes: usize,

    /// Most alerts one webhook delivery may carry; a larger one is refused whole (413, the limit in
    /// the error) before anything is written. Alertmanager's `max_alerts` on the receiver keeps
    /// groups under it.
    #[arg(
        long,
        global = true,
        env = "NIGHTOWL_MAX_ALERTS_PER_DELIVERY",
        default_value_t = 1000
    )]
    pub max_alerts_per_delivery: usize,

    /// Seconds before a request is answered with 408.
    #[arg(
        long,
        global = true,
        env = "NIGHTOWL_REQUEST_TIMEOUT_SECS",
        default_value_t = 30
    )]
    pub request_timeout_secs: u64,

    /// Seconds a connection may go without sending a complete request header: a new connection that
    /// sends nothing, a keep-alive connection left idle, or headers trickled a byte at a time are
    /// closed after it.
    #[arg(long, global = true, env = "NIGHTOWL_IDLE_TIMEOUT_SECS", default_value_t = 30)]
    pub idle_timeout_secs: u64,

    /// Proxies whose `X-Forwarded-For` names the client (comma separated addresses or networks, e.g.
    /// `10.0.0.0/8`). From any other peer the header is ignored. Empty: the peer is the client.
    #[arg(long, global = true, env = "NIGHTOWL_TRUSTED_PROXIES", value_delimiter = ',',
          value_parser = crate::http::client::parse_proxy)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Failed sign-ins allowed per tenant and e-mail in 15 minutes; then that account's sign-in is
    /// refused (429) until the 15 minutes are over.
    #[arg(
        long,
        global = true,
        env = "NIGHTOWL_LOGIN_FAILURES_PER_ACCOUNT",
        default_value_t = 5
    )]
    pub login_failures_per_account: u32,

    /// Failed sign-ins allowed per client address in 15 minutes, over all accounts.
    #[arg(
        long,
        global = true,
        env = "NIGHTOWL_LOGIN_FAILURES_PER_ADDRESS",
        default_value_t = 30
    )]
    pub login_failures_per_address: u32,

    /// Origins allowed to call the API from a browser (comma separated). Empty: same origin only.
    #[arg(long, global = true, env = "NIGHTOWL_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// OIDC issuer URL. When set, `Authorization: Bearer <JWT>` is accepted; with a client id, the
    /// browser sign-in through the issuer too.
    #[arg(long, global = true, env = "NIGHTOWL_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,

    /// Audience (`aud`) Bearer tokens must carry; with the issuer it enables Bearer tokens. It has no
    /// default: the client id would let the ID tokens the issuer hands out for the browser sign-in
    /// pass as API tokens, so an API audience is always named on purpose.
    #[arg(long, global = true, env = "NIGHTOWL_OIDC_AUDIENCE")]
    pub oidc_audience: Option<String>,

    /// Client id NightOwl is registered under at the issuer. With an issuer it enables the browser
    /// sign-in (authorization code flow with PKCE; redirect URI `<public URL>/auth/oidc/callback`),
    /// which needs Redis.
    #[arg(long, global = true, env = "NIGHTOWL_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,

    /// Client secret for the issuer's token endpoint (HTTP basic). Unset or empty: a public client
    /// (PKCE only).
    #[arg(
        long,
        global = true,
        env = "NIGHTOWL_OIDC_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub oidc_client_secret: Option<Secret>,

    /// File holding the client secret (trailing newline ignored), for secrets mounted as files.
    #[arg(long, global = true, env = "NIGHTOWL_OIDC_CLIENT_SECRET_FILE")]
    pub oidc_client_secret_file: Option<PathBuf>,

    /// JWKS URL; defaults to the `jwks_uri` of the issuer's discovery document.
    #[arg(long, global = true, env = "NIGHTOWL_OIDC_JWKS_URL")]
    pub oidc_jwks_url: Option<String>,

    /// Claim holding the tenant slug.
    #[arg(
        long,
        global = true,
        env = "NIGHTOWL_OIDC_TENANT_CLAIM",
        default_value = "nightowl_tenant"
    )]
    pub oidc_tenant_claim: String,

    /// Claim holding the NightOwl role; when present it sets the user's role at every sign-in.
    #[arg(
        long,
        global = true,
        env = "NIGHTOWL_OIDC_ROLE_CLAIM",
        default_value = "nightowl_role"
    )]
    pub oidc_role_claim: String,

    /// Role given to a user created at first OIDC sign-in when the token names none.
    #[arg(long, global = true, env = "NIGHTOWL_OIDC_DEFAULT_ROLE", default_value = "readonly", value_parser = parse_role)]
    pub oidc_default_role: Role,

    /// Development mode: accepts `X-NightOwl-Dev-Tenant` / `X-NightOwl-Dev-Role` headers without
    /// credentials. Never enable in production.
    #[arg(long, global = true, env = "NIGHTOWL_DEV_MODE", default_value_t = false)]
    pub dev_mode: bool,

    /// Key for encrypting secret configuration at rest: 32 bytes, base64 encoded
    /// (`openssl rand -base64 32`).
    #[arg(long, global = true, env = "NIGHTOWL_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<Secret>,

    /// File holding the secret key (alternative to NIGHTOWL_SECRET_KEY, e.g. a mounted Kubernetes secret).
    #[arg(long, global = true, env = "NIGHTOWL_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,

    /// Mark the session cookie `Secure` (set when serving over HTTPS).
    #[arg(long, global = true, env = "NIGHTOWL_SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,

    /// Hours a local-login session lasts.
    #[arg(long, global = true, env = "NIGHTOWL_SESSION_TTL_HOURS", default_value_t = 12)]
    pub session_ttl_hours: i64,

    /// Apply pending migrations (global and every tenant) when `serve`/`api`/`worker` start.
    #[arg(long, global = true, env = "NIGHTOWL_MIGRATE_ON_START", default_value_t = true, action = clap::ArgAction::Set)]
    pub migrate_on_start: bool,

    /// Directory of plugins: `<id>/plugin.toml` + `<id>/plugin.wasm` (`make plugins` fills `plugins/dist`).
    #[arg(
        long,
        global = true,
        env = "NIGHTOWL_PLUGIN_DIR",
        default_value = "plugins/dist"
    )]
    pub plugin_dir: PathBuf,

    /// Source-plugin calls (webhook parsing) that may wait for a free core at once; one more is
    /// refused with 503 and `Retry-After` rather than queued. One call per core runs at a time.
    #[arg(long, global = true, env = "NIGHTOWL_PLUGIN_QUEUE", default_value_t = 1024)]
    pub plugin_queue: usize,

    /// Plugin calls that run at once; default: one per core.
    #[arg(long, global = true, env = "NIGHTOWL_PLUGIN_CONCURRENCY")]
    pub plugin_concurrency: Option<usize>,

    /// Where compiled plugin code is cached (written and read only by NightOwl).
    #[arg(long, global = true, env = "NIGHTOWL_PLUGIN_CACHE_DIR")]
    pub plugin_cache_dir: Option<PathBuf>,

    /// Seconds between scans of the plugin directory for new, changed or removed plugins (0: only at
    /// start-up and on `POST /api/v1/admin/plugins/reload`).
    #[arg(long, global = true, env = "NIGHTOWL_PLUGIN_POLL_SECS", default_value_t = 2)]
    pub plugin_poll_secs: u64,

    /// The operator's grant of outbound hosts to channel plugins, narrowing what each manifest's
    /// `[http] allowed_hosts` asks for: `id=host,*.domain;id2=host`. A plugin without an entry gets
    /// its manifest's hosts; `id=` takes all network access from that plugin; `*=` gives every
    /// plugin without its own entry none (grant each explicitly).
    #[arg(long, global = true, env = "NIGHTOWL_PLUGIN_GRANTS", default_value = "")]
    pub plugin_grants: String,

    /// Lets channel plugins reach loopback addresses (127.0.0.0/8, ::1). Off: a plugin's requests
    /// to private, link-local and loopback addresses are refused after DNS resolution. For tests
    /// against local fakes only.
    #[arg(
        long,
        global = true,
        env = "NIGHTOWL_PLUGIN_HTTP_ALLOW_LOOPBACK",
        default_value_t = false
    )]
    pub plugin_http_allow_loopback: bool,

    /// PEM file of extra certificate authorities channel plugins' HTTPS requests trust, beside the
    /// public roots (a corporate proxy's CA, or a test CA).
    #[arg(long, global = true, env = "NIGHTOWL_PLUGIN_HTTP_CA_FILE")]
    pub plugin_http_ca_file: Option<PathBuf>,

    /// Serve the web UI from this directory (a `scripts/build-ui.sh` output) instead of the bundle
    /// built into the binary (release builds embed `ui/dist`; debug builds read it from the source
    /// tree).
    #[arg(long, global = true, env = "NIGHTOWL_UI_DIR")]
    pub ui_dir: Option<PathBuf>,

    /// Notifications one worker hands to channels at the same time, so a slow channel (a phone call
    /// waiting on its provider) does not hold up the others.
    #[arg(long, global = true, env = "NIGHTOWL_DELIVERY_CONCURRENCY", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..=256))]
    pub delivery_concurrency: u32,

    /// Log output format.
    #[arg(long, global = true, env = "NIGHTOWL_LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,

    /// Log filter in `tracing` syntax, e.g. `info,nightowl=debug`.
    #[arg(long, global = true, env = "NIGHTOWL_LOG", default_value = "info")]
    pub log: String,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line (for log shippers).
    Json,
    /// Human-readable lines (for a terminal).
    Pretty,
}

/// A setting that must not show in logs: `{:?}` prints `[redacted]`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// The value itself, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret(value.to_owned())
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Secret, Self::Err> {
        Ok(Secret::from(s))
    }
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("unknown role {s:?}: admin, manager, engineer or readonly"))
}

impl Config {
    /// The sealer for stored secrets, from `NIGHTOWL_SECRET_KEY` or the file `NIGHTOWL_SECRET_KEY_FILE`.
    pub fn sealer(&self) -> anyhow::Result<crate::secrets::Sealer> {
        use anyhow::Context as _;
        let key = match (&self.secret_key, &self.secret_key_file) {
            (Some(key), _) => Some(key.expose().to_owned()),
            (None, Some(path)) => Some(
                std::fs::read_to_string(path)
                    .with_context(|| format!("reading secret key file {}", path.display()))?,
            ),
            (None, None) => None,
        };
        Ok(crate::secrets::Sealer::from_base64(key.as_deref())?)
    }

    /// The OIDC client secret, from `NIGHTOWL_OIDC_CLIENT_SECRET` or the file
    /// `NIGHTOWL_OIDC_CLIENT_SECRET_FILE`; an empty value means none (a public client).
    pub fn oidc_client_secret(&self) -> anyhow::Result<Option<Secret>> {
        use anyhow::Context as _;
        let secret = match (&self.oidc_client_secret, &self.oidc_client_secret_file) {
            (Some(secret), _) => secret.expose().to_owned(),
            (None, Some(path)) => std::fs::read_to_string(path)
                .with_context(|| format!("reading OIDC client secret file {}", path.display()))?
                .trim_end_matches(['\r', '\n'])
                .to_owned(),
            (None, None) => String::new(),
        };
        Ok((!secret.is_empty()).then(|| Secret::from(secret.as_str())))
    }

    /// Where the issuer sends the browser back after an OIDC sign-in.
    pub fn oidc_redirect_uri(&self) -> String {
        format!("{}/auth/oidc/callback", self.public_url.trim_end_matches('/'))
    }

    /// A configuration with every default, pointing at `database_url`; for tests and tools.
    pub fn for_database(database_url: &str) -> Config {
        use clap::Parser;
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            config: Config,
        }
        let mut config = Only::parse_from(["nightowl"]).config;
        config.database_url = database_url.to_owned();
        config
    }
}
