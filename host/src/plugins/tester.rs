//! `nightowl plugin test`: a payload through a plugin and the normaliser, printed as JSON — exactly
//! what ingest would store, or the plugin's error — without a database; or a directory of data cases
//! (`plugins/<id>/tests/cases/<name>/{request.json,expected.json}`) through the compiled component.
//!
//! The case format is the one the SDK's native harness reads (`plugins/sdk/source/src/cases.rs`, which
//! documents it): the plugins workspace cannot share code with the host, so both read the same files and
//! the integration test that runs every plugin's cases here keeps them answering alike.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use serde::Deserialize;
use serde_json::Value;

use super::registry::{self, LoadedPlugin};
use super::runtime::{CallError, Runtime};
use super::{InboundRequest, Kind, ParsedAlert, PluginError};
use crate::ingest::normalize;

/// Loads the plugin, parses the payload, prints the result; an error exit when the plugin refuses.
pub async fn run(plugin: &Path, payload: &Path) -> anyhow::Result<()> {
    let body = std::fs::read(payload).with_context(|| format!("reading {}", payload.display()))?;
    let (runtime, loaded) = load_source(plugin).await?;
    let req = InboundRequest {
        method: "POST".into(),
        path: "/".into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body,
        public_url: format!("/api/v1/webhooks/{}", loaded.manifest.id),
        ..InboundRequest::default()
    };
    match parse(&runtime, &loaded, &req).await {
        Ok(parsed) => {
            let normalized: Vec<_> = parsed
                .into_iter()
                .enumerate()
                .map(|(i, a)| normalize::normalize(i, a))
                .collect::<Result<_, _>>()?;
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({ "alerts": normalized }))?
            );
            Ok(())
        }
        Err(err) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({ "error": err.to_string() }))?
            );
            anyhow::bail!("the plugin refused the payload")
        }
    }
}

/// Runs the cases, prints one line per case (and why a failing one failed); an error exit when any
/// case failed.
pub async fn run_cases_and_print(plugin: &Path, cases: &Path) -> anyhow::Result<()> {
    let outcomes = run_cases(plugin, cases).await?;
    let failed = outcomes.iter().filter(|o| o.failure.is_some()).count();
    for outcome in &outcomes {
        match &outcome.failure {
            None => println!("ok    {}", outcome.name),
            Some(why) => println!("FAIL  {}\n{}\n", outcome.name, indent(why)),
        }
    }
    println!(
        "{} cases, {} passed, {failed} failed",
        outcomes.len(),
        outcomes.len() - failed
    );
    anyhow::ensure!(failed == 0, "{failed} case(s) failed");
    Ok(())
}

/// How one case went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseOutcome {
    /// The case directory's name.
    pub name: String,
    /// Why it failed; `None` when it passed.
    pub failure: Option<String>,
}

/// Runs every case under `cases` (a directory of case directories, or one case directory) through the
/// compiled plugin: each in a fresh instance, as ingest calls it. An error when the plugin or the
/// directory cannot be read; a case that does not answer as expected is a failed [`CaseOutcome`].
pub async fn run_cases(plugin: &Path, cases: &Path) -> anyhow::Result<Vec<CaseOutcome>> {
    let dirs = case_dirs(cases)?;
    anyhow::ensure!(!dirs.is_empty(), "no cases in {}", cases.display());
    let (runtime, loaded) = load_source(plugin).await?;
    let mut outcomes = Vec::with_capacity(dirs.len());
    for dir in dirs {
        let name = dir.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let failure = run_case(&runtime, &loaded, &dir).await.err();
        outcomes.push(CaseOutcome { name, failure });
    }
    Ok(outcomes)
}

/// `dir` itself when it holds a `request.json`, else its subdirectories, sorted (files such as a
/// README are skipped).
fn case_dirs(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if dir.join("request.json").is_file() {
        return Ok(vec![dir.to_owned()]);
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// The delivery of one case (`request.json`); every field optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseRequest {
    method: Option<String>,
    path: Option<String>,
    query: Option<String>,
    headers: Option<BTreeMap<String, String>>,
    public_url: Option<String>,
    /// A JSON body.
    body: Option<Value>,
    /// A body given as text (not JSON, or empty).
    body_text: Option<String>,
    /// A file in the case directory holding the body.
    body_file: Option<String>,
}

/// What a case expects (`expected.json`): alerts, or an error kind with an optional message part.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    alerts: Option<Vec<Value>>,
    error: Option<String>,
    message_contains: Option<String>,
}

