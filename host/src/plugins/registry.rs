//! Loaded plugins and hot reload. The plugin directory holds `<id>/plugin.toml` + `<id>/plugin.wasm`.
//! A scan (at start-up, every few seconds from the watcher, or on the admin API) loads new and changed
//! plugins and drops removed ones; the map is swapped per plugin, so calls already running finish on
//! the version they started with. A changed plugin that fails to load leaves the previous version
//! serving and its error visible in the plugin list.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use nightowl_api::admin::{InstalledPlugin, PluginFailure};

use super::manifest::{Kind, Manifest};
use super::runtime::{ChannelPre, HostState, Runtime};
use super::v0_1_0;
use crate::channels::egress::Egress;

/// A plugin ready to be called.
pub struct LoadedPlugin {
    pub manifest: Manifest,
    /// SHA-256 of `plugin.wasm`.
    pub sha256: String,
    pub loaded_at: SystemTime,
    source: Option<v0_1_0::SourcePre<HostState>>,
    channel: Option<ChannelPre>,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("id", &self.manifest.id)
            .field("version", &self.manifest.version)
            .finish()
    }
}

impl LoadedPlugin {
    /// The pre-instantiated source world, when this is a source plugin.
    pub fn source(&self) -> Option<&v0_1_0::SourcePre<HostState>> {
        self.source.as_ref()
    }

    /// The pre-instantiated channel world, when this is a channel plugin.
    pub fn channel(&self) -> Option<&ChannelPre> {
        self.channel.as_ref()
    }

    /// The WIT package version the component was built against.
    pub fn api_version(&self) -> &'static str {
        self.channel.as_ref().map_or("0.1.0", ChannelPre::version)
    }
}

/// Outcome of one scan.
#[derive(Debug, Default, Clone, Serialize, utoipa::ToSchema)]
pub struct ScanReport {
    pub loaded: Vec<String>,
    pub removed: Vec<String>,
    /// Directories that did not load, and why.
    pub failed: Vec<PluginFailure>,
}

/// Why a plugin directory did not load.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("reading {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Manifest(#[from] super::manifest::ManifestError),
    #[error("directory {dir:?} holds plugin {id:?}; the directory must be named after the plugin id")]
    DirName { dir: String, id: String },
    #[error("plugin {id}: {message}")]
    Refused { id: String, message: String },
}

type Stamp = Vec<(u64, Option<SystemTime>)>;

/// All plugins of the directory.
pub struct Registry {
    runtime: Arc<Runtime>,
    egress: Egress,
    dir: Option<PathBuf>,
    plugins: RwLock<HashMap<String, Arc<LoadedPlugin>>>,
    stamps: Mutex<HashMap<String, Stamp>>,
    errors: RwLock<HashMap<String, String>>,
    scan_lock: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("dir", &self.dir).finish()
    }
}

fn stamp(dir: &Path) -> Stamp {
    ["plugin.toml", "plugin.wasm"]
        .iter()
        .map(|f| {
            std::fs::metadata(dir.join(f))
                .map(|m| (m.len(), m.modified().ok()))
                .unwrap_or((0, None))
        })
        .collect()
}

/// Loads one plugin directory: manifest, component (compiled or from the cache), import check.
pub fn load(runtime: &Runtime, dir: &Path) -> Result<LoadedPlugin, LoadError> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).map_err(|source| LoadError::Io { path, source })
    };
    let manifest_text = read("plugin.toml")?;
    let manifest = Manifest::parse(&String::from_utf8_lossy(&manifest_text))?;
    let dir_name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if dir_name != manifest.id {
        return Err(LoadError::DirName {
            dir: dir_name,
            id: manifest.id,
        });
    }
    let wasm = read("plugin.wasm")?;
    let refused = |message: String| LoadError::Refused {
        id: manifest.id.clone(),
        message,
    };
    let component = Component::new(runtime.engine(), &wasm)
        .map_err(|e| refused(format!("not a valid component: {e}")))?;
    check_imports(runtime, &component, &manifest).map_err(refused)?;
    let (source, channel) = match manifest.kind {
        Kind::Source => (
            Some(runtime.prepare_source(&component).map_err(|e| {
                refused(format!(
                    "does not implement the nightowl:plugin@0.1.0 source world: {e:#}"
                ))
            })?),
            None,
        ),
        Kind::Channel => (
            None,
            Some(runtime.prepare_channel(&component).map_err(|e| {
                refused(format!(
                    "does not implement the nightowl:plugin@0.1.1 or @0.1.0 channel world: {e:#}"
                ))
            })?),
        ),
    };
    Ok(LoadedPlugin {
        sha256: hex::encode(Sha256::digest(&wasm)),
        loaded_at: SystemTime::now(),
        source,
        channel,
        manifest,
    })
}

/// True when an imported instance carries no functions.
fn is_types_only(runtime: &Runtime, item: &wasmtime::component::types::ComponentItem) -> bool {
    match item {
        wasmtime::component::types::ComponentItem::ComponentInstance(instance) => {
            instance.exports(runtime.engine()).all(|(_, export)| {
                !matches!(
                    export.ty,
                    wasmtime::component::types::ComponentItem::ComponentFunc(_)
                )
            })
        }
        _ => false,
    }
}

