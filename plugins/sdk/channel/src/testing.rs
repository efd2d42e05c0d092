//! The native test double of the host (compiled outside wasm only). A test builds a [`Host`] with what
//! the host would know — settings, secrets, scripted HTTP answers, alerts, rosters, knowledge-base
//! hits, which people are linked — and installs it on its thread; the SDK's [`http`](crate::http),
//! [`crypto`](crate::crypto), [`incidents`](crate::incidents), [`config`](crate::config) and
//! [`now_unix`](crate::now_unix) then answer from it, and the test reads back what the plugin did
//! with [`requests`] and [`calls`].
//!
//! The double behaves like the host where a plugin's logic depends on it: HTTP only to `https://`
//! URLs; HMACs computed with the real algorithms (so a published signature vector checks out);
//! incident changes refused with `forbidden` for people not [linked](Host::link), `not_found` for
//! unknown alerts or rosters, `conflict` for changes to a resolved alert, and alerts found by id or
//! short number (`12`, `#12`). Each test runs on its own thread, so tests do not share a double.

use std::cell::RefCell;
use std::collections::VecDeque;

use hmac::{Hmac, Mac};

use crate::crypto::{Alg, CryptoError};
use crate::http::{self, HttpError};
use crate::incidents::{
    Actor, AlertDetails, DeliveryOutcome, IncidentDraft, KbHit, KbMatch, OpError, Responder, RosterOnCall,
    Shift,
};

thread_local! {
    static HOST: RefCell<Host> = RefCell::new(Host::default());
}

/// What the host knows, for one test. Build it with the chained methods, then [`install`](Host::install).
#[derive(Debug, Default)]
pub struct Host {
    now: Option<i64>,
    settings: Vec<(String, String)>,
    secrets: Vec<(String, Vec<u8>)>,
    http: Vec<(String, VecDeque<Result<http::Response, HttpError>>)>,
    alerts: Vec<AlertDetails>,
    rosters: Vec<RosterOnCall>,
    shifts: Vec<(String, Vec<Shift>)>,
    kb: Vec<KbMatch>,
    linked: Vec<Actor>,
    failures: Vec<(Op, OpError)>,
    requests: Vec<http::Request>,
    calls: Vec<Call>,
    created: u32,
}

/// An `incidents` function, to make it fail with [`Host::fail`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// [`incidents::get_alert`](crate::incidents::get_alert)
    GetAlert,
    /// [`incidents::acknowledge`](crate::incidents::acknowledge)
    Acknowledge,
    /// [`incidents::resolve`](crate::incidents::resolve)
    Resolve,
    /// [`incidents::escalate`](crate::incidents::escalate)
    Escalate,
    /// [`incidents::on_call`](crate::incidents::on_call)
    OnCall,
    /// [`incidents::search_kb`](crate::incidents::search_kb)
    SearchKb,
    /// [`incidents::alert_details`](crate::incidents::alert_details)
    AlertDetails,
    /// [`incidents::rosters_on_call`](crate::incidents::rosters_on_call)
    RostersOnCall,
    /// [`incidents::upcoming_shifts`](crate::incidents::upcoming_shifts)
    UpcomingShifts,
    /// [`incidents::search_kb_highlighted`](crate::incidents::search_kb_highlighted)
    SearchKbHighlighted,
    /// [`incidents::create_incident`](crate::incidents::create_incident)
    CreateIncident,
    /// [`incidents::report_delivery`](crate::incidents::report_delivery)
    ReportDelivery,
}

