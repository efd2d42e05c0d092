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
    /// Outbound HTTP a channel plugin may make (with the `http-client` capability).
    #[serde(default)]
    pub http: Http,
    /// How the channel's people map to NightOwl users (for `incidents` actions).
    #[serde(default)]
    pub identity: Option<Identity>,
    /// Per-tenant settings a tenant admin fills in (`/api/v1/admin/plugins/{id}/config`).
    #[serde(default)]
    pub settings: Vec<Setting>,
}

/// `[http]`: where the plugin may send requests.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    /// Host names (`slack.com`) or subdomain patterns (`*.slack.com`). The operator's grant
    /// (`NIGHTOWL_PLUGIN_GRANTS`) narrows this further.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
}

/// `[identity]`: which field of a NightOwl user holds a person's id in this channel.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    pub user_field: UserField,
}

/// User profile fields a channel's actor can be matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UserField {
    SlackUserId,
    Phone,
    Email,
}

/// One per-tenant setting.
#[derive(Debug, Clone, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Setting {
    /// The name the plugin reads (`config.get`) or names as a secret (`bearer("bot_token")`).
    pub key: String,
    /// What the settings form shows.
    #[serde(default)]
    pub label: String,
    #[serde(default, rename = "type")]
    #[schema(value_type = String)]
    pub kind: SettingType,
    /// Sealed at rest, reported only as configured + last characters, never given to the plugin.
    #[serde(default)]
    pub secret: bool,
    #[serde(default)]
    pub required: bool,
    /// Used when the tenant set nothing (not for secrets).
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub description: String,
}

/// The value a setting takes; checked when a tenant admin saves it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SettingType {
    #[default]
    String,
    /// An absolute `https://` or `http://` URL.
    Url,
    /// E.164 phone number.
    Phone,
    Integer,
    Boolean,
}

impl SettingType {
    /// Checks a value; the error says what was expected.
    pub fn check(self, value: &str) -> Result<(), String> {
        let ok = match self {
            SettingType::String => !value.is_empty() && value.len() <= 4096,
            SettingType::Url => reqwest::Url::parse(value)
                .is_ok_and(|u| matches!(u.scheme(), "https" | "http") && u.host_str().is_some()),
            SettingType::Phone => {
                value.len() >= 3
                    && value.len() <= 16
                    && value.starts_with('+')
                    && value.as_bytes()[1] != b'0'
                    && value[1..].bytes().all(|b| b.is_ascii_digit())
            }
            SettingType::Integer => value.parse::<i64>().is_ok(),
            SettingType::Boolean => matches!(value, "true" | "false"),
        };
        if ok {
            Ok(())
        } else {
            Err(match self {
                SettingType::String => "must be 1 to 4096 characters".to_owned(),
                SettingType::Url => "must be an absolute http(s) URL".to_owned(),
                SettingType::Phone => "must be an E.164 phone number (+4915112345678)".to_owned(),
                SettingType::Integer => "must be an integer".to_owned(),
                SettingType::Boolean => "must be true or false".to_owned(),
            })
        }
    }
}

/// Per-call resource limits.
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Linear memory cap in MiB.
    pub memory_mib: u32,
    /// Wall-clock deadline of one call (`parse`, `notify`).
    pub timeout_ms: u32,
    /// Deadline of `handle-inbound` (a callback whose sender waits: Slack gives up after 3 s).
    #[serde(default = "default_inbound_timeout")]
    pub inbound_timeout_ms: u32,
}

fn default_inbound_timeout() -> u32 {
    2_500
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_mib: 32,
            timeout_ms: 200,
            inbound_timeout_ms: default_inbound_timeout(),
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
        for (name, value) in [
            ("timeout_ms", m.limits.timeout_ms),
            ("inbound_timeout_ms", m.limits.inbound_timeout_ms),
        ] {
            if !(1..=MAX_TIMEOUT_MS).contains(&value) {
                return Err(ManifestError::Limit {
                    id: m.id,
                    what: format!("{name} must be 1..={MAX_TIMEOUT_MS}"),
                });
            }
        }
        if let Some(host) = m
            .http
            .allowed_hosts
            .iter()
            .find(|h| HostPattern::parse(h).is_none())
        {
            return Err(ManifestError::Limit {
                id: m.id.clone(),
                what: format!("allowed host {host:?} must be a host name or *.domain"),
            });
        }
        let mut keys = std::collections::HashSet::new();
        for s in &m.settings {
            let key_ok = (1..=64).contains(&s.key.len())
                && s.key.as_bytes()[0].is_ascii_lowercase()
                && s.key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            let problem = if !key_ok {
                Some("must match ^[a-z][a-z0-9_]{0,63}$".to_owned())
            } else if !keys.insert(s.key.as_str()) {
                Some("is declared twice".to_owned())
            } else if s.secret && s.default.is_some() {
                Some("is a secret and cannot have a default".to_owned())
            } else if let Some(Err(e)) = s.default.as_deref().map(|d| s.kind.check(d)) {
                Some(format!("has a default that {e}"))
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(ManifestError::Limit {
                    id: m.id.clone(),
                    what: format!("setting {:?} {problem}", s.key),
                });
            }
        }
        Ok(m)
    }

    /// A declared setting.
    pub fn setting(&self, key: &str) -> Option<&Setting> {
        self.settings.iter().find(|s| s.key == key)
    }

    /// Whether the manifest grants a host interface (`log`, `config` and `types` always are).
    pub fn grants(&self, interface: &str) -> bool {
        matches!(interface, "log" | "config" | "types") || self.capabilities.iter().any(|c| c == interface)
    }
}

