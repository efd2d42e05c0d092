//! Channel dispatch: delivering one claimed notification through the channel its row names, then
//! settling the row with the outcome. A page to a person first passes the paging-storm rule
//! ([`fold`]): it may wait, or take other pages along (the channel then reads the `nightowl.bundle.*`
//! config values).
//!
//! `log` is built in: one structured log line per notification, no plugin needed.
//! Every other channel of a policy belongs to a channel plugin (`Channel::plugin_id`), called with
//! the tenant's settings for it ([`crate::channels::prepare`]). A channel with no installed plugin
//! fails the delivery, which then retries and fails like any other; a plugin the tenant has not
//! configured, or a plugin's own refusal other than `upstream`, fails it at once (a retry would not
//! mend it). Faults and upstream failures are retried once, after the channel's `Retry-After` when
//! it sent one.

use crate::db::outbox::Claimed;
use crate::notify::fold::{self, Bundle, Gate};
use crate::notify::outbox::{self, Failure};
use crate::plugins::{CallError, Delivery, Notification, PluginError, Subject};
use crate::state::AppState;
use crate::tenancy::Slug;

/// Hands a claimed notification to its channel and settles the row with the outcome.
pub async fn deliver_claimed(
    state: &AppState,
    slug: &Slug,
    worker: &str,
    row: &Claimed,
) -> Result<(), sqlx::Error> {
    let bundle = match fold::gate(state, slug, worker, row).await? {
        Gate::Deliver(bundle) => bundle,
        // Pending again (the paging interval), or gone out inside another page.
        Gate::Deferred | Gate::Drop => return Ok(()),
    };
    let outcome = deliver(state, slug, row, bundle.as_ref()).await;
    outbox::settle(state, slug, worker, row, outcome).await
}

/// Hands one notification to its channel; the failure says why it did not get through and whether
/// a retry may help.
async fn deliver(
    state: &AppState,
    slug: &Slug,
    row: &Claimed,
    bundle: Option<&Bundle>,
) -> Result<Delivery, Failure> {
    let mut notification: Notification = serde_json::from_value(row.payload["notification"].clone())
        .map_err(|e| Failure::permanent(format!("unreadable notification payload: {e}")))?;
    notification.attempt = u32::try_from(row.attempts).unwrap_or(1);
    let Some(plugin_id) = row.channel.plugin_id() else {
        return Ok(log(slug, row, &notification));
    };
    // A plugin installed later may still deliver the retry.
    let plugin = state
        .plugins
        .get(plugin_id)
        .ok_or_else(|| Failure::transient(format!("no channel plugin {plugin_id:?} is installed"), None))?;
    let pre = plugin
        .channel()
        .ok_or_else(|| Failure::permanent(format!("plugin {plugin_id:?} is not a channel plugin")))?;
    refresh(state, slug, row, &mut notification)
        .await
        .map_err(|e| Failure::transient(format!("the alert could not be read: {e}"), None))?;
    let call = crate::channels::prepare(state, slug, &plugin.manifest, false)
        .await
        .map_err(|e| Failure::transient(format!("plugin settings could not be read: {e}"), None))?;
    if !call.settings.missing.is_empty() {
        return Err(Failure::permanent(format!(
            "plugin {plugin_id} is not configured for this tenant: {} missing (PUT /api/v1/admin/plugins/{plugin_id}/config)",
            call.settings.missing.join(", ")
        )));
    }
    let mut config = call.settings.values.clone();
    config.insert("nightowl.channel".to_owned(), row.channel.to_string());
    config.insert("nightowl.tenant".to_owned(), slug.to_string());
    // A page (`alert`) or a status notice about one (`update`), a handoff notice, ...: a channel that
    // calls people must tell a later tier's page from a notice.
    config.insert("nightowl.kind".to_owned(), row.kind.to_string());
    config.insert(
        "nightowl.public_url".to_owned(),
        state.config.public_url.trim_end_matches('/').to_owned(),
    );
    if let Some(bundle) = bundle {
        config.extend(bundle.config());
    }
    let (result, retry_after) = state
        .plugins
        .runtime()
        .notify(
            &plugin.manifest,
            pre,
            slug.as_str(),
            config,
            Some(call),
            &notification,
        )
        .await;
    result.map_err(|e| match e {
        // Only an upstream failure (the remote API, the network) may pass; the plugin's other
        // refusals (bad settings, unknown channel, revoked credentials) and its faults will not.
        CallError::Plugin(PluginError::Upstream(m)) => Failure::transient(m, retry_after),
        CallError::Plugin(other) => Failure::permanent(other.to_string()),
        fault @ (CallError::Fault { .. } | CallError::Busy) => Failure::transient(fault.to_string(), None),
    })
}

