//! Prometheus metrics of the process, registered once in a registry owned by the app state.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry, TextEncoder,
};

/// Every metric NightOwl exports. Names follow `nightowl_<subsystem>_<what>_<unit>`.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Request latency by method, matched route template and status.
    pub api_request_duration: HistogramVec,
    /// Alerts accepted, by source plugin and normalised severity.
    pub alerts_received: IntCounterVec,
    /// Alerts folded into an open alert with the same fingerprint.
    pub alerts_deduplicated: IntCounter,
    /// Label and annotation values cut to fit (the alert was stored with them shortened).
    pub alert_values_cut: IntCounter,
    /// Worker loops restarted after a panic, by loop.
    pub worker_restarts: IntCounterVec,
    /// Time to process one webhook delivery, by source.
    pub alert_processing_duration: HistogramVec,
    /// New alerts linked to a knowledge-base incident on arrival.
    pub kb_hits: IntCounter,
    /// Alerts an automated agent reported as already resolved.
    pub alerts_agent_resolved: IntCounter,
    /// Escalation tiers fired, by 1-based tier.
    pub alerts_escalated: IntCounterVec,
    /// Notification delivery outcomes (sent, retried, failed) by channel.
    pub notifications: IntCounterVec,
    /// How long after its deadline an escalation tier fired.
    pub escalation_lateness: prometheus::Histogram,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// Creates and registers every metric in a fresh registry.
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let api_request_duration = HistogramVec::new(
            HistogramOpts::new("nightowl_api_request_duration_seconds", "HTTP request latency").buckets(
                vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ],
            ),
            &["method", "path", "status"],
        )
        .expect("valid histogram");
        let alerts_received = IntCounterVec::new(
            Opts::new("nightowl_alerts_received_total", "Alerts received"),
            &["source", "severity"],
        )
        .expect("valid counter");
        let alerts_deduplicated = IntCounter::new(
            "nightowl_alerts_deduplicated_total",
            "Alerts folded into an open duplicate",
        )
        .expect("valid counter");
        let alert_values_cut = IntCounter::new(
            "nightowl_alert_values_cut_total",
            "Label and annotation values cut to 2000 bytes to be stored",
        )
        .expect("valid counter");
        let worker_restarts = IntCounterVec::new(
            Opts::new(
                "nightowl_worker_restarts_total",
                "Worker loops restarted after a panic",
            ),
            &["loop"],
        )
        .expect("valid counter");
        let alert_processing_duration = HistogramVec::new(
            HistogramOpts::new(
                "nightowl_alert_processing_duration_seconds",
                "Webhook processing time",
            )
            .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0]),
            &["source"],
        )
        .expect("valid histogram");
        let kb_hits = IntCounter::new(
            "nightowl_kb_hits_total",
            "New alerts matched to a knowledge-base incident",
        )
        .expect("valid counter");
        let alerts_agent_resolved = IntCounter::new(
            "nightowl_alerts_agent_resolved_total",
            "Alerts an agent reported as resolved",
        )
        .expect("valid counter");
        let alerts_escalated = IntCounterVec::new(
            Opts::new("nightowl_alerts_escalated_total", "Escalation tiers fired"),
            &["tier"],
        )
        .expect("valid counter");
        let notifications = IntCounterVec::new(
            Opts::new("nightowl_notifications_total", "Notification delivery outcomes"),
            &["channel", "status"],
        )
        .expect("valid counter");
        let escalation_lateness = prometheus::Histogram::with_opts(
            HistogramOpts::new(
                "nightowl_escalation_lateness_seconds",
                "Time between an escalation tier's deadline and its firing",
            )
            .buckets(vec![0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0]),
        )
        .expect("valid histogram");
        let collectors: [Box<dyn prometheus::core::Collector>; 11] = [
            Box::new(api_request_duration.clone()),
            Box::new(alerts_received.clone()),
            Box::new(alerts_deduplicated.clone()),
            Box::new(alert_values_cut.clone()),
            Box::new(worker_restarts.clone()),
            Box::new(alert_processing_duration.clone()),
            Box::new(kb_hits.clone()),
            Box::new(alerts_agent_resolved.clone()),
            Box::new(alerts_escalated.clone()),
            Box::new(notifications.clone()),
            Box::new(escalation_lateness.clone()),
        ];
        for collector in collectors {
            registry.register(collector).expect("metric registered once");
        }
        Metrics {
            registry,
            api_request_duration,
            alerts_received,
            alerts_deduplicated,
            alert_values_cut,
            worker_restarts,
            alert_processing_duration,
            kb_hits,
            alerts_agent_resolved,
            alerts_escalated,
            notifications,
            escalation_lateness,
        }
    }

    /// The registry, for subsystems that own their metrics (the plugin runtime).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding cannot fail");
        String::from_utf8(out).expect("prometheus text is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
