//! Channel operations on the knowledge base: searching it, and adding an incident written in the
//! channel.

use uuid::Uuid;

use super::{ChannelActor, OpError, find_alert};
use crate::channels::Call;
use crate::db;

impl Call {
    /// Knowledge-base search, best first.
    pub fn search_kb(&self, query: &str, limit: u32) -> Result<Vec<KbHit>, OpError> {
        self.run(async {
            let mut tx = self.tx("system:channel").await?;
            let rows = db::incidents::search(
                &mut tx,
                query,
                &Default::default(),
                i64::from(limit.clamp(1, 20)),
                0,
            )
            .await?;
            Ok(rows
                .into_iter()
                .map(|r| KbHit {
                    incident_id: r.incident.id.to_string(),
                    title: r.incident.title.clone(),
                    solution: r.incident.solution.clone(),
                    url: incident_url(&self.state.config.public_url, r.incident.id),
                    score: r.rank,
                    fragments: [r.title, r.symptoms, r.solution]
                        .into_iter()
                        .filter(|f| f.iter().any(|p| p.highlighted))
                        .flatten()
                        .map(|f| (f.text, f.highlighted))
                        .collect(),
                })
                .collect())
        })
    }
}

impl Call {
    /// Creates a reviewed knowledge-base incident written in the channel, and links the alert.
    pub fn create_incident(
        &self,
        draft: IncidentDraft,
        by: &ChannelActor,
        link: Option<&str>,
    ) -> Result<KbHit, OpError> {
        use nightowl_api::Validate as _;
        let done = self.run(async {
            let mut tx = self.tx("system:channel").await?;
            let user = self.map_actor(&mut tx, by).await?;
            let alert = match link {
                Some(key) => Some(find_alert(&mut tx, key).await?),
                None => None,
            };
            let fingerprints = match alert {
                Some(id) => db::alerts::get(&mut tx, id)
                    .await?
                    .map(|a| vec![a.fingerprint])
                    .unwrap_or_default(),
                None => vec![],
            };
            let input = nightowl_api::incidents::IncidentInput {
                title: draft.title,
                fingerprints,
                severity: draft.severity,
                category: None,
                tags: vec![],
                services: draft.services,
                clusters: vec![],
                namespaces: vec![],
                symptoms: draft.symptoms,
                error_patterns: draft.error_patterns,
                root_cause: draft.root_cause,
                solution: draft.solution,
                runbook_id: None,
            };
            if let Err(errors) = input.validate() {
                return Err(OpError::Conflict(format!(
                    "the incident is not valid: {:?}",
                    errors.0
                )));
            }
            let label = self.actor(&user).label();
            let now = self.now();
            let incident = db::incidents::create(&mut tx, &input, &label, now).await?;
            if let Some(id) = alert {
                db::alerts::set_match(&mut tx, id, incident.id, incident.solution.as_deref(), true).await?;
            }
            tx.commit().await?;
            Ok((user, incident, alert))
        })?;
        let (user, incident, alert) = done;
        self.after(async {
            let detail =
                serde_json::json!({ "via": self.manifest.id, "title": incident.title, "alert": alert });
            self.audit(&user, "create", ("incidents", incident.id.to_string()), detail)
                .await;
        });
        Ok(KbHit {
            incident_id: incident.id.to_string(),
            title: incident.title.clone(),
            solution: incident.solution.clone(),
            url: incident_url(&self.state.config.public_url, incident.id),
            score: 1.0,
            fragments: vec![],
        })
    }
}

/// A knowledge-base search hit, with its highlighted fragments (text, highlighted).
#[derive(Debug, Clone, PartialEq)]
pub struct KbHit {
    pub incident_id: String,
    pub title: String,
    pub solution: Option<String>,
    pub url: String,
    pub score: f32,
    pub fragments: Vec<(String, bool)>,
}

/// Link to an incident in the NightOwl UI.
pub fn incident_url(public_url: &str, id: Uuid) -> String {
    format!("{}/incidents/{id}", public_url.trim_end_matches('/'))
}

/// A knowledge-base incident as a person wrote it in a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentDraft {
    pub title: String,
    pub severity: String,
    pub services: Vec<String>,
    pub error_patterns: Vec<String>,
    pub symptoms: Option<String>,
    pub root_cause: Option<String>,
    pub solution: Option<String>,
}
