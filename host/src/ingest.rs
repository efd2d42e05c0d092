//! The alert pipeline (ARCHITECTURE §5): source plugin `parse` → normalise → dedup → auto-resolve →
//! knowledge-base enrichment → commit. A webhook is answered 2xx only after its transaction commits,
//! so an acknowledged alert is never lost; anything invalid in a delivery rejects the whole delivery
//! before a row is written.

pub mod normalize;

use std::collections::HashMap;

use nightowl_api::alerts::{IngestOutcome, IngestedAlert};
use sqlx::PgConnection;

use self::normalize::{NormalizeError, NormalizedAlert};
use crate::db;
use crate::events::{self, AlertEvent, AlertEventKind};
use crate::plugins::{CallError, InboundRequest, LoadedPlugin};
use crate::state::AppState;

/// Why a delivery was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("no source plugin {0:?} is installed")]
    UnknownSource(String),
    #[error(transparent)]
    Plugin(#[from] CallError),
    #[error(transparent)]
    Invalid(#[from] NormalizeError),
}

/// Runs the source plugin and normalises what it returns. No database work happens here, so a slow
/// or faulty plugin never holds a connection.
pub async fn parse(
    state: &AppState,
    plugin: &LoadedPlugin,
    tenant: &str,
    req: &InboundRequest,
) -> Result<Vec<NormalizedAlert>, IngestError> {
    let pre = plugin
        .source()
        .ok_or_else(|| IngestError::UnknownSource(plugin.manifest.id.clone()))?;
    let parsed = state
        .plugins
        .runtime()
        .parse(&plugin.manifest, pre, tenant, HashMap::new(), req)
        .await?;
    Ok(parsed
        .into_iter()
        .enumerate()
        .map(|(i, a)| normalize::normalize(i, a))
        .collect::<Result<_, _>>()?)
}

/// Cache updates to apply once the transaction has committed.
#[derive(Debug, Default)]
pub struct CacheChanges {
    remember: Vec<(String, uuid::Uuid)>,
    forget: Vec<String>,
}

impl CacheChanges {
    /// Applies the changes to Redis (best effort: the database is authoritative).
    pub async fn apply(self, state: &AppState, tenant: &str) {
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
    tenant: &str,
    source: &str,
    alerts: &[NormalizedAlert],
) -> Result<(Vec<IngestedAlert>, CacheChanges), sqlx::Error> {
    let now = state.clock.now();
    let mut results = Vec::with_capacity(alerts.len());
    let mut cache = CacheChanges::default();
    for alert in alerts {
        state
            .metrics
            .alerts_received
            .with_label_values(&[source, alert.severity.as_str()])
            .inc();
        let result = match &alert.agent {
            Some(agent) if agent.auto_resolved => {
                let by = format!("agent:{}", agent.agent.as_deref().unwrap_or(source));
                let id = match db::alerts::resolve_by_fingerprint(
                    conn,
                    &alert.fingerprint,
                    alert.ends_at,
                    &by,
                    now,
                )
                .await?
                {
                    // The agent's fix is counted on the incident by `record_agent_fix` below.
                    Some(resolved) => resolved.id,
                    None => db::alerts::insert_resolved(conn, source, alert, &by, now).await?,
                };
                let fix = db::incidents::AgentFix {
                    title: &alert.title,
                    fingerprint: &alert.fingerprint,
                    service: alert.service.as_deref(),
                    symptoms: alert.description.as_deref(),
                    root_cause: agent.root_cause.as_deref(),
                    action: agent.action.as_deref(),
                    agent: &by,
                    severity: alert.severity.as_str(),
                };
                let incident = db::incidents::record_agent_fix(conn, fix, now).await?;
                db::alerts::set_match(conn, id, incident, agent.action.as_deref()).await?;
                state.metrics.alerts_agent_resolved.inc();
                cache.forget.push(alert.fingerprint.clone());
                ingested(Some(id), alert, IngestOutcome::AgentResolved, Some(incident))
            }
            _ if alert.resolved => {
                let by = format!("source:{source}");
                let resolved =
                    db::alerts::resolve_by_fingerprint(conn, &alert.fingerprint, alert.ends_at, &by, now)
                        .await?;
                cache.forget.push(alert.fingerprint.clone());
                match resolved {
                    Some(r) => {
                        r.record_on_incident(conn, &by, now).await?;
                        ingested(Some(r.id), alert, IngestOutcome::Resolved, r.matched_incident_id)
                    }
                    None => ingested(None, alert, IngestOutcome::Ignored, None),
                }
            }
            _ => store_firing(state, conn, tenant, source, alert, now, &mut cache).await?,
        };
        let event = match result.outcome {
            IngestOutcome::Created => Some(AlertEventKind::Created),
            IngestOutcome::Resolved | IngestOutcome::AgentResolved => Some(AlertEventKind::Resolved),
            IngestOutcome::Deduplicated | IngestOutcome::Ignored => None,
        };
        if let (Some(event), Some(alert_id)) = (event, result.id) {
            match event {
                AlertEventKind::Created => {
                    let service = alert.service.as_deref();
                    crate::escalation::start(conn, alert_id, alert.severity.as_str(), service, now).await?;
                }
                _ => {
                    crate::escalation::stop(conn, alert_id, "resolved", &format!("source:{source}"), now)
                        .await?;
                }
            }
            let severity = Some(alert.severity.as_str().to_owned());
            events::publish(
                conn,
                &AlertEvent {
                    tenant: tenant.to_owned(),
                    alert_id,
                    event,
                    severity,
                },
            )
            .await?;
        }
        results.push(result);
    }
    Ok((results, cache))
}

fn ingested(
    id: Option<uuid::Uuid>,
    alert: &NormalizedAlert,
    outcome: IngestOutcome,
    matched_incident_id: Option<uuid::Uuid>,
) -> IngestedAlert {
    IngestedAlert {
        id,
        fingerprint: alert.fingerprint.clone(),
        outcome,
        matched_incident_id,
    }
}

async fn store_firing(
    state: &AppState,
    conn: &mut PgConnection,
    tenant: &str,
    source: &str,
    alert: &NormalizedAlert,
    now: chrono::DateTime<chrono::Utc>,
    cache: &mut CacheChanges,
) -> Result<IngestedAlert, sqlx::Error> {
    // Fast path: Redis knows the open alert, so a repeat is one update by primary key.
    if let Some(id) = state.redis.open_alert(tenant, &alert.fingerprint).await
        && db::alerts::bump_open(conn, id, now).await?
    {
        state.metrics.alerts_deduplicated.inc();
        return Ok(ingested(Some(id), alert, IngestOutcome::Deduplicated, None));
    }
    let (id, created) = db::alerts::upsert_firing(conn, source, alert, now).await?;
    cache.remember.push((alert.fingerprint.clone(), id));
    if !created {
        state.metrics.alerts_deduplicated.inc();
        return Ok(ingested(Some(id), alert, IngestOutcome::Deduplicated, None));
    }
    let matched = match db::incidents::by_fingerprint(conn, &alert.fingerprint).await? {
        Some(m) => Some(m),
        None => {
            let text = db::incidents::match_text(&alert.title, alert.description.as_deref());
            db::incidents::best_text_match(conn, &text).await?
        }
    };
    if let Some(m) = &matched {
        db::alerts::set_match(conn, id, m.id, m.solution.as_deref()).await?;
        state.metrics.kb_hits.inc();
    }
    Ok(ingested(
        Some(id),
        alert,
        IngestOutcome::Created,
        matched.map(|m| m.id),
    ))
}