/// One `incidents` call as the plugin made it.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// `get_alert(alert)`
    GetAlert(String),
    /// `acknowledge(alert, by, note)`
    Acknowledge {
        /// The alert as the plugin named it.
        alert: String,
        /// Who.
        by: Actor,
        /// The note.
        note: Option<String>,
    },
    /// `resolve(alert, by, note)`
    Resolve {
        /// The alert as the plugin named it.
        alert: String,
        /// Who.
        by: Actor,
        /// The notes.
        note: Option<String>,
    },
    /// `escalate(alert, by, reason)`
    Escalate {
        /// The alert as the plugin named it.
        alert: String,
        /// Who.
        by: Actor,
        /// The reason.
        reason: Option<String>,
    },
    /// `on_call(service)`
    OnCall(Option<String>),
    /// `search_kb(query, limit)`
    SearchKb {
        /// The query.
        query: String,
        /// The limit.
        limit: u32,
    },
    /// `alert_details(alert)`
    AlertDetails(String),
    /// `rosters_on_call(roster)`
    RostersOnCall(Option<String>),
    /// `upcoming_shifts(roster, count)`
    UpcomingShifts {
        /// The roster as the plugin named it.
        roster: String,
        /// How many.
        count: u32,
    },
    /// `search_kb_highlighted(query, limit)`
    SearchKbHighlighted {
        /// The query.
        query: String,
        /// The limit.
        limit: u32,
    },
    /// `create_incident(draft, by, link_alert)`
    CreateIncident {
        /// The draft.
        draft: IncidentDraft,
        /// Who.
        by: Actor,
        /// The alert to link.
        link_alert: Option<String>,
    },
    /// `report_delivery(external_id, outcome, detail)`
    ReportDelivery {
        /// What `notify` answered for the delivery.
        external_id: String,
        /// How it ended.
        outcome: DeliveryOutcome,
        /// The service's word for it.
        detail: String,
    },
}

impl Call {
    /// The function called.
    pub fn op(&self) -> Op {
        match self {
            Call::GetAlert(_) => Op::GetAlert,
            Call::Acknowledge { .. } => Op::Acknowledge,
            Call::Resolve { .. } => Op::Resolve,
            Call::Escalate { .. } => Op::Escalate,
            Call::OnCall(_) => Op::OnCall,
            Call::SearchKb { .. } => Op::SearchKb,
            Call::AlertDetails(_) => Op::AlertDetails,
            Call::RostersOnCall(_) => Op::RostersOnCall,
            Call::UpcomingShifts { .. } => Op::UpcomingShifts,
            Call::SearchKbHighlighted { .. } => Op::SearchKbHighlighted,
            Call::CreateIncident { .. } => Op::CreateIncident,
            Call::ReportDelivery { .. } => Op::ReportDelivery,
        }
    }
}

impl Host {
    /// An empty host: no settings, no secrets, no HTTP answers, no data, the system clock.
    pub fn new() -> Host {
        Host::default()
    }

    /// Sets the wall clock ([`now_unix`](crate::now_unix)), in seconds since the Unix epoch.
    pub fn now(mut self, unix: i64) -> Host {
        self.now = Some(unix);
        self
    }

    /// Sets a non-secret setting (what [`config::get`](crate::config::get) answers), including the
    /// host's reserved `nightowl.*` keys.
    pub fn config(mut self, key: &str, value: &str) -> Host {
        self.settings.retain(|(k, _)| k != key);
        self.settings.push((key.into(), value.into()));
        self
    }

    /// Sets the value of a secret setting, which keys [`crypto`](crate::crypto). (The plugin never
    /// reads it; [`config::get`](crate::config::get) answers `None` for it, as on the host.)
    pub fn secret(mut self, name: &str, value: &str) -> Host {
        self.secrets.retain(|(k, _)| k != name);
        self.secrets.push((name.into(), value.as_bytes().to_vec()));
        self
    }

    /// Answers requests to exactly this URL with `response`. Several answers for one URL are given
    /// in order; the last one repeats. A request to a URL without an answer fails with
    /// [`HttpError::Connection`].
    pub fn http(self, url: &str, response: http::Response) -> Host {
        self.script(url, Ok(response))
    }

    /// Fails requests to exactly this URL with `error` (in order with [`http`](Host::http) answers).
    pub fn http_error(self, url: &str, error: HttpError) -> Host {
        self.script(url, Err(error))
    }

    fn script(mut self, url: &str, answer: Result<http::Response, HttpError>) -> Host {
        match self.http.iter_mut().find(|(u, _)| u == url) {
            Some((_, answers)) => answers.push_back(answer),
            None => self.http.push((url.into(), VecDeque::from([answer]))),
        }
        self
    }

