//! Incident operations through the host (`incidents`), scoped to the tenant of the call: a plugin
//! cannot name another tenant. Every function taking an alert accepts its id or its short number
//! (`1234` or `#1234`). Natively the installed [`testing::Host`](crate::testing::Host) answers from
//! the data the test scripted and records each call.
//!
//! Changes (acknowledge, resolve, escalate, create an incident) are made as an [`Actor`]: the person
//! as the channel knows them (`Actor::new("slack", "U123")`). The host maps them to a NightOwl user
//! through the profile field the manifest's `[identity]` names and answers [`OpError::Forbidden`]
//! when nobody matches (or they are inactive or below the engineer role); nothing changes then.

pub use crate::{AlertRef, Responder};

/// Everything a channel shows about an alert beyond the summary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertDetails {
    /// The summary every notice carries.
    pub alert: AlertRef,
    /// The tenant's sequential alert number, what people type to name the alert (`#1234`).
    pub number: u64,
    /// Cluster the alert comes from, when known.
    pub cluster: Option<String>,
    /// Namespace the alert comes from, when known.
    pub namespace: Option<String>,
    /// The alert's labels.
    pub labels: Vec<(String, String)>,
    /// Links back into the source (e.g. Alertmanager's generator URL).
    pub links: Vec<String>,
    /// The knowledge-base incident the alert matched, when one did.
    pub matched_incident: Option<KbHit>,
    /// Whether the suggested solution was confirmed by an engineer; false for an unreviewed fix an
    /// automated agent reported (show it as unreviewed).
    pub solution_reviewed: bool,
    /// The runbook of the matched incident, when it names one.
    pub runbook_url: Option<String>,
    /// Display name of who acknowledged it.
    pub acknowledged_by: Option<String>,
    /// RFC 3339 instant it was acknowledged.
    pub acknowledged_at: Option<String>,
    /// Display name of who resolved it.
    pub resolved_by: Option<String>,
    /// RFC 3339 instant it was resolved.
    pub resolved_at: Option<String>,
    /// RFC 3339 instant it was first received.
    pub created_at: String,
    /// Who is on call for the alert's service now, primary first.
    pub on_call: Vec<Responder>,
}

impl AlertDetails {
    /// The value of a label, when the alert has it.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Who is on call for one roster now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RosterOnCall {
    /// The roster's id.
    pub roster_id: String,
    /// The roster's name.
    pub roster: String,
    /// IANA time zone of the roster.
    pub timezone: String,
    /// Primary on call, when anyone is.
    pub primary: Option<Responder>,
    /// Secondary on call, when the roster has one.
    pub secondary: Option<Responder>,
    /// End of the current primary's shift: RFC 3339 with the roster's UTC offset.
    pub until: Option<String>,
}

/// One shift of a roster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shift {
    /// Who is on call.
    pub responder: Responder,
    /// RFC 3339 with the roster's UTC offset at that instant.
    pub start: String,
    /// RFC 3339 with the roster's UTC offset at that instant.
    pub end: String,
}

/// A knowledge-base incident found or created.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KbHit {
    /// The incident's id.
    pub incident_id: String,
    /// Its title.
    pub title: String,
    /// Its solution, when it has one.
    pub solution: Option<String>,
    /// Link to it in the NightOwl UI.
    pub url: String,
    /// Relevance (higher is better).
    pub score: f32,
}

/// A piece of highlighted text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fragment {
    /// The text.
    pub text: String,
    /// Whether these are words that matched the query.
    pub highlighted: bool,
}

/// A search hit with the passages that matched.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KbMatch {
    /// The incident.
    pub hit: KbHit,
    /// The best-matching passages, in order, highlighted.
    pub fragments: Vec<Fragment>,
}

/// A new knowledge-base incident, as a person wrote it in the channel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncidentDraft {
    /// Title (must not be empty).
    pub title: String,
    /// `critical`, `major`, `warning` or `info`.
    pub severity: String,
    /// Affected services.
    pub services: Vec<String>,
    /// Texts that identify the problem in alerts (an alert name, a log line).
    pub error_patterns: Vec<String>,
    /// What people saw.
    pub symptoms: Option<String>,
    /// Why it happened.
    pub root_cause: Option<String>,
    /// What fixed it.
    pub solution: Option<String>,
}

/// Who acted, as the channel knows them; the host maps it to a NightOwl user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    /// The plugin's own id (`slack`): the host refuses any other.
    pub channel: String,
    /// The person's id on that channel (a Slack member id, a phone number).
    pub external_id: String,
}

impl Actor {
    /// An actor on a channel.
    pub fn new(channel: impl Into<String>, external_id: impl Into<String>) -> Actor {
        Actor {
            channel: channel.into(),
            external_id: external_id.into(),
        }
    }
}

/// Why an incident operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpError {
    /// No such alert, roster or incident (in this tenant).
    NotFound,
    /// The actor is not linked to a NightOwl user, is inactive, or lacks the role.
    Forbidden(String),
    /// The change does not apply to the current state (e.g. acknowledging a resolved alert).
    Conflict(String),
    /// The host failed.
    Internal(String),
}

