//! The `incidents` host interface: what a channel plugin may do to the tenant of its call, and who it
//! does it as.
//!
//! **Actors.** A plugin speaks only for people of its own channel: `actor.channel` must be the
//! plugin's id, and `actor.external-id` is matched against the user profile field the manifest's
//! `[identity]` names (`slack_user_id`, `phone`, `email`). An unknown or inactive person, or one below
//! engineer, is [`OpError::Forbidden`] and nothing changes. The action is then the same domain
//! function the API calls ([`crate::alerts`]), as that user "via <plugin>": the alert's history, its
//! escalation steps and the audit log name the same person.
//!
//! **Alerts** are named by id or by the tenant's short number (`1234`, `#1234`).

use chrono::{DateTime, Utc};
use nightowl_api::Role;
use nightowl_api::admin::ActorType;
use nightowl_api::alerts::{Alert, AlertKey};
use sqlx::PgConnection;
use uuid::Uuid;

use super::Call;
use crate::alerts::{self, ActionError, Actor};
use crate::audit::AuditEntry;
use crate::db;
use crate::plugins::{AlertRef, Responder};

/// Why an operation did not happen (the WIT `op-error`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpError {
    #[error("not found")]
    NotFound,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<sqlx::Error> for OpError {
    fn from(e: sqlx::Error) -> OpError {
        tracing::warn!(error = %e, "channel operation failed in the database");
        OpError::Internal("the operation failed; try again".to_owned())
    }
}

/// Who acts, as the channel knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelActor {
    pub channel: String,
    pub external_id: String,
}

/// A NightOwl user a channel actor was mapped to.
#[derive(Debug, Clone)]
struct Mapped {
    id: Uuid,
    email: String,
}

/// The alert a person named (a UUID, `1234` or `#1234`, read by [`AlertKey`]); anything else, or an
/// alert the tenant does not have, is [`OpError::NotFound`].
async fn find_alert(conn: &mut PgConnection, key: &str) -> Result<Uuid, OpError> {
    let key = AlertKey::parse(key).ok_or(OpError::NotFound)?;
    db::alerts::resolve_key(conn, key).await?.ok_or(OpError::NotFound)
}

impl Call {
    async fn tx(&self, label: &str) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, OpError> {
        Ok(db::begin_tenant(&self.state.db, &self.tenant, label).await?)
    }

    fn now(&self) -> DateTime<Utc> {
        self.state.clock.now()
    }

    /// Runs what follows a commit (the audit row, cache upkeep) to its end, whatever is left of the
    /// call's deadline; each of those bounds its own wait.
    fn after(&self, work: impl std::future::Future<Output = ()>) {
        self.handle.block_on(work);
    }

    fn run<T>(&self, work: impl std::future::Future<Output = Result<T, OpError>>) -> Result<T, OpError> {
        self.block_on(work)
            .unwrap_or_else(|| Err(OpError::Internal("the call's deadline passed".to_owned())))
    }

