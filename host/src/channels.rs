//! What channel plugins reach through the host, beyond `log` and `config`: outbound HTTP
//! ([`egress`]), HMAC with secrets they never hold ([`crypto`]), incident operations acting as a
//! mapped NightOwl user ([`ops`]), and their per-tenant settings ([`settings`]). One plugin call's
//! context is a [`Call`]: the tenant, the plugin, its settings and the handles the imports use.
//!
//! Host imports run on the plugin call's blocking thread; the async work they do (HTTP, database)
//! is driven with the runtime handle, bounded by what is left of the call's deadline.

pub mod crypto;
pub mod egress;
pub mod ops;
pub mod settings;

use std::time::{Duration, Instant};

use crate::plugins::Manifest;
use crate::state::AppState;
use crate::tenancy::Slug;

/// One channel plugin call's view of the host.
pub struct Call {
    pub state: AppState,
    pub tenant: Slug,
    pub manifest: Manifest,
    pub settings: settings::CallSettings,
    /// The runtime the imports' async work runs on.
    pub handle: tokio::runtime::Handle,
    /// When the call must be over (host imports end by then too).
    pub deadline: Instant,
    /// The longest `Retry-After` an outbound request of this call was answered with (429/503).
    pub retry_after: Option<Duration>,
    /// The core the call runs on, given back while a host import waits (set when the call starts).
    pub core: Option<crate::plugins::runtime::CoreTurn>,
    /// A callback (`handle-inbound`): it may change nothing until the plugin has verified the
    /// request's signature ([`Call::verified`]).
    pub inbound: bool,
    /// Set when `crypto.verify-hmac` answered true in this call.
    pub verified: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("tenant", &self.tenant)
            .field("plugin", &self.manifest.id)
            .finish()
    }
}

impl Call {
    /// Runs `work` to completion on the runtime, giving up when the call's deadline passes.
    /// The call's core is free for other plugin calls meanwhile.
    pub fn block_on<T>(&self, work: impl std::future::Future<Output = T>) -> Option<T> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        let run = || {
            self.handle
                .block_on(async { tokio::time::timeout(left, work).await.ok() })
        };
        match &self.core {
            Some(core) => core.idle(&self.handle, self.deadline, run),
            None => run(),
        }
    }
}

/// Reads `tenant`'s settings for `manifest`'s plugin and makes the context of one call (its deadline
/// is set when the call starts running).
pub async fn prepare(
    state: &AppState,
    tenant: &Slug,
    manifest: &Manifest,
    inbound: bool,
) -> Result<Call, sqlx::Error> {
    let mut tx = crate::db::begin_tenant(&state.db, tenant, "system:channel").await?;
    let settings = settings::for_call(&mut tx, &state.sealer, tenant, manifest).await?;
    tx.commit().await?;
    Ok(Call {
        state: state.clone(),
        tenant: tenant.clone(),
        manifest: manifest.clone(),
        settings,
        handle: tokio::runtime::Handle::current(),
        deadline: crate::plugins::Runtime::deadline_for(manifest, inbound),
        retry_after: None,
        core: None,
        inbound,
        verified: std::sync::atomic::AtomicBool::new(false),
    })
}
