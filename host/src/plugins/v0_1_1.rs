//! Host bindings of `nightowl:plugin@0.1.1` (wit/nightowl-plugin-0.1.1): the `channel` world with
//! the host imports channel plugins use — `http-client`, `crypto` and `incidents` — implemented over
//! [`crate::channels`]. Frozen with its WIT folder.
//!
//! 0.1.1 only adds to 0.1.0, so a 0.1.0 channel plugin's imports of `incidents` are served by these
//! implementations through wasmtime's semver matching (0.1.0 → the newest 0.1.x the linker holds);
//! its exports keep their 0.1.0 bindings ([`super::v0_1_0`]).

use super::runtime::HostState;
use crate::channels::egress::{self, EgressError};
use crate::channels::ops::{self, AlertAction, ChannelActor, OpError};
use crate::channels::{Call, crypto as host_crypto};

mod bindings {
    wasmtime::component::bindgen!({
        world: "channel",
        path: "../wit/nightowl-plugin-0.1.1",
        imports: { default: trappable },
    });
}

use bindings::exports::nightowl::plugin::channel_api as ch;
use bindings::nightowl::plugin::{config, crypto, http_client as http, incidents, log, types};
pub use bindings::{Channel, ChannelPre};

impl types::Host for HostState {}

impl log::Host for HostState {
    fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        self.log_line(
            match level {
                log::Level::Trace | log::Level::Debug => tracing::Level::DEBUG,
                log::Level::Info => tracing::Level::INFO,
                log::Level::Warn => tracing::Level::WARN,
                log::Level::Error => tracing::Level::ERROR,
            },
            &message,
        );
        Ok(())
    }
}

impl config::Host for HostState {
    fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.config.get(&key).cloned())
    }
}

/// The channel call of this store; the channel world's imports exist only in channel calls.
fn call(state: &mut HostState) -> wasmtime::Result<&mut Call> {
    state
        .channel
        .as_deref_mut()
        .ok_or_else(|| wasmtime::Error::msg("channel import used outside a channel call"))
}

impl http::Host for HostState {
    fn send(&mut self, req: http::Request) -> wasmtime::Result<Result<http::Response, http::HttpError>> {
        let call = call(self)?;
        let out = egress::Request {
            method: match req.method {
                http::Method::Get => egress::Method::Get,
                http::Method::Post => egress::Method::Post,
                http::Method::Put => egress::Method::Put,
                http::Method::Patch => egress::Method::Patch,
                http::Method::Delete => egress::Method::Delete,
            },
            url: req.url,
            headers: req.headers.into_iter().map(|kv| (kv.key, kv.value)).collect(),
            body: req.body,
            auth: match req.auth {
                http::Auth::None => egress::Auth::None,
                http::Auth::Bearer(secret) => egress::Auth::Bearer(secret),
                http::Auth::Basic((user, secret)) => egress::Auth::Basic(user, secret),
                http::Auth::Header((name, secret)) => egress::Auth::Header(name, secret),
            },
            timeout: req
                .timeout_ms
                .map(|ms| std::time::Duration::from_millis(ms.into())),
        };
        let egress = call.state.plugins.egress().clone();
        let answer = call
            .block_on(egress.send(&call.manifest, &call.settings.secrets, out, call.deadline))
            .unwrap_or(Err(EgressError::Timeout));
        Ok(match answer {
            Ok(response) => {
                if let Some(wait) = response.retry_after {
                    call.retry_after = Some(call.retry_after.map_or(wait, |w| w.max(wait)));
                }
                Ok(http::Response {
                    status: response.status,
                    headers: response
                        .headers
                        .into_iter()
                        .map(|(key, value)| types::Kv { key, value })
                        .collect(),
                    body: response.body,
                })
            }
            Err(e) => {
                tracing::debug!(plugin = %call.manifest.id, tenant = %call.tenant, error = %e, "plugin request refused or failed");
                Err(match e {
                    EgressError::Denied(m) => http::HttpError::Denied(m),
                    EgressError::Timeout => http::HttpError::Timeout,
                    EgressError::Connection(m) => http::HttpError::Connection(m),
                    EgressError::TooLarge => http::HttpError::ResponseTooLarge,
                    EgressError::Invalid(m) => http::HttpError::InvalidRequest(m),
                })
            }
        })
    }
}

