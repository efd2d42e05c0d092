//! One wasmtime `Engine` for the process; a fresh `Store` and instance for every call, so no state
//! survives between calls or crosses tenants. Each call runs under a memory cap (a limiter that records
//! when it refused growth, because running out of memory does not surface as a `Trap`) and a wall-clock
//! deadline enforced by epoch interruption (a 10 ms ticker; at each tick the store checks the wall
//! clock and interrupts the guest once the deadline has passed). Calls are synchronous, on tokio's
//! blocking pool. A trap, timeout or memory exhaustion fails that call
//! only: it is logged with plugin id, version and tenant and counted in
//! `nightowl_plugin_faults_total{plugin,kind}`.
//!
//! **Bounded by the cores.** At most one guest call per core runs at a time ([`CallSlots`]); the
//! others wait their turn, and the deadline starts only when a call starts running. Run all at once,
//! 22 valid calls on 2 cores shared the CPU so thinly that 16 ran past deadlines they would have met
//! alone. A request-path call (a source's `parse`) that finds [`CallSlots::queue`] calls already
//! waiting, or waits longer than [`QUEUE_WAIT`], is refused with [`CallError::Busy`] (503 with
//! `Retry-After`) instead of queueing without bound; background calls (channels) wait their turn.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus::IntCounterVec;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, UpdateDeadline};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::manifest::Manifest;
use super::{
    Delivery, InboundRequest, InboundResponse, Notification, ParsedAlert, PluginError, v0_1_0, v0_1_1,
};
use crate::channels::Call;
use crate::clock::SharedClock;

/// How often the epoch advances.
const TICK: Duration = Duration::from_millis(10);
/// Concurrent instances the pooling allocator reserves room for.
const POOL_INSTANCES: u32 = 128;
/// Largest linear memory any plugin may have (manifests ask for less).
const POOL_MAX_MEMORY: usize = 64 << 20;
/// Log lines one call may write before the rest are dropped.
const LOG_BUDGET: u32 = 100;

/// Longest a request-path call waits for a free slot before it is refused as busy.
pub const QUEUE_WAIT: Duration = Duration::from_secs(5);

/// How many guest calls run at once, and how many request-path calls may wait for one. A quarter of
/// the queue is kept for tenants with few calls waiting (fewer than [`CallSlots::per_tenant`]): a
/// tenant's burst may fill the rest, never the whole queue, so other tenants' webhooks still get
/// in.
///
/// Free slots go to waiting calls **tenant by tenant in turn** (round robin), not first come first
/// served: a tenant with one call waiting gets the next free slot after at most one call of each
/// other waiting tenant, however many calls a flooding tenant has queued.
#[derive(Debug)]
pub struct CallSlots {
    running: Arc<std::sync::Mutex<Turns>>,
    waiting: std::sync::Mutex<Waiting>,
    /// Request-path calls allowed to wait at once.
    queue: usize,
    /// Calls a tenant may have waiting and still use the reserved quarter of the queue.
    per_tenant: usize,
}

/// The running calls and, per tenant, the calls waiting for a slot in arrival order.
#[derive(Debug)]
struct Turns {
    limit: usize,
    running: usize,
    queues: HashMap<String, std::collections::VecDeque<tokio::sync::oneshot::Sender<Slot>>>,
    /// Tenants with calls waiting, in the order they get their next turn.
    order: std::collections::VecDeque<String>,
}

/// A running call's slot; handed to the next waiting tenant in turn when dropped.
#[derive(Debug)]
pub struct Slot {
    turns: Option<Arc<std::sync::Mutex<Turns>>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let Some(turns) = self.turns.take() else { return };
        let mut next = Slot {
            turns: Some(Arc::clone(&turns)),
        };
        let mut t = turns.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(tenant) = t.order.pop_front() {
            let Some(queue) = t.queues.get_mut(&tenant) else {
                continue;
            };
            let waiter = queue.pop_front();
            if queue.is_empty() {
                t.queues.remove(&tenant);
            } else {
                t.order.push_back(tenant);
            }
            if let Some(waiter) = waiter {
                match waiter.send(next) {
                    // The slot changes hands: the running count stays.
                    Ok(()) => return,
                    // That call gave up waiting; offer the slot to the next one.
                    Err(returned) => next = returned,
                }
            }
        }
        t.running -= 1;
        drop(t);
        // Nobody waits: this slot is simply free again.
        next.turns = None;
    }
}

