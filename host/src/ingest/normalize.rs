//! From what a source plugin parsed to what NightOwl stores: severity and priority on one scale, a
//! fingerprint for every alert, checked sizes, parsed timestamps, and agent metadata.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use nightowl_api::alerts::{Priority, Severity};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::plugins::{ParsedAlert, SourceStatus};

const MAX_TITLE: usize = 500;
const MAX_DESCRIPTION: usize = 20_000;
const MAX_FINGERPRINT: usize = 255;
const MAX_LABELS: usize = 128;
const MAX_LABEL_LEN: usize = 2_000;

/// Maps a source's severity or priority text to (severity, priority). Covers Prometheus/Alertmanager
/// conventions, Keep's enum, syslog levels, PagerDuty/Opsgenie P1–P5 and SEV1–SEV5. Unknown or absent
/// severities become warning/P3: visible, but never a page at 3 a.m. on a guess.
pub fn severity(raw: Option<&str>) -> (Severity, Priority) {
    let text = raw.map(|s| s.trim().to_ascii_lowercase()).unwrap_or_default();
    let text = text
        .strip_prefix("sev")
        .map(|s| s.trim_start_matches(['-', '_', ' ']))
        .unwrap_or(&text);
    match text {
        "critical" | "crit" | "fatal" | "emergency" | "emerg" | "alert" | "disaster" | "page" | "p1"
        | "1" => (Severity::Critical, Priority::P1),
        "high" | "major" | "error" | "err" | "severe" | "p2" | "2" => (Severity::Major, Priority::P2),
        "warning" | "warn" | "medium" | "moderate" | "average" | "p3" | "3" => {
            (Severity::Warning, Priority::P3)
        }
        "low" | "minor" | "p4" | "4" => (Severity::Info, Priority::P4),
        "info" | "informational" | "information" | "notice" | "ok" | "debug" | "none" | "p5" | "5" => {
            (Severity::Info, Priority::P5)
        }
        _ => (Severity::Warning, Priority::P3),
    }
}

/// SHA-256 over the title and the labels sorted by name: the dedup key when a source gives none.
pub fn derived_fingerprint(title: &str, labels: &BTreeMap<String, String>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(title.as_bytes());
    for (k, v) in labels {
        hasher.update(b"\n");
        hasher.update(k.as_bytes());
        hasher.update(b"=");
        hasher.update(v.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// What an agent said it did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentReport {
    pub auto_resolved: bool,
    /// The fix, as the agent describes it.
    pub action: Option<String>,
    pub agent: Option<String>,
    pub root_cause: Option<String>,
    pub raw: Value,
}

/// An alert ready to store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NormalizedAlert {
    pub fingerprint: String,
    pub resolved: bool,
    pub title: String,
    pub description: Option<String>,
    pub severity: Severity,
    pub priority: Priority,
    pub service: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub links: Vec<String>,
    pub agent: Option<AgentReport>,
    /// How many label and annotation values were cut to fit.
    pub cut_values: usize,
}

/// Why a parsed alert cannot be stored; answered 422 naming the alert's index.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("alert {index}: {message}")]
pub struct NormalizeError {
    pub index: usize,
    pub message: String,
}

fn timestamp(raw: Option<&str>) -> Option<DateTime<Utc>> {
    let raw = raw?.trim();
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.to_utc())
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f").map(|t| t.and_utc()))
        .ok()
}

fn clip(text: String, max: usize) -> String {
    if text.chars().count() <= max {
        text
    } else {
        text.chars().take(max).collect()
    }
}

/// The annotation that names the values [`normalize`] cut (`label:<name>`, `annotation:<name>`,
/// comma-separated).
pub const CUT_ANNOTATION: &str = "nightowl_cut";
/// What ends a value that was cut.
const CUT_MARK: &str = " … [cut]";

