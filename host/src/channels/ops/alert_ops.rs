//! Channel operations on alerts: reading one, and acknowledging, resolving or escalating it as the
//! mapped user.

use nightowl_api::alerts::Alert;

use super::{ChannelActor, KbHit, OpError, find_alert, incident_url};
use crate::alerts::{self, ActionError};
use crate::channels::Call;
use crate::db;
use crate::plugins::{AlertRef, Responder};

impl Call {
    /// An alert as channels show it.
    pub fn get_alert(&self, key: &str) -> Result<AlertRef, OpError> {
        self.run(async {
            let mut tx = self.tx("system:channel").await?;
            let id = find_alert(&mut tx, key).await?;
            let alert = db::alerts::get(&mut tx, id).await?.ok_or(OpError::NotFound)?;
            Ok(crate::notify::alert_ref(&alert, &self.state.config.public_url))
        })
    }

    /// Acknowledges, resolves or escalates an alert as the mapped user. Acknowledging or escalating
    /// the alert of a page that other pages were folded into (a paging storm, `notify::fold`) does
    /// the same to their alerts: the person answered the page that stood for them all.
    pub fn act(
        &self,
        action: AlertAction,
        key: &str,
        by: &ChannelActor,
        note: Option<&str>,
    ) -> Result<(), OpError> {
        let done = self.run(async {
            let mut tx = self.tx("system:channel").await?;
            let user = self.map_actor(&mut tx, by).await?;
            let id = self.find_alert_for(&mut tx, key, &user).await?;
            let covered = match action {
                AlertAction::Resolve => vec![],
                AlertAction::Acknowledge | AlertAction::Escalate => {
                    db::outbox::covered_by_last_page(&mut tx, id, &user.id.to_string(), &self.channel_names())
                        .await?
                }
            };
            let actor = self.actor(&user);
            let now = self.now();
            // Every alert row locked in one order first: two people answering pages that cover
            // each other's alerts must not wait for each other.
            let mut all: Vec<uuid::Uuid> = std::iter::once(id).chain(covered.iter().copied()).collect();
            all.sort();
            db::alerts::lock_many(&mut tx, &all).await?;
            let mut changed = vec![];
            let mut first_error = None;
            // The named alert first: its answer is the answer.
            for (i, alert) in std::iter::once(id).chain(covered).enumerate() {
                match self.apply(&mut tx, action, alert, &actor, now).await {
                    Ok(Some(change)) => changed.push((alert, change)),
                    // Already so (acknowledged by someone else): nothing to record.
                    Ok(None) => {}
                    Err(ActionError::Db(e)) => return Err(e.into()),
                    Err(e) if i == 0 => first_error = Some(e),
                    // A covered alert resolved or no longer escalating meanwhile: nothing to do.
                    Err(_) => {}
                }
            }
            if let Some(e) = first_error
                && changed.is_empty()
            {
                return Err(match e {
                    ActionError::NotFound => OpError::NotFound,
                    other => OpError::Conflict(other.to_string()),
                });
            }
            tx.commit().await?;
            Ok((user, changed))
        })?;
        let (user, changed) = done;
        // After the commit, and not cut short by the call's deadline: a committed change keeps its
        // audit row.
        self.after(async {
            for (id, Change { fingerprint }) in &changed {
                if let Some(fingerprint) = fingerprint {
                    self.state
                        .redis
                        .forget_open_alert(&self.tenant, fingerprint)
                        .await;
                }
                let detail = serde_json::json!({ "via": self.manifest.id, "note": note });
                self.audit(&user, action.as_str(), ("alerts", id.to_string()), detail)
                    .await;
            }
        });
        Ok(())
    }

    /// One alert's action: what changed (`None`: it already was so).
    async fn apply(
        &self,
        tx: &mut sqlx::PgConnection,
        action: AlertAction,
        id: uuid::Uuid,
        actor: &alerts::Actor,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Change>, ActionError> {
        let changed = |outcome: alerts::Outcome| !matches!(outcome, alerts::Outcome::Unchanged);
        match action {
            AlertAction::Acknowledge => {
                let outcome = alerts::acknowledge(tx, &self.tenant, id, actor, now).await?;
                Ok(changed(outcome).then_some(Change { fingerprint: None }))
            }
            AlertAction::Resolve => {
                let outcome = alerts::resolve(tx, &self.tenant, id, actor, now).await?;
                let fingerprint = db::alerts::get(tx, id).await?.map(|a| a.fingerprint);
                Ok(changed(outcome).then_some(Change { fingerprint }))
            }
            AlertAction::Escalate => alerts::escalate(tx, id, actor, now)
                .await
                .map(|()| Some(Change { fingerprint: None })),
        }
    }
}

/// What an action changed on one alert.
#[derive(Debug)]
struct Change {
    /// A resolved alert's fingerprint: its open-alert cache entry goes.
    fingerprint: Option<String>,
}

/// An action on an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertAction {
    Acknowledge,
    Resolve,
    Escalate,
}

impl AlertAction {
    fn as_str(self) -> &'static str {
        match self {
            AlertAction::Acknowledge => "acknowledge",
            AlertAction::Resolve => "resolve",
            AlertAction::Escalate => "escalate",
        }
    }
}

/// Everything a channel shows about an alert beyond the summary.
#[derive(Debug, Clone)]
pub struct AlertDetails {
    pub alert: Alert,
    /// The tenant's short number of the alert.
    pub number: i64,
    pub summary: AlertRef,
    pub matched: Option<KbHit>,
    pub runbook_url: Option<String>,
    pub on_call: Vec<Responder>,
}

impl Call {
    /// The alert with its number, labels, matched incident, runbook and who is on call.
    pub fn alert_details(&self, key: &str) -> Result<AlertDetails, OpError> {
        let details = self.run(async {
            let mut tx = self.tx("system:channel").await?;
            let id = find_alert(&mut tx, key).await?;
            let alert = db::alerts::get(&mut tx, id).await?.ok_or(OpError::NotFound)?;
            let public = &self.state.config.public_url;
            let mut matched = None;
            let mut runbook_url = None;
            if let Some(incident_id) = alert.matched_incident_id
                && let Some(incident) = db::incidents::get(&mut tx, incident_id).await?
            {
                runbook_url = incident
                    .runbook_id
                    .map(|r| format!("{}/runbooks/{r}", public.trim_end_matches('/')));
                matched = Some(KbHit {
                    incident_id: incident.id.to_string(),
                    title: incident.title.clone(),
                    solution: incident.solution.clone(),
                    url: incident_url(public, incident.id),
                    score: 1.0,
                    fragments: vec![],
                });
            }
            Ok(AlertDetails {
                summary: crate::notify::alert_ref(&alert, public),
                number: alert.number,
                alert,
                matched,
                runbook_url,
                on_call: vec![],
            })
        })?;
        let on_call = self.on_call(details.alert.service.as_deref())?;
        Ok(AlertDetails { on_call, ..details })
    }
}
