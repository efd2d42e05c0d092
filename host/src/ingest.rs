//! The alert pipeline (ARCHITECTURE §5): source plugin `parse` → normalise → dedup → auto-resolve →
//! knowledge-base enrichment → commit. A webhook is answered 2xx only after its transaction commits,
//! so an acknowledged alert is never lost; anything invalid in a delivery rejects the whole delivery
//! before a row is written. Resolutions (the source's and an agent's) are [`crate::alerts`] actions,
//! the same ones the API runs.

pub mod normalize;

use std::collections::HashMap;

use nightowl_api::alerts::{IngestOutcome, IngestedAlert};
use sqlx::PgConnection;

use self::normalize::{NormalizeError, NormalizedAlert};
use crate::alerts::Actor;
use crate::db;
use crate::events::{self, AlertChange, AlertChangeKind};
use crate::notify::updates;
use crate::plugins::{CallError, InboundRequest, LoadedPlugin};
use crate::state::AppState;
use crate::tenancy::Slug;

/// Why a delivery was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("no source plugin {0:?} is installed")]
    UnknownSource(String),
    #[error(transparent)]
    Plugin(#[from] CallError),
    #[error(transparent)]
    Invalid(#[from] NormalizeError),
    #[error("the delivery holds {received} alerts; at most {max} are accepted per delivery")]
    TooMany { received: usize, max: usize },
}

/// Runs the source plugin and normalises what it returns. No database work happens here, so a slow
/// or faulty plugin never holds a connection.
pub async fn parse(
    state: &AppState,
    plugin: &LoadedPlugin,
    tenant: &Slug,
    req: &InboundRequest,
) -> Result<Vec<NormalizedAlert>, IngestError> {
    let pre = plugin
        .source()
        .ok_or_else(|| IngestError::UnknownSource(plugin.manifest.id.clone()))?;
    let parsed = state
        .plugins
        .runtime()
        .parse(&plugin.manifest, pre, tenant.as_str(), HashMap::new(), req)
        .await?;
    let max = state.config.max_alerts_per_delivery;
    if parsed.len() > max {
        return Err(IngestError::TooMany {
            received: parsed.len(),
            max,
        });
    }
    let alerts: Vec<NormalizedAlert> = parsed
        .into_iter()
        .enumerate()
        .map(|(i, a)| normalize::normalize(i, a))
        .collect::<Result<_, _>>()?;
    let cut: usize = alerts.iter().map(|a| a.cut_values).sum();
    state.metrics.alert_values_cut.inc_by(cut as u64);
    Ok(alerts)
}

/// Cache updates to apply once the transaction has committed.
#[derive(Debug, Default)]
pub struct CacheChanges {
    remember: Vec<(String, uuid::Uuid)>,
    forget: Vec<String>,
}

impl CacheChanges {
    /// Applies the changes to Redis (best effort: the database is authoritative).
    pub async fn apply(self, state: &AppState, tenant: &Slug) {
        for (fingerprint, id) in self.remember {
            state.redis.remember_open_alert(tenant, &fingerprint, id).await;
        }
        for fingerprint in self.forget {
            state.redis.forget_open_alert(tenant, &fingerprint).await;
        }
    }
}

/// Stores normalised alerts inside the caller's tenant transaction.
pub async fn store(
    state: &AppState,
    conn: &mut PgConnection,
    tenant: &Slug,
    source: &str,
    alerts: &[NormalizedAlert],
) -> Result<(Vec<IngestedAlert>, CacheChanges), sqlx::Error> {
    let now = state.clock.now();
    let mut results = vec![None; alerts.len()];
    let mut cache = CacheChanges::default();
    // Rows are written in fingerprint order, whatever order the delivery lists them in: two
    // deliveries of the same alerts (an Alertmanager HA pair) then take their row locks in the same
    // order and queue behind each other instead of deadlocking.
    let mut order: Vec<usize> = (0..alerts.len()).collect();
    order.sort_by(|&a, &b| alerts[a].fingerprint.cmp(&alerts[b].fingerprint));
    for i in order {
        let alert = &alerts[i];
        state
            .metrics
            .alerts_received
            .with_label_values(&[source, alert.severity.as_str()])
            .inc();
        let result = match &alert.agent {
            Some(report) if report.auto_resolved => {
                let fixed = crate::alerts::resolve_fixed(conn, tenant, source, alert, report, now).await?;
                state.metrics.alerts_agent_resolved.inc();
                cache.forget.push(alert.fingerprint.clone());
                ingested(
                    Some((fixed.alert_id, fixed.alert_number)),
                    alert,
                    IngestOutcome::AgentResolved,
                    Some(fixed.incident_id),
                )
            }
            _ if alert.resolved => {
                let by = Actor::Source(source.to_owned());
                let resolved =
                    crate::alerts::resolve_open(conn, tenant, &alert.fingerprint, alert.ends_at, &by, now)
                        .await?;
                cache.forget.push(alert.fingerprint.clone());
                match resolved {
                    Some(r) => ingested(
                        Some((r.id, r.number)),
                        alert,
                        IngestOutcome::Resolved,
                        r.matched_incident_id,
                    ),
                    None => ingested(None, alert, IngestOutcome::Ignored, None),
                }
            }
            _ => store_firing(state, conn, tenant, source, alert, now, &mut cache).await?,
        };
        results[i] = Some(result);
    }
    Ok((results.into_iter().flatten().collect(), cache))
}

/// One entry of the answer; `stored`: the alert's id and number (none for `ignored`).
fn ingested(
    stored: Option<(uuid::Uuid, i64)>,
    alert: &NormalizedAlert,
    outcome: IngestOutcome,
    matched_incident_id: Option<uuid::Uuid>,
) -> IngestedAlert {
    IngestedAlert {
        id: stored.map(|s| s.0),
        number: stored.map(|s| s.1),
        fingerprint: alert.fingerprint.clone(),
        outcome,
        matched_incident_id,
    }
}

/// A repeat of an open alert: the conversations that have a message about it hear that it fired
/// again, at most once per [`updates::REPEAT_WINDOW_SECS`] (a flapping source must not flood a
/// thread).
async fn fired_again(
    conn: &mut PgConnection,
    id: uuid::Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), sqlx::Error> {
    let change = updates::Change {
        event: crate::plugins::AlertEvent::Reminder,
        tier: 1,
        occurrence: now.timestamp().div_euclid(updates::REPEAT_WINDOW_SECS),
    };
    updates::queue(conn, id, change, &[], now).await?;
    Ok(())
}

/// Stores a firing alert: a repeat is counted on the open one (through Redis when it knows it); a new
/// one is linked to its knowledge-base match, starts escalating and is announced to the workers.
async fn store_firing(
    state: &AppState,
    conn: &mut PgConnection,
    tenant: &Slug,
    source: &str,
    alert: &NormalizedAlert,
    now: chrono::DateTime<chrono::Utc>,
    cache: &mut CacheChanges,
) -> Result<IngestedAlert, sqlx::Error> {
    // Fast path: Redis knows the open alert, so a repeat is one update by primary key.
    if let Some(id) = state.redis.open_alert(tenant, &alert.fingerprint).await
        && let Some(number) = db::alerts::bump_open(conn, id, now).await?
    {
        state.metrics.alerts_deduplicated.inc();
        fired_again(conn, id, now).await?;
        return Ok(ingested(
            Some((id, number)),
            alert,
            IngestOutcome::Deduplicated,
            None,
        ));
    }
    let stored = db::alerts::upsert_firing(conn, source, alert, now).await?;
    let (id, number) = (stored.id, stored.number);
    cache.remember.push((alert.fingerprint.clone(), id));
    if !stored.created {
        state.metrics.alerts_deduplicated.inc();
        fired_again(conn, id, now).await?;
        return Ok(ingested(
            Some((id, number)),
            alert,
            IngestOutcome::Deduplicated,
            None,
        ));
    }
    let matched = match db::incidents::by_fingerprint(conn, &alert.fingerprint).await? {
        Some(m) => Some(m),
        None => {
            let text = db::incidents::match_text(&alert.title, alert.description.as_deref());
            db::incidents::best_text_match(conn, &text).await?
        }
    };
    if let Some(m) = &matched {
        db::alerts::set_match(conn, id, m.id, m.solution.as_deref(), m.reviewed).await?;
        state.metrics.kb_hits.inc();
    }
    let severity = alert.severity;
    crate::escalation::start(conn, id, severity, alert.service.as_deref(), now).await?;
    events::publish(
        conn,
        &AlertChange {
            tenant: tenant.to_owned(),
            alert_id: id,
            event: AlertChangeKind::Created,
            severity: Some(severity),
        },
    )
    .await?;
    Ok(ingested(
        Some((id, number)),
        alert,
        IngestOutcome::Created,
        matched.map(|m| m.id),
    ))
}