/// The first field of `a` holding a NUL character, which PostgreSQL text cannot store.
fn nul_field(a: &ParsedAlert) -> Option<String> {
    let has = |s: &str| s.contains('\0');
    let opt = |s: &Option<String>| s.as_deref().is_some_and(has);
    let pairs = |kind: &str, list: &[(String, String)]| {
        list.iter()
            .find(|(k, v)| has(k) || has(v))
            .map(|(k, _)| format!("{kind} {:?}", k.replace('\0', "\\0")))
    };
    [
        has(&a.title).then(|| "title".to_owned()),
        opt(&a.fingerprint).then(|| "fingerprint".to_owned()),
        opt(&a.description).then(|| "description".to_owned()),
        opt(&a.severity).then(|| "severity".to_owned()),
        opt(&a.service).then(|| "service".to_owned()),
        opt(&a.starts_at).then(|| "starts_at".to_owned()),
        opt(&a.ends_at).then(|| "ends_at".to_owned()),
        opt(&a.agent_metadata).then(|| "agent_metadata".to_owned()),
        a.links.iter().any(|l| has(l)).then(|| "links".to_owned()),
        pairs("label", &a.labels),
        pairs("annotation", &a.annotations),
    ]
    .into_iter()
    .flatten()
    .next()
}

/// Cuts `value` to at most `max` bytes (on a character boundary), ending it with [`CUT_MARK`].
fn cut_value(value: &str, max: usize) -> String {
    let mut end = max.saturating_sub(CUT_MARK.len());
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{CUT_MARK}", value[..end].trim_end())
}

/// Cuts the over-long values of `list`, recording each as `<kind>:<name>` in `cut`.
fn cut_values(list: Vec<(String, String)>, kind: &str, cut: &mut Vec<String>) -> BTreeMap<String, String> {
    list.into_iter()
        .map(|(k, v)| {
            if v.len() <= MAX_LABEL_LEN {
                return (k, v);
            }
            cut.push(format!("{kind}:{k}"));
            let v = cut_value(&v, MAX_LABEL_LEN);
            (k, v)
        })
        .collect()
}