/// Who is waiting for a slot.
#[derive(Debug, Default)]
struct Waiting {
    total: usize,
    by_tenant: HashMap<String, usize>,
}

/// One request-path call's place in the queue; leaving it (also by being cancelled, when the
/// client goes away) frees the place.
struct QueuePlace<'a> {
    slots: &'a CallSlots,
    tenant: String,
}

impl Drop for QueuePlace<'_> {
    fn drop(&mut self) {
        let mut waiting = self.slots.waiting.lock().unwrap_or_else(|e| e.into_inner());
        waiting.total -= 1;
        if let Some(n) = waiting.by_tenant.get_mut(&self.tenant) {
            *n -= 1;
            if *n == 0 {
                waiting.by_tenant.remove(&self.tenant);
            }
        }
    }
}

impl CallSlots {
    /// `concurrency` running calls (at least 1) and `queue` waiting ones.
    pub fn new(concurrency: usize, queue: usize) -> CallSlots {
        CallSlots {
            running: Arc::new(std::sync::Mutex::new(Turns {
                limit: concurrency.max(1),
                running: 0,
                queues: HashMap::new(),
                order: std::collections::VecDeque::new(),
            })),
            waiting: std::sync::Mutex::new(Waiting::default()),
            queue,
            per_tenant: (queue / 4).max(1),
        }
    }

    /// One slot per core.
    pub fn per_core(queue: usize) -> CallSlots {
        CallSlots::new(std::thread::available_parallelism().map_or(1, |n| n.get()), queue)
    }

    async fn acquire(&self, tenant: &str, wait: Wait) -> Option<Slot> {
        // A call that finds a slot free takes it without a place in the queue; only one that has to
        // wait needs a place, and the slot is looked for again once it has one.
        if let Some(slot) = self.try_slot() {
            return Some(slot);
        }
        let _place = match wait {
            Wait::Bounded => Some(self.queue_place(tenant)?),
            Wait::Always => None,
        };
        let turn = {
            let mut t = self.running.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(slot) = self.take_free(&mut t) {
                return Some(slot);
            }
            let (tx, rx) = tokio::sync::oneshot::channel();
            if !t.queues.contains_key(tenant) {
                t.order.push_back(tenant.to_owned());
            }
            t.queues.entry(tenant.to_owned()).or_default().push_back(tx);
            rx
        };
        match wait {
            Wait::Always => turn.await.ok(),
            Wait::Bounded => tokio::time::timeout(QUEUE_WAIT, turn)
                .await
                .ok()
                .and_then(Result::ok),
        }
    }

    fn try_slot(&self) -> Option<Slot> {
        let mut t = self.running.lock().unwrap_or_else(|e| e.into_inner());
        self.take_free(&mut t)
    }

    /// A free slot, when there is one and no live call waits for it.
    fn take_free(&self, t: &mut Turns) -> Option<Slot> {
        if t.running >= t.limit {
            return None;
        }
        // Calls that gave up waiting are only found when a slot is handed on; with a slot free,
        // drop them now so they do not stand in front.
        let Turns { queues, order, .. } = t;
        queues.retain(|_, q| {
            q.retain(|w| !w.is_closed());
            !q.is_empty()
        });
        order.retain(|tenant| queues.contains_key(tenant));
        if !t.order.is_empty() {
            return None;
        }
        t.running += 1;
        Some(Slot {
            turns: Some(Arc::clone(&self.running)),
        })
    }

    /// A place in the queue for `tenant`; `None` when the queue, or the tenant's part of it, is full.
    fn queue_place(&self, tenant: &str) -> Option<QueuePlace<'_>> {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        let mine = waiting.by_tenant.get(tenant).copied().unwrap_or(0);
        let room = if mine < self.per_tenant {
            self.queue
        } else {
            // A tenant with a burst waiting leaves the reserved quarter to the others.
            self.queue - self.per_tenant
        };
        if waiting.total >= room {
            return None;
        }
        waiting.total += 1;
        *waiting.by_tenant.entry(tenant.to_owned()).or_insert(0) += 1;
        Some(QueuePlace {
            slots: self,
            tenant: tenant.to_owned(),
        })
    }
}

