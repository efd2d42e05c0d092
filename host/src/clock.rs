//! The injected clock: everything whose behaviour depends on time asks this, so tests can move it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::watch;

/// A future that completes once the clock has reached an instant.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Source of "now".
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;

    /// Completes when `now() >= at`: a real timer for the system clock, the next move past `at` for a
    /// manual one. Workers wait on this for their next deadline, so a test that moves the clock wakes
    /// them at once.
    fn sleep_until(&self, at: DateTime<Utc>) -> Sleep;
}

/// Shared handle to the process clock.
pub type SharedClock = Arc<dyn Clock>;

/// Wall-clock time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> Sleep {
        let wait = (at - Utc::now()).to_std().unwrap_or_default();
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock that only moves when told to; for tests and dry runs.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<watch::Sender<DateTime<Utc>>>);

impl ManualClock {
    /// A clock standing at `at`.
    pub fn new(at: DateTime<Utc>) -> ManualClock {
        ManualClock(Arc::new(watch::Sender::new(at)))
    }

    /// Moves the clock to `at` (backwards too).
    pub fn set(&self, at: DateTime<Utc>) {
        self.0.send_replace(at);
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.0.send_modify(|now| *now += by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.borrow()
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> Sleep {
        let mut rx = self.0.subscribe();
        Box::pin(async move {
            // The sender lives as long as the clock; if it is gone nothing will ever move it.
            if rx.wait_for(|now| *now >= at).await.is_err() {
                std::future::pending::<()>().await;
            }
        })
    }
}

/// The earlier of two optional instants (how a pass over several tenants finds its next deadline).
pub fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start = DateTime::parse_from_rfc3339("2026-03-29T00:30:00Z")
            .unwrap()
            .to_utc();
        let clock = ManualClock::new(start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::minutes(90));
        assert_eq!(clock.now(), start + Duration::minutes(90));
        let shared: SharedClock = Arc::new(clock.clone());
        clock.set(start);
        assert_eq!(shared.now(), start);
    }

    #[tokio::test]
    async fn manual_sleep_ends_when_the_clock_passes_the_instant() {
        let start = Utc::now();
        let clock = ManualClock::new(start);
        let mut sleep = clock.sleep_until(start + Duration::minutes(5));
        let poll = |s: &mut Sleep| {
            let waker = std::task::Waker::noop();
            s.as_mut()
                .poll(&mut std::task::Context::from_waker(waker))
                .is_ready()
        };
        assert!(!poll(&mut sleep));
        clock.advance(Duration::minutes(4));
        assert!(!poll(&mut sleep));
        clock.advance(Duration::minutes(1));
        assert!(poll(&mut sleep));
        assert!(poll(&mut clock.sleep_until(start)));
    }
}
