//! What keeps sign-in from being a way to take the server down or to guess passwords.
//!
//! - [`HashPool`]: every password check and hash runs on a few dedicated threads with a short queue.
//!   An Argon2 hash takes ~19 MiB for ~50 ms; run unbounded on the blocking pool, 300 concurrent bad
//!   logins grew the server to 5.7 GiB and 228 threads, and the memory stayed with the threads. Here
//!   at most `threads` hashes run at once, on the same threads every time, and a check that finds the
//!   queue full is refused at once (429) rather than queued without bound.
//! - [`FailureLimiter`]: failed sign-ins counted per key (tenant + e-mail, and client address) in a
//!   fixed window; once a key reaches its limit it is refused (429 with the time left) without a
//!   hash being computed, until the window ends. It counts failures only, so a person signing in
//!   often is never slowed down, and it reads NightOwl's clock, so tests move time instead of
//!   waiting. The table is bounded: expired windows are pruned, and when it is full the oldest
//!   window is dropped.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

type Job = Box<dyn FnOnce() + Send>;

/// A few threads that run password hashing, with a bounded queue.
#[derive(Debug)]
pub struct HashPool {
    queue: SyncSender<Job>,
}

/// The hash pool's queue is full: try again shortly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("password checks are queued to capacity")]
pub struct Busy;

impl HashPool {
    /// Starts `threads` hashing threads (at least 1) behind a queue of `queue` waiting jobs. The
    /// threads end when the pool is dropped.
    pub fn new(threads: usize, queue: usize) -> HashPool {
        let (tx, rx) = sync_channel::<Job>(queue);
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..threads.max(1) {
            let rx = Arc::clone(&rx);
            std::thread::Builder::new()
                .name(format!("nightowl-hash-{n}"))
                .spawn(move || work(&rx))
                .expect("spawning a hashing thread");
        }
        HashPool { queue: tx }
    }

    /// Runs `f` on a hashing thread and returns its result; [`Busy`] when the queue is full.
    pub async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, Busy> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        match self.queue.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(Busy),
            Err(TrySendError::Disconnected(_)) => unreachable!("hashing threads live as long as the pool"),
        }
        // A job that panicked dropped its sender: treat as busy rather than take the caller down.
        rx.await.map_err(|_| Busy)
    }
}

