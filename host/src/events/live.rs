//! Alert events for browsers: one `LISTEN` per process, started by the first subscriber, fanned out
//! to every open event stream (`GET /api/v1/alerts/events`), which keeps its tenant's.
//!
//! A subscriber that falls behind loses the oldest events (it is told, and the UI reloads what it
//! shows); a lost database connection is reopened after a second, and streams carry on.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;

use super::{AlertChange, CHANNEL};

/// How many events a slow subscriber may have pending before it skips the oldest.
const BACKLOG: usize = 1024;

/// The fan-out of alert events to the event streams of this process.
#[derive(Debug)]
pub struct LiveEvents {
    tx: broadcast::Sender<AlertChange>,
    started: AtomicBool,
}

impl Default for LiveEvents {
    fn default() -> LiveEvents {
        LiveEvents {
            tx: broadcast::channel(BACKLOG).0,
            started: AtomicBool::new(false),
        }
    }
}

impl LiveEvents {
    /// Every alert event from now on (every tenant's: the stream keeps its own), listening first if
    /// nobody has yet.
    pub fn subscribe(&self, pool: &PgPool) -> broadcast::Receiver<AlertChange> {
        let rx = self.tx.subscribe();
        if !self.started.swap(true, Ordering::SeqCst) {
            tokio::spawn(listen(pool.clone(), self.tx.clone()));
        }
        rx
    }
}

async fn listen(pool: PgPool, tx: broadcast::Sender<AlertChange>) {
    loop {
        match PgListener::connect_with(&pool).await {
            Ok(mut listener) => match listener.listen(CHANNEL).await {
                Ok(()) => loop {
                    match listener.recv().await {
                        Ok(notification) => {
                            if let Ok(change) = serde_json::from_str::<AlertChange>(notification.payload()) {
                                // No subscriber right now is fine.
                                let _ = tx.send(change);
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "alert event listener lost its connection");
                            break;
                        }
                    }
                },
                Err(e) => tracing::warn!(error = %e, "alert event listener could not LISTEN"),
            },
            Err(e) => tracing::warn!(error = %e, "alert event listener could not connect"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