/// A running channel call's core: given back while the guest waits on host I/O (an HTTP request, the
/// database), taken again before the guest runs on. A Slack API call that takes 300 ms then holds no
/// core, so webhook parsing does not queue behind channel I/O.
pub struct CoreTurn {
    runtime: Arc<Runtime>,
    tenant: String,
    slot: std::sync::Mutex<Option<Slot>>,
}

impl CoreTurn {
    /// Runs `wait` (which blocks this thread on I/O) without holding the core, then waits for a
    /// core again (in turn with the other tenants' calls) until `deadline`; past it the guest only
    /// has to notice its own deadline, so it goes on without one.
    pub fn idle<T>(&self, handle: &tokio::runtime::Handle, deadline: Instant, wait: impl FnOnce() -> T) -> T {
        let held = self.slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        let had = held.is_some();
        drop(held);
        let out = wait();
        if had {
            let left = deadline.saturating_duration_since(Instant::now());
            let turn = self.runtime.slots.acquire(&self.tenant, Wait::Always);
            let slot = handle.block_on(async { tokio::time::timeout(left, turn).await.ok().flatten() });
            *self.slot.lock().unwrap_or_else(|e| e.into_inner()) = slot;
        }
        out
    }
}

/// Whether a call may be refused when every slot is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// Request path: refused when the queue is full or the wait too long.
    Bounded,
    /// Background work: waits its turn.
    Always,
}

/// What went wrong inside the sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// The guest trapped (panic, unreachable, bad memory access, ...).
    Trap,
    /// The call ran past its deadline.
    Timeout,
    /// The guest wanted more memory than its cap.
    Memory,
    /// The component could not be instantiated.
    Instantiate,
}

impl FaultKind {
    /// Every kind.
    pub const ALL: [FaultKind; 4] = [
        FaultKind::Trap,
        FaultKind::Timeout,
        FaultKind::Memory,
        FaultKind::Instantiate,
    ];

    /// Label value of `nightowl_plugin_faults_total`.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Trap => "trap",
            FaultKind::Timeout => "timeout",
            FaultKind::Memory => "memory",
            FaultKind::Instantiate => "instantiate",
        }
    }
}

/// A failed plugin call.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The plugin answered with its own error (e.g. the payload is invalid).
    #[error(transparent)]
    Plugin(#[from] PluginError),
    /// The sandbox stopped the call.
    #[error("plugin {plugin} {kind}: {message}", kind = .kind.as_str())]
    Fault {
        plugin: String,
        kind: FaultKind,
        message: String,
    },
    /// Every call slot is taken and the queue is full: nothing ran; retry shortly.
    #[error("plugin calls are queued to capacity; retry shortly")]
    Busy,
}

/// The trap code when there is one ("wasm `unreachable` instruction executed" for a guest panic),
/// else the root cause.
fn describe(err: &wasmtime::Error) -> String {
    match err.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => trap.to_string(),
        None => err.root_cause().to_string(),
    }
}

/// Per-call memory cap that remembers whether it refused to grow.
#[derive(Debug)]
pub struct MemoryCap {
    max_bytes: usize,
    refused: bool,
}

impl wasmtime::ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired <= self.max_bytes {
            return Ok(true);
        }
        // An error (not `Ok(false)`, which lets memory.grow return -1) traps at once, so a memory
        // bomb stops here instead of limping on.
        self.refused = true;
        Err(wasmtime::Error::msg(format!(
            "memory cap of {} bytes reached",
            self.max_bytes
        )))
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// Data of one call's `Store`.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    memory: MemoryCap,
    timed_out: bool,
    /// The call's deadline, in milliseconds from its start.
    deadline_ms: u128,
    log_budget: u32,
    plugin: String,
    version: String,
    tenant: String,
    /// Per-tenant plugin settings the guest reads through `config.get`.
    pub config: HashMap<String, String>,
    /// What the channel world's imports act on; `None` in source calls.
    pub channel: Option<Box<Call>>,
}