    /// Maps a channel actor to an active NightOwl user of engineer role or above. In a callback, only
    /// once the plugin has verified the request's signature: a plugin that forgot to cannot let an
    /// unsigned request change anything.
    async fn map_actor(&self, conn: &mut PgConnection, actor: &ChannelActor) -> Result<Mapped, OpError> {
        if self.inbound && !self.verified.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(OpError::Forbidden(
                "the callback's signature was not verified (crypto.verify-hmac) before acting".to_owned(),
            ));
        }
        if actor.channel != self.manifest.id {
            return Err(OpError::Forbidden(format!(
                "plugin {} may only act for its own users, not for {:?}",
                self.manifest.id, actor.channel
            )));
        }
        let Some(identity) = &self.manifest.identity else {
            return Err(OpError::Forbidden(format!(
                "plugin {} declares no [identity]; it cannot act as anyone",
                self.manifest.id
            )));
        };
        let unknown = || {
            OpError::Forbidden(format!(
                "no active NightOwl user of role engineer or above is linked to {} {}",
                self.manifest.id, actor.external_id
            ))
        };
        let found = db::users::by_identity(conn, identity.user_field, &actor.external_id).await?;
        // Two active people sharing one identity cannot tell who acted: nobody does.
        let active: Vec<_> = found.into_iter().filter(|u| u.is_active).collect();
        match active.as_slice() {
            [user] if Role::parse(&user.role).is_some_and(|r| r >= Role::Engineer) => Ok(Mapped {
                id: user.id,
                email: user.email.clone(),
            }),
            _ => Err(unknown()),
        }
    }

    fn actor(&self, user: &Mapped) -> Actor {
        Actor::User {
            email: user.email.clone(),
            via: Some(self.manifest.id.clone()),
        }
    }

    async fn audit(&self, user: &Mapped, action: &str, resource: (&str, String), detail: serde_json::Value) {
        let by = self.actor(user);
        self.state
            .audit
            .record_now(AuditEntry {
                tenant: self.tenant.clone(),
                actor_type: ActorType::User,
                actor_id: Some(user.id.to_string()),
                actor_label: by.label(),
                action: action.to_owned(),
                resource_type: resource.0.to_owned(),
                resource_id: Some(resource.1),
                diff: Some(detail),
                ip: None,
                user_agent: Some(format!("nightowl-plugin/{}", self.manifest.id)),
                request_id: None,
                created_at: self.now(),
            })
            .await;
    }

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
            let id = find_alert(&mut tx, key).await?;
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

    /// Who is on call now for a service's roster (the tenant default when none), primary first.
    pub fn on_call(&self, service: Option<&str>) -> Result<Vec<Responder>, OpError> {
        self.run(async {
            let mut tx = self.tx("system:channel").await?;
            let roster = match service {
                Some(name) => db::services::roster_of(&mut tx, name).await?,
                None => None,
            };
            let roster = match roster {
                Some(r) => Some(r),
                None => db::config::default_roster(&mut tx).await?,
            };
            let Some(roster) = roster.map(|id| db::rosters::get(&mut tx, id)) else {
                return Ok(vec![]);
            };
            let Some(roster) = roster.await? else {
                return Ok(vec![]);
            };
            let resolved = db::rosters::on_call(&mut tx, roster, self.now()).await?;
            let Some(answer) = resolved.answer else {
                return Ok(vec![]);
            };
            let ids: Vec<Uuid> = [Some(answer.primary), answer.secondary]
                .into_iter()
                .flatten()
                .collect();
            let people = db::users::people(&mut tx, &ids).await?;
            Ok(people.iter().map(crate::notify::responder).collect())
        })
    }

    /// Knowledge-base search, best first.
    pub fn search_kb(&self, query: &str, limit: u32) -> Result<Vec<KbHit>, OpError> {
        self.run(async {
            let mut tx = self.tx("system:channel").await?;
            let rows = db::incidents::search(&mut tx, query, i64::from(limit.clamp(1, 20)), 0).await?;
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

/// Who is on call for a roster now.
#[derive(Debug, Clone)]
pub struct RosterOnCall {
    pub roster_id: Uuid,
    pub roster: String,
    pub timezone: String,
    pub primary: Option<Responder>,
    pub secondary: Option<Responder>,
    /// End of the current shift, in the roster's time zone.
    pub until: Option<String>,
}

/// One rotation shift, in the roster's time zone.
#[derive(Debug, Clone)]
pub struct ShiftView {
    pub responder: Responder,
    pub start: String,
    pub end: String,
}

/// The longest list of shifts one call returns.
pub const MAX_SHIFTS: u32 = 50;

/// An instant as RFC 3339 with the roster's UTC offset at that instant.
fn local(tz: &str, t: DateTime<Utc>) -> String {
    match tz.parse::<chrono_tz::Tz>() {
        Ok(tz) => t.with_timezone(&tz).to_rfc3339(),
        Err(_) => t.to_rfc3339(),
    }
}

impl Call {
    async fn rosters_named(
        &self,
        conn: &mut PgConnection,
        name: Option<&str>,
    ) -> Result<Vec<nightowl_api::rosters::Roster>, OpError> {
        let all = db::rosters::list(conn).await?;
        let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
            return Ok(all);
        };
        let wanted = name.to_lowercase();
        let found: Vec<_> = all
            .into_iter()
            .filter(|r| r.id.to_string() == wanted || r.name.to_lowercase() == wanted)
            .collect();
        if found.is_empty() {
            return Err(OpError::NotFound);
        }
        Ok(found)
    }

    /// Who is on call now for the roster with this name or id, or for every roster.
    pub fn rosters_on_call(&self, roster: Option<&str>) -> Result<Vec<RosterOnCall>, OpError> {
        self.run(async {
            let mut tx = self.tx("system:channel").await?;
            let now = self.now();
            let mut out = Vec::new();
            for roster in self.rosters_named(&mut tx, roster).await? {
                let (id, name, tz) = (roster.id, roster.name.clone(), roster.timezone.clone());
                let resolved = db::rosters::on_call(&mut tx, roster, now).await?;
                let (mut primary, mut secondary, mut until) = (None, None, None);
                if let Some(answer) = resolved.answer {
                    let ids: Vec<Uuid> = [Some(answer.primary), answer.secondary]
                        .into_iter()
                        .flatten()
                        .collect();
                    let people = db::users::people(&mut tx, &ids).await?;
                    let find = |id: Option<Uuid>| {
                        people
                            .iter()
                            .find(|p| Some(p.id) == id)
                            .map(crate::notify::responder)
                    };
                    primary = find(Some(answer.primary));
                    secondary = find(answer.secondary);
                    let ends = match &answer.override_active {
                        Some(o) => Some(o.ends_at),
                        None => answer.shift.ends_at,
                    };
                    until = ends.map(|t| local(&tz, t));
                }
                out.push(RosterOnCall {
                    roster_id: id,
                    roster: name,
                    timezone: tz,
                    primary,
                    secondary,
                    until,
                });
            }
            Ok(out)
        })
    }

    /// The next `count` rotation shifts of a roster, the current one first.
    pub fn upcoming_shifts(&self, roster: &str, count: u32) -> Result<Vec<ShiftView>, OpError> {
        self.run(async {
            let mut tx = self.tx("system:channel").await?;
            let roster = self
                .rosters_named(&mut tx, Some(roster))
                .await?
                .into_iter()
                .next()
                .ok_or(OpError::NotFound)?;
            let Some(rotation) = db::rosters::rotation(&roster) else {
                return Ok(vec![]);
            };
            let now = self.now();
            let first = rotation.shift_index(now).unwrap_or(0).max(0);
            let shifts: Vec<_> = (first..first + i64::from(count.clamp(1, MAX_SHIFTS)))
                .map(|k| rotation.shift(k))
                .filter(|s| s.ends_at.is_none_or(|end| end > now))
                .collect();
            let ids: Vec<Uuid> = shifts.iter().map(|s| s.primary).collect();
            let people = db::users::people(&mut tx, &ids).await?;
            Ok(shifts
                .iter()
                .filter_map(|s| {
                    let person = people.iter().find(|p| p.id == s.primary)?;
                    Some(ShiftView {
                        responder: crate::notify::responder(person),
                        start: local(&roster.timezone, s.starts_at),
                        end: s.ends_at.map(|t| local(&roster.timezone, t)).unwrap_or_default(),
                    })
                })
                .collect())
        })
    }
}
