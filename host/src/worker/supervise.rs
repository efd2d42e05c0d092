//! Keeping the worker loops alive. A loop runs as a task of its own under a supervisor: when it
//! panics (a bug met by one tenant's data, say), the supervisor logs it, counts it in
//! `nightowl_worker_restarts_total{loop}`, marks the loop down in [`WorkerHealth`] (which `/readyz`
//! reports) and starts it again after a backoff (1 s, doubling to 30 s, back to 1 s once a run has
//! lasted a minute). Without this a panic stopped escalation for every tenant, silently.
//!
//! Aborting the supervisor aborts the loop with it (what a killed worker does).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus::IntCounterVec;
use tokio::task::JoinHandle;

/// First pause before a panicked loop starts again.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// Longest pause.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A run this long resets the backoff.
const HEALTHY_RUN: Duration = Duration::from_secs(60);

/// Whether each worker loop of this process is running.
#[derive(Debug, Default)]
pub struct WorkerHealth {
    loops: Mutex<BTreeMap<&'static str, LoopState>>,
}

/// One loop's standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoopState {
    /// Running now (false while it waits to restart after a panic).
    pub running: bool,
    /// Restarts after a panic since the process started.
    pub restarts: u64,
}

impl WorkerHealth {
    /// No loops registered: this process runs no workers.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// The loops that are not running, by name.
    pub fn down(&self) -> Vec<&'static str> {
        self.lock()
            .iter()
            .filter(|(_, s)| !s.running)
            .map(|(name, _)| *name)
            .collect()
    }

    /// The standing of loop `name`.
    pub fn get(&self, name: &str) -> Option<LoopState> {
        self.lock().get(name).copied()
    }

    fn set(&self, name: &'static str, running: bool, restarted: bool) {
        let mut loops = self.lock();
        let state = loops.entry(name).or_insert(LoopState { running, restarts: 0 });
        state.running = running;
        state.restarts += u64::from(restarted);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<&'static str, LoopState>> {
        self.loops.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A boxed loop future, so loops of different types can share one supervisor signature.
pub type LoopFuture = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

/// Makes a loop's future, once per (re)start.
pub type LoopStart = Box<dyn FnMut() -> LoopFuture + Send>;

/// Aborts the task it holds when dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs the loop `start` makes under supervision until it returns (it was asked to stop),
/// restarting it whenever it panics.
pub fn spawn<F, Fut>(
    name: &'static str,
    health: Arc<WorkerHealth>,
    restarts: IntCounterVec,
    mut start: F,
) -> JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        let mut backoff = FIRST_BACKOFF;
        loop {
            health.set(name, true, false);
            let began = Instant::now();
            let mut run = AbortOnDrop(tokio::spawn(start()));
            match (&mut run.0).await {
                Ok(()) => return,
                Err(e) if e.is_cancelled() => return,
                Err(e) => {
                    let message = panic_message(e.into_panic());
                    if began.elapsed() >= HEALTHY_RUN {
                        backoff = FIRST_BACKOFF;
                    }
                    tracing::error!(worker = name, panic = %message, retry_in = ?backoff, "worker loop panicked; restarting");
                    restarts.with_label_values(&[name]).inc();
                    health.set(name, false, false);
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    health.set(name, true, true);
                }
            }
        }
    })
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-text panic".to_owned())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_panicking_loop_is_restarted_counted_and_reported_down_meanwhile() {
        let health = Arc::new(WorkerHealth::default());
        let counter = IntCounterVec::new(prometheus::Opts::new("restarts", "r"), &["loop"]).unwrap();
        let runs = Arc::new(AtomicU32::new(0));
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
        let done_tx = Arc::new(Mutex::new(Some(done_tx)));
        let task = {
            let runs = runs.clone();
            spawn("escalation", health.clone(), counter.clone(), move || {
                let (runs, done_tx) = (runs.clone(), done_tx.clone());
                async move {
                    // Panics on its first two runs, then works until told to stop.
                    if runs.fetch_add(1, Ordering::SeqCst) < 2 {
                        panic!("bad tenant data");
                    }
                    if let Some(tx) = done_tx.lock().unwrap().take() {
                        let _ = tx.send(());
                    }
                    std::future::pending::<()>().await;
                }
            })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(health.down(), ["escalation"], "down while it waits to restart");
        done_rx.await.unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        assert_eq!(
            health.get("escalation"),
            Some(LoopState {
                running: true,
                restarts: 2
            })
        );
        assert!(health.down().is_empty());
        assert_eq!(counter.with_label_values(&["escalation"]).get(), 2);
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
    }

    #[tokio::test]
    async fn aborting_the_supervisor_aborts_the_loop() {
        let health = Arc::new(WorkerHealth::default());
        let counter = IntCounterVec::new(prometheus::Opts::new("restarts", "r"), &["loop"]).unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let tx = Arc::new(Mutex::new(Some(tx)));
        let task = spawn("delivery", health, counter, move || {
            let tx = tx.clone();
            async move {
                // Holds the sender until aborted; dropping it tells the test.
                let _held = tx.lock().unwrap().take();
                std::future::pending::<()>().await;
            }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        task.abort();
        assert!(rx.await.is_err(), "the loop was dropped with its supervisor");
    }
}
