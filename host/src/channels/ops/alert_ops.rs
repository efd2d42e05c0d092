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

    /// Acknowledges, resolves or escalates an alert as the mapped user.
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
            let actor = self.actor(&user);
            let now = self.now();
            let result = match action {
                AlertAction::Acknowledge => alerts::acknowledge(&mut tx, &self.tenant, id, &actor, now)
                    .await
                    .map(|_| ()),
                AlertAction::Resolve => alerts::resolve(&mut tx, &self.tenant, id, &actor, now)
                    .await
                    .map(|_| ()),
                AlertAction::Escalate => alerts::escalate(&mut tx, id, &actor, now).await,
            };
            match result {
                Ok(()) => {}
                Err(ActionError::NotFound) => return Err(OpError::NotFound),
                Err(ActionError::Db(e)) => return Err(e.into()),
                Err(other) => return Err(OpError::Conflict(other.to_string())),
            }
            let fingerprint = match action {
                AlertAction::Resolve => db::alerts::get(&mut tx, id).await?.map(|a| a.fingerprint),
                _ => None,
            };
            tx.commit().await?;
            Ok((user, id, fingerprint))
        })?;
        let (user, id, fingerprint) = done;
        // After the commit, and not cut short by the call's deadline: a committed change keeps its
        // audit row.
        self.after(async {
            if let Some(fingerprint) = fingerprint {
                self.state
                    .redis
                    .forget_open_alert(&self.tenant, &fingerprint)
                    .await;
            }
            let detail = serde_json::json!({ "via": self.manifest.id, "note": note });
            self.audit(&user, action.as_str(), ("alerts", id.to_string()), detail)
                .await;
        });
        Ok(())
    }
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
