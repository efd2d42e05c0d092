//! Alertmanager webhook v4 source: one alert per entry of `alerts`, status per alert, Alertmanager's own
//! label fingerprint (recomputed the same way when a sender leaves it out). Unknown and newer fields
//! (`truncatedAlerts`, `routeLabels`, `notification_reason`, ...) are ignored.

use std::collections::BTreeMap;

use nightowl_plugin_sdk_source::{Alert, Error, Request, Source, Status, source_plugin};
use serde::Deserialize;

/// Alertmanager's "no end time" value.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    version: Option<String>,
    status: Option<String>,
    alerts: Vec<AmAlert>,
    #[serde(default)]
    external_url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AmAlert {
    status: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    starts_at: Option<String>,
    ends_at: Option<String>,
    #[serde(rename = "generatorURL")]
    generator_url: Option<String>,
    fingerprint: Option<String>,
}

/// The plugin.
pub struct Alertmanager;

impl Source for Alertmanager {
    fn parse(req: &Request) -> Result<Vec<Alert>, Error> {
        let payload: Payload = req.json()?;
        if let Some(version) = payload.version.as_deref()
            && version != "4"
        {
            return Err(Error::InvalidPayload(format!(
                "unsupported Alertmanager webhook version {version:?}; expected \"4\""
            )));
        }
        let group_status = payload.status.as_deref();
        payload
            .alerts
            .into_iter()
            .map(|a| convert(a, group_status, payload.external_url.as_deref()))
            .collect()
    }
}

fn convert(a: AmAlert, group_status: Option<&str>, external_url: Option<&str>) -> Result<Alert, Error> {
    let status = match a.status.as_deref().or(group_status) {
        Some("resolved") => Status::Resolved,
        Some("firing") | None => Status::Firing,
        Some(other) => return Err(Error::InvalidPayload(format!("unknown alert status {other:?}"))),
    };
    let annotation = |k: &str| a.annotations.get(k).filter(|v| !v.trim().is_empty()).cloned();
    let alertname = a.labels.get("alertname").cloned();
    let title = annotation("summary")
        .or_else(|| annotation("title"))
        .or_else(|| alertname.clone())
        .unwrap_or_else(|| "Alertmanager alert".to_owned());
    let fingerprint = match a.fingerprint.filter(|f| !f.is_empty()) {
        Some(f) => f,
        None => label_fingerprint(&a.labels),
    };
    let mut links: Vec<String> = a.generator_url.into_iter().filter(|u| !u.is_empty()).collect();
    if let Some(url) = external_url.filter(|u| !u.is_empty()) {
        links.push(url.to_owned());
    }
    Ok(Alert {
        fingerprint: Some(fingerprint),
        status,
        title,
        description: annotation("description").or_else(|| annotation("message")),
        severity: a
            .labels
            .get("severity")
            .or_else(|| a.labels.get("priority"))
            .cloned(),
        service: a.labels.get("service").or_else(|| a.labels.get("job")).cloned(),
        starts_at: a.starts_at.filter(|t| t != ZERO_TIME),
        ends_at: a.ends_at.filter(|t| t != ZERO_TIME),
        links,
        labels: a.labels.into_iter().collect(),
        annotations: a.annotations.into_iter().collect(),
        agent_metadata: None,
    })
}

/// Alertmanager's fingerprint: FNV-1a 64 over the label names sorted bytewise, each name and value
/// followed by 0xFF, printed as 16 lowercase hex digits.
pub fn label_fingerprint(labels: &BTreeMap<String, String>) -> String {
    const OFFSET: u64 = 14_695_981_039_346_656_037;
    const PRIME: u64 = 1_099_511_628_211;
    let mut hash = OFFSET;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(PRIME);
        }
    };
    // BTreeMap iterates in bytewise order of the names, as Alertmanager sorts them.
    for (name, value) in labels {
        feed(name.as_bytes());
        feed(&[0xFF]);
        feed(value.as_bytes());
        feed(&[0xFF]);
    }
    format!("{hash:016x}")
}

source_plugin!(Alertmanager);

#[cfg(test)]
mod tests {
    use super::*;

    // What each parsed alert looks like is in the data cases (tests/cases); what a case cannot
    // express, the fingerprint arithmetic, is checked here.

    #[test]
    fn fingerprints_alertmanager_sent_recompute_from_the_labels() {
        let case = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/cases/firing-group-keeps-alertmanagers-fingerprints/payload.json"
        );
        let body = std::fs::read_to_string(case).expect("the case's verbatim sample");
        let alerts = Alertmanager::parse(&Request::json_body(&body)).unwrap();
        assert_eq!(alerts.len(), 3);
        for a in &alerts {
            let labels: BTreeMap<_, _> = a.labels.iter().cloned().collect();
            assert_eq!(
                Some(label_fingerprint(&labels)),
                a.fingerprint,
                "recomputed fingerprint matches"
            );
        }
    }

    #[test]
    fn upstream_fingerprint_vectors() {
        assert_eq!(label_fingerprint(&BTreeMap::new()), "cbf29ce484222325");
        let labels = BTreeMap::from([
            ("name".to_owned(), "garland, briggs".to_owned()),
            ("fear".to_owned(), "love is not enough".to_owned()),
        ]);
        assert_eq!(label_fingerprint(&labels), "507a62d79ee76c9a");
    }
}