impl HostState {
    /// Writes a guest log line tagged with plugin, version and tenant, within the call's budget.
    pub fn log_line(&mut self, level: tracing::Level, message: &str) {
        if self.log_budget == 0 {
            return;
        }
        self.log_budget -= 1;
        let message: String = message.chars().take(2000).collect();
        let (plugin, version, tenant) = (&self.plugin, &self.version, &self.tenant);
        match level {
            tracing::Level::ERROR => tracing::error!(plugin, version, tenant, "{message}"),
            tracing::Level::WARN => tracing::warn!(plugin, version, tenant, "{message}"),
            tracing::Level::INFO => tracing::info!(plugin, version, tenant, "{message}"),
            _ => tracing::debug!(plugin, version, tenant, "{message}"),
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The guest's WASI wall clock: NightOwl's injected clock, so plugins see the time tests set.
struct GuestClock(SharedClock);

impl wasmtime_wasi::HostWallClock for GuestClock {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }

    fn now(&self) -> Duration {
        let now = self.0.now();
        Duration::from_secs(u64::try_from(now.timestamp()).unwrap_or(0))
            + Duration::from_nanos(u64::from(now.timestamp_subsec_nanos()))
    }
}

/// A channel component, by the WIT version it was built against.
#[derive(Clone)]
pub enum ChannelPre {
    V0_1_0(v0_1_0::ChannelPre<HostState>),
    V0_1_1(v0_1_1::ChannelPre<HostState>),
}

impl ChannelPre {
    /// The WIT package version.
    pub fn version(&self) -> &'static str {
        match self {
            ChannelPre::V0_1_0(_) => "0.1.0",
            ChannelPre::V0_1_1(_) => "0.1.1",
        }
    }
}

/// Instantiates a channel component with the bindings of its WIT version and runs `$call` with its
/// `channel-api` as `$api` and that version's conversion module as `$v`.
macro_rules! with_channel {
    ($pre:expr, $store:ident, |$api:ident, $v:ident| $call:expr) => {
        match $pre {
            ChannelPre::V0_1_1(pre) => {
                use v0_1_1 as $v;
                let instance = pre
                    .instantiate(&mut *$store)
                    .map_err(|e| (FaultKind::Instantiate, e))?;
                let $api = instance.nightowl_plugin_channel_api();
                $call
            }
            ChannelPre::V0_1_0(pre) => {
                use v0_1_0 as $v;
                let instance = pre
                    .instantiate(&mut *$store)
                    .map_err(|e| (FaultKind::Instantiate, e))?;
                let $api = instance.nightowl_plugin_channel_api();
                $call
            }
        }
    };
}

/// Which deadline of the manifest a call runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deadline {
    Call,
    Inbound,
}

/// The engine, the linkers and fault accounting.
pub struct Runtime {
    engine: Engine,
    source_linker: Linker<HostState>,
    channel_linker: Linker<HostState>,
    faults: IntCounterVec,
    /// Calls refused because every slot was taken and the queue full (load shed, not a fault).
    busy: IntCounterVec,
    slots: CallSlots,
    clock: SharedClock,
    _ticker: std::thread::JoinHandle<()>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Runtime")
    }
}

/// Makes `dir` a directory only this user can use: created with mode 0700 when missing, refused
/// when another user owns it or others can write to it. Compiled plugin code is loaded from it, so
/// whoever can write there could run code inside NightOwl (the default lives under `$TMPDIR`, where
/// anyone could create the directory first).
pub fn private_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    match std::fs::DirBuilder::new()
        .recursive(false)
        .mode(0o700)
        .create(dir)
    {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        Err(e) => return Err(e.into()),
    }
    let meta = std::fs::symlink_metadata(dir)?;
    let me = rustix::process::geteuid().as_raw();
    anyhow::ensure!(
        meta.is_dir(),
        "plugin cache {} is not a directory (a symlink is refused too)",
        dir.display()
    );
    anyhow::ensure!(
        meta.uid() == me,
        "plugin cache {} belongs to uid {}, not to this user ({me}); set NIGHTOWL_PLUGIN_CACHE_DIR to a directory of your own",
        dir.display(),
        meta.uid()
    );
    if meta.permissions().mode() & 0o022 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

