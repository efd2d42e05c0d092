//! Keep source: Keep's AlertDto (one object or a list). Keep's enums are mapped as Keep defines them:
//! severity names or the numeric order 1–5 (low..critical), unknown severity is info; statuses other
//! than `resolved` are open problems (acknowledged/suppressed/pending/maintenance stay firing here: the
//! acknowledgement that counts is NightOwl's own).

use nightowl_plugin_sdk_source::{Alert, Error, Request, Source, Status, source_plugin};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Payload {
    Many(Vec<AlertDto>),
    One(Box<AlertDto>),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AlertDto {
    id: Option<String>,
    name: Option<String>,
    status: Option<String>,
    severity: Option<Value>,
    #[serde(default)]
    source: Vec<String>,
    fingerprint: Option<String>,
    #[serde(default)]
    labels: Option<serde_json::Map<String, Value>>,
    description: Option<String>,
    message: Option<String>,
    service: Option<String>,
    environment: Option<String>,
    url: Option<String>,
    last_received: Option<String>,
    started_at: Option<String>,
}

/// The plugin.
pub struct Keep;

impl Source for Keep {
    fn parse(req: &Request) -> Result<Vec<Alert>, Error> {
        let dtos = match req.json::<Payload>()? {
            Payload::Many(list) => list,
            Payload::One(one) => vec![*one],
        };
        dtos.into_iter().map(convert).collect()
    }
}

/// Keep's severity by name or by its order number.
fn severity(value: Option<&Value>) -> &'static str {
    match value {
        Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "critical" => "critical",
            "high" | "error" => "high",
            "warning" | "medium" => "warning",
            "low" => "low",
            _ => "info",
        },
        Some(Value::Number(n)) => match n.as_u64() {
            Some(5) => "critical",
            Some(4) => "high",
            Some(3) => "warning",
            Some(1) => "low",
            _ => "info",
        },
        _ => "info",
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn convert(dto: AlertDto) -> Result<Alert, Error> {
    let title = dto
        .name
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| Error::InvalidPayload("Keep alert without a name".into()))?;
    let status = match dto.status.as_deref() {
        Some("resolved") => Status::Resolved,
        _ => Status::Firing,
    };
    let mut labels: Vec<(String, String)> = dto
        .labels
        .unwrap_or_default()
        .iter()
        .map(|(k, v)| (k.clone(), text(v)))
        .collect();
    for (key, value) in [("environment", &dto.environment), ("keep_id", &dto.id)] {
        if let Some(v) = value {
            labels.push((key.to_owned(), v.clone()));
        }
    }
    if !dto.source.is_empty() {
        labels.push(("keep_source".to_owned(), dto.source.join(",")));
    }
    let description = match (dto.description, dto.message) {
        (Some(d), Some(m)) if d != m => Some(format!("{m}\n\n{d}")),
        (d, m) => d.or(m),
    };
    Ok(Alert {
        // Keep truncates fingerprints to 255 characters; so do we.
        fingerprint: dto
            .fingerprint
            .filter(|f| !f.is_empty())
            .map(|f| f.chars().take(255).collect()),
        status,
        title,
        description,
        severity: Some(severity(dto.severity.as_ref()).to_owned()),
        service: dto.service,
        labels,
        annotations: Vec::new(),
        starts_at: dto.started_at.or(dto.last_received),
        ends_at: None,
        links: dto.url.into_iter().filter(|u| !u.is_empty()).collect(),
        agent_metadata: None,
    })
}

source_plugin!(Keep);

#[cfg(test)]
mod tests {
    use super::*;

    // Whole payloads are data cases (tests/cases); the severity table is checked value by value here.

    #[test]
    fn keep_severities_map_as_keep_defines_them() {
        let sev = |v: Value| severity(Some(&v));
        assert_eq!(sev(Value::from(5)), "critical");
        assert_eq!(sev(Value::from(4)), "high");
        assert_eq!(sev(Value::from(1)), "low");
        assert_eq!(sev(Value::from("bogus")), "info");
        assert_eq!(severity(None), "info");
    }
}
