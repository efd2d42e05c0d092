//! Data-driven test cases for source plugins, run natively. A case is a directory
//! `tests/cases/<name>/` beside the plugin's `Cargo.toml` holding two files:
//!
//! - `request.json`, the delivery the plugin gets. Every field is optional:
//!   `{"method": "POST", "path": "/", "query": "a=b", "headers": {"content-type": "application/json"},
//!   "public_url": "", "body": <any JSON>}`. Instead of `body`, `body_text` gives the body as a
//!   string (for bodies that are not JSON, or are empty) and `body_file` names a file in the case
//!   directory whose bytes are the body (for verbatim copies of published samples). Without
//!   `headers` the request carries `content-type: application/json`.
//! - `expected.json`, what the plugin answers: `{"alerts": [...]}` with every alert in full, as
//!   [`Alert`] serialises (a field that is `null` or an empty list may be left out), or
//!   `{"error": "invalid_payload"}` (or `unauthorized`, `upstream`, `internal`), optionally with
//!   `"message_contains": "text"`.
//!
//! [`check`] runs every case of a plugin; a plugin's `tests/cases.rs` calls it in one line. The host
//! runs the same directories through the compiled component (`nightowl plugin test <plugin> --cases
//! <dir>`), so the native logic and the built `.wasm` answer the same cases.
//!
//! To write a new case's `expected.json`, run the tests with `NIGHTOWL_BLESS_CASES=1`: cases without
//! an `expected.json` get one written from what the plugin answered. Read it before committing it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::{Alert, Error, Request, Source};

/// The delivery of one case (`request.json`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseRequest {
    method: Option<String>,
    path: Option<String>,
    query: Option<String>,
    headers: Option<BTreeMap<String, String>>,
    public_url: Option<String>,
    body: Option<Value>,
    body_text: Option<String>,
    body_file: Option<String>,
}

/// What a case expects (`expected.json`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    alerts: Option<Vec<Value>>,
    error: Option<String>,
    message_contains: Option<String>,
}

/// Runs every case under `<plugin_dir>/tests/cases` through `T::parse` and panics listing each case
/// that failed. Pass `env!("CARGO_MANIFEST_DIR")`.
pub fn check<T: Source>(plugin_dir: &str) {
    let dir = Path::new(plugin_dir).join("tests").join("cases");
    let cases = case_dirs(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert!(!cases.is_empty(), "no cases in {}", dir.display());
    let bless = std::env::var_os("NIGHTOWL_BLESS_CASES").is_some();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| run_case::<T>(case, bless).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// The case directories under `dir`, sorted (files such as a README are skipped).
fn case_dirs(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    let mut cases: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    Ok(cases)
}

fn run_case<T: Source>(case: &Path, bless: bool) -> Result<(), String> {
    let name = case
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let fail = |why: String| format!("case {name}: {why}");
    let req = request(case).map_err(fail)?;
    let answer = T::parse(&req);
    let expected_path = case.join("expected.json");
    if bless && !expected_path.exists() {
        let text = serde_json::to_string_pretty(&answer_json(&answer)).expect("answers serialise");
        std::fs::write(&expected_path, text + "\n").map_err(|e| fail(e.to_string()))?;
    }
    let expected: Expected = read_json(&expected_path).map_err(fail)?;
    compare(&expected, &answer).map_err(fail)
}

fn read_json<D: serde::de::DeserializeOwned>(path: &Path) -> Result<D, String> {
    let text = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Builds the request a case describes.
fn request(case: &Path) -> Result<Request, String> {
    let r: CaseRequest = read_json(&case.join("request.json"))?;
    let body = match (r.body, r.body_text, r.body_file) {
        (None, None, None) => Vec::new(),
        (Some(json), None, None) => json.to_string().into_bytes(),
        (None, Some(text), None) => text.into_bytes(),
        (None, None, Some(file)) => {
            let path = case.join(file);
            std::fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))?
        }
        _ => return Err("request.json: give at most one of body, body_text and body_file".into()),
    };
    let headers = match r.headers {
        Some(headers) => headers
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect(),
        None => vec![("content-type".into(), "application/json".into())],
    };
    Ok(Request {
        method: r.method.unwrap_or_else(|| "POST".into()),
        path: r.path.unwrap_or_else(|| "/".into()),
        query: r.query,
        headers,
        body,
        public_url: r.public_url.unwrap_or_default(),
    })
}

/// An answer in `expected.json`'s shape.
fn answer_json(answer: &Result<Vec<Alert>, Error>) -> Value {
    match answer {
        Ok(alerts) => serde_json::json!({ "alerts": alerts.iter().map(alert_json).collect::<Vec<_>>() }),
        Err(e) => serde_json::json!({ "error": e.kind(), "message_contains": e.message() }),
    }
}

/// One alert as `expected.json` writes it: fields that are `null` or empty lists left out.
fn alert_json(alert: &Alert) -> Value {
    canonical(serde_json::to_value(alert).expect("alerts serialise"))
}

fn canonical(alert: Value) -> Value {
    match alert {
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .filter(|(_, v)| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()))
                .collect(),
        ),
        other => other,
    }
}

