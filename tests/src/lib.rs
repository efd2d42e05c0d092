//! Test harness: a real NightOwl router on a loopback port, real PostgreSQL (one database, a fresh
//! tenant per test) and helpers to make API keys and requests.
//!
//! Database: `NIGHTOWL_TEST_DATABASE_URL` (default `postgres://nightowl:nightowl@127.0.0.1:5432/nightowl_test`),
//! created on first use.

pub mod jwks;

use std::sync::Arc;

use chrono::Utc;
use nightowl::clock::ManualClock;
use nightowl::config::Config;
use nightowl::state::AppState;
use nightowl::tenancy::{self, Slug, Tenant};
use nightowl_api::Role;
use rand::Rng;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::Value;
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::OnceCell;

/// A fixed test key for secret sealing (32 bytes, base64).
pub const TEST_SECRET_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// URL of the test database.
pub fn database_url() -> String {
    std::env::var("NIGHTOWL_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://nightowl:nightowl@127.0.0.1:5432/nightowl_test".to_owned())
}

/// Creates the test database if missing and applies global migrations, once per test process.
pub async fn prepare_database() {
    static READY: OnceCell<()> = OnceCell::const_new();
    READY
        .get_or_init(|| async {
            let url = database_url();
            let (server, name) = url.rsplit_once('/').expect("database URL ends in /<name>");
            let mut admin = PgConnection::connect(&format!("{server}/postgres"))
                .await
                .unwrap_or_else(|e| {
                    panic!("PostgreSQL must run at {server} (bash scripts/services.sh): {e}")
                });
            let exists: bool =
                sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
                    .bind(name)
                    .fetch_one(&mut admin)
                    .await
                    .unwrap();
            if !exists {
                // Parallel test processes may race to create it; losing the race is fine.
                let _ = sqlx::query(&format!("create database {name}"))
                    .execute(&mut admin)
                    .await;
            }
            nightowl::db::migrate::migrate_global(&url)
                .await
                .expect("global migrations");
        })
        .await;
}

/// A random tenant slug that no other test uses.
pub fn random_slug() -> Slug {
    let suffix: String = rand::thread_rng()
        .sample_iter(rand::distributions::Alphanumeric)
        .filter(|c| c.is_ascii_alphanumeric())
        .take(12)
        .map(|c| (c as char).to_ascii_lowercase())
        .collect();
    Slug::parse(&format!("t_{suffix}")).unwrap()
}