fn alg(a: crypto::HmacAlg) -> host_crypto::Alg {
    match a {
        crypto::HmacAlg::Sha1 => host_crypto::Alg::Sha1,
        crypto::HmacAlg::Sha256 => host_crypto::Alg::Sha256,
    }
}

impl crypto::Host for HostState {
    fn hmac(
        &mut self,
        a: crypto::HmacAlg,
        key: String,
        data: Vec<u8>,
    ) -> wasmtime::Result<Result<Vec<u8>, String>> {
        let call = call(self)?;
        Ok(host_crypto::hmac(
            &call.manifest,
            &call.settings.secrets,
            alg(a),
            &key,
            &data,
        ))
    }

    fn verify_hmac(
        &mut self,
        a: crypto::HmacAlg,
        key: String,
        data: Vec<u8>,
        mac: Vec<u8>,
    ) -> wasmtime::Result<Result<bool, String>> {
        let call = call(self)?;
        let verified = host_crypto::verify(&call.manifest, &call.settings.secrets, alg(a), &key, &data, &mac);
        if verified == Ok(true) {
            call.verified.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(verified)
    }
}

fn op_error(e: OpError) -> incidents::OpError {
    match e {
        OpError::NotFound => incidents::OpError::NotFound,
        OpError::Forbidden(m) => incidents::OpError::Forbidden(m),
        OpError::Conflict(m) => incidents::OpError::Conflict(m),
        OpError::Internal(m) => incidents::OpError::Internal(m),
    }
}

fn actor(a: incidents::Actor) -> ChannelActor {
    ChannelActor {
        channel: a.channel,
        external_id: a.external_id,
    }
}

fn alert_ref(a: super::AlertRef) -> incidents::AlertRef {
    incidents::AlertRef {
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

fn responder(r: super::Responder) -> incidents::Responder {
    incidents::Responder {
        user_id: r.user_id,
        name: r.name,
        phone: r.phone,
        timezone: r.timezone,
        identities: r.identities,
    }
}

fn kb_hit(h: &ops::KbHit) -> incidents::KbHit {
    incidents::KbHit {
        incident_id: h.incident_id.clone(),
        title: h.title.clone(),
        solution: h.solution.clone(),
        url: h.url.clone(),
        score: h.score,
    }
}

fn rfc3339(t: Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339())
}

/// Runs an `incidents` operation of the call.
fn op<T>(
    state: &mut HostState,
    f: impl FnOnce(&Call) -> Result<T, OpError>,
) -> wasmtime::Result<Result<T, incidents::OpError>> {
    Ok(f(call(state)?).map_err(op_error))
}

impl incidents::Host for HostState {
    fn get_alert(
        &mut self,
        alert_id: String,
    ) -> wasmtime::Result<Result<incidents::AlertRef, incidents::OpError>> {
        op(self, |c| c.get_alert(&alert_id).map(alert_ref))
    }

    fn acknowledge(
        &mut self,
        alert_id: String,
        by: incidents::Actor,
        note: Option<String>,
    ) -> wasmtime::Result<Result<(), incidents::OpError>> {
        op(self, |c| {
            c.act(AlertAction::Acknowledge, &alert_id, &actor(by), note.as_deref())
        })
    }

    fn resolve(
        &mut self,
        alert_id: String,
        by: incidents::Actor,
        note: Option<String>,
    ) -> wasmtime::Result<Result<(), incidents::OpError>> {
        op(self, |c| {
            c.act(AlertAction::Resolve, &alert_id, &actor(by), note.as_deref())
        })
    }

    fn escalate(
        &mut self,
        alert_id: String,
        by: incidents::Actor,
        reason: Option<String>,
    ) -> wasmtime::Result<Result<(), incidents::OpError>> {
        op(self, |c| {
            c.act(AlertAction::Escalate, &alert_id, &actor(by), reason.as_deref())
        })
    }

    fn on_call(
        &mut self,
        service: Option<String>,
    ) -> wasmtime::Result<Result<Vec<incidents::Responder>, incidents::OpError>> {
        op(self, |c| {
            c.on_call(service.as_deref())
                .map(|list| list.into_iter().map(responder).collect())
        })
    }

    fn search_kb(
        &mut self,
        query: String,
        limit: u32,
    ) -> wasmtime::Result<Result<Vec<incidents::KbHit>, incidents::OpError>> {
        op(self, |c| {
            c.search_kb(&query, limit)
                .map(|hits| hits.iter().map(kb_hit).collect())
        })
    }

    fn alert_details(
        &mut self,
        alert: String,
    ) -> wasmtime::Result<Result<incidents::AlertInfo, incidents::OpError>> {
        op(self, |c| {
            let d = c.alert_details(&alert)?;
            let kv = |v: &serde_json::Value| -> Vec<types::Kv> {
                v.as_object()
                    .map(|o| {
                        o.iter()
                            .map(|(k, v)| types::Kv {
                                key: k.clone(),
                                value: v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let label = |name: &str| {
                d.alert
                    .labels
                    .get(name)
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            };
            Ok(incidents::AlertInfo {
                number: u64::try_from(d.number).unwrap_or(0),
                cluster: label("cluster"),
                namespace: label("namespace"),
                labels: kv(&d.alert.labels),
                links: d.alert.links.clone(),
                matched_incident: d.matched.as_ref().map(kb_hit),
                solution_reviewed: d.alert.solution_reviewed.unwrap_or(true),
                runbook_url: d.runbook_url.clone(),
                acknowledged_by: d.alert.acknowledged_by.clone(),
                acknowledged_at: rfc3339(d.alert.acknowledged_at),
                resolved_by: d.alert.resolved_by.clone(),
                resolved_at: rfc3339(d.alert.resolved_at),
                created_at: d.alert.created_at.to_rfc3339(),
                on_call: d.on_call.into_iter().map(responder).collect(),
                alert: alert_ref(d.summary),
            })
        })
    }

    fn rosters_on_call(
        &mut self,
        roster: Option<String>,
    ) -> wasmtime::Result<Result<Vec<incidents::RosterOnCall>, incidents::OpError>> {
        op(self, |c| {
            Ok(c.rosters_on_call(roster.as_deref())?
                .into_iter()
                .map(|r| incidents::RosterOnCall {
                    roster_id: r.roster_id.to_string(),
                    roster: r.roster,
                    timezone: r.timezone,
                    primary: r.primary.map(responder),
                    secondary: r.secondary.map(responder),
                    until: r.until,
                })
                .collect())
        })
    }

    fn upcoming_shifts(
        &mut self,
        roster: String,
        count: u32,
    ) -> wasmtime::Result<Result<Vec<incidents::Shift>, incidents::OpError>> {
        op(self, |c| {
            Ok(c.upcoming_shifts(&roster, count)?
                .into_iter()
                .map(|s| incidents::Shift {
                    responder: responder(s.responder),
                    start: s.start,
                    end: s.end,
                })
                .collect())
        })
    }

    fn search_kb_highlighted(
        &mut self,
        query: String,
        limit: u32,
    ) -> wasmtime::Result<Result<Vec<incidents::KbMatch>, incidents::OpError>> {
        op(self, |c| {
            Ok(c.search_kb(&query, limit)?
                .iter()
                .map(|h| incidents::KbMatch {
                    hit: kb_hit(h),
                    fragments: h
                        .fragments
                        .iter()
                        .map(|(text, highlighted)| incidents::Fragment {
                            text: text.clone(),
                            highlighted: *highlighted,
                        })
                        .collect(),
                })
                .collect())
        })
    }

    fn report_delivery(
        &mut self,
        external_id: String,
        outcome: incidents::DeliveryOutcome,
        detail: String,
    ) -> wasmtime::Result<Result<(), incidents::OpError>> {
        let outcome = match outcome {
            incidents::DeliveryOutcome::Answered => ops::DeliveryOutcome::Answered,
            incidents::DeliveryOutcome::NotAnswered => ops::DeliveryOutcome::NotAnswered,
        };
        op(self, |c| c.report_delivery(&external_id, outcome, &detail))
    }

    fn create_incident(
        &mut self,
        draft: incidents::IncidentDraft,
        by: incidents::Actor,
        link_alert: Option<String>,
    ) -> wasmtime::Result<Result<incidents::KbHit, incidents::OpError>> {
        op(self, |c| {
            let draft = ops::IncidentDraft {
                title: draft.title,
                severity: draft.severity,
                services: draft.services,
                error_patterns: draft.error_patterns,
                symptoms: draft.symptoms,
                root_cause: draft.root_cause,
                solution: draft.solution,
            };
            c.create_incident(draft, &actor(by), link_alert.as_deref())
                .map(|h| kb_hit(&h))
        })
    }
}

/// Adds every interface of the 0.1.1 channel world to a linker.
pub fn add_channel_to_linker(linker: &mut wasmtime::component::Linker<HostState>) -> wasmtime::Result<()> {
    type S = wasmtime::component::HasSelf<HostState>;
    types::add_to_linker::<HostState, S>(linker, |s| s)?;
    log::add_to_linker::<HostState, S>(linker, |s| s)?;
    config::add_to_linker::<HostState, S>(linker, |s| s)?;
    http::add_to_linker::<HostState, S>(linker, |s| s)?;
    crypto::add_to_linker::<HostState, S>(linker, |s| s)?;
    incidents::add_to_linker::<HostState, S>(linker, |s| s)?;
    Ok(())
}

/// Host notification → 0.1.1 WIT notification (the records are those of 0.1.0).
pub fn notification(n: &super::Notification) -> ch::Notification {
    use super::{AlertEvent as E, Destination as D, Subject as S};
    let handoff = |h: &super::HandoffNotice| ch::HandoffNotice {
        roster: h.roster.clone(),
        shift_start: h.shift_start.clone(),
        shift_end: h.shift_end.clone(),
        alerts: h.alerts.iter().cloned().map(alert_ref).collect(),
        summary: h.summary.clone(),
    };
    ch::Notification {
        subject: match &n.subject {
            S::Alert { event, alert, tier } => ch::Subject::Alert(ch::AlertNotice {
                event: match event {
                    E::Triggered => ch::AlertEvent::Triggered,
                    E::Acknowledged => ch::AlertEvent::Acknowledged,
                    E::Resolved => ch::AlertEvent::Resolved,
                    E::Escalated => ch::AlertEvent::Escalated,
                    E::Reminder => ch::AlertEvent::Reminder,
                },
                alert: alert_ref(alert.clone()),
                tier: *tier,
            }),
            S::HandoffOutgoing(h) => ch::Subject::HandoffOutgoing(handoff(h)),
            S::HandoffIncoming(h) => ch::Subject::HandoffIncoming(handoff(h)),
            S::OncallChanged {
                roster,
                previous,
                current,
            } => ch::Subject::OncallChanged((
                roster.clone(),
                previous.clone().map(responder),
                current.clone().map(responder),
            )),
        },
        destination: match &n.destination {
            D::Person(p) => ch::Destination::Person(responder(p.clone())),
            D::Group(g) => ch::Destination::Group(g.clone()),
        },
        previous_external_id: n.previous_external_id.clone(),
        attempt: n.attempt,
    }
}

/// 0.1.1 WIT delivery → host delivery.
pub fn delivery(d: ch::Delivery) -> super::Delivery {
    super::Delivery {
        external_id: d.external_id,
        details: d.details.into_iter().map(|kv| (kv.key, kv.value)).collect(),
    }
}

/// Host request → 0.1.1 WIT request.
pub fn request(req: &super::InboundRequest) -> types::InboundRequest {
    types::InboundRequest {
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        headers: req
            .headers
            .iter()
            .map(|(k, v)| types::Kv {
                key: k.clone(),
                value: v.clone(),
            })
            .collect(),
        body: req.body.clone(),
        public_url: req.public_url.clone(),
    }
}

/// 0.1.1 WIT response → host response.
pub fn response(r: types::InboundResponse) -> super::InboundResponse {
    super::InboundResponse {
        status: r.status,
        headers: r.headers.into_iter().map(|kv| (kv.key, kv.value)).collect(),
        body: r.body,
    }
}

/// 0.1.1 WIT plugin error → host plugin error.
pub fn error(e: types::PluginError) -> super::PluginError {
    use super::PluginError as P;
    match e {
        types::PluginError::InvalidPayload(m) => P::InvalidPayload(m),
        types::PluginError::Unauthorized(m) => P::Unauthorized(m),
        types::PluginError::Upstream(m) => P::Upstream(m),
        types::PluginError::Internal(m) => P::Internal(m),
    }
}