    /// An alert the host knows (by its id and its number).
    pub fn alert(mut self, alert: AlertDetails) -> Host {
        self.alerts.push(alert);
        self
    }

    /// A roster and who is on call for it now.
    pub fn roster(mut self, roster: RosterOnCall) -> Host {
        self.rosters.push(roster);
        self
    }

    /// The upcoming shifts of a roster (by its name or id).
    pub fn shifts(mut self, roster: &str, shifts: Vec<Shift>) -> Host {
        self.shifts.push((roster.into(), shifts));
        self
    }

    /// A knowledge-base hit; searches answer every hit, best first as given, up to their limit.
    pub fn kb(mut self, hit: KbMatch) -> Host {
        self.kb.push(hit);
        self
    }

    /// A person linked to a NightOwl user (an engineer), who may change incidents.
    pub fn link(mut self, channel: &str, external_id: &str) -> Host {
        self.linked.push(Actor::new(channel, external_id));
        self
    }

    /// Makes every call of `op` fail with `error`.
    pub fn fail(mut self, op: Op, error: OpError) -> Host {
        self.failures.push((op, error));
        self
    }

    /// Makes this the host of the calling thread (replacing any earlier one), settings included.
    pub fn install(self) {
        nightowl_plugin_sdk::config::set_native(self.settings.clone());
        HOST.set(self);
    }
}

/// The HTTP requests the plugin sent on this thread since the host was installed, in order.
pub fn requests() -> Vec<http::Request> {
    HOST.with_borrow(|h| h.requests.clone())
}

/// The `incidents` calls the plugin made on this thread since the host was installed, in order.
pub fn calls() -> Vec<Call> {
    HOST.with_borrow(|h| h.calls.clone())
}

/// An alert as the host knows it now (after the plugin's acknowledge, resolve, ...).
pub fn alert(alert: &str) -> Option<AlertDetails> {
    HOST.with_borrow(|h| h.find_alert(alert).cloned())
}

/// Moves the wall clock of the installed host.
pub fn set_now(unix: i64) {
    HOST.with_borrow_mut(|h| h.now = Some(unix));
}

pub(crate) fn now() -> Option<i64> {
    HOST.with_borrow(|h| h.now)
}

pub(crate) fn http_send(req: &http::Request) -> Result<http::Response, HttpError> {
    HOST.with_borrow_mut(|h| {
        h.requests.push(req.clone());
        if !req.url.starts_with("https://") {
            return Err(HttpError::Denied(format!("{} is not https", req.url)));
        }
        let Some((_, answers)) = h.http.iter_mut().find(|(u, _)| *u == req.url) else {
            return Err(HttpError::Connection(format!(
                "no scripted answer for {}",
                req.url
            )));
        };
        if answers.len() > 1 {
            answers.pop_front().unwrap_or(Err(HttpError::Timeout))
        } else {
            answers.front().cloned().unwrap_or(Err(HttpError::Timeout))
        }
    })
}