/// An allowed host: an exact name or every subdomain of one (`*.example.com`, not the name itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    Exact(String),
    Subdomains(String),
}

impl HostPattern {
    /// Parses `slack.com` or `*.slack.com` (lower-cased); `None` for anything else.
    pub fn parse(text: &str) -> Option<HostPattern> {
        let text = text.trim().to_ascii_lowercase();
        let (wild, name) = match text.strip_prefix("*.") {
            Some(rest) => (true, rest.to_owned()),
            None => (false, text),
        };
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if name.is_empty() || name.len() > 253 || !name.split('.').all(label_ok) {
            return None;
        }
        Some(if wild {
            HostPattern::Subdomains(name)
        } else {
            HostPattern::Exact(name)
        })
    }

    /// Whether a (lower-case) host name matches.
    pub fn matches(&self, host: &str) -> bool {
        match self {
            HostPattern::Exact(name) => host == name,
            HostPattern::Subdomains(name) => host
                .strip_suffix(name.as_str())
                .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.')),
        }
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

    const CHANNEL: &str = r#"
        id = "chat"
        name = "Chat"
        version = "0.1.0"
        kind = "channel"
        api = "0.1"
        capabilities = ["http-client", "crypto", "incidents"]
        [limits]
        memory_mib = 16
        timeout_ms = 10000
        [http]
        allowed_hosts = ["chat.example", "*.hooks.chat.example"]
        [identity]
        user_field = "slack_user_id"
        [[settings]]
        key = "token"
        secret = true
        required = true
        [[settings]]
        key = "api_base_url"
        type = "url"
        default = "https://chat.example/api"
    "#;

    #[test]
    fn a_channel_manifest_declares_hosts_identity_and_settings() {
        let m = Manifest::parse(CHANNEL).unwrap();
        assert_eq!(m.limits.inbound_timeout_ms, 2_500);
        assert_eq!(m.identity.as_ref().unwrap().user_field, UserField::SlackUserId);
        assert!(m.setting("token").unwrap().secret);
        assert_eq!(m.setting("api_base_url").unwrap().kind, SettingType::Url);
        for (bad, expect) in [
            (
                CHANNEL.replace("\"chat.example\"", "\"https://chat.example\""),
                "allowed host",
            ),
            (
                CHANNEL.replace("key = \"token\"", "key = \"api_base_url\""),
                "declared twice",
            ),
            (
                CHANNEL.replace("secret = true", "secret = true\ndefault = \"x\""),
                "cannot have a default",
            ),
            (
                CHANNEL.replace("https://chat.example/api", "ftp:/x"),
                "default that must be",
            ),
            (
                CHANNEL.replace("key = \"token\"", "key = \"Token\""),
                "must match",
            ),
        ] {
            let err = Manifest::parse(&bad).unwrap_err().to_string();
            assert!(err.contains(expect), "{expect}: {err}");
        }
    }

    #[test]
    fn host_patterns_match_names_or_subdomains_only() {
        let exact = HostPattern::parse("Slack.com").unwrap();
        assert!(
            exact.matches("slack.com") && !exact.matches("api.slack.com") && !exact.matches("evilslack.com")
        );
        let sub = HostPattern::parse("*.slack.com").unwrap();
        assert!(sub.matches("hooks.slack.com") && sub.matches("a.b.slack.com"));
        assert!(!sub.matches("slack.com") && !sub.matches("evilslack.com") && !sub.matches(".slack.com"));
        for bad in [
            "",
            "*.",
            "https://x.com",
            "a..b",
            "x.com/path",
            "-x.com",
            "*.*.x.com",
            "10.0.0.1:80",
        ] {
            assert!(HostPattern::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn setting_types_check_values() {
        assert!(SettingType::Url.check("https://slack.com/api").is_ok());
        assert!(SettingType::Url.check("slack.com").is_err());
        assert!(SettingType::Phone.check("+4915112345678").is_ok());
        assert!(SettingType::Phone.check("015112345678").is_err());
        assert!(SettingType::Integer.check("12").is_ok() && SettingType::Integer.check("x").is_err());
        assert!(SettingType::Boolean.check("true").is_ok() && SettingType::Boolean.check("yes").is_err());
        assert!(SettingType::String.check("").is_err());
    }
}