fn engine_config(cache_dir: Option<&Path>, pooling: bool) -> anyhow::Result<Config> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.cranelift_opt_level(wasmtime::OptLevel::Speed);
    if let Some(dir) = cache_dir {
        private_dir(dir)?;
        let mut cache = wasmtime::CacheConfig::new();
        cache.with_directory(dir);
        config.cache(Some(wasmtime::Cache::new(cache)?));
    }
    if pooling {
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(POOL_INSTANCES)
            .total_core_instances(POOL_INSTANCES * 4)
            .total_memories(POOL_INSTANCES * 2)
            .total_tables(POOL_INSTANCES * 4)
            .max_memory_size(POOL_MAX_MEMORY)
            // Fresh memory pages stay mapped between instances: the cost of a fresh instance is its
            // page faults, not the instantiation.
            .linear_memory_keep_resident(1 << 20);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    Ok(config)
}

impl Runtime {
    /// The calls of `plugin` the sandbox stopped since start, by fault kind (kinds never seen left out).
    pub fn faults(&self, plugin: &str) -> std::collections::BTreeMap<String, u64> {
        FaultKind::ALL
            .iter()
            .map(|k| {
                (
                    k.as_str().to_owned(),
                    self.faults.with_label_values(&[plugin, k.as_str()]).get(),
                )
            })
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// Creates the engine (pooling allocator, falling back to on-demand allocation when the machine
    /// cannot reserve the pool's address space) and starts the epoch ticker.
    pub fn new(
        cache_dir: Option<&Path>,
        registry: &prometheus::Registry,
        slots: CallSlots,
        clock: SharedClock,
    ) -> anyhow::Result<Runtime> {
        let engine = match Engine::new(&engine_config(cache_dir, true)?) {
            Ok(engine) => engine,
            Err(err) => {
                tracing::warn!(error = %err, "pooling allocator unavailable; allocating instances on demand");
                Engine::new(&engine_config(cache_dir, false)?)?
            }
        };
        let mut source_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut source_linker)?;
        v0_1_0::add_source_to_linker(&mut source_linker)?;
        let mut channel_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut channel_linker)?;
        v0_1_1::add_channel_to_linker(&mut channel_linker)?;
        v0_1_0::add_channel_to_linker(&mut channel_linker)?;