fn compare(expected: &Expected, answer: &Result<Vec<Alert>, Error>) -> Result<(), String> {
    match (&expected.alerts, &expected.error, answer) {
        (Some(want), None, Ok(got)) => {
            let want: Vec<Value> = want.iter().cloned().map(canonical).collect();
            let got: Vec<Value> = got.iter().map(alert_json).collect();
            if want == got {
                Ok(())
            } else {
                Err(format!(
                    "alerts differ\nexpected: {}\nactual:   {}",
                    pretty(&want),
                    pretty(&got)
                ))
            }
        }
        (None, Some(kind), Err(e)) => {
            if e.kind() != kind {
                return Err(format!("expected the error kind {kind:?}, got {e}"));
            }
            match &expected.message_contains {
                Some(text) if !e.message().contains(text.as_str()) => {
                    Err(format!("the error {e:?} does not contain {text:?}"))
                }
                _ => Ok(()),
            }
        }
        (Some(_), None, Err(e)) => Err(format!("expected alerts, got the error {e}")),
        (None, Some(kind), Ok(got)) => Err(format!(
            "expected the error kind {kind:?}, got alerts: {}",
            pretty(&got.iter().map(alert_json).collect::<Vec<_>>())
        )),
        _ => Err("expected.json must hold either \"alerts\" or \"error\"".into()),
    }
}

fn pretty(v: &[Value]) -> String {
    serde_json::to_string_pretty(v).expect("values serialise")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;

    #[test]
    fn empty_fields_may_be_left_out_of_expected_alerts() {
        let alert = Alert {
            title: "t".into(),
            labels: vec![("a".into(), "b".into())],
            ..Alert::default()
        };
        assert_eq!(
            alert_json(&alert),
            serde_json::json!({"status": "firing", "title": "t", "labels": [["a", "b"]]})
        );
        let expected = Expected {
            alerts: Some(vec![serde_json::json!({
                "status": "firing", "title": "t", "labels": [["a", "b"]], "links": [], "fingerprint": null
            })]),
            error: None,
            message_contains: None,
        };
        assert_eq!(compare(&expected, &Ok(vec![alert.clone()])), Ok(()));
        let resolved = Alert {
            status: Status::Resolved,
            ..alert
        };
        assert!(compare(&expected, &Ok(vec![resolved])).is_err());
    }

    #[test]
    fn errors_match_by_kind_and_message_text() {
        let expected = |kind: &str, text: Option<&str>| Expected {
            alerts: None,
            error: Some(kind.into()),
            message_contains: text.map(Into::into),
        };
        let err = Err(Error::InvalidPayload("no title".into()));
        assert_eq!(compare(&expected("invalid_payload", None), &err), Ok(()));
        assert_eq!(compare(&expected("invalid_payload", Some("title")), &err), Ok(()));
        assert!(compare(&expected("invalid_payload", Some("name")), &err).is_err());
        assert!(compare(&expected("upstream", None), &err).is_err());
        assert!(compare(&expected("invalid_payload", None), &Ok(vec![])).is_err());
    }
}