/// A running router plus what tests need to poke at it.
pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub clock: ManualClock,
    pub http: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestApp {
    /// Starts the app with default test configuration.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(|_| {}).await
    }

    /// Starts the app after `configure` adjusted the configuration.
    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> TestApp {
        TestApp::spawn_with_pool(5, configure).await
    }

    /// Starts the app with a pool of `max_connections`.
    pub async fn spawn_with_pool(max_connections: u32, configure: impl FnOnce(&mut Config)) -> TestApp {
        TestApp::start(max_connections, &[], configure).await
    }

    /// Starts the app with these plugins (ids from `plugins/dist` or `plugins/dist-test`) installed.
    pub async fn spawn_with_plugins(plugins: &[&str], configure: impl FnOnce(&mut Config)) -> TestApp {
        TestApp::start(10, plugins, configure).await
    }

    /// Starts the app with a pool of `max_connections` and these plugins installed.
    pub async fn spawn_custom(
        max_connections: u32,
        plugins: &[&str],
        configure: impl FnOnce(&mut Config),
    ) -> TestApp {
        TestApp::start(max_connections, plugins, configure).await
    }

    async fn start(max_connections: u32, plugins: &[&str], configure: impl FnOnce(&mut Config)) -> TestApp {
        // `NIGHTOWL_TEST_LOG=nightowl=debug` shows the server's log with each test's output.
        if let Ok(filter) = std::env::var("NIGHTOWL_TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .try_init();
        }
        prepare_database().await;
        let mut config = Config::for_database(&database_url());
        config.plugin_dir = plugin_dir(plugins);
        config.secret_key = Some(TEST_SECRET_KEY.into());
        config.dev_mode = false;
        config.redis_url = None;
        config.oidc_issuer = None;
        config.oidc_audience = None;
        config.database_max_connections = max_connections;
        configure(&mut config);
        // The pool the binary opens (its acquire timeout included).
        let pool = nightowl::db::connect(&config).await.expect("test pool");
        let clock = ManualClock::new(Utc::now());
        let state = AppState::new(config, pool, Arc::new(clock.clone())).expect("app state");
        let report = state.plugins.scan().await;
        assert_eq!(
            report.loaded.len() + report.failed.len(),
            plugins.len(),
            "{report:?}"
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = nightowl::app(state.clone());
        // The server the binary runs, with its connection timeouts.
        let idle = std::time::Duration::from_secs(state.config.idle_timeout_secs);
        let server = tokio::spawn(async move {
            nightowl::http::serve::serve(listener, app, idle, std::future::pending())
                .await
                .unwrap();
        });
        TestApp {
            base,
            state,
            clock,
            http: reqwest::Client::new(),
            server,
        }
    }

    /// The pool (for assertions on stored rows).
    pub fn db(&self) -> &PgPool {
        &self.state.db
    }

    /// Provisions a fresh tenant with an admin API key.
    pub async fn tenant(&self) -> TestTenant {
        let slug = random_slug();
        let tenant = tenancy::create_tenant(self.db(), &database_url(), &slug, "Test tenant")
            .await
            .unwrap();
        let admin_key = nightowl::cli::create_api_key(self.db(), &tenant, Role::Admin, "test-admin")
            .await
            .unwrap();
        TestTenant { tenant, admin_key }
    }

    /// A key of `role` for `tenant`.
    pub async fn key(&self, tenant: &TestTenant, role: Role) -> String {
        nightowl::cli::create_api_key(self.db(), &tenant.tenant, role, &format!("test-{role}"))
            .await
            .unwrap()
    }

    /// The Prometheus exposition.
    pub async fn metrics(&self) -> String {
        self.request(Method::GET, "/metrics")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// A request to `path` with no credentials.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base))
    }

    /// A request authenticated with `key`.
    pub fn as_key(&self, key: &str, method: Method, path: &str) -> RequestBuilder {
        self.request(method, path).header("x-api-key", key)
    }
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts a private `redis-server` on `port` (tests stop it to see NightOwl degrade).
pub fn start_redis(port: u16) -> std::process::Child {
    std::process::Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server must be installed (bash scripts/services.sh)")
}

/// The workspace root.
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// A fresh plugin directory holding copies of the named built plugins.
pub fn plugin_dir(plugins: &[&str]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("nightowl-test-plugins-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    for id in plugins {
        install_plugin(&dir, id);
    }
    dir
}

/// Copies the built plugin `id` into `dir/<id>`.
pub fn install_plugin(dir: &std::path::Path, id: &str) {
    let root = workspace_root().join("plugins");
    let source = [root.join("dist").join(id), root.join("dist-test").join(id)]
        .into_iter()
        .find(|p| p.join("plugin.wasm").exists())
        .unwrap_or_else(|| panic!("plugin {id} is not built: run `bash scripts/build-plugins.sh` first"));
    let target = dir.join(id);
    std::fs::create_dir_all(&target).unwrap();
    for file in ["plugin.toml", "plugin.wasm"] {
        std::fs::copy(source.join(file), target.join(file)).unwrap();
    }
}

/// A tenant made for one test.
pub struct TestTenant {
    pub tenant: Tenant,
    pub admin_key: String,
}

/// A schema of its own (`upgrade_<random>`) on a dedicated connection whose search path is that
/// schema, for tests of a tenant migration on existing data; drop it with [`UpgradeSchema::drop`].
pub struct UpgradeSchema {
    pub conn: PgConnection,
    pub name: String,
}

impl UpgradeSchema {
    /// A fresh schema with no migration applied.
    pub async fn new() -> UpgradeSchema {
        use sqlx::Executor;
        prepare_database().await;
        let name = format!("upgrade_{}", random_slug().as_str());
        let mut conn = PgConnection::connect(&database_url()).await.unwrap();
        conn.execute(format!("create schema {name}; set search_path to {name}").as_str())
            .await
            .unwrap();
        UpgradeSchema { conn, name }
    }

    /// Applies the tenant migrations whose version `which` picks, in order.
    pub async fn migrate(&mut self, which: impl Fn(i64) -> bool) {
        use sqlx::Executor;
        for m in nightowl::db::migrate::tenant_migrations()
            .iter()
            .filter(|m| which(m.version))
        {
            self.conn.execute(sqlx::raw_sql(&m.sql)).await.unwrap();
        }
    }

    /// Drops the schema.
    pub async fn drop(mut self) {
        use sqlx::Executor;
        self.conn
            .execute(format!("drop schema {} cascade", self.name).as_str())
            .await
            .unwrap();
    }
}

/// What [`checkout_on_call`] made.
pub struct OnCallSetup {
    pub policy: String,
    pub roster: String,
}

/// The tenant's on-call set-up most escalation tests use: a policy with `tiers` repeated `repeat`
/// times, a daily roster "Checkout" in `timezone` (handoff 09:00, from 1 June 2026) on that policy
/// with `members` in order and `lead` as team lead, and a service `checkout` routed to it.
pub async fn checkout_on_call(
    app: &TestApp,
    t: &TestTenant,
    tiers: Value,
    repeat: i32,
    timezone: &str,
    members: &[&str],
    lead: &str,
) -> OnCallSetup {
    let post = |path: &str, body: Value| {
        let req = app.as_key(&t.admin_key, Method::POST, path).json(&body);
        async move {
            let (status, v) = send(req).await;
            assert!(status.is_success(), "{status} {v}");
            v["id"].as_str().unwrap_or_default().to_owned()
        }
    };
    let policy = post(
        "/api/v1/escalation-policies",
        serde_json::json!({"name": "Checkout on-call", "tiers": tiers, "repeat_count": repeat}),
    )
    .await;
    let roster = post(
        "/api/v1/rosters",
        serde_json::json!({"name": "Checkout", "timezone": timezone, "rotation_type": "daily", "handoff_time": "09:00",
               "start_date": "2026-06-01", "escalation_policy_id": policy, "team_lead_id": lead}),
    )
    .await;
    let (status, v) = send(
        app.as_key(
            &t.admin_key,
            Method::PUT,
            &format!("/api/v1/rosters/{roster}/members"),
        )
        .json(&serde_json::json!({ "user_ids": members })),
    )
    .await;
    assert!(status.is_success(), "{status} {v}");
    post(
        "/api/v1/services",
        serde_json::json!({"name": "checkout", "roster_id": roster}),
    )
    .await;
    OnCallSetup { policy, roster }
}

/// Polls `probe` every 20 ms until it holds; panics naming `what` after 15 s.
pub async fn until<F, Fut>(what: &str, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..750 {
        if probe().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Sends and returns status and JSON body (`Value::Null` for an empty body, and for an event stream,
/// whose body never ends: its status and headers are the answer).
pub async fn send(req: RequestBuilder) -> (StatusCode, Value) {
    let response = req.send().await.expect("request sent");
    let status = response.status();
    let streams = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if streams {
        return (status, Value::Null);
    }
    let bytes = response.bytes().await.expect("body read");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("{status}: body is not JSON: {}", String::from_utf8_lossy(&bytes)))
    };
    (status, body)
}

/// Asserts the error shape and returns the code.
pub fn error_code(body: &Value) -> &str {
    assert!(body["message"].is_string(), "error body without message: {body}");
    body["code"]
        .as_str()
        .unwrap_or_else(|| panic!("error body without code: {body}"))
}

/// A tenant route as the tests walk it: method, route template and least role, from the route
/// declarations (`nightowl::http::route_table`), so a new route is in every walk without an edit here.
pub struct TenantRoute {
    /// HTTP method, e.g. `POST`.
    pub method: Method,
    /// Route template, e.g. `/api/v1/users/{id}`.
    pub path: String,
    /// The least role that may call it.
    pub min_role: Role,
    /// Whether successful calls are audited.
    pub audited: bool,
}

/// Every route that a tenant principal calls (all but the public ones and signed callbacks).
pub fn tenant_routes() -> Vec<TenantRoute> {
    nightowl::http::route_table()
        .into_iter()
        .filter_map(|r| {
            Some(TenantRoute {
                method: Method::from_bytes(r.method.as_str().as_bytes()).expect("method"),
                min_role: r.min_role()?,
                audited: r.is_audited(),
                path: r.path,
            })
        })
        .collect()
}
