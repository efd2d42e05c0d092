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
//!
//! This module maps actors, audits and runs an operation under the call's deadline; the operations
//! are in `alert_ops` (read, acknowledge, resolve, escalate), `deliveries` (how a page ended),
//! `knowledge` (search, new incidents) and `rosters` (who is on call, the next shifts).

use chrono::{DateTime, Utc};
use nightowl_api::Role;
use nightowl_api::admin::ActorType;
use nightowl_api::alerts::AlertKey;
use sqlx::PgConnection;
use uuid::Uuid;

use super::Call;

mod alert_ops;
mod deliveries;
mod knowledge;
mod rosters;

use crate::alerts::Actor;
use crate::audit::AuditEntry;
use crate::db;
pub use alert_ops::{AlertAction, AlertDetails};
pub use deliveries::DeliveryOutcome;
pub use knowledge::{IncidentDraft, KbHit, incident_url};
pub use rosters::{MAX_SHIFTS, RosterOnCall, ShiftView};

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

/// What "last" names when a person acts: the alert this plugin's channels last paged them about (a
/// bare `ack` SMS reply).
pub const LAST: &str = "last";

impl Call {
    /// The alert a person acting through this plugin names: by id, by number, or [`LAST`].
    async fn find_alert_for(
        &self,
        conn: &mut PgConnection,
        key: &str,
        user: &Mapped,
    ) -> Result<Uuid, OpError> {
        if !key.trim().eq_ignore_ascii_case(LAST) {
            return find_alert(conn, key).await;
        }
        db::outbox::last_alert_to(conn, &user.id.to_string(), &self.channel_names())
            .await?
            .ok_or(OpError::NotFound)
    }

    /// The channel names whose notifications this plugin delivers (`sms` → twilio, ...).
    fn channel_names(&self) -> Vec<String> {
        nightowl_api::escalation::BUILTIN_CHANNELS
            .iter()
            .filter_map(|c| nightowl_api::escalation::Channel::parse(c))
            .chain(nightowl_api::escalation::Channel::parse(&self.manifest.id))
            .filter(|c| c.plugin_id() == Some(self.manifest.id.as_str()))
            .map(|c| c.to_string())
            .collect()
    }
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
}