        let weak = engine.weak();
        let ticker = std::thread::Builder::new()
            .name("wasm-epoch".into())
            .spawn(move || {
                while let Some(engine) = weak.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(TICK);
                }
            })?;
        let faults = IntCounterVec::new(
            prometheus::Opts::new(
                "nightowl_plugin_faults_total",
                "Plugin calls stopped by the sandbox",
            ),
            &["plugin", "kind"],
        )?;
        registry.register(Box::new(faults.clone()))?;
        let busy = IntCounterVec::new(
            prometheus::Opts::new(
                "nightowl_plugin_busy_total",
                "Plugin calls refused because every slot was taken and the queue was full",
            ),
            &["plugin"],
        )?;
        registry.register(Box::new(busy.clone()))?;
        Ok(Runtime {
            engine,
            source_linker,
            channel_linker,
            faults,
            busy,
            slots,
            clock,
            _ticker: ticker,
        })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Pre-instantiates a source component (imports resolved once, instances made per call).
    pub fn prepare_source(&self, component: &Component) -> anyhow::Result<v0_1_0::SourcePre<HostState>> {
        let pre = self.source_linker.instantiate_pre(component)?;
        Ok(v0_1_0::SourcePre::new(pre)?)
    }

    /// Pre-instantiates a channel component built against 0.1.1 or 0.1.0 (by what it exports).
    pub fn prepare_channel(&self, component: &Component) -> anyhow::Result<ChannelPre> {
        let pre = self.channel_linker.instantiate_pre(component)?;
        match v0_1_1::ChannelPre::new(pre.clone()) {
            Ok(p) => Ok(ChannelPre::V0_1_1(p)),
            Err(newer) => v0_1_0::ChannelPre::new(pre)
                .map(ChannelPre::V0_1_0)
                .map_err(|older| anyhow::anyhow!("{older:#} (nor 0.1.1: {newer:#})")),
        }
    }

    fn store(
        &self,
        manifest: &Manifest,
        tenant: &str,
        config: HashMap<String, String>,
        channel: Option<Box<Call>>,
        deadline: Deadline,
    ) -> Store<HostState> {
        let state = HostState {
            // No preopens, no environment, no sockets: WASI is linked only so std guests instantiate.
            // The wall clock is NightOwl's (injected) clock.
            wasi: WasiCtx::builder()
                .wall_clock(GuestClock(self.clock.clone()))
                .build(),
            table: ResourceTable::new(),
            memory: MemoryCap {
                max_bytes: manifest.limits.memory_mib as usize * (1 << 20),
                refused: false,
            },
            timed_out: false,
            deadline_ms: limit_of(manifest, deadline).as_millis(),
            log_budget: LOG_BUDGET,
            plugin: manifest.id.clone(),
            version: manifest.version.clone(),
            tenant: tenant.to_owned(),
            config,
            channel,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.memory);
        let deadline = Instant::now() + limit_of(manifest, deadline);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |mut ctx| {
            if Instant::now() >= deadline {
                ctx.data_mut().timed_out = true;
                Ok(UpdateDeadline::Interrupt)
            } else {
                Ok(UpdateDeadline::Continue(1))
            }
        });
        store
    }

    /// Runs `parse` of a source plugin in a fresh instance.
    pub async fn parse(
        self: &Arc<Self>,
        manifest: &Manifest,
        pre: &v0_1_0::SourcePre<HostState>,
        tenant: &str,
        config: HashMap<String, String>,
        req: &InboundRequest,
    ) -> Result<Vec<ParsedAlert>, CallError> {
        let (pre, wit_req) = (pre.clone(), v0_1_0::request(req));
        self.call(
            manifest,
            tenant,
            config,
            None,
            Wait::Bounded,
            Deadline::Call,
            move |store| {
                let instance = pre
                    .instantiate(&mut *store)
                    .map_err(|e| (FaultKind::Instantiate, e))?;
                let answer = instance
                    .nightowl_plugin_source_api()
                    .call_parse(&mut *store, &wit_req)
                    .map_err(|e| (FaultKind::Trap, e))?;
                Ok(answer
                    .map(|alerts| alerts.into_iter().map(v0_1_0::alert).collect())
                    .map_err(v0_1_0::error))
            },
        )
        .await
    }

    /// Runs `notify` of a channel plugin in a fresh instance; `channel` is what its imports act on.
    /// Also returns the longest `Retry-After` the plugin's requests were answered with.
    pub async fn notify(
        self: &Arc<Self>,
        manifest: &Manifest,
        pre: &ChannelPre,
        tenant: &str,
        config: HashMap<String, String>,
        channel: Option<Call>,
        notification: &Notification,
    ) -> (Result<Delivery, CallError>, Option<Duration>) {
        let pre = pre.clone();
        let notification = notification.clone();
        let retry_after = Arc::new(std::sync::Mutex::new(None));
        let seen = retry_after.clone();
        let result = self
            .call(
                manifest,
                tenant,
                config,
                channel,
                Wait::Always,
                Deadline::Call,
                move |store| {
                    let answer = with_channel!(&pre, store, |api, v| api
                        .call_notify(&mut *store, &v::notification(&notification))
                        .map_err(|e| (FaultKind::Trap, e))?
                        .map(v::delivery)
                        .map_err(v::error));
                    *seen.lock().unwrap_or_else(|e| e.into_inner()) =
                        store.data().channel.as_ref().and_then(|c| c.retry_after);
                    Ok(answer)
                },
            )
            .await;
        let wait = *retry_after.lock().unwrap_or_else(|e| e.into_inner());
        (result, wait)
    }

    /// Runs `handle-inbound` of a channel plugin in a fresh instance, under the manifest's inbound
    /// deadline. A request-path call: refused as busy rather than queued without bound.
    pub async fn handle_inbound(
        self: &Arc<Self>,
        manifest: &Manifest,
        pre: &ChannelPre,
        tenant: &str,
        config: HashMap<String, String>,
        channel: Option<Call>,
        req: &InboundRequest,
    ) -> Result<InboundResponse, CallError> {
        let pre = pre.clone();
        let req = req.clone();
        self.call(
            manifest,
            tenant,
            config,
            channel,
            Wait::Bounded,
            Deadline::Inbound,
            move |store| {
                Ok(with_channel!(&pre, store, |api, v| api
                    .call_handle_inbound(&mut *store, &v::request(&req))
                    .map_err(|e| (FaultKind::Trap, e))?
                    .map(v::response)
                    .map_err(v::error)))
            },
        )
        .await
    }

    /// When a call's deadline falls, for the host imports of a call about to start.
    pub fn deadline_for(manifest: &Manifest, inbound: bool) -> Instant {
        Instant::now()
            + limit_of(
                manifest,
                if inbound {
                    Deadline::Inbound
                } else {
                    Deadline::Call
                },
            )
    }

    /// Runs `body` against a fresh store on the blocking pool and classifies what went wrong.
    ///
    /// Guest code runs on tokio's blocking pool, never on a runtime worker: a guest spinning until its
    /// deadline then holds one pool thread, not a worker every other request needs. (Async calls that
    /// yield at each epoch tick were tried first: the workers stayed so busy that timers and sockets
    /// starved for the whole deadline.)
    #[allow(clippy::too_many_arguments)]
    async fn call<T: Send + 'static>(
        self: &Arc<Self>,
        manifest: &Manifest,
        tenant: &str,
        config: HashMap<String, String>,
        mut channel: Option<Call>,
        wait: Wait,
        deadline: Deadline,
        body: impl FnOnce(&mut Store<HostState>) -> Result<Result<T, PluginError>, (FaultKind, wasmtime::Error)>
        + Send
        + 'static,
    ) -> Result<T, CallError> {
        // The slot is held until the call has finished, and the deadlines below start only now.
        let Some(slot) = self.slots.acquire(tenant, wait).await else {
            self.busy.with_label_values(&[manifest.id.as_str()]).inc();
            return Err(CallError::Busy);
        };
        let this = self.clone();
        let (owned_manifest, owned_tenant) = (manifest.clone(), tenant.to_owned());
        // The host imports' deadline starts with the call, too, and a channel call's host imports
        // give the core back while they wait.
        let mut slot = Some(slot);
        if let Some(c) = channel.as_mut() {
            c.deadline = Instant::now() + limit_of(manifest, deadline);
            c.core = Some(CoreTurn {
                runtime: self.clone(),
                tenant: tenant.to_owned(),
                slot: std::sync::Mutex::new(slot.take()),
            });
        }
        let call = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let (manifest, tenant) = (&owned_manifest, owned_tenant.as_str());
            let mut store = this.store(manifest, tenant, config, channel.map(Box::new), deadline);
            match body(&mut store) {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(plugin_error)) => Err(CallError::Plugin(plugin_error)),
                Err((kind, err)) => Err(this.fault(manifest, tenant, store.data(), kind, &describe(&err))),
            }
        });
        // The epoch deadline stops guest code; this also bounds the wait when the blocking pool is
        // saturated or a host import hangs.
        let limit = limit_of(manifest, deadline) + Duration::from_secs(1);
        match tokio::time::timeout(limit, call).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(CallError::Fault {
                plugin: manifest.id.clone(),
                kind: FaultKind::Trap,
                message: format!("plugin call thread failed: {join}"),
            }),
            Err(_) => Err(CallError::Fault {
                plugin: manifest.id.clone(),
                kind: FaultKind::Timeout,
                message: format!("no answer within {} ms", limit.as_millis()),
            }),
        }
    }

    fn fault(
        &self,
        manifest: &Manifest,
        tenant: &str,
        state: &HostState,
        kind: FaultKind,
        message: &str,
    ) -> CallError {
        let kind = if state.memory.refused {
            FaultKind::Memory
        } else if state.timed_out {
            FaultKind::Timeout
        } else {
            kind
        };
        let message = match kind {
            FaultKind::Memory => format!("exceeded its memory cap of {} MiB", manifest.limits.memory_mib),
            FaultKind::Timeout => format!("ran past its {} ms deadline", state.deadline_ms),
            _ => message.lines().next().unwrap_or(message).to_owned(),
        };
        self.faults
            .with_label_values(&[manifest.id.as_str(), kind.as_str()])
            .inc();
        tracing::warn!(plugin = %manifest.id, version = %manifest.version, tenant, kind = kind.as_str(), %message, "plugin fault");
        CallError::Fault {
            plugin: manifest.id.clone(),
            kind,
            message,
        }
    }
}