impl std::fmt::Display for OpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpError::NotFound => write!(f, "not found"),
            OpError::Forbidden(m) => write!(f, "forbidden: {m}"),
            OpError::Conflict(m) => write!(f, "conflict: {m}"),
            OpError::Internal(m) => write!(f, "internal error: {m}"),
        }
    }
}

impl std::error::Error for OpError {}

/// The alert summary.
pub fn get_alert(alert: &str) -> Result<AlertRef, OpError> {
    imp::get_alert(alert)
}

/// Acknowledges an alert as `by`, with an optional note.
pub fn acknowledge(alert: &str, by: &Actor, note: Option<&str>) -> Result<(), OpError> {
    imp::acknowledge(alert, by, note)
}

/// Resolves an alert as `by`, with optional notes.
pub fn resolve(alert: &str, by: &Actor, note: Option<&str>) -> Result<(), OpError> {
    imp::resolve(alert, by, note)
}

/// Escalates an alert to its next tier now, as `by`.
pub fn escalate(alert: &str, by: &Actor, reason: Option<&str>) -> Result<(), OpError> {
    imp::escalate(alert, by, reason)
}

/// Who is on call now for a service's roster (or the tenant's default roster), primary first.
pub fn on_call(service: Option<&str>) -> Result<Vec<Responder>, OpError> {
    imp::on_call(service)
}

/// Knowledge-base search, best first.
pub fn search_kb(query: &str, limit: u32) -> Result<Vec<KbHit>, OpError> {
    imp::search_kb(query, limit)
}

/// Everything about an alert, by id or short number.
pub fn alert_details(alert: &str) -> Result<AlertDetails, OpError> {
    imp::alert_details(alert)
}

/// Who is on call now for the roster with this name or id, or for every roster when `None`.
pub fn rosters_on_call(roster: Option<&str>) -> Result<Vec<RosterOnCall>, OpError> {
    imp::rosters_on_call(roster)
}

/// The next `count` shifts (at most 50) of the roster with this name or id, the current one first.
pub fn upcoming_shifts(roster: &str, count: u32) -> Result<Vec<Shift>, OpError> {
    imp::upcoming_shifts(roster, count)
}

/// Knowledge-base search with highlighted passages, best first.
pub fn search_kb_highlighted(query: &str, limit: u32) -> Result<Vec<KbMatch>, OpError> {
    imp::search_kb_highlighted(query, limit)
}

/// Creates a reviewed knowledge-base incident as `by` (an engineer or above) and, when given, links
/// that alert to it.
pub fn create_incident(
    draft: &IncidentDraft,
    by: &Actor,
    link_alert: Option<&str>,
) -> Result<KbHit, OpError> {
    imp::create_incident(draft, by, link_alert)
}

/// How a delivery ended, as the remote service reported it afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// It reached the person (the call was answered).
    Answered,
    /// It did not: the call rang out, was busy, was rejected or failed on the way.
    NotAnswered,
}

/// Tells the host how a page this plugin delivered ended: `external_id` is what `notify` answered
/// for it (a call SID), `detail` the service's word for it (`no-answer`). A page not answered
/// becomes a failed delivery; the escalation goes on at the tier's deadline. In `handle_inbound`,
/// only after the request's signature was verified (`crypto::verify_hmac`).
pub fn report_delivery(external_id: &str, outcome: DeliveryOutcome, detail: &str) -> Result<(), OpError> {
    imp::report_delivery(external_id, outcome, detail)
}

#[cfg(not(target_arch = "wasm32"))]
use crate::testing::incidents as imp;

#[cfg(target_arch = "wasm32")]
mod imp {
    //! The calls through the WIT bindings, and the conversions of their records.

    use super::*;
    use crate::wit::nightowl::plugin::incidents as wit;
    use nightowl_plugin_sdk::wit::pairs;

    pub fn get_alert(alert: &str) -> Result<AlertRef, OpError> {
        wit::get_alert(alert).map(alert_ref).map_err(op_error)
    }

    pub fn acknowledge(alert: &str, by: &Actor, note: Option<&str>) -> Result<(), OpError> {
        wit::acknowledge(alert, &actor(by), note).map_err(op_error)
    }

    pub fn resolve(alert: &str, by: &Actor, note: Option<&str>) -> Result<(), OpError> {
        wit::resolve(alert, &actor(by), note).map_err(op_error)
    }

    pub fn escalate(alert: &str, by: &Actor, reason: Option<&str>) -> Result<(), OpError> {
        wit::escalate(alert, &actor(by), reason).map_err(op_error)
    }

    pub fn on_call(service: Option<&str>) -> Result<Vec<Responder>, OpError> {
        wit::on_call(service)
            .map(|list| list.into_iter().map(responder).collect())
            .map_err(op_error)
    }

    pub fn search_kb(query: &str, limit: u32) -> Result<Vec<KbHit>, OpError> {
        wit::search_kb(query, limit)
            .map(|list| list.into_iter().map(kb_hit).collect())
            .map_err(op_error)
    }

