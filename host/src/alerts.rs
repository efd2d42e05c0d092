//! Alert actions — acknowledge, resolve, escalate — with one owner whoever asks: the API, a source
//! plugin's resolved notification, an agent's fix, and (next) the Slack and Twilio callbacks.
//!
//! Every action takes the caller's tenant-scoped transaction, the tenant's slug (for the event), an
//! [`Actor`] and one `now`, and does all of its work in that transaction: the state change, stopping
//! or advancing the escalation, the history, the lifecycle event for the workers. Nothing is visible
//! until the caller commits, and a rolled-back action leaves no trace. Because one `now` is used
//! throughout, the alert's `acknowledged_at` and its escalation's `acknowledged` step carry the same
//! instant.
//!
//! A new caller (a Slack button, an SMS reply) does what the HTTP handlers do:
//!
//! ```ignore
//! let mut tx = db::begin_tenant(&state.db, &tenant.slug, &by.label()).await?;
//! match alerts::acknowledge(&mut tx, tenant.slug.as_str(), alert_id, &by, state.clock.now()).await {
//!     Ok(Outcome::Changed | Outcome::Unchanged) => tx.commit().await?, // answer "acknowledged"
//!     Err(ActionError::Resolved) => {}                                    // answer "already resolved"
//!     Err(other) => return Err(other.into()),
//! }
//! ```
//!
//! Acknowledging and resolving also queue a status notice for every conversation a channel already
//! has a message about the alert in ([`crate::notify::updates`]), in the same transaction.
//!
//! After a resolve commits, the caller forgets the fingerprint in the Redis dedup cache (best effort:
//! a stale entry only costs the fast path one miss).

use chrono::{DateTime, Utc};
use nightowl_api::alerts::{AlertStatus, Severity};
use nightowl_api::escalation::EscalationAction;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::auth::{self, Principal};
use crate::db;
use crate::db::alerts::Resolved;
use crate::events::{self, AlertChange, AlertChangeKind};
use crate::ingest::normalize::{AgentReport, NormalizedAlert};
use crate::plugins::AlertEvent;
use crate::tenancy::Slug;

/// Who acts on an alert. Its [`label`](Actor::label) is what the history shows: `acknowledged_by`,
/// `resolved_by`, the `by` of escalation steps, an incident's `last_resolved_by`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A person, by e-mail: signed in to the API, or identified by a channel callback (the Slack
    /// user or the phone number of a NightOwl user), `via` that channel plugin.
    User { email: String, via: Option<String> },
    /// An API key, by its display prefix.
    ApiKey { prefix: String },
    /// A source plugin that reported the alert resolved, by plugin id.
    Source(String),
    /// An agent that fixed the alert, by the name it reported.
    Agent(String),
    /// NightOwl itself or a development principal, labelled as named.
    System(String),
}

impl Actor {
    /// The label stored in the history.
    pub fn label(&self) -> String {
        match self {
            Actor::User { email, via: None } => email.clone(),
            Actor::User {
                email,
                via: Some(via),
            } => format!("{email} via {via}"),
            Actor::ApiKey { prefix } => format!("key:{prefix}"),
            Actor::Source(id) => format!("source:{id}"),
            Actor::Agent(name) => format!("agent:{name}"),
            Actor::System(name) => name.clone(),
        }
    }
}

impl From<&Principal> for Actor {
    fn from(p: &Principal) -> Actor {
        match &p.actor {
            auth::Actor::User { email, .. } => Actor::User {
                email: email.clone(),
                via: None,
            },
            auth::Actor::ApiKey { prefix, .. } => Actor::ApiKey {
                prefix: prefix.clone(),
            },
            auth::Actor::Dev => Actor::System("dev".to_owned()),
            auth::Actor::Channel { plugin } => Actor::System(format!("channel:{plugin}")),
        }
    }
}

/// Why an action was refused.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("alert not found")]
    NotFound,
    #[error("a resolved alert cannot be acknowledged")]
    Resolved,
    #[error("the alert has no running escalation (acknowledged, resolved, exhausted or never routed)")]
    NotEscalating,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Whether an action changed the alert. Repeating an action is allowed and changes nothing: no