fn read_json<D: serde::de::DeserializeOwned>(path: &Path) -> Result<D, String> {
    let text = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn request(case: &Path) -> Result<InboundRequest, String> {
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
    Ok(InboundRequest {
        method: r.method.unwrap_or_else(|| "POST".into()),
        path: r.path.unwrap_or_else(|| "/".into()),
        query: r.query,
        headers,
        body,
        public_url: r.public_url.unwrap_or_default(),
    })
}

async fn run_case(runtime: &Arc<Runtime>, loaded: &LoadedPlugin, case: &Path) -> Result<(), String> {
    let req = request(case)?;
    let expected: Expected = read_json(&case.join("expected.json"))?;
    let answer = parse(runtime, loaded, &req).await;
    match (&expected.alerts, &expected.error, answer) {
        (Some(want), None, Ok(got)) => {
            let want: Vec<Value> = want.iter().cloned().map(canonical).collect();
            let got_json: Vec<Value> = got.iter().map(alert_json).collect();
            if want != got_json {
                return Err(format!(
                    "alerts differ\nexpected: {}\nactual:   {}",
                    pretty(&want),
                    pretty(&got_json)
                ));
            }
            // What the native harness cannot check: that ingest would store these alerts.
            for (i, alert) in got.into_iter().enumerate() {
                normalize::normalize(i, alert).map_err(|e| format!("ingest would refuse the alerts: {e}"))?;
            }
            Ok(())
        }
        (None, Some(kind), Err(CallError::Plugin(e))) => {
            let (got_kind, message) = error_parts(&e);
            if got_kind != kind {
                return Err(format!("expected the error kind {kind:?}, got {e}"));
            }
            match &expected.message_contains {
                Some(text) if !message.contains(text.as_str()) => {
                    Err(format!("the error {message:?} does not contain {text:?}"))
                }
                _ => Ok(()),
            }
        }
        (_, _, Err(fault @ CallError::Fault { .. })) => Err(format!("the sandbox stopped the call: {fault}")),
        (Some(_), None, Err(e)) => Err(format!("expected alerts, got the error {e}")),
        (None, Some(kind), Ok(got)) => Err(format!(
            "expected the error kind {kind:?}, got alerts: {}",
            pretty(&got.iter().map(alert_json).collect::<Vec<_>>())
        )),
        _ => Err("expected.json must hold either \"alerts\" or \"error\"".into()),
    }
}

/// The kind as cases name it, and the plugin's own text.
fn error_parts(e: &PluginError) -> (&'static str, &str) {
    match e {
        PluginError::InvalidPayload(m) => ("invalid_payload", m),
        PluginError::Unauthorized(m) => ("unauthorized", m),
        PluginError::Upstream(m) => ("upstream", m),
        PluginError::Internal(m) => ("internal", m),
    }
}

/// A parsed alert as `expected.json` writes it.
fn alert_json(alert: &ParsedAlert) -> Value {
    canonical(serde_json::to_value(alert).expect("parsed alerts serialise"))
}

/// Fields that are `null` or empty lists left out, so cases need not spell them.
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

fn pretty(v: &[Value]) -> String {
    serde_json::to_string_pretty(v).expect("values serialise")
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("      {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Loads a source plugin (directory or bare `.wasm`) into a runtime of its own.
async fn load_source(plugin: &Path) -> anyhow::Result<(Arc<Runtime>, LoadedPlugin)> {
    let dir = staging_dir(plugin)?;
    let runtime = Arc::new(Runtime::new(None, &prometheus::Registry::new())?);
    let rt = runtime.clone();
    let staged = dir != plugin;
    let loaded = tokio::task::spawn_blocking(move || {
        let loaded = registry::load(&rt, &dir);
        // A bare .wasm was copied into a temporary directory; the component is in memory now.
        if staged {
            let _ = std::fs::remove_dir_all(dir.parent().unwrap_or(&dir));
        }
        loaded
    })
    .await??;
    anyhow::ensure!(
        loaded.manifest.kind == Kind::Source,
        "plugin {} is not a source plugin",
        loaded.manifest.id
    );
    Ok((runtime, loaded))
}

async fn parse(
    runtime: &Arc<Runtime>,
    loaded: &LoadedPlugin,
    req: &InboundRequest,
) -> Result<Vec<ParsedAlert>, CallError> {
    let pre = loaded.source().expect("source plugins have a source world");
    runtime
        .parse(&loaded.manifest, pre, "plugin-test", HashMap::new(), req)
        .await
}

/// A directory holding `plugin.toml` and `plugin.wasm` for `path`: the directory itself, or a temporary
/// one for a bare `.wasm` (with a default source manifest unless one sits beside it).
fn staging_dir(path: &Path) -> anyhow::Result<PathBuf> {
    if path.is_dir() {
        return Ok(path.to_owned());
    }
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("plugin");
    let id: String = stem
        .trim_start_matches("nightowl_plugin_")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let beside = path.with_file_name("plugin.toml");
    let manifest = if beside.exists() {
        std::fs::read_to_string(&beside)?
    } else {
        format!("id = \"{id}\"\nname = \"{id}\"\nversion = \"0.0.0\"\nkind = \"source\"\napi = \"0.1\"\n")
    };
    let parsed = super::Manifest::parse(&manifest)?;
    let dir = std::env::temp_dir()
        .join(format!("nightowl-plugin-test-{}", std::process::id()))
        .join(&parsed.id);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("plugin.toml"), manifest)?;
    std::fs::copy(path, dir.join("plugin.wasm")).with_context(|| format!("reading {}", path.display()))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_fields_need_not_be_spelled_in_expected_alerts() {
        let alert = ParsedAlert {
            fingerprint: None,
            status: super::super::SourceStatus::Firing,
            title: "t".into(),
            description: None,
            severity: None,
            service: None,
            labels: vec![("a".into(), "b".into())],
            annotations: vec![],
            starts_at: None,
            ends_at: None,
            links: vec![],
            agent_metadata: None,
        };
        assert_eq!(
            alert_json(&alert),
            serde_json::json!({"status": "firing", "title": "t", "labels": [["a", "b"]]})
        );
    }
}
