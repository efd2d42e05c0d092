//! The background workers of `nightowl worker` (and of `serve`): escalation (`escalation::fire`),
//! notification delivery (`notify::outbox` and `notify::dispatch`) and handoff notices
//! (`notify::handoff`), each a loop over every tenant.
//!
//! A loop does a pass, then sleeps until the earliest deadline the pass saw (on the injected clock, so
//! a test that moves the clock wakes it), an event (`LISTEN`: a new, acknowledged or resolved alert; a
//! queued notification), or a safety poll, whichever comes first. Passes claim rows with
//! `FOR UPDATE SKIP LOCKED`, so any number of workers in any number of processes share the work and
//! each tier and notification is handled once. A worker killed mid-pass leaves its transaction
//! uncommitted: the rows fall back to the next worker.
//!
//! Channel calls can be slow (a phone provider, a rate-limited chat API), so the delivery loop only
//! claims and dispatches: each notification is delivered in a task of its own, at most
//! `NIGHTOWL_DELIVERY_CONCURRENCY` per worker at a time, and a settled delivery wakes the loop to claim
//! the next.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::PgListener;
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};

use self::supervise::{LoopFuture, LoopStart};
use crate::clock::earliest;
use crate::db::outbox::Claimed;
use crate::escalation::fire_due;
use crate::notify::{dispatch, handoff, outbox};
use crate::state::AppState;
use crate::tenancy::{self, Slug};
use crate::{db, events};

pub mod supervise;

/// Longest sleep without an event or deadline (covers a lost `NOTIFY`).
pub const SAFETY_POLL: Duration = Duration::from_secs(30);
/// Escalations claimed per transaction.
const BATCH: i64 = 50;
/// Notifications claimed from one tenant before the delivery pass moves on to the next tenant.
const DELIVERY_BATCH: usize = 10;
/// Pause before looking again at a deadline that is due but held by another worker.
const BUSY_PAUSE: Duration = Duration::from_millis(50);

/// Running workers.
#[derive(Debug)]
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    in_flight: Arc<InFlight>,
}

impl WorkerHandle {
    /// Lets each loop finish its pass and every delivery in flight settle, then stops.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        self.in_flight.drain().await;
    }

    /// Stops at once, mid-pass and mid-delivery if need be (what a crash does: open transactions roll
    /// back, claimed notifications wait for their lease to run out).
    pub fn abort(&self) {
        for task in &self.tasks {
            task.abort();
        }
        self.in_flight.abort();
    }
}

/// The deliveries a worker has handed to channels and not yet settled: each runs as its own task, at
/// most `limit` at a time, so one slow channel call holds up one slot rather than the whole queue.
#[derive(Debug)]
struct InFlight {
    permits: Arc<Semaphore>,
    limit: u32,
    tasks: std::sync::Mutex<JoinSet<()>>,
}

impl InFlight {
    fn new(limit: u32) -> InFlight {
        InFlight {
            permits: Arc::new(Semaphore::new(limit as usize)),
            limit,
            tasks: std::sync::Mutex::new(JoinSet::new()),
        }
    }

    fn free(&self) -> usize {
        self.permits.available_permits()
    }

    /// Delivers `row` in a task of its own; `done` is woken when it has settled (a slot is free).
    async fn start(&self, state: AppState, slug: Slug, worker: Arc<str>, row: Claimed, done: Arc<Notify>) {
        let Ok(permit) = self.permits.clone().acquire_owned().await else {
            return;
        };
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        while tasks.try_join_next().is_some() {}
        tasks.spawn(async move {
            if let Err(err) = dispatch::deliver_claimed(&state, &slug, &worker, &row).await {
                tracing::error!(tenant = %slug, error = %err,
                    "settling a notification failed; it is delivered again when its lease runs out");
            }
            drop(permit);
            done.notify_one();
        });
    }

    /// Waits until every delivery in flight has settled.
    async fn drain(&self) {
        let _ = self.permits.acquire_many(self.limit).await;
    }

    fn abort(&self) {
        self.tasks.lock().unwrap_or_else(|e| e.into_inner()).abort_all();
    }
}

/// Which tenants a worker serves.
#[derive(Debug, Clone, Default)]
pub enum Scope {
    /// Every tenant (the default).
    #[default]
    All,
    /// Only these (shard tenants across worker groups; tests watch their own tenant).
    Only(Vec<Slug>),
}

impl Scope {
    async fn tenants(&self, pool: &sqlx::PgPool) -> Result<Vec<Slug>, sqlx::Error> {
        match self {
            Scope::All => Ok(tenancy::list_tenants(pool)
                .await?
                .into_iter()
                .map(|t| t.slug)
                .collect()),
            Scope::Only(list) => Ok(list.clone()),
        }
    }
}