/// Brings an alert notice up to date before a channel sees it: the alert as it is now (a notice
/// queued before an acknowledge shows it acknowledged), and the first message this channel already
/// delivered to the same target about it, for the channel to edit or reply in its thread.
async fn refresh(
    state: &AppState,
    slug: &Slug,
    row: &Claimed,
    notification: &mut Notification,
) -> Result<(), sqlx::Error> {
    let (Some(alert_id), Subject::Alert { alert, .. }) = (row.alert_id, &mut notification.subject) else {
        return Ok(());
    };
    let mut tx = crate::db::begin_tenant(&state.db, slug, "system:outbox").await?;
    if let Some(current) = crate::db::alerts::get(&mut tx, alert_id).await? {
        *alert = crate::notify::alert_ref(&current, &state.config.public_url);
    }
    if notification.previous_external_id.is_none() {
        notification.previous_external_id =
            crate::db::outbox::first_message(&mut tx, alert_id, &row.channel, &row.target).await?;
    }
    tx.commit().await
}

/// The built-in channel: one structured log line per notification, naming an alert by its id and
/// its short number (what a person reading the log types to act on it).
fn log(slug: &Slug, row: &Claimed, notification: &Notification) -> Delivery {
    tracing::info!(
        tenant = %slug,
        channel = "log",
        kind = %row.kind,
        target = %row.target,
        alert_id = %row.alert_id.map(|a| a.to_string()).unwrap_or_default(),
        alert_number = alert_number(notification),
        attempt = notification.attempt,
        notification = %serde_json::to_string(&notification.subject).unwrap_or_default(),
        "notification"
    );
    Delivery {
        external_id: Some(format!("log:{}", row.id)),
        details: vec![],
    }
}

/// The short number of the alert a notification is about; `None` for other notices and for
/// payloads stored before alerts had numbers (which carry 0).
fn alert_number(notification: &Notification) -> Option<i64> {
    match &notification.subject {
        Subject::Alert { alert, .. } => Some(alert.number).filter(|n| *n > 0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_line_names_the_alert_by_number_and_payloads_stored_before_numbers_still_read() {
        let mut stored = serde_json::json!({
            "subject": {"type": "alert", "event": "triggered", "tier": 1, "alert": {
                "id": "00000000-0000-0000-0000-000000000007", "title": "Disk full", "status": "firing",
                "severity": "critical", "priority": "P1", "service": null, "description": null,
                "suggested_solution": null, "occurrence_count": 1, "url": "http://nightowl/alerts/7"}},
            "destination": {"group": "ops"},
            "previous_external_id": null,
            "attempt": 1
        });
        let before: Notification = serde_json::from_value(stored.clone()).unwrap();
        assert_eq!(alert_number(&before), None);
        stored["subject"]["alert"]["number"] = 12.into();
        let now: Notification = serde_json::from_value(stored).unwrap();
        assert_eq!(alert_number(&now), Some(12));
        let handoff = Notification {
            subject: Subject::OncallChanged {
                roster: "ops".to_owned(),
                previous: None,
                current: None,
            },
            ..now
        };
        assert_eq!(alert_number(&handoff), None);
    }
}