/// second history entry, no second event for the workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Changed,
    Unchanged,
}

/// Acknowledges a firing alert and stops its escalation (cancelling notifications not yet handed to
/// a channel). An acknowledged alert is left as it is; a resolved one is refused.
pub async fn acknowledge(
    conn: &mut PgConnection,
    tenant: &Slug,
    id: Uuid,
    by: &Actor,
    now: DateTime<Utc>,
) -> Result<Outcome, ActionError> {
    let alert = db::alerts::lock(conn, id).await?.ok_or(ActionError::NotFound)?;
    match alert.status {
        AlertStatus::Resolved => Err(ActionError::Resolved),
        AlertStatus::Acknowledged => Ok(Outcome::Unchanged),
        AlertStatus::Firing => {
            let label = by.label();
            db::alerts::set_acknowledged(conn, id, &label, now).await?;
            crate::escalation::stop(conn, id, EscalationAction::Acknowledged, &label, now).await?;
            publish(conn, tenant, id, AlertChangeKind::Acknowledged, alert.severity).await?;
            status_update(conn, id, AlertEvent::Acknowledged, now).await?;
            Ok(Outcome::Changed)
        }
    }
}

/// Resolves an open alert by id: counts the resolution on its knowledge-base incident, stops its
/// escalation. An already resolved alert is left as it is.
pub async fn resolve(
    conn: &mut PgConnection,
    tenant: &Slug,
    id: Uuid,
    by: &Actor,
    now: DateTime<Utc>,
) -> Result<Outcome, ActionError> {
    let label = by.label();
    match db::alerts::resolve(conn, id, &label, now).await? {
        None => Err(ActionError::NotFound),
        Some(None) => Ok(Outcome::Unchanged),
        Some(Some(resolved)) => {
            count_on_incident(conn, &resolved, &label, now).await?;
            after_resolve(conn, tenant, resolved.id, resolved.severity, &label, now).await?;
            Ok(Outcome::Changed)
        }
    }
}

/// Resolves the open alert with this fingerprint, as [`resolve`] does, for a source that reports
/// the problem gone (`ends_at`: when it says it ended). `None` when no alert with it is open.
pub async fn resolve_open(
    conn: &mut PgConnection,
    tenant: &Slug,
    fingerprint: &str,
    ends_at: Option<DateTime<Utc>>,
    by: &Actor,
    now: DateTime<Utc>,
) -> Result<Option<Resolved>, sqlx::Error> {
    let label = by.label();
    let resolved = db::alerts::resolve_by_fingerprint(conn, fingerprint, ends_at, &label, now).await?;
    if let Some(resolved) = &resolved {
        count_on_incident(conn, resolved, &label, now).await?;
        after_resolve(conn, tenant, resolved.id, resolved.severity, &label, now).await?;
    }
    Ok(resolved)
}

/// An alert an agent fixed, and the knowledge-base incident that records the fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentFixed {
    pub alert_id: Uuid,
    pub alert_number: i64,
    pub incident_id: Uuid,
}

/// Resolves an alert an agent reports having fixed: the open alert with its fingerprint, else a new
/// alert stored already resolved. The fix is recorded in the knowledge base (a resolution on the
/// incident knowing the fingerprint, or a new incident from the report), which is where the
/// resolution counts, and the alert is linked to it.
pub async fn resolve_fixed(
    conn: &mut PgConnection,
    tenant: &Slug,
    source: &str,
    alert: &NormalizedAlert,
    report: &AgentReport,
    now: DateTime<Utc>,
) -> Result<AgentFixed, sqlx::Error> {
    let by = Actor::Agent(report.agent.clone().unwrap_or_else(|| source.to_owned()));
    let label = by.label();
    let (alert_id, alert_number, severity) =
        match db::alerts::resolve_by_fingerprint(conn, &alert.fingerprint, alert.ends_at, &label, now).await?
        {
            Some(resolved) => (resolved.id, resolved.number, resolved.severity),
            None => {
                let (id, number) = db::alerts::insert_resolved(conn, source, alert, &label, now).await?;
                (id, number, alert.severity)
            }
        };
    let fix = db::incidents::AgentFix {
        title: &alert.title,
        fingerprint: &alert.fingerprint,
        service: alert.service.as_deref(),
        symptoms: alert.description.as_deref(),
        root_cause: report.root_cause.as_deref(),
        action: report.action.as_deref(),
        agent: &label,
        severity: alert.severity,
    };
    let incident_id = db::incidents::record_agent_fix(conn, fix, now).await?;
    // What the agent did is its own report: unreviewed, whatever the incident it counts on.
    db::alerts::set_match(conn, alert_id, incident_id, report.action.as_deref(), false).await?;
    after_resolve(conn, tenant, alert_id, severity, &label, now).await?;
    Ok(AgentFixed {
        alert_id,
        alert_number,
        incident_id,
    })
}

