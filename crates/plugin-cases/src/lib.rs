//! The data-driven test case format of NightOwl plugins, in one place. A case is a directory
//! `tests/cases/<name>/` beside a plugin's `Cargo.toml` holding two files:
//!
//! - `request.json`, the delivery the plugin gets. Every field is optional:
//!   `{"method": "POST", "path": "/", "query": "a=b", "headers": {"content-type": "application/json"},
//!   "public_url": "", "body": <any JSON>}`. Instead of `body`, `body_text` gives the body as a
//!   string (for bodies that are not JSON, or are empty) and `body_file` names a file in the case
//!   directory whose bytes are the body (for verbatim copies of published samples). Without
//!   `headers` the request carries `content-type: application/json`.
//! - `expected.json`, what the plugin answers: `{"alerts": [...]}` with every alert in full (a field
//!   that is `null` or an empty list may be left out), or `{"error": "invalid_payload"}` (or
//!   `unauthorized`, `upstream`, `internal`), optionally with `"message_contains": "text"`.
//!
//! The plugin SDK's native harness (`nightowl_plugin_sdk_source::cases`) and the host's
//! `nightowl plugin test --cases` both read cases and judge answers with this crate, so the native
//! logic and the compiled component are held to exactly the same cases. It depends on serde only,
//! and builds for the host and for `wasm32-wasip2`.

#![warn(missing_docs)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

/// The delivery a case describes, with its defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// HTTP method (default `POST`).
    pub method: String,
    /// Path below the plugin's webhook URL (default `/`).
    pub path: String,
    /// Query string, without `?`.
    pub query: Option<String>,
    /// Headers, names in lower case (default `content-type: application/json`).
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
    /// The webhook's public URL as the plugin is told it (default empty).
    pub public_url: String,
}

/// What a case expects (`expected.json`): alerts, or an error kind with an optional message part.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    /// The alerts, each as its plugin type serialises it.
    pub alerts: Option<Vec<Value>>,
    /// The error kind: `invalid_payload`, `unauthorized`, `upstream` or `internal`.
    pub error: Option<String>,
    /// Text the error message must contain.
    pub message_contains: Option<String>,
}

/// What a plugin answered, in the terms cases speak.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Parsed alerts, each serialised to JSON.
    Alerts(Vec<Value>),
    /// A refusal: its kind as cases name it, and the plugin's text.
    Error {
        /// `invalid_payload`, `unauthorized`, `upstream` or `internal`.
        kind: String,
        /// The plugin's message.
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestFile {
    method: Option<String>,
    path: Option<String>,
    query: Option<String>,
    headers: Option<BTreeMap<String, String>>,
    public_url: Option<String>,
    body: Option<Value>,
    body_text: Option<String>,
    body_file: Option<String>,
}

/// `dir` itself when it holds a `request.json`, else its subdirectories, sorted (files such as a
/// README are skipped).
pub fn case_dirs(dir: &Path) -> Result<Vec<PathBuf>, String> {
    if dir.join("request.json").is_file() {
        return Ok(vec![dir.to_owned()]);
    }
    let entries = std::fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    let mut cases: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    Ok(cases)
}

/// The name of a case: its directory's name.
pub fn case_name(case: &Path) -> String {
    case.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

fn read_json<D: serde::de::DeserializeOwned>(path: &Path) -> Result<D, String> {
    let text = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Reads the case's `request.json`.
pub fn read_request(case: &Path) -> Result<Request, String> {
    let r: RequestFile = read_json(&case.join("request.json"))?;
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

/// Reads the case's `expected.json`.
pub fn read_expected(case: &Path) -> Result<Expected, String> {
    read_json(&case.join("expected.json"))
}

/// An alert as `expected.json` writes it: fields that are `null` or empty lists left out, so cases
/// need not spell them.
pub fn canonical(alert: Value) -> Value {
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

/// An answer in `expected.json`'s shape (what blessing writes).
pub fn answer_json(answer: &Answer) -> Value {
    match answer {
        Answer::Alerts(alerts) => {
            serde_json::json!({ "alerts": alerts.iter().cloned().map(canonical).collect::<Vec<_>>() })
        }
        Answer::Error { kind, message } => serde_json::json!({ "error": kind, "message_contains": message }),
    }
}

/// Whether `answer` is what the case expects; the difference when it is not.
pub fn compare(expected: &Expected, answer: &Answer) -> Result<(), String> {
    match (&expected.alerts, &expected.error, answer) {
        (Some(want), None, Answer::Alerts(got)) => {
            let want: Vec<Value> = want.iter().cloned().map(canonical).collect();
            let got: Vec<Value> = got.iter().cloned().map(canonical).collect();
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
        (None, Some(want), Answer::Error { kind, message }) => {
            if kind != want {
                return Err(format!("expected the error kind {want:?}, got {kind}: {message}"));
            }
            match &expected.message_contains {
                Some(text) if !message.contains(text.as_str()) => {
                    Err(format!("the error {message:?} does not contain {text:?}"))
                }
                _ => Ok(()),
            }
        }
        (Some(_), None, Answer::Error { kind, message }) => {
            Err(format!("expected alerts, got the error {kind}: {message}"))
        }
        (None, Some(kind), Answer::Alerts(got)) => Err(format!(
            "expected the error kind {kind:?}, got alerts: {}",
            pretty(&got.iter().cloned().map(canonical).collect::<Vec<_>>())
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
    use serde_json::json;

    #[test]
    fn empty_fields_may_be_left_out_of_expected_alerts() {
        let got = Answer::Alerts(vec![
            json!({"status": "firing", "title": "t", "labels": [["a", "b"]],
                                             "links": [], "fingerprint": null}),
        ]);
        let expected = Expected {
            alerts: Some(vec![
                json!({"status": "firing", "title": "t", "labels": [["a", "b"]]}),
            ]),
            error: None,
            message_contains: None,
        };
        assert_eq!(compare(&expected, &got), Ok(()));
        let resolved = Answer::Alerts(vec![
            json!({"status": "resolved", "title": "t", "labels": [["a", "b"]]}),
        ]);
        assert!(compare(&expected, &resolved).is_err());
    }

    #[test]
    fn errors_match_by_kind_and_message_text() {
        let expected = |kind: &str, text: Option<&str>| Expected {
            alerts: None,
            error: Some(kind.into()),
            message_contains: text.map(Into::into),
        };
        let err = Answer::Error {
            kind: "invalid_payload".into(),
            message: "no title".into(),
        };
        assert_eq!(compare(&expected("invalid_payload", None), &err), Ok(()));
        assert_eq!(compare(&expected("invalid_payload", Some("title")), &err), Ok(()));
        assert!(compare(&expected("invalid_payload", Some("name")), &err).is_err());
        assert!(compare(&expected("upstream", None), &err).is_err());
        assert!(compare(&expected("invalid_payload", None), &Answer::Alerts(vec![])).is_err());
    }
}
