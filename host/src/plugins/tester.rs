//! `nightowl plugin test`: one payload through a plugin and the normaliser, printed as JSON — exactly
//! what ingest would store, or the plugin's error — without a database.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;

use super::registry;
use super::runtime::Runtime;
use super::{InboundRequest, Kind};
use crate::ingest::normalize;

/// Loads the plugin, parses the payload, prints the result; an error exit when the plugin refuses.
pub async fn run(plugin: &Path, payload: &Path) -> anyhow::Result<()> {
    let body = std::fs::read(payload).with_context(|| format!("reading {}", payload.display()))?;
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
    let req = InboundRequest {
        method: "POST".into(),
        path: "/".into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body,
        public_url: format!("/api/v1/webhooks/{}", loaded.manifest.id),
        ..InboundRequest::default()
    };
    let pre = loaded.source().expect("source plugins have a source world");
    match runtime
        .parse(&loaded.manifest, pre, "plugin-test", HashMap::new(), &req)
        .await
    {
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
