//! Channel dispatch: delivering one claimed notification through the channel its row names, then
//! settling the row with the outcome.
//!
//! `log` is built in: one structured log line per notification, no plugin needed.
//! Every other channel of a policy belongs to a channel plugin (`Channel::plugin_id`); a channel with
//! no installed plugin fails the delivery, which then retries and fails like any other.

use std::collections::HashMap;

use crate::db::outbox::Claimed;
use crate::notify::outbox;
use crate::plugins::{Delivery, Notification};
use crate::state::AppState;
use crate::tenancy::Slug;

/// Hands a claimed notification to its channel and settles the row with the outcome.
pub async fn deliver_claimed(
    state: &AppState,
    slug: &Slug,
    worker: &str,
    row: &Claimed,
) -> Result<(), sqlx::Error> {
    let outcome = deliver(state, slug, row).await;
    outbox::settle(state, slug, worker, row, outcome).await
}

/// Hands one notification to its channel; the error says why it did not get through.
async fn deliver(state: &AppState, slug: &Slug, row: &Claimed) -> Result<Delivery, String> {
    let mut notification: Notification = serde_json::from_value(row.payload["notification"].clone())
        .map_err(|e| format!("unreadable notification payload: {e}"))?;
    notification.attempt = u32::try_from(row.attempts).unwrap_or(1);
    let Some(plugin_id) = row.channel.plugin_id() else {
        return Ok(log(slug, row, &notification));
    };
    let plugin = state
        .plugins
        .get(plugin_id)
        .ok_or_else(|| format!("no channel plugin {plugin_id:?} is installed"))?;
    let pre = plugin
        .channel()
        .ok_or_else(|| format!("plugin {plugin_id:?} is not a channel plugin"))?;
    let mut config = HashMap::new();
    config.insert("channel".to_owned(), row.channel.to_string());
    state
        .plugins
        .runtime()
        .notify(&plugin.manifest, pre, slug.as_str(), config, &notification)
        .await
        .map_err(|e| e.to_string())
}

/// The built-in channel: one structured log line per notification.
fn log(slug: &Slug, row: &Claimed, notification: &Notification) -> Delivery {
    tracing::info!(
        tenant = %slug,
        channel = "log",
        kind = %row.kind,
        target = %row.target,
        alert_id = %row.alert_id.map(|a| a.to_string()).unwrap_or_default(),
        attempt = notification.attempt,
        notification = %serde_json::to_string(&notification.subject).unwrap_or_default(),
        "notification"
    );
    Delivery {
        external_id: Some(format!("log:{}", row.id)),
        details: vec![],
    }
}