    pub fn alert_details(alert: &str) -> Result<AlertDetails, OpError> {
        wit::alert_details(alert)
            .map(|d| AlertDetails {
                alert: alert_ref(d.alert),
                number: d.number,
                cluster: d.cluster,
                namespace: d.namespace,
                labels: pairs(d.labels),
                links: d.links,
                matched_incident: d.matched_incident.map(kb_hit),
                solution_reviewed: d.solution_reviewed,
                runbook_url: d.runbook_url,
                acknowledged_by: d.acknowledged_by,
                acknowledged_at: d.acknowledged_at,
                resolved_by: d.resolved_by,
                resolved_at: d.resolved_at,
                created_at: d.created_at,
                on_call: d.on_call.into_iter().map(responder).collect(),
            })
            .map_err(op_error)
    }

    pub fn rosters_on_call(roster: Option<&str>) -> Result<Vec<RosterOnCall>, OpError> {
        wit::rosters_on_call(roster)
            .map(|list| {
                list.into_iter()
                    .map(|r| RosterOnCall {
                        roster_id: r.roster_id,
                        roster: r.roster,
                        timezone: r.timezone,
                        primary: r.primary.map(responder),
                        secondary: r.secondary.map(responder),
                        until: r.until,
                    })
                    .collect()
            })
            .map_err(op_error)
    }

    pub fn upcoming_shifts(roster: &str, count: u32) -> Result<Vec<Shift>, OpError> {
        wit::upcoming_shifts(roster, count)
            .map(|list| {
                list.into_iter()
                    .map(|s| Shift {
                        responder: responder(s.responder),
                        start: s.start,
                        end: s.end,
                    })
                    .collect()
            })
            .map_err(op_error)
    }

    pub fn search_kb_highlighted(query: &str, limit: u32) -> Result<Vec<KbMatch>, OpError> {
        wit::search_kb_highlighted(query, limit)
            .map(|list| {
                list.into_iter()
                    .map(|m| KbMatch {
                        hit: kb_hit(m.hit),
                        fragments: m
                            .fragments
                            .into_iter()
                            .map(|f| Fragment {
                                text: f.text,
                                highlighted: f.highlighted,
                            })
                            .collect(),
                    })
                    .collect()
            })
            .map_err(op_error)
    }

    pub fn create_incident(
        draft: &IncidentDraft,
        by: &Actor,
        link_alert: Option<&str>,
    ) -> Result<KbHit, OpError> {
        let draft = wit::IncidentDraft {
            title: draft.title.clone(),
            severity: draft.severity.clone(),
            services: draft.services.clone(),
            error_patterns: draft.error_patterns.clone(),
            symptoms: draft.symptoms.clone(),
            root_cause: draft.root_cause.clone(),
            solution: draft.solution.clone(),
        };
        wit::create_incident(&draft, &actor(by), link_alert)
            .map(kb_hit)
            .map_err(op_error)
    }

    pub fn report_delivery(external_id: &str, outcome: DeliveryOutcome, detail: &str) -> Result<(), OpError> {
        let outcome = match outcome {
            DeliveryOutcome::Answered => wit::DeliveryOutcome::Answered,
            DeliveryOutcome::NotAnswered => wit::DeliveryOutcome::NotAnswered,
        };
        wit::report_delivery(external_id, outcome, detail).map_err(op_error)
    }

    /// WIT alert summary → plain (also used for notifications).
    pub fn alert_ref(a: wit::AlertRef) -> AlertRef {
        AlertRef {
            id: a.id,
            title: a.title,
            status: a.status,
            severity: a.severity,
            priority: a.priority,
            service: a.service,
            description: a.description,
            suggested_solution: a.suggested_solution,
            occurrence_count: a.occurrence_count,
            url: a.url,
        }
    }

    /// WIT responder → plain (also used for notifications).
    pub fn responder(r: wit::Responder) -> Responder {
        Responder {
            user_id: r.user_id,
            name: r.name,
            phone: r.phone,
            timezone: r.timezone,
            identities: r.identities,
        }
    }

    fn kb_hit(h: wit::KbHit) -> KbHit {
        KbHit {
            incident_id: h.incident_id,
            title: h.title,
            solution: h.solution,
            url: h.url,
            score: h.score,
        }
    }

    fn actor(a: &Actor) -> wit::Actor {
        wit::Actor {
            channel: a.channel.clone(),
            external_id: a.external_id.clone(),
        }
    }

    fn op_error(e: wit::OpError) -> OpError {
        match e {
            wit::OpError::NotFound => OpError::NotFound,
            wit::OpError::Forbidden(m) => OpError::Forbidden(m),
            wit::OpError::Conflict(m) => OpError::Conflict(m),
            wit::OpError::Internal(m) => OpError::Internal(m),
        }
    }
}

/// Conversions the notification glue shares with this module.
#[cfg(target_arch = "wasm32")]
pub(crate) use imp::{alert_ref, responder};
