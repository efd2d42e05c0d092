//! Knowing that PostgreSQL is down without making every request find out for itself.
//!
//! When PostgreSQL stops, a request that needs a connection waits in the pool for the whole acquire
//! timeout (5 s) while the pool retries to connect, then fails. A watchdog instead keeps one
//! connection of its own and runs `select 1` on it every [`INTERVAL`]; when that fails (or does not
//! answer within [`PROBE_TIMEOUT`], twice in a row) the database is marked down. Then
//! `http::refuse_while_database_down` answers new API requests 503 with `Retry-After` at once, and
//! requests already waiting for a connection (to authenticate, or for their transaction) give up
//! with the same answer ([`DbHealth::or_down`]). A request past that point runs to its end: cutting
//! off a handler that may have committed would make its client retry a change that happened. The
//! watchdog reconnects every interval and marks the
//! database up again on its first good answer: no restart needed.
//!
//! A slow database is not a down one: a single slow probe changes nothing, and the pool keeps
//! serving whatever it can.

use std::sync::Arc;
use std::time::Duration;

use sqlx::{Connection, PgConnection};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Time between probes.
pub const INTERVAL: Duration = Duration::from_millis(250);
/// How long one probe (or a reconnect) may take.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// Seconds a client is asked to wait while the database is down.
pub const RETRY_AFTER_SECS: u64 = 5;

/// Whether PostgreSQL answers, kept current by a watchdog task.
#[derive(Debug)]
pub struct DbHealth {
    down: watch::Receiver<bool>,
    watchdog: Option<JoinHandle<()>>,
}

impl DbHealth {
    /// Starts the watchdog on `url` (when a tokio runtime is running; otherwise the database is
    /// simply assumed up). The watchdog stops when this is dropped.
    pub fn watch(url: &str) -> DbHealth {
        let (tx, rx) = watch::channel(false);
        let sender = Arc::new(tx);
        let watchdog = tokio::runtime::Handle::try_current()
            .ok()
            .map(|rt| rt.spawn(watchdog(url.to_owned(), sender)));
        DbHealth { down: rx, watchdog }
    }

    /// Whether the database is known to be down now.
    pub fn is_down(&self) -> bool {
        *self.down.borrow()
    }

    /// Resolves once the database is known to be down.
    pub async fn went_down(&self) {
        let mut rx = self.down.clone();
        if rx.wait_for(|down| *down).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The database went down while the request waited for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the database is unavailable")]
pub struct DatabaseDown;

impl DbHealth {
    /// Runs `f` (something that waits for a connection) unless the database is or goes down first.
    /// Use it only around work that has not changed anything yet (acquiring a connection,
    /// authenticating): cancelling it loses nothing.
    pub async fn or_down<F: std::future::Future>(&self, f: F) -> Result<F::Output, DatabaseDown> {
        if self.is_down() {
            return Err(DatabaseDown);
        }
        tokio::select! {
            out = f => Ok(out),
            () = self.went_down() => Err(DatabaseDown),
        }
    }
}

impl Drop for DbHealth {
    fn drop(&mut self) {
        if let Some(task) = &self.watchdog {
            task.abort();
        }
    }
}

async fn watchdog(url: String, down: Arc<watch::Sender<bool>>) {
    let set = |value: bool| {
        if down.send_if_modified(|d| std::mem::replace(d, value) != value) {
            if value {
                tracing::error!(
                    "PostgreSQL does not answer: API requests are refused with 503 until it does"
                );
            } else {
                tracing::info!("PostgreSQL answers again");
            }
        }
    };
    let mut conn: Option<PgConnection> = None;
    let mut slow = 0;
    loop {
        let probe = async {
            let c = match conn.as_mut() {
                Some(c) => c,
                None => conn.insert(PgConnection::connect(&url).await?),
            };
            sqlx::query("select 1").execute(c).await.map(|_| ())
        };
        match tokio::time::timeout(PROBE_TIMEOUT, probe).await {
            Ok(Ok(())) => {
                slow = 0;
                set(false);
            }
            Ok(Err(_)) => {
                conn = None;
                set(true);
            }
            Err(_) => {
                conn = None;
                slow += 1;
                if slow >= 2 {
                    set(true);
                }
            }
        }
        tokio::time::sleep(INTERVAL).await;
    }
}

/// Whether an error means the database could not be reached (as opposed to a query it refused):
/// a connection that failed or broke, a pool that could not get one in time, or a server shutting
/// down or starting up.
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(e) => e.code().is_some_and(|code| {
            // Class 08: connection exception; 57P01-57P03: shutdown, crash, not yet accepting.
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}
