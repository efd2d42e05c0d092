//! `nightowl plugin test`: a payload through a plugin and the normaliser, printed as JSON — exactly
//! what ingest would store, or the plugin's error — without a database; or a directory of data cases
//! (`plugins/<id>/tests/cases/<name>/{request.json,expected.json}`) through the compiled component.
//!
//! The case format and how answers are judged live in `nightowl-plugin-cases` (`crates/plugin-cases`),
//! which the SDK's native harness uses too, so the native logic and the compiled component are held to
//! exactly the same cases.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use nightowl_plugin_cases as cases;

use super::registry::{self, LoadedPlugin};
use super::runtime::{CallError, CallSlots, Runtime};
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
pub async fn run_cases(plugin: &Path, cases_dir: &Path) -> anyhow::Result<Vec<CaseOutcome>> {
    let dirs = cases::case_dirs(cases_dir).map_err(anyhow::Error::msg)?;
    anyhow::ensure!(!dirs.is_empty(), "no cases in {}", cases_dir.display());
    let (runtime, loaded) = load_source(plugin).await?;
    let mut outcomes = Vec::with_capacity(dirs.len());
    for dir in dirs {
        let name = cases::case_name(&dir);
        let failure = run_case(&runtime, &loaded, &dir).await.err();
        outcomes.push(CaseOutcome { name, failure });
    }
    Ok(outcomes)
}

async fn run_case(runtime: &Arc<Runtime>, loaded: &LoadedPlugin, case: &Path) -> Result<(), String> {
    let r = cases::read_request(case)?;
    let expected = cases::read_expected(case)?;
    let req = InboundRequest {
        method: r.method,
        path: r.path,
        query: r.query,
        headers: r.headers,
        body: r.body,
        public_url: r.public_url,
    };
    let (answer, parsed) = match parse(runtime, loaded, &req).await {
        Ok(parsed) => (
            cases::Answer::Alerts(parsed.iter().map(alert_json).collect()),
            parsed,
        ),
        Err(CallError::Plugin(e)) => (error_answer(&e), Vec::new()),
        Err(fault) => return Err(format!("the sandbox stopped the call: {fault}")),
    };
    cases::compare(&expected, &answer)?;
    // What the native harness cannot check: that ingest would store these alerts.
    for (i, alert) in parsed.into_iter().enumerate() {
        normalize::normalize(i, alert).map_err(|e| format!("ingest would refuse the alerts: {e}"))?;
    }
    Ok(())
}

/// A refusal as cases name it.
fn error_answer(e: &PluginError) -> cases::Answer {
    let (kind, message) = match e {
        PluginError::InvalidPayload(m) => ("invalid_payload", m),
        PluginError::Unauthorized(m) => ("unauthorized", m),
        PluginError::Upstream(m) => ("upstream", m),
        PluginError::Internal(m) => ("internal", m),
    };
    cases::Answer::Error {
        kind: kind.to_owned(),
        message: message.clone(),
    }
}

/// A parsed alert as JSON, for comparing with `expected.json`.
fn alert_json(alert: &ParsedAlert) -> serde_json::Value {
    serde_json::to_value(alert).expect("parsed alerts serialise")
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
    let runtime = Arc::new(Runtime::new(
        None,
        &prometheus::Registry::new(),
        CallSlots::per_core(64),
        std::sync::Arc::new(crate::clock::SystemClock),
    )?);
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
            cases::canonical(alert_json(&alert)),
            serde_json::json!({"status": "firing", "title": "t", "labels": [["a", "b"]]})
        );
    }
}