fn work(rx: &Mutex<Receiver<Job>>) {
    loop {
        let job = {
            let Ok(rx) = rx.lock() else { return };
            match rx.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        // A panicking hash fails its one call (its reply channel drops), not the thread.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
    }
}

/// Failures counted per key in fixed windows.
#[derive(Debug)]
pub struct FailureLimiter {
    max: u32,
    window: Duration,
    capacity: usize,
    windows: Mutex<HashMap<String, (DateTime<Utc>, u32)>>,
}

impl FailureLimiter {
    /// Allows `max` failures per key per `window`, remembering at most `capacity` keys.
    pub fn new(max: u32, window: Duration, capacity: usize) -> FailureLimiter {
        FailureLimiter {
            max,
            window,
            capacity,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// How long `key` must wait at `now`; `None` when it may try.
    #[cfg(test)]
    pub fn blocked_for(&self, key: &str, now: DateTime<Utc>) -> Option<Duration> {
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let &(start, count) = windows.get(key)?;
        let ends = start + self.window;
        (count >= self.max && now < ends).then(|| ends - now)
    }

    /// Counts an attempt of `key` at `now` as a failure until [`FailureLimiter::succeeded`] says
    /// otherwise, unless the key is blocked (then the time left). Checking and counting happen under
    /// one lock, so concurrent attempts cannot all slip past the limit before any failure is counted.
    pub fn attempt(&self, key: &str, now: DateTime<Utc>) -> Result<(), Duration> {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&(start, count)) = windows.get(key)
            && count >= self.max
            && now < start + self.window
        {
            return Err(start + self.window - now);
        }
        self.count(&mut windows, key, now);
        Ok(())
    }

    /// Takes back the failure an [`attempt`](FailureLimiter::attempt) counted: it succeeded.
    pub fn succeeded(&self, key: &str) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = windows.get_mut(key) {
            entry.1 = entry.1.saturating_sub(1);
        }
    }

    /// Counts a failure of `key` at `now`.
    pub fn failed(&self, key: &str, now: DateTime<Utc>) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        self.count(&mut windows, key, now);
    }

    fn count(&self, windows: &mut HashMap<String, (DateTime<Utc>, u32)>, key: &str, now: DateTime<Utc>) {
        if !windows.contains_key(key) && windows.len() >= self.capacity {
            let window = self.window;
            windows.retain(|_, (start, _)| now < *start + window);
            if windows.len() >= self.capacity
                && let Some(oldest) = windows
                    .iter()
                    .min_by_key(|(_, (start, _))| *start)
                    .map(|(k, _)| k.clone())
            {
                windows.remove(&oldest);
            }
        }
        let entry = windows.entry(key.to_owned()).or_insert((now, 0));
        if now >= entry.0 + self.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }

    /// Forgets `key`'s failures (it signed in).
    pub fn clear(&self, key: &str) {
        self.windows.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}

/// The sign-in guards of one server.
#[derive(Debug)]
pub struct Logins {
    /// Where password checks and hashes run.
    pub hashes: HashPool,
    /// Failures per `tenant/e-mail`.
    pub per_account: FailureLimiter,
    /// Failures per client address.
    pub per_address: FailureLimiter,
    /// Single sign-ons started and not (yet) finished, per client address: each holds a pending
    /// state in Redis for ten minutes, so one address cannot fill Redis by starting sign-ins.
    pub pending_sso: FailureLimiter,
}

/// Single sign-ons one client address may leave unfinished per [`FAILURE_WINDOW`].
pub const PENDING_SSO_PER_ADDRESS: u32 = 30;

/// The window failures are counted in.
pub const FAILURE_WINDOW: Duration = Duration::minutes(15);
/// Keys each limiter remembers at most.
const REMEMBERED: usize = 100_000;

impl Logins {
    /// Guards sized to the machine: one hashing thread per core (at most 4), a queue of four checks
    /// per thread.
    pub fn new(per_account: u32, per_address: u32) -> Logins {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = cores.min(4);
        Logins {
            hashes: HashPool::new(threads, threads * 4),
            per_account: FailureLimiter::new(per_account, FAILURE_WINDOW, REMEMBERED),
            per_address: FailureLimiter::new(per_address, FAILURE_WINDOW, REMEMBERED),
            pending_sso: FailureLimiter::new(PENDING_SSO_PER_ADDRESS, FAILURE_WINDOW, REMEMBERED),
        }
    }
}

/// Whole seconds to wait, rounded up, for `Retry-After`.
pub fn retry_seconds(wait: Duration) -> u64 {
    u64::try_from((wait.num_milliseconds() + 999) / 1000)
        .unwrap_or(1)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::minutes(minutes)
    }

    #[test]
    fn a_key_is_blocked_after_its_failures_until_the_window_ends() {
        let l = FailureLimiter::new(3, Duration::minutes(15), 100);
        for _ in 0..2 {
            l.failed("a", at(0));
        }
        assert_eq!(l.blocked_for("a", at(1)), None);
        l.failed("a", at(1));
        assert_eq!(l.blocked_for("a", at(5)), Some(Duration::minutes(10)));
        assert_eq!(l.blocked_for("b", at(5)), None, "other keys are not affected");
        assert_eq!(l.blocked_for("a", at(15)), None, "the window ended");
        l.failed("a", at(16));
        assert_eq!(l.blocked_for("a", at(16)), None, "a new window counts from zero");
        l.failed("a", at(16));
        l.failed("a", at(16));
        assert!(l.blocked_for("a", at(16)).is_some());
        l.clear("a");
        assert_eq!(l.blocked_for("a", at(16)), None);
    }

    #[test]
    fn attempts_count_at_once_and_a_success_takes_its_attempt_back() {
        let l = FailureLimiter::new(2, Duration::minutes(15), 100);
        assert_eq!(l.attempt("a", at(0)), Ok(()));
        assert_eq!(l.attempt("a", at(0)), Ok(()));
        // Both still in flight: a third is refused before either has finished.
        assert_eq!(l.attempt("a", at(1)), Err(Duration::minutes(14)));
        l.succeeded("a");
        assert_eq!(l.attempt("a", at(1)), Ok(()), "the success freed its place");
    }

    #[test]
    fn the_table_stays_bounded() {
        let l = FailureLimiter::new(1, Duration::minutes(15), 10);
        for i in 0..1000 {
            l.failed(&format!("k{i}"), at(0));
        }
        assert!(l.windows.lock().unwrap().len() <= 10);
        assert!(l.blocked_for("k999", at(0)).is_some(), "the newest key is kept");
    }

    #[tokio::test]
    async fn the_pool_runs_jobs_and_refuses_when_its_queue_is_full() {
        let pool = Arc::new(HashPool::new(1, 1));
        assert_eq!(pool.run(|| 2 + 2).await, Ok(4));
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let hold = Arc::new(Mutex::new(hold));
        // One job running, one queued: the third is refused.
        let running = {
            let (pool, hold) = (Arc::clone(&pool), Arc::clone(&hold));
            tokio::spawn(async move { pool.run(move || hold.lock().unwrap().recv().is_ok()).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let queued = {
            let pool = Arc::clone(&pool);
            tokio::spawn(async move { pool.run(|| true).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert_eq!(pool.run(|| true).await, Err(Busy));
        release.send(()).unwrap();
        assert_eq!(running.await.unwrap(), Ok(true));
        assert_eq!(queued.await.unwrap(), Ok(true));
        assert_eq!(
            pool.run(|| panic!("boom")).await,
            Err::<(), _>(Busy),
            "a panic fails its call"
        );
        assert_eq!(pool.run(|| 1).await, Ok(1), "and the thread lives on");
    }
}