/// Fires the alert's next escalation tier now instead of at its deadline, and wakes the workers so
/// it goes out at once.
pub async fn escalate(
    conn: &mut PgConnection,
    id: Uuid,
    by: &Actor,
    now: DateTime<Utc>,
) -> Result<(), ActionError> {
    if !db::alerts::exists(conn, id).await? {
        return Err(ActionError::NotFound);
    }
    if !crate::escalation::escalate_now(conn, id, &by.label(), Some("manual"), now).await? {
        return Err(ActionError::NotEscalating);
    }
    events::wake(conn).await?;
    Ok(())
}

/// Counts a resolution on the alert's knowledge-base incident, if it is linked to one: the running
/// mean of minutes from first firing to resolution.
async fn count_on_incident(
    conn: &mut PgConnection,
    resolved: &Resolved,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    if let Some(incident) = resolved.matched_incident_id {
        let minutes = (now - resolved.first_fired_at).num_seconds().max(0) as f64 / 60.0;
        db::incidents::record_resolution(conn, incident, minutes, by, now).await?;
    }
    Ok(())
}

/// What every resolution does once the alert is resolved: stop paging, tell the workers.
async fn after_resolve(
    conn: &mut PgConnection,
    tenant: &Slug,
    id: Uuid,
    severity: Severity,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    crate::escalation::stop(conn, id, EscalationAction::Resolved, by, now).await?;
    publish(conn, tenant, id, AlertChangeKind::Resolved, severity).await?;
    status_update(conn, id, AlertEvent::Resolved, now).await
}

/// Tells every conversation that has a message about the alert what happened to it.
async fn status_update(
    conn: &mut PgConnection,
    id: Uuid,
    event: AlertEvent,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let change = crate::notify::updates::Change {
        event,
        tier: 1,
        occurrence: 0,
    };
    crate::notify::updates::queue(conn, id, change, &[], now).await?;
    Ok(())
}

/// Queues the lifecycle event in the caller's transaction.
async fn publish(
    conn: &mut PgConnection,
    tenant: &Slug,
    alert_id: Uuid,
    event: AlertChangeKind,
    severity: Severity,
) -> Result<(), sqlx::Error> {
    events::publish(
        conn,
        &AlertChange {
            tenant: tenant.to_owned(),
            alert_id,
            event,
            severity: Some(severity),
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_who_acted_as_the_history_shows_it() {
        let cases = [
            (
                Actor::User {
                    email: "alice@acme.example".into(),
                    via: None,
                },
                "alice@acme.example",
            ),
            (
                Actor::User {
                    email: "alice@acme.example".into(),
                    via: Some("slack".into()),
                },
                "alice@acme.example via slack",
            ),
            (
                Actor::ApiKey {
                    prefix: "nwl_abcdefgh".into(),
                },
                "key:nwl_abcdefgh",
            ),
            (Actor::Source("alertmanager".into()), "source:alertmanager"),
            (Actor::Agent("k8s-healer".into()), "agent:k8s-healer"),
            (Actor::System("dev".into()), "dev"),
        ];
        for (actor, label) in cases {
            assert_eq!(actor.label(), label);
        }
    }
}
