//! `plugin.toml`: what a plugin is, what it may import, and its limits.

use serde::Deserialize;

/// The API line this host implements.
pub const API_LINE: &str = "0.1";
/// Upper bounds the host enforces whatever a manifest asks for.
pub const MAX_MEMORY_MIB: u32 = 64;
pub const MAX_TIMEOUT_MS: u32 = 10_000;

/// Which world the component implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Source,
    Channel,
}

/// Host interfaces a manifest can ask for beyond `log` and `config`.
pub const CAPABILITIES: [&str; 3] = ["http-client", "crypto", "incidents"];

/// A parsed and checked manifest.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Lower-case id; also the webhook path segment for sources.
    pub id: String,
    pub name: String,
    pub version: String,
    pub kind: Kind,
    /// WIT API line the component was built against (`0.1`).
    pub api: String,
    #[serde(default)]
    pub description: String,
    /// Host interfaces granted beyond log and config (`http-client`, `crypto`, `incidents`).
    #[serde(default)]
    pub capabilities: Vec<String>,
    #[serde(default)]
    pub limits: Limits,
}

/// Per-call resource limits.
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Linear memory cap in MiB.
    pub memory_mib: u32,
    /// Wall-clock deadline of one call.
    pub timeout_ms: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_mib: 32,
            timeout_ms: 200,
        }
    }
}

/// Why a manifest was refused.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("plugin.toml is not valid: {0}")]
    Syntax(#[from] toml::de::Error),
    #[error("plugin id {0:?} must match ^[a-z][a-z0-9_-]{{1,40}}$")]
    Id(String),
    #[error("plugin {id} targets API line {api:?}; this host implements {API_LINE}")]
    Api { id: String, api: String },
    #[error("plugin {id} asks for unknown capability {capability:?} (known: http-client, crypto, incidents)")]
    Capability { id: String, capability: String },
    #[error("plugin {id}: {what}")]
    Limit { id: String, what: String },
}

impl Manifest {
    /// Parses and checks a manifest.
    pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
        let m: Manifest = toml::from_str(text)?;
        let id_ok = (2..=41).contains(&m.id.len())
            && m.id.as_bytes()[0].is_ascii_lowercase()
            && m.id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !id_ok {
            return Err(ManifestError::Id(m.id));
        }
        if m.api != API_LINE {
            return Err(ManifestError::Api { id: m.id, api: m.api });
        }
        if let Some(c) = m
            .capabilities
            .iter()
            .find(|c| !CAPABILITIES.contains(&c.as_str()))
        {
            return Err(ManifestError::Capability {
                id: m.id.clone(),
                capability: c.clone(),
            });
        }
        if !(1..=MAX_MEMORY_MIB).contains(&m.limits.memory_mib) {
            return Err(ManifestError::Limit {
                id: m.id,
                what: format!("memory_mib must be 1..={MAX_MEMORY_MIB}"),
            });
        }
        if !(1..=MAX_TIMEOUT_MS).contains(&m.limits.timeout_ms) {
            return Err(ManifestError::Limit {
                id: m.id,
                what: format!("timeout_ms must be 1..={MAX_TIMEOUT_MS}"),
            });
        }
        Ok(m)
    }

    /// Whether the manifest grants a host interface (`log`, `config` and `types` always are).
    pub fn grants(&self, interface: &str) -> bool {
        matches!(interface, "log" | "config" | "types") || self.capabilities.iter().any(|c| c == interface)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"
        id = "alertmanager"
        name = "Alertmanager"
        version = "0.1.0"
        kind = "source"
        api = "0.1"
        [limits]
        memory_mib = 16
        timeout_ms = 150
    "#;

    #[test]
    fn a_good_manifest_parses_with_its_limits() {
        let m = Manifest::parse(OK).unwrap();
        assert_eq!(
            (m.id.as_str(), m.kind, m.limits.memory_mib, m.limits.timeout_ms),
            ("alertmanager", Kind::Source, 16, 150)
        );
        assert!(m.grants("log") && !m.grants("http-client"));
    }

    #[test]
    fn bad_manifests_are_refused_with_a_reason() {
        for (bad, expect) in [
            (OK.replace("alertmanager", "Bad Id"), "plugin id"),
            (OK.replace("\"0.1\"", "\"0.2\""), "API line"),
            (OK.replace("memory_mib = 16", "memory_mib = 4096"), "memory_mib"),
            (format!("{OK}\nextra = 1"), "not valid"),
            (
                OK.replace(
                    "kind = \"source\"",
                    "kind = \"source\"\ncapabilities = [\"filesystem\"]",
                ),
                "unknown capability",
            ),
        ] {
            let err = Manifest::parse(&bad).unwrap_err().to_string();
            assert!(err.contains(expect), "{err}");
        }
    }
}
