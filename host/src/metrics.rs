//! Prometheus metrics of the process, registered once in a registry owned by the app state.

use prometheus::{Encoder, HistogramOpts, HistogramVec, Registry, TextEncoder};

/// Every metric NightOwl exports. Names follow `nightowl_<subsystem>_<what>_<unit>`.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Request latency by method, matched route template and status.
    pub api_request_duration: HistogramVec,
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
        registry
            .register(Box::new(api_request_duration.clone()))
            .expect("metric registered once");
        Metrics {
            registry,
            api_request_duration,
        }
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