/// Normalises one parsed alert (the `index`-th of its delivery).
///
/// Refused, with the reason: an empty title, a NUL character anywhere (PostgreSQL text cannot hold
/// it), too many labels or annotations, a label or annotation name over 2,000 bytes. What can be
/// stored shortened is shortened instead, so one long field never costs a sender the whole group
/// (Alertmanager does not retry a 4xx): the title and description are cut to their limits, and a
/// label or annotation value over 2,000 bytes is cut, ends with ` … [cut]` and is named in the
/// [`CUT_ANNOTATION`] annotation.
pub fn normalize(index: usize, a: ParsedAlert) -> Result<NormalizedAlert, NormalizeError> {
    let fail = |message: String| NormalizeError { index, message };
    if let Some(field) = nul_field(&a) {
        return Err(fail(format!("{field} contains a NUL (\\u0000) character")));
    }
    let title = a.title.trim().to_owned();
    if title.is_empty() {
        return Err(fail("title must not be empty".into()));
    }
    if a.labels.len() > MAX_LABELS || a.annotations.len() > MAX_LABELS {
        return Err(fail(format!(
            "at most {MAX_LABELS} labels and {MAX_LABELS} annotations"
        )));
    }
    if a.labels
        .iter()
        .chain(&a.annotations)
        .any(|(k, _)| k.len() > MAX_LABEL_LEN)
    {
        return Err(fail(format!(
            "label and annotation names are limited to {MAX_LABEL_LEN} bytes"
        )));
    }
    let mut cut = Vec::new();
    let labels = cut_values(a.labels, "label", &mut cut);
    let mut annotations = cut_values(a.annotations, "annotation", &mut cut);
    if !cut.is_empty() {
        annotations.insert(CUT_ANNOTATION.to_owned(), cut.join(","));
    }
    let fingerprint = match a
        .fingerprint
        .map(|f| f.trim().to_owned())
        .filter(|f| !f.is_empty())
    {
        Some(f) if f.len() > MAX_FINGERPRINT => {
            return Err(fail(format!("fingerprint longer than {MAX_FINGERPRINT} bytes")));
        }
        Some(f) => f,
        None => derived_fingerprint(&title, &labels),
    };
    let agent = match a.agent_metadata {
        None => None,
        Some(text) => {
            let raw: Value =
                serde_json::from_str(&text).map_err(|e| fail(format!("agent_metadata is not JSON: {e}")))?;
            if !raw.is_object() {
                return Err(fail("agent_metadata must be a JSON object".into()));
            }
            let field = |k: &str| raw.get(k).and_then(Value::as_str).map(str::to_owned);
            Some(AgentReport {
                auto_resolved: raw.get("auto_resolved").and_then(Value::as_bool).unwrap_or(false),
                action: field("action").or_else(|| field("resolution")),
                agent: field("agent").or_else(|| field("agent_name")),
                root_cause: field("root_cause"),
                raw,
            })
        }
    };
    let (severity, priority) = severity(a.severity.as_deref());
    Ok(NormalizedAlert {
        fingerprint,
        resolved: a.status == SourceStatus::Resolved,
        title: clip(title, MAX_TITLE),
        description: a
            .description
            .map(|d| clip(d, MAX_DESCRIPTION))
            .filter(|d| !d.trim().is_empty()),
        severity,
        priority,
        service: a.service.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
        labels,
        annotations,
        starts_at: timestamp(a.starts_at.as_deref()),
        ends_at: timestamp(a.ends_at.as_deref()),
        links: a
            .links
            .into_iter()
            .filter(|l| l.starts_with("http://") || l.starts_with("https://"))
            .take(20)
            .collect(),
        agent,
        cut_values: cut.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(title: &str) -> ParsedAlert {
        ParsedAlert {
            fingerprint: None,
            status: SourceStatus::Firing,
            title: title.into(),
            description: None,
            severity: None,
            service: None,
            labels: vec![("b".into(), "2".into()), ("a".into(), "1".into())],
            annotations: vec![],
            starts_at: Some("2026-03-29T01:30:00.5Z".into()),
            ends_at: Some("2024-10-18T13:34:35".into()),
            links: vec!["https://grafana.example/x".into(), "javascript:alert(1)".into()],
            agent_metadata: None,
        }
    }

    #[test]
    fn severities_and_priorities_map_onto_one_scale() {
        for (raw, sev, p) in [
            ("critical", Severity::Critical, Priority::P1),
            ("P1", Severity::Critical, Priority::P1),
            ("SEV-1", Severity::Critical, Priority::P1),
            ("high", Severity::Major, Priority::P2),
            ("error", Severity::Major, Priority::P2),
            ("Warning", Severity::Warning, Priority::P3),
            ("low", Severity::Info, Priority::P4),
            ("info", Severity::Info, Priority::P5),
            ("p5", Severity::Info, Priority::P5),
            ("banana", Severity::Warning, Priority::P3),
        ] {
            assert_eq!(severity(Some(raw)), (sev, p), "{raw}");
        }
        assert_eq!(severity(None), (Severity::Warning, Priority::P3));
    }

    #[test]
    fn derived_fingerprint_ignores_label_order_but_not_values() {
        let a = normalize(0, parsed("Disk full")).unwrap();
        let mut reordered = parsed("Disk full");
        reordered.labels.reverse();
        assert_eq!(normalize(0, reordered).unwrap().fingerprint, a.fingerprint);
        let mut other = parsed("Disk full");
        other.labels[0].1 = "3".into();
        assert_ne!(normalize(0, other).unwrap().fingerprint, a.fingerprint);
        assert_eq!(a.fingerprint.len(), 64);
    }

    #[test]
    fn timestamps_links_and_empty_titles() {
        let a = normalize(0, parsed("x")).unwrap();
        assert_eq!(a.starts_at.unwrap().to_rfc3339(), "2026-03-29T01:30:00.500+00:00");
        assert!(a.ends_at.is_some(), "naive timestamps are read as UTC");
        assert_eq!(
            a.links,
            ["https://grafana.example/x"],
            "only http(s) links are kept"
        );
        assert_eq!(normalize(3, parsed("   ")).unwrap_err().index, 3);
    }

    #[test]
    fn agent_metadata_must_be_an_object() {
        let mut p = parsed("Pod restarted");
        p.agent_metadata =
            Some(r#"{"auto_resolved": true, "action": "restarted the pod", "agent": "k8s-bot"}"#.into());
        let agent = normalize(0, p).unwrap().agent.unwrap();
        assert!(agent.auto_resolved);
        assert_eq!(agent.action.as_deref(), Some("restarted the pod"));
        let mut bad = parsed("x");
        bad.agent_metadata = Some("[1]".into());
        assert!(normalize(0, bad).is_err());
    }
}