/// Starts the escalation, delivery and handoff loops for every tenant. `name` identifies the worker
/// in outbox claims.
pub fn spawn(state: AppState, name: impl Into<String>) -> WorkerHandle {
    spawn_scoped(state, name, Scope::All)
}

/// Starts the loops for the tenants of `scope`.
pub fn spawn_scoped(state: AppState, name: impl Into<String>, scope: Scope) -> WorkerHandle {
    let name: Arc<str> = Arc::from(name.into());
    let scope = Arc::new(scope);
    let (stop, stop_rx) = watch::channel(false);
    let escalate = Arc::new(Notify::new());
    let deliver = Arc::new(Notify::new());
    let handoffs = Arc::new(Notify::new());
    let in_flight = Arc::new(InFlight::new(state.config.delivery_concurrency));
    // Each loop runs under a supervisor that restarts it after a panic (`supervise`).
    let health = state.workers.clone();
    let restarts = state.metrics.worker_restarts.clone();
    let supervised = |name: &'static str, start: LoopStart| {
        supervise::spawn(name, health.clone(), restarts.clone(), start)
    };
    let mut tasks = Vec::new();
    {
        let (state, stop_rx) = (state.clone(), stop_rx.clone());
        let (escalate, deliver) = (escalate.clone(), deliver.clone());
        tasks.push(supervise::spawn(
            "listener",
            health.clone(),
            restarts.clone(),
            move || listen(state.clone(), escalate.clone(), deliver.clone(), stop_rx.clone()),
        ));
    }
    {
        let (state, stop_rx, scope) = (state.clone(), stop_rx.clone(), scope.clone());
        tasks.push(supervised(
            "escalation",
            Box::new(move || -> LoopFuture {
                let (state2, scope) = (state.clone(), scope.clone());
                Box::pin(run_loop(
                    "escalation",
                    state.clone(),
                    stop_rx.clone(),
                    escalate.clone(),
                    move || escalation_pass(state2.clone(), scope.clone()),
                ))
            }),
        ));
    }
    {
        let (state, stop_rx, name, scope) = (state.clone(), stop_rx.clone(), name.clone(), scope.clone());
        let in_flight = in_flight.clone();
        tasks.push(supervised(
            "delivery",
            Box::new(move || -> LoopFuture {
                let (state2, name, scope) = (state.clone(), name.clone(), scope.clone());
                let (in_flight, done) = (in_flight.clone(), deliver.clone());
                Box::pin(run_loop(
                    "delivery",
                    state.clone(),
                    stop_rx.clone(),
                    deliver.clone(),
                    move || {
                        delivery_pass(
                            state2.clone(),
                            name.clone(),
                            scope.clone(),
                            in_flight.clone(),
                            done.clone(),
                        )
                    },
                ))
            }),
        ));
    }
    {
        let (state, scope) = (state.clone(), scope.clone());
        tasks.push(supervised(
            "handoff",
            Box::new(move || -> LoopFuture {
                let (state2, scope) = (state.clone(), scope.clone());
                Box::pin(run_loop(
                    "handoff",
                    state.clone(),
                    stop_rx.clone(),
                    handoffs.clone(),
                    move || handoff_pass(state2.clone(), scope.clone()),
                ))
            }),
        ));
    }
    WorkerHandle {
        stop,
        tasks,
        in_flight,
    }
}

async fn escalation_pass(state: AppState, scope: Arc<Scope>) -> anyhow::Result<Option<DateTime<Utc>>> {
    let mut next = None;
    for slug in scope.tenants(&state.db).await? {
        loop {
            let now = state.clock.now();
            let mut tx = db::begin_tenant(&state.db, &slug, "system:escalation").await?;
            let fired = fire_due(&mut tx, now, BATCH, &state.config.public_url).await?;
            if fired.processed == 0 {
                // Nothing left due: the same transaction tells when the next deadline is.
                next = earliest(next, db::escalations::next_deadline(&mut tx).await?);
                tx.commit().await?;
                break;
            }
            tx.commit().await?;
            for tier in &fired.tiers {
                state
                    .metrics
                    .alerts_escalated
                    .with_label_values(&[tier.to_string().as_str()])
                    .inc();
            }
            for late in &fired.lateness {
                state.metrics.escalation_lateness.observe(late.max(0.0));
            }
        }
    }
    Ok(next)
}