fn limit_of(manifest: &Manifest, deadline: Deadline) -> Duration {
    Duration::from_millis(u64::from(match deadline {
        Deadline::Call => manifest.limits.timeout_ms,
        Deadline::Inbound => manifest.limits.inbound_timeout_ms,
    }))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use super::{CallSlots, Wait, private_dir};

    #[tokio::test]
    async fn free_slots_go_to_waiting_tenants_in_turn() {
        let slots = std::sync::Arc::new(CallSlots::new(1, 100));
        let first = slots.acquire("a", Wait::Bounded).await.unwrap();
        let served = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut waiting = Vec::new();
        // Ten calls of a flooding tenant queue first, then one of another tenant.
        for name in (0..10).map(|i| format!("a{i}")).chain(["b".to_owned()]) {
            let (slots, served) = (slots.clone(), served.clone());
            let tenant = name[..1].to_owned();
            waiting.push(tokio::spawn(async move {
                let slot = slots.acquire(&tenant, Wait::Bounded).await.expect("a turn");
                served.lock().unwrap().push(name);
                drop(slot);
            }));
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        // A call that gives up waiting does not keep its turn.
        let quitter = {
            let slots = slots.clone();
            tokio::spawn(async move { slots.acquire("c", Wait::Bounded).await.map(drop) })
        };
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        quitter.abort();
        drop(first);
        for w in waiting {
            w.await.unwrap();
        }
        let served = served.lock().unwrap().clone();
        assert_eq!(served.len(), 11);
        let b = served.iter().position(|n| n == "b").unwrap();
        assert!(b <= 1, "b waited behind {b} of a's calls: {served:?}");
        // Every slot came back.
        let t = slots.running.lock().unwrap();
        assert_eq!((t.running, t.queues.len(), t.order.len()), (0, 0, 0));
    }

    #[test]
    fn one_tenant_fills_only_its_part_of_the_queue_and_cancelled_waits_free_their_place() {
        let slots = CallSlots::new(1, 8);
        assert_eq!(slots.per_tenant, 2);
        let a: Vec<_> = (0..6).map(|_| slots.queue_place("a").unwrap()).collect();
        assert!(
            slots.queue_place("a").is_none(),
            "a's burst leaves the reserve alone"
        );
        let b1 = slots.queue_place("b").unwrap();
        let b2 = slots.queue_place("b").unwrap();
        assert!(slots.queue_place("c").is_none(), "the queue is full");
        drop(a);
        assert!(slots.queue_place("a").is_some(), "places a left are free again");
        drop((b1, b2));
        let waiting = slots.waiting.lock().unwrap();
        assert_eq!((waiting.total, waiting.by_tenant.len()), (0, 0));
    }

    #[test]
    fn the_cache_directory_is_private_and_never_another_users() {
        let root = std::env::temp_dir().join(format!("nightowl-private-dir-{}", uuid::Uuid::new_v4()));
        let dir = root.join("a/b");
        private_dir(&dir).unwrap();
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );

        let open = root.join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        private_dir(&open).unwrap();
        assert_eq!(
            std::fs::metadata(&open).unwrap().permissions().mode() & 0o777,
            0o700,
            "tightened"
        );

        let link = root.join("link");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        assert!(private_dir(&link).is_err(), "a symlink is refused");

        // Only root can give a directory away; CI runs as root.
        if rustix::process::geteuid().is_root() {
            let theirs = root.join("theirs");
            std::fs::create_dir(&theirs).unwrap();
            std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
            assert_eq!(std::fs::metadata(&theirs).unwrap().uid(), 65534);
            let err = private_dir(&theirs).unwrap_err().to_string();
            assert!(err.contains("belongs to uid 65534"), "{err}");
        }
        std::fs::remove_dir_all(&root).unwrap();
    }
}
