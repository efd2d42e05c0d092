//! Keep source: Keep's AlertDto (one object or a list). Keep's enums are mapped as Keep defines them:
//! severity names or the numeric order 1–5 (low..critical), unknown severity is info; statuses other
//! than `resolved` are open problems (acknowledged/suppressed/pending/maintenance stay firing here: the
//! acknowledgement that counts is NightOwl's own).

use nightowl_plugin_sdk::{Alert, Error, Request, Source, Status, source_plugin};
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

    const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/keep");

    fn sample(name: &str) -> Request {
        Request::json_body(
            &std::fs::read_to_string(format!("{TESTDATA}/{name}")).expect("fixture in tests/fixtures"),
        )
    }

    #[test]
    fn schema_example_maps_every_field() {
        let alerts = Keep::parse(&sample("alertdto_schema_example.json")).unwrap();
        let a = &alerts[0];
        assert_eq!(a.title, "Pod 'api-service-production' lacks memory");
        assert_eq!(a.fingerprint.as_deref(), Some("1234"));
        assert_eq!(a.severity.as_deref(), Some("critical"));
        assert_eq!(a.service.as_deref(), Some("backend"));
        assert_eq!(a.status, Status::Firing);
        assert!(a.labels.contains(&("keep_source".into(), "prometheus".into())));
        assert!(a.labels.contains(&("cpu".into(), "88".into())));
        assert_eq!(a.links, ["https://www.keephq.dev?alertId=1234"]);
        assert!(a.description.as_deref().unwrap().contains("lacks memory causing"));
    }

    #[test]
    fn full_openobserve_alert_parses() {
        let alerts = Keep::parse(&sample("alertdto_openobserve_full_from_test.json")).unwrap();
        assert_eq!(alerts[0].severity.as_deref(), Some("warning"));
        assert_eq!(alerts[0].starts_at.as_deref(), Some("2024-10-18T13:28:42"));
    }

    #[test]
    fn keep_enums_map_as_keep_defines_them() {
        let sev = |v: Value| severity(Some(&v));
        assert_eq!(sev(Value::from(5)), "critical");
        assert_eq!(sev(Value::from(4)), "high");
        assert_eq!(sev(Value::from(1)), "low");
        assert_eq!(sev(Value::from("bogus")), "info");
        assert_eq!(severity(None), "info");
        let list = r#"[{"name":"a","status":"resolved"},{"name":"b","status":"suppressed"}]"#;
        let alerts = Keep::parse(&Request::json_body(list)).unwrap();
        assert_eq!(
            (alerts[0].status, alerts[1].status),
            (Status::Resolved, Status::Firing)
        );
        assert!(matches!(
            Keep::parse(&Request::json_body(r#"{"status":"firing"}"#)),
            Err(Error::InvalidPayload(_))
        ));
    }
}