/// Claims due notifications and starts their deliveries while slots are free, a batch per tenant in
/// turn so one tenant's backlog does not starve the others. With every slot taken it returns no
/// deadline: a delivery that settles wakes the loop.
async fn delivery_pass(
    state: AppState,
    name: Arc<str>,
    scope: Arc<Scope>,
    in_flight: Arc<InFlight>,
    done: Arc<Notify>,
) -> anyhow::Result<Option<DateTime<Utc>>> {
    let tenants = scope.tenants(&state.db).await?;
    loop {
        let mut more = false;
        for slug in &tenants {
            let limit = in_flight.free().min(DELIVERY_BATCH);
            if limit == 0 {
                return Ok(None);
            }
            let rows = outbox::claim(&state.db, slug, &name, state.clock.now(), limit as i64).await?;
            tracing::debug!(worker = %name, tenant = %slug, claimed = rows.len(), limit, "claimed notifications");
            more |= rows.len() == limit;
            for row in rows {
                in_flight
                    .start(state.clone(), slug.clone(), name.clone(), row, done.clone())
                    .await;
            }
        }
        if !more {
            break;
        }
    }
    let mut next = None;
    for slug in &tenants {
        let mut tx = db::begin_tenant(&state.db, slug, "system:outbox").await?;
        next = earliest(next, db::outbox::next_due(&mut tx).await?);
        tx.commit().await?;
    }
    Ok(next)
}

async fn handoff_pass(state: AppState, scope: Arc<Scope>) -> anyhow::Result<Option<DateTime<Utc>>> {
    let mut next = None;
    for slug in scope.tenants(&state.db).await? {
        next = earliest(next, handoff::pass(&state, &slug).await?);
    }
    Ok(next)
}

async fn run_loop<F, Fut>(
    name: &'static str,
    state: AppState,
    mut stop: watch::Receiver<bool>,
    wake: Arc<Notify>,
    mut pass: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<DateTime<Utc>>>>,
{
    let mut backoff = Duration::from_millis(250);
    while !*stop.borrow() {
        tracing::debug!(worker = name, "pass");
        let next = match pass().await {
            Ok(next) => {
                backoff = Duration::from_millis(250);
                next
            }
            Err(err) => {
                tracing::error!(worker = name, error = %format!("{err:#}"), "worker pass failed; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(10));
                continue;
            }
        };
        if next.is_some_and(|t| t <= state.clock.now()) {
            // Due but not ours (another worker holds it): look again shortly.
            tokio::select! {
                _ = tokio::time::sleep(BUSY_PAUSE) => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        let deadline = match next {
            Some(t) => state.clock.sleep_until(t),
            None => Box::pin(std::future::pending()),
        };
        tracing::debug!(worker = name, ?next, "waiting");
        let woken = tokio::select! {
            _ = deadline => "deadline",
            _ = wake.notified() => "event",
            _ = tokio::time::sleep(SAFETY_POLL) => "safety poll",
            _ = stop.changed() => "stop",
        };
        tracing::debug!(worker = name, woken, "woken");
    }
}

/// Forwards `NOTIFY`s to the loops: alert events wake escalation, queued notifications wake delivery.
/// Reconnects after a failure and wakes everyone then (notifications may have been missed).
async fn listen(
    state: AppState,
    escalate: Arc<Notify>,
    deliver: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    while !*stop.borrow() {
        // A connection of its own, not one of the pool's: with a pooled one, a successor worker
        // started after a killed one missed NOTIFYs about one run in ten under CPU load (its
        // `LISTEN` never took effect), and a reconnect would queue behind a saturated pool. With its
        // own connection it missed none in 300 runs (`escalation::a_killed_worker_loses_nothing`
        // with both cores kept busy).
        let mut listener = match PgListener::connect(&state.config.database_url).await {
            Ok(l) => l,
            Err(err) => {
                tracing::warn!(error = %err, "event listener cannot connect; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
        };
        if let Err(err) = listener.listen_all([events::CHANNEL, outbox::CHANNEL]).await {
            tracing::warn!(error = %err, "LISTEN failed; retrying");
            continue;
        }
        tracing::debug!("listening");
        escalate.notify_one();
        deliver.notify_one();
        loop {
            tokio::select! {
                received = listener.recv() => match received {
                    Ok(n) if n.channel() == outbox::CHANNEL => {
                        tracing::debug!("outbox notification");
                        deliver.notify_one();
                    }
                    Ok(_) => escalate.notify_one(),
                    Err(err) => {
                        tracing::warn!(error = %err, "event listener lost its connection");
                        break;
                    }
                },
                _ = stop.changed() => return,
            }
        }
    }
}
