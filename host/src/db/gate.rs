//! Fair shares of the connection pool between tenants.
//!
//! Every request transaction of a tenant (`TenantTx`, webhook deliveries) first takes a permit of
//! that tenant's gate: at most [`TenantGate::share`] transactions of one tenant hold connections at
//! once, so a tenant flooding the API (30 concurrent 1,500-alert deliveries) keeps the rest of the
//! pool free for the others, whose requests then never wait on its backlog. A request that cannot
//! get its tenant's permit within [`GATE_WAIT`] is answered 503 with `Retry-After`; it held no
//! connection while it waited. Background workers are not gated: they visit tenants one by one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Longest a request waits for its tenant's share before it is refused.
pub const GATE_WAIT: Duration = Duration::from_secs(5);

/// Per-tenant limits on concurrent request transactions.
#[derive(Debug)]
pub struct TenantGate {
    share: usize,
    tenants: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// The tenant already uses its whole share and none came free in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("this tenant's requests already use their share of the database")]
pub struct OverShare;

impl TenantGate {
    /// A gate letting each tenant hold `percent` % of `pool_size` connections (at least one).
    pub fn new(pool_size: u32, percent: u32) -> TenantGate {
        let share = (pool_size as usize * percent.min(100) as usize / 100).max(1);
        TenantGate {
            share,
            tenants: Mutex::new(HashMap::new()),
        }
    }

    /// Connections one tenant's requests may hold at once.
    pub fn share(&self) -> usize {
        self.share
    }

    /// Waits (up to [`GATE_WAIT`]) for a permit of `tenant`'s share; hold it for as long as the
    /// transaction.
    pub async fn enter(&self, tenant: &str) -> Result<OwnedSemaphorePermit, OverShare> {
        let semaphore = {
            let mut tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(
                tenants
                    .entry(tenant.to_owned())
                    .or_insert_with(|| Arc::new(Semaphore::new(self.share))),
            )
        };
        match tokio::time::timeout(GATE_WAIT, semaphore.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(OverShare),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_tenant_at_its_share_does_not_hold_up_another() {
        let gate = TenantGate::new(4, 50);
        assert_eq!(gate.share(), 2);
        let _a1 = gate.enter("a").await.unwrap();
        let _a2 = gate.enter("a").await.unwrap();
        let third = tokio::time::timeout(Duration::from_millis(50), gate.enter("a")).await;
        assert!(third.is_err(), "a third transaction of a waits");
        let b = tokio::time::timeout(Duration::from_millis(50), gate.enter("b")).await;
        assert!(b.is_ok_and(|p| p.is_ok()), "b gets in at once");
        assert_eq!(TenantGate::new(1, 10).share(), 1, "at least one");
    }
}
