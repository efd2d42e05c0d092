//! The optional Redis link. NightOwl must keep working while Redis is absent or down, so the
//! connection is made lazily and every use has a short timeout.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::Mutex;

const OP_TIMEOUT: Duration = Duration::from_millis(500);

/// Handle to Redis, or to nothing when no URL is configured.
pub struct Redis {
    client: Option<redis::Client>,
    conn: Mutex<Option<ConnectionManager>>,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("configured", &self.client.is_some())
            .finish()
    }
}

/// State of the Redis link as reported by readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedisHealth {
    Ok,
    Down,
    Disabled,
}

impl RedisHealth {
    /// Name used in `/readyz`.
    pub fn as_str(self) -> &'static str {
        match self {
            RedisHealth::Ok => "ok",
            RedisHealth::Down => "down",
            RedisHealth::Disabled => "disabled",
        }
    }
}

impl Redis {
    /// Parses the URL; does not connect (Redis may come up later).
    pub fn new(url: Option<&str>) -> anyhow::Result<Redis> {
        let client = url.map(redis::Client::open).transpose()?;
        Ok(Redis {
            client,
            conn: Mutex::new(None),
        })
    }

    /// A connection, created on first use; `None` when Redis is disabled or unreachable.
    pub async fn connection(&self) -> Option<ConnectionManager> {
        let client = self.client.as_ref()?;
        let mut slot = self.conn.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Some(conn.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(OP_TIMEOUT)
            .set_response_timeout(OP_TIMEOUT)
            .set_number_of_retries(1);
        match tokio::time::timeout(
            OP_TIMEOUT * 2,
            ConnectionManager::new_with_config(client.clone(), config),
        )
        .await
        {
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
    pub async fn health(&self) -> RedisHealth {
        if self.client.is_none() {
            return RedisHealth::Disabled;
        }
        let Some(mut conn) = self.connection().await else {
            return RedisHealth::Down;
        };
        let ping = redis::cmd("PING");
        match tokio::time::timeout(OP_TIMEOUT, ping.query_async::<String>(&mut conn)).await {
            Ok(Ok(_)) => RedisHealth::Ok,
            _ => {
                // Start from a fresh connection next time rather than trusting the manager's
                // own reconnect schedule, so recovery shows as soon as Redis is back.
                *self.conn.lock().await = None;
                RedisHealth::Down
            }
        }
    }
}
