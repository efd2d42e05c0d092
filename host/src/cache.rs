//! The optional Redis link. NightOwl must keep working while Redis is absent or down, so the
//! connection is made lazily and every use has a short timeout.

use std::time::Duration;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use nightowl_api::admin::DependencyStatus;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::tenancy::Slug;

const OP_TIMEOUT: Duration = Duration::from_millis(500);
/// After a failure the hot path leaves Redis alone this long, so an outage costs one timeout, not one
/// per alert.
const BACKOFF: Duration = Duration::from_secs(5);
/// How long a fingerprint → alert id entry lives.
const FINGERPRINT_TTL_SECS: u64 = 300;

/// Redis is not configured, or did not answer in time.
#[derive(Debug, thiserror::Error)]
#[error("redis is not configured or unreachable")]
pub struct Unreachable;

/// Handle to Redis, or to nothing when no URL is configured.
pub struct Redis {
    client: Option<redis::Client>,
    conn: Mutex<Option<ConnectionManager>>,
    down_until: std::sync::Mutex<Option<Instant>>,
    /// Set while a connect attempt holds `conn`.
    connecting: AtomicBool,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("configured", &self.client.is_some())
            .finish()
    }
}

impl Redis {
    /// Parses the URL; does not connect (Redis may come up later).
    pub fn new(url: Option<&str>) -> anyhow::Result<Redis> {
        let client = url.map(redis::Client::open).transpose()?;
        Ok(Redis {
            client,
            conn: Mutex::new(None),
            down_until: std::sync::Mutex::new(None),
            connecting: AtomicBool::new(false),
        })
    }

    /// A connection, created on first use; `None` when Redis is disabled or unreachable.
    pub async fn connection(&self) -> Option<ConnectionManager> {
        let client = self.client.as_ref()?;
        let mut slot = self.conn.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Some(conn.clone());
        }
        self.connecting.store(true, Ordering::Release);
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(OP_TIMEOUT)
            .set_response_timeout(OP_TIMEOUT)
            .set_number_of_retries(1);
        let attempt = tokio::time::timeout(
            OP_TIMEOUT * 2,
            ConnectionManager::new_with_config(client.clone(), config),
        )
        .await;
        self.connecting.store(false, Ordering::Release);
        match attempt {
            Ok(Ok(conn)) => {
                *slot = Some(conn.clone());
                Some(conn)
            }
            Ok(Err(err)) => {
                tracing::debug!(error = %err, "redis unreachable");
                None
            }
            Err(_) => None,
        }
    }

    /// Pings Redis with a short timeout.
    pub async fn health(&self) -> DependencyStatus {
        if self.client.is_none() {
            return DependencyStatus::Disabled;
        }
        let Some(mut conn) = self.connection().await else {
            return DependencyStatus::Down;
        };
        let ping = redis::cmd("PING");
        match tokio::time::timeout(OP_TIMEOUT, ping.query_async::<String>(&mut conn)).await {
            Ok(Ok(_)) => DependencyStatus::Ok,
            _ => {
                self.mark_down().await;
                DependencyStatus::Down
            }
        }
    }

    /// Starts over with a fresh connection later rather than trusting the manager's own reconnect
    /// schedule, so recovery shows as soon as Redis is back; meanwhile the hot path skips Redis.
    async fn mark_down(&self) {
        *self.conn.lock().await = None;
        *self.down_until.lock().expect("redis backoff lock") = Some(Instant::now() + BACKOFF);
    }

    /// A connection for the hot path: none while backing off after a failure.
    async fn hot_connection(&self) -> Option<ConnectionManager> {
        if self
            .down_until
            .lock()
            .expect("redis backoff lock")
            .is_some_and(|until| Instant::now() < until)
        {
            return None;
        }
        // Someone (readiness, another request) is connecting right now: take the database path instead
        // of queueing behind a connect that may time out.
        if self.connecting.load(Ordering::Acquire) {
            return None;
        }
        let conn = self.connection().await;
        if conn.is_none() && self.client.is_some() {
            self.mark_down().await;
        }
        conn
    }

    /// Keeps a sign-in in progress (`auth::oidc::login`) under its `state` for `ttl`. Unlike the
    /// dedup cache there is no PostgreSQL fallback: without Redis the browser sign-in is unavailable.
    pub async fn put_pending_login(
        &self,
        state: &str,
        record: &str,
        ttl: Duration,
    ) -> Result<(), Unreachable> {
        let mut conn = self.connection().await.ok_or(Unreachable)?;
        let set = conn.set_ex::<_, _, ()>(Self::pending_login_key(state), record, ttl.as_secs());
        match tokio::time::timeout(OP_TIMEOUT, set).await {
            Ok(Ok(())) => Ok(()),
            _ => {
                self.mark_down().await;
                Err(Unreachable)
            }
        }
    }

    /// Takes the sign-in in progress under `state`: read and deleted in one step (GETDEL), so a
    /// callback completes it at most once, even when replayed concurrently.
    pub async fn take_pending_login(&self, state: &str) -> Result<Option<String>, Unreachable> {
        let mut conn = self.connection().await.ok_or(Unreachable)?;
        let take = conn.get_del::<_, Option<String>>(Self::pending_login_key(state));
        match tokio::time::timeout(OP_TIMEOUT, take).await {
            Ok(Ok(record)) => Ok(record),
            _ => {
                self.mark_down().await;
                Err(Unreachable)
            }
        }
    }

    fn pending_login_key(state: &str) -> String {
        format!("nightowl:oidc-login:{state}")
    }

    fn fingerprint_key(tenant: &Slug, fingerprint: &str) -> String {
        format!("nightowl:{tenant}:fp:{fingerprint}")
    }

    /// The open alert cached for a fingerprint (fast path of dedup; the database stays authoritative).
    pub async fn open_alert(&self, tenant: &Slug, fingerprint: &str) -> Option<Uuid> {
        let mut conn = self.hot_connection().await?;
        let key = Self::fingerprint_key(tenant, fingerprint);
        match tokio::time::timeout(OP_TIMEOUT, conn.get::<_, Option<String>>(key)).await {
            Ok(Ok(value)) => value.and_then(|v| v.parse().ok()),
            _ => {
                self.mark_down().await;
                None
            }
        }
    }

    /// Caches fingerprint → open alert id.
    pub async fn remember_open_alert(&self, tenant: &Slug, fingerprint: &str, id: Uuid) {
        let Some(mut conn) = self.hot_connection().await else {
            return;
        };
        let key = Self::fingerprint_key(tenant, fingerprint);
        let set = conn.set_ex::<_, _, ()>(key, id.to_string(), FINGERPRINT_TTL_SECS);
        if !matches!(tokio::time::timeout(OP_TIMEOUT, set).await, Ok(Ok(()))) {
            self.mark_down().await;
        }
    }

    /// Drops the cached entry when the alert closes.
    pub async fn forget_open_alert(&self, tenant: &Slug, fingerprint: &str) {
        let Some(mut conn) = self.hot_connection().await else {
            return;
        };
        let key = Self::fingerprint_key(tenant, fingerprint);
        if !matches!(
            tokio::time::timeout(OP_TIMEOUT, conn.del::<_, ()>(key)).await,
            Ok(Ok(()))
        ) {
            self.mark_down().await;
        }
    }
}