/// Refuses a component that imports an interface its manifest does not grant, naming it.
fn check_imports(runtime: &Runtime, component: &Component, manifest: &Manifest) -> Result<(), String> {
    for (name, item) in component.component_type().imports(runtime.engine()) {
        if name.starts_with("wasi:") {
            // WASI is linked with an empty context: no files, environment, clocks beyond the basics, or sockets.
            continue;
        }
        let Some(rest) = name.strip_prefix("nightowl:plugin/") else {
            return Err(format!(
                "component imports {name}, which NightOwl does not provide"
            ));
        };
        let interface = rest.split('@').next().unwrap_or(rest);
        if is_types_only(runtime, &item.ty) {
            // Only types (e.g. `incidents` records used by `channel-api`): no power to grant.
            continue;
        }
        if !manifest.grants(interface) {
            return Err(format!(
                "component imports {name} but plugin.toml does not grant the {interface:?} capability"
            ));
        }
    }
    Ok(())
}

impl Registry {
    /// A registry over `dir` (none: no plugins); channel plugins' outbound HTTP goes through `egress`.
    pub fn new(runtime: Arc<Runtime>, egress: Egress, dir: Option<PathBuf>) -> Registry {
        Registry {
            runtime,
            egress,
            dir,
            plugins: RwLock::default(),
            stamps: Mutex::default(),
            errors: RwLock::default(),
            scan_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// The runtime plugins run in.
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// The outbound HTTP gate of channel plugins.
    pub fn egress(&self) -> &Egress {
        &self.egress
    }

    /// The current version of a plugin.
    pub fn get(&self, id: &str) -> Option<Arc<LoadedPlugin>> {
        self.plugins.read().expect("plugin map lock").get(id).cloned()
    }

    /// Every loaded plugin and every directory that failed to load, by id.
    /// The installed plugins by id, as the admin's list shows them: with the calls the sandbox
    /// stopped since start (by fault kind) and, for a source, the path senders post alerts to.
    pub fn list(&self) -> Vec<InstalledPlugin> {
        let plugins = self.plugins.read().expect("plugin map lock");
        let errors = self.errors.read().expect("plugin error lock");
        let mut list: Vec<InstalledPlugin> = plugins
            .values()
            .map(|p| {
                let id = &p.manifest.id;
                InstalledPlugin {
                    id: id.clone(),
                    name: p.manifest.name.clone(),
                    version: p.manifest.version.clone(),
                    kind: match p.manifest.kind {
                        Kind::Source => "source",
                        Kind::Channel => "channel",
                    }
                    .to_owned(),
                    description: p.manifest.description.clone(),
                    capabilities: p.manifest.capabilities.clone(),
                    api_version: p.api_version().to_owned(),
                    allowed_hosts: p.manifest.http.allowed_hosts.clone(),
                    sha256: p.sha256.clone(),
                    error: errors.get(id).cloned(),
                    faults: self.runtime.faults(id),
                    webhook_url: (p.manifest.kind == Kind::Source).then(|| format!("/api/v1/webhooks/{id}")),
                }
            })
            .collect();
        list.sort_by(|a, b| a.id.cmp(&b.id));
        list
    }

    /// Load errors of directories that have no working version.
    pub fn failures(&self) -> Vec<PluginFailure> {
        let plugins = self.plugins.read().expect("plugin map lock");
        let errors = self.errors.read().expect("plugin error lock");
        errors
            .iter()
            .filter(|(dir, _)| !plugins.contains_key(*dir))
            .map(|(d, e)| PluginFailure {
                directory: d.clone(),
                error: e.clone(),
            })
            .collect()
    }

    /// Loads new and changed plugins, drops removed ones.
    pub async fn scan(self: &Arc<Self>) -> ScanReport {
        let _one_scan_at_a_time = self.scan_lock.lock().await;
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.scan_blocking())
            .await
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "plugin scan panicked");
                ScanReport::default()
            })
    }

    fn scan_blocking(&self) -> ScanReport {
        let mut report = ScanReport::default();
        let Some(dir) = &self.dir else { return report };
        let entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir() && p.join("plugin.toml").exists())
                .collect(),
            Err(err) => {
                tracing::warn!(dir = %dir.display(), error = %err, "plugin directory unreadable");
                Vec::new()
            }
        };
        let present: Vec<String> = entries
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        for path in &entries {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let now = stamp(path);
            if self.stamps.lock().expect("stamp lock").get(&name) == Some(&now) {
                continue;
            }
            match load(&self.runtime, path) {
                Ok(plugin) => {
                    tracing::info!(plugin = %plugin.manifest.id, version = %plugin.manifest.version, sha256 = %plugin.sha256, "plugin loaded");
                    self.plugins
                        .write()
                        .expect("plugin map lock")
                        .insert(name.clone(), Arc::new(plugin));
                    self.errors.write().expect("plugin error lock").remove(&name);
                    report.loaded.push(name.clone());
                }
                Err(err) => {
                    tracing::error!(dir = %path.display(), error = %err, "plugin refused");
                    self.errors
                        .write()
                        .expect("plugin error lock")
                        .insert(name.clone(), err.to_string());
                    report.failed.push(PluginFailure {
                        directory: name.clone(),
                        error: err.to_string(),
                    });
                }
            }
            self.stamps.lock().expect("stamp lock").insert(name, now);
        }
        let mut plugins = self.plugins.write().expect("plugin map lock");
        let gone: Vec<String> = plugins
            .keys()
            .filter(|id| !present.contains(id))
            .cloned()
            .collect();
        for id in gone {
            plugins.remove(&id);
            tracing::info!(plugin = %id, "plugin removed");
            report.removed.push(id);
        }
        self.stamps
            .lock()
            .expect("stamp lock")
            .retain(|name, _| present.contains(name));
        self.errors
            .write()
            .expect("plugin error lock")
            .retain(|name, _| present.contains(name));
        report
    }

    /// Rescans every `interval` until the registry is dropped.
    pub fn spawn_watcher(self: &Arc<Self>, interval: Duration) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(registry) = weak.upgrade() else { break };
                registry.scan().await;
            }
        })
    }
}