fn secret(key: &str) -> Result<Vec<u8>, CryptoError> {
    HOST.with_borrow(|h| h.secrets.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
        .ok_or_else(|| CryptoError(format!("secret {key} is not set")))
}

fn invalid_key(e: hmac::digest::InvalidLength) -> CryptoError {
    CryptoError(e.to_string())
}

pub(crate) fn hmac(alg: Alg, key: &str, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let secret = secret(key)?;
    Ok(match alg {
        Alg::Sha1 => Hmac::<sha1::Sha1>::new_from_slice(&secret)
            .map_err(invalid_key)?
            .chain_update(data)
            .finalize()
            .into_bytes()
            .to_vec(),
        Alg::Sha256 => Hmac::<sha2::Sha256>::new_from_slice(&secret)
            .map_err(invalid_key)?
            .chain_update(data)
            .finalize()
            .into_bytes()
            .to_vec(),
    })
}

/// Compares in constant time, as the host does.
pub(crate) fn verify_hmac(alg: Alg, key: &str, data: &[u8], mac: &[u8]) -> Result<bool, CryptoError> {
    let secret = secret(key)?;
    Ok(match alg {
        Alg::Sha1 => Hmac::<sha1::Sha1>::new_from_slice(&secret)
            .map_err(invalid_key)?
            .chain_update(data)
            .verify_slice(mac)
            .is_ok(),
        Alg::Sha256 => Hmac::<sha2::Sha256>::new_from_slice(&secret)
            .map_err(invalid_key)?
            .chain_update(data)
            .verify_slice(mac)
            .is_ok(),
    })
}

impl Host {
    fn find_alert(&self, key: &str) -> Option<&AlertDetails> {
        self.alerts.iter().find(|a| matches_alert(a, key))
    }

    fn find_alert_mut(&mut self, key: &str) -> Option<&mut AlertDetails> {
        self.alerts.iter_mut().find(|a| matches_alert(a, key))
    }

    /// Records the call and answers a scripted failure of its function, when there is one.
    fn enter(&mut self, call: Call) -> Result<(), OpError> {
        let op = call.op();
        self.calls.push(call);
        match self.failures.iter().find(|(o, _)| *o == op) {
            Some((_, e)) => Err(e.clone()),
            None => Ok(()),
        }
    }

    fn authorize(&self, by: &Actor) -> Result<(), OpError> {
        if self.linked.contains(by) {
            Ok(())
        } else {
            Err(OpError::Forbidden(format!(
                "{} user {} is not linked to a NightOwl user",
                by.channel, by.external_id
            )))
        }
    }

    /// The shared path of acknowledge, resolve and escalate: who, which alert, not resolved.
    fn change(&mut self, key: &str, by: &Actor, to: Option<&str>) -> Result<(), OpError> {
        self.authorize(by)?;
        let alert = self.find_alert_mut(key).ok_or(OpError::NotFound)?;
        if alert.alert.status == "resolved" {
            return Err(OpError::Conflict(format!(
                "alert #{} is already resolved",
                alert.number
            )));
        }
        match to {
            Some("acknowledged") => alert.acknowledged_by = Some(by.external_id.clone()),
            Some("resolved") => alert.resolved_by = Some(by.external_id.clone()),
            _ => {}
        }
        if let Some(status) = to {
            alert.alert.status = status.into();
        }
        Ok(())
    }

    fn roster_names(&self, key: &str) -> Vec<String> {
        let mut names = vec![key.to_string()];
        if let Some(r) = self
            .rosters
            .iter()
            .find(|r| r.roster_id == key || r.roster.eq_ignore_ascii_case(key))
        {
            names.push(r.roster.clone());
            names.push(r.roster_id.clone());
        }
        names
    }
}

fn matches_alert(a: &AlertDetails, key: &str) -> bool {
    a.alert.id == key || key.trim_start_matches('#').parse::<u64>().ok() == Some(a.number)
}

/// The `incidents` functions answered from the installed host.
pub(crate) mod incidents {
    use super::*;

    pub fn get_alert(alert: &str) -> Result<crate::AlertRef, OpError> {
        HOST.with_borrow_mut(|h| {
            h.enter(Call::GetAlert(alert.into()))?;
            h.find_alert(alert)
                .map(|a| a.alert.clone())
                .ok_or(OpError::NotFound)
        })
    }

    pub fn acknowledge(alert: &str, by: &Actor, note: Option<&str>) -> Result<(), OpError> {
        HOST.with_borrow_mut(|h| {
            h.enter(Call::Acknowledge {
                alert: alert.into(),
                by: by.clone(),
                note: note.map(Into::into),
            })?;
            h.change(alert, by, Some("acknowledged"))
        })
    }

    pub fn resolve(alert: &str, by: &Actor, note: Option<&str>) -> Result<(), OpError> {
        HOST.with_borrow_mut(|h| {
            h.enter(Call::Resolve {
                alert: alert.into(),
                by: by.clone(),
                note: note.map(Into::into),
            })?;
            h.change(alert, by, Some("resolved"))
        })
    }

    pub fn escalate(alert: &str, by: &Actor, reason: Option<&str>) -> Result<(), OpError> {
        HOST.with_borrow_mut(|h| {
            h.enter(Call::Escalate {
                alert: alert.into(),
                by: by.clone(),
                reason: reason.map(Into::into),
            })?;
            h.change(alert, by, None)
        })
    }

    pub fn on_call(service: Option<&str>) -> Result<Vec<Responder>, OpError> {
        HOST.with_borrow_mut(|h| {
            h.enter(Call::OnCall(service.map(Into::into)))?;
            Ok(h.rosters
                .iter()
                .flat_map(|r| r.primary.iter().chain(r.secondary.iter()).cloned())
                .collect())
        })
    }

    pub fn search_kb(query: &str, limit: u32) -> Result<Vec<KbHit>, OpError> {
        HOST.with_borrow_mut(|h| {
            h.enter(Call::SearchKb {
                query: query.into(),
                limit,
            })?;
            Ok(h.kb.iter().take(limit as usize).map(|m| m.hit.clone()).collect())
        })
    }

    pub fn alert_details(alert: &str) -> Result<AlertDetails, OpError> {
        HOST.with_borrow_mut(|h| {
            h.enter(Call::AlertDetails(alert.into()))?;
            h.find_alert(alert).cloned().ok_or(OpError::NotFound)
        })
    }

    pub fn rosters_on_call(roster: Option<&str>) -> Result<Vec<RosterOnCall>, OpError> {
        HOST.with_borrow_mut(|h| {
            h.enter(Call::RostersOnCall(roster.map(Into::into)))?;
            match roster {
                None => Ok(h.rosters.clone()),
                Some(key) => {
                    let found: Vec<RosterOnCall> = h
                        .rosters
                        .iter()
                        .filter(|r| r.roster_id == key || r.roster.eq_ignore_ascii_case(key))
                        .cloned()
                        .collect();
                    if found.is_empty() {
                        Err(OpError::NotFound)
                    } else {
                        Ok(found)
                    }
                }
            }
        })
    }

    pub fn upcoming_shifts(roster: &str, count: u32) -> Result<Vec<Shift>, OpError> {
        HOST.with_borrow_mut(|h| {
            h.enter(Call::UpcomingShifts {
                roster: roster.into(),
                count,
            })?;
            let names = h.roster_names(roster);
            h.shifts
                .iter()
                .find(|(r, _)| names.iter().any(|n| n.eq_ignore_ascii_case(r)))
                .map(|(_, shifts)| shifts.iter().take(count.min(50) as usize).cloned().collect())
                .ok_or(OpError::NotFound)
        })
    }

    pub fn search_kb_highlighted(query: &str, limit: u32) -> Result<Vec<KbMatch>, OpError> {
        HOST.with_borrow_mut(|h| {
            h.enter(Call::SearchKbHighlighted {
                query: query.into(),
                limit,
            })?;
            Ok(h.kb.iter().take(limit as usize).cloned().collect())
        })
    }

    pub fn report_delivery(external_id: &str, outcome: DeliveryOutcome, detail: &str) -> Result<(), OpError> {
        HOST.with_borrow_mut(|h| {
            h.enter(Call::ReportDelivery {
                external_id: external_id.into(),
                outcome,
                detail: detail.into(),
            })
        })
    }

    pub fn create_incident(
        draft: &IncidentDraft,
        by: &Actor,
        link_alert: Option<&str>,
    ) -> Result<KbHit, OpError> {
        HOST.with_borrow_mut(|h| {
            h.enter(Call::CreateIncident {
                draft: draft.clone(),
                by: by.clone(),
                link_alert: link_alert.map(Into::into),
            })?;
            h.authorize(by)?;
            if draft.title.trim().is_empty() {
                return Err(OpError::Conflict("the title is empty".into()));
            }
            if let Some(key) = link_alert {
                h.find_alert(key).ok_or(OpError::NotFound)?;
            }
            h.created += 1;
            let id = format!("inc-{}", h.created);
            let hit = KbHit {
                url: format!("https://nightowl.test/incidents/{id}"),
                incident_id: id,
                title: draft.title.clone(),
                solution: draft.solution.clone(),
                score: 1.0,
            };
            if let Some(alert) = link_alert.and_then(|key| h.find_alert_mut(key)) {
                alert.matched_incident = Some(hit.clone());
                alert.solution_reviewed = true;
            }
            Ok(hit)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{crypto, incidents as inc, now_unix};

    #[test]
    fn hmac_matches_rfc_4231_test_case_2() {
        Host::new().secret("k", "Jefe").install();
        let mac = crypto::hmac(Alg::Sha256, "k", b"what do ya want for nothing?").unwrap();
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            crypto::verify_hmac(Alg::Sha256, "k", b"what do ya want for nothing?", &mac),
            Ok(true)
        );
        assert_eq!(
            crypto::verify_hmac(Alg::Sha256, "k", b"what do ya want for nothing!", &mac),
            Ok(false)
        );
        assert_eq!(
            crypto::verify_hmac(Alg::Sha1, "k", b"what do ya want for nothing?", &mac),
            Ok(false)
        );
        assert!(crypto::hmac(Alg::Sha1, "unset", b"x").is_err());
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn http_answers_in_order_then_repeats_the_last_and_records_requests() {
        Host::new()
            .http("https://a.test/x", http::Response::new(500, "busy"))
            .http("https://a.test/x", http::Response::new(200, "ok"))
            .install();
        let req = http::Request::post("https://a.test/x").body("1");
        assert_eq!(http::send(&req).unwrap().status, 500);
        assert_eq!(http::send(&req).unwrap().status, 200);
        assert_eq!(http::send(&req).unwrap().status, 200);
        assert!(matches!(
            http::send(&http::Request::get("https://a.test/other")),
            Err(HttpError::Connection(_))
        ));
        assert!(matches!(
            http::send(&http::Request::get("http://a.test/x")),
            Err(HttpError::Denied(_))
        ));
        assert_eq!(requests().len(), 5);
    }

    #[test]
    fn settings_and_clock_come_from_the_installed_host() {
        Host::new().config("default_channel", "C1").now(1_000).install();
        assert_eq!(crate::config::get("default_channel").as_deref(), Some("C1"));
        assert_eq!(now_unix(), 1_000);
        set_now(2_000);
        assert_eq!(now_unix(), 2_000);
    }

    #[test]
    fn incident_changes_need_a_linked_actor_and_an_open_alert() {
        let alert = AlertDetails {
            alert: crate::AlertRef {
                id: "a1".into(),
                status: "firing".into(),
                ..Default::default()
            },
            number: 12,
            ..Default::default()
        };
        Host::new().alert(alert).link("slack", "U1").install();
        let stranger = Actor::new("slack", "U2");
        let linked = Actor::new("slack", "U1");
        assert!(matches!(
            inc::acknowledge("#12", &stranger, None),
            Err(OpError::Forbidden(_))
        ));
        assert_eq!(inc::acknowledge("#13", &linked, None), Err(OpError::NotFound));
        assert_eq!(inc::acknowledge("12", &linked, None), Ok(()));
        assert_eq!(alert_status("a1"), "acknowledged");
        assert_eq!(inc::resolve("a1", &linked, Some("restarted")), Ok(()));
        assert!(matches!(
            inc::escalate("a1", &linked, None),
            Err(OpError::Conflict(_))
        ));
        assert_eq!(calls().len(), 5);
        assert_eq!(
            calls()[3],
            Call::Resolve {
                alert: "a1".into(),
                by: linked,
                note: Some("restarted".into())
            }
        );
    }

    fn alert_status(key: &str) -> String {
        alert(key).unwrap().alert.status
    }

    #[test]
    fn scripted_failures_answer_every_call_of_their_function() {
        Host::new()
            .fail(Op::SearchKbHighlighted, OpError::Internal("db down".into()))
            .install();
        assert_eq!(
            inc::search_kb_highlighted("disk", 3),
            Err(OpError::Internal("db down".into()))
        );
        assert_eq!(inc::search_kb("disk", 3), Ok(vec![]));
    }
}
