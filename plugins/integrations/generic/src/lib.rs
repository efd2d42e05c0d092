//! Generic JSON source. Accepts one alert object, a list of them, or `{"alerts": [...]}`:
//!
//! ```json
//! {"title": "Disk full on db-1", "severity": "critical", "fingerprint": "optional",
//!  "description": "...", "service": "payments-db", "status": "firing",
//!  "labels": {"host": "db-1"}, "source": "cron", "links": ["https://..."],
//!  "agent_metadata": {"auto_resolved": true, "action": "rotated logs", "agent": "ops-bot"}}
//! ```
//! Unknown fields are refused, so a typo (`"titel"`) is reported instead of silently dropped.

use std::collections::BTreeMap;

use nightowl_plugin_sdk_source::{Alert, Error, Request, Source, Status, source_plugin};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Payload {
    Wrapped { alerts: Vec<GenericAlert> },
    Many(Vec<GenericAlert>),
    One(Box<GenericAlert>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenericAlert {
    title: String,
    severity: Option<Value>,
    fingerprint: Option<String>,
    description: Option<String>,
    service: Option<String>,
    status: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, Value>,
    source: Option<String>,
    #[serde(default)]
    links: Vec<String>,
    starts_at: Option<String>,
    agent_metadata: Option<serde_json::Map<String, Value>>,
}

/// The plugin.
pub struct Generic;

impl Source for Generic {
    fn parse(req: &Request) -> Result<Vec<Alert>, Error> {
        let body: Value = req.json()?;
        let payload: Payload = serde_json::from_value(body).map_err(|_| {
            Error::InvalidPayload(
                "expected an alert object with a string \"title\" (and only known fields), a list of them, or {\"alerts\": [...]}"
                    .into(),
            )
        })?;
        let alerts = match payload {
            Payload::Wrapped { alerts } | Payload::Many(alerts) => alerts,
            Payload::One(one) => vec![*one],
        };
        alerts
            .into_iter()
            .enumerate()
            .map(|(i, a)| convert(i, a))
            .collect()
    }
}

fn convert(index: usize, a: GenericAlert) -> Result<Alert, Error> {
    if a.title.trim().is_empty() {
        return Err(Error::InvalidPayload(format!(
            "alert {index}: title must not be empty"
        )));
    }
    let status = match a.status.as_deref() {
        None | Some("firing") | Some("triggered") | Some("open") => Status::Firing,
        Some("resolved") | Some("ok") | Some("closed") => Status::Resolved,
        Some(other) => {
            return Err(Error::InvalidPayload(format!(
                "alert {index}: unknown status {other:?}"
            )));
        }
    };
    let severity = match a.severity {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(_) => {
            return Err(Error::InvalidPayload(format!(
                "alert {index}: severity must be a string or number"
            )));
        }
    };
    let mut labels: Vec<(String, String)> = a
        .labels
        .into_iter()
        .map(|(k, v)| {
            (
                k,
                if let Value::String(s) = v {
                    s
                } else {
                    v.to_string()
                },
            )
        })
        .collect();
    if let Some(source) = a.source {
        labels.push(("source".to_owned(), source));
    }
    Ok(Alert {
        fingerprint: a.fingerprint.filter(|f| !f.trim().is_empty()),
        status,
        title: a.title.trim().to_owned(),
        description: a.description,
        severity,
        service: a.service,
        labels,
        annotations: Vec::new(),
        starts_at: a.starts_at,
        ends_at: None,
        links: a.links,
        agent_metadata: a.agent_metadata.map(|m| Value::Object(m).to_string()),
    })
}

source_plugin!(Generic);
