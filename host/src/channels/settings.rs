//! Per-tenant plugin settings, validated against the manifest's `[[settings]]`: what an admin sees
//! and saves (`/api/v1/admin/plugins/{id}/config`), and what one plugin call gets — plain values for
//! `config.get`, and the opened secrets, which stay on the host side ([`Secrets`]).
//!
//! A secret is sealed bound to its tenant and to `<plugin>.<key>`, so a sealed value moved to another
//! setting, plugin or tenant does not open. Three secrets were sealed before settings were per
//! plugin, bound to their old `tenant_config` field names; [`LEGACY_PLACES`] lets exactly those open
//! until they are resealed (start-up migration or the next save).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use nightowl_api::admin::{PluginConfig, PluginSetting, SecretStatus};
use sqlx::PgConnection;

use super::egress::Secrets;
use crate::db;
use crate::plugins::manifest::{Manifest, SettingType};
use crate::secrets::{Place, Sealer, SecretError};
use crate::tenancy::Slug;

/// `(plugin, key)` → the field name a secret was bound to before plugin settings existed
/// (migration `tenant/0008` moved them here unopened).
pub const LEGACY_PLACES: [(&str, &str, &str); 3] = [
    ("slack", "bot_token", "slack_bot_token"),
    ("slack", "signing_secret", "slack_signing_secret"),
    ("twilio", "auth_token", "twilio_auth_token"),
];

/// The shortest secret a setting takes.
pub const MIN_SECRET_CHARS: usize = 8;

/// The field a plugin secret is bound to.
fn field(plugin: &str, key: &str) -> String {
    format!("{plugin}.{key}")
}

/// Opens a stored plugin secret: bound to its own place, or to its legacy field name.
pub fn open(
    sealer: &Sealer,
    tenant: &Slug,
    plugin: &str,
    key: &str,
    sealed: &[u8],
) -> Result<String, SecretError> {
    let own = field(plugin, key);
    let opened = sealer.open(
        sealed,
        Place {
            tenant: tenant.as_str(),
            field: &own,
        },
    );
    match (opened, legacy_field(plugin, key)) {
        (Err(_), Some(old)) => sealer.open(
            sealed,
            Place {
                tenant: tenant.as_str(),
                field: old,
            },
        ),
        (result, _) => result,
    }
}

fn legacy_field(plugin: &str, key: &str) -> Option<&'static str> {
    LEGACY_PLACES
        .iter()
        .find(|(p, k, _)| *p == plugin && *k == key)
        .map(|(_, _, f)| *f)
}

/// Seals a plugin secret for its place.
pub fn seal(
    sealer: &Sealer,
    tenant: &Slug,
    plugin: &str,
    key: &str,
    plain: &str,
) -> Result<Vec<u8>, SecretError> {
    sealer.seal(
        plain,
        Place {
            tenant: tenant.as_str(),
            field: &field(plugin, key),
        },
    )
}

fn status(plain: Option<&str>, stored: bool) -> SecretStatus {
    // Short secrets would be given away by their last characters.
    let last4 = plain.filter(|p| p.chars().count() >= 16).map(|p| {
        let chars: Vec<char> = p.chars().collect();
        chars[chars.len() - 4..].iter().collect()
    });
    SecretStatus {
        configured: stored,
        last4,
    }
}

fn type_name(kind: SettingType) -> &'static str {
    match kind {
        SettingType::String => "string",
        SettingType::Url => "url",
        SettingType::Phone => "phone",
        SettingType::Integer => "integer",
        SettingType::Boolean => "boolean",
    }
}

/// What an admin sees: every declared setting, values of plain ones, status of secrets.
pub async fn view(
    conn: &mut PgConnection,
    sealer: &Sealer,
    tenant: &Slug,
    manifest: &Manifest,
) -> Result<PluginConfig, sqlx::Error> {
    let stored: HashMap<String, db::plugin_settings::SettingRow> =
        db::plugin_settings::list(conn, &manifest.id, false)
            .await?
            .into_iter()
            .map(|r| (r.key.clone(), r))
            .collect();
    let mut settings = Vec::new();
    let mut missing = Vec::new();
    for s in &manifest.settings {
        let row = stored.get(&s.key);
        let (value, secret_status) = if s.secret {
            let sealed = row.and_then(|r| r.secret_enc.as_deref());
            let plain = sealed.and_then(|b| open(sealer, tenant, &manifest.id, &s.key, b).ok());
            (None, Some(status(plain.as_deref(), sealed.is_some())))
        } else {
            (row.and_then(|r| r.value.clone()), None)
        };
        let set =
            value.is_some() || secret_status.as_ref().is_some_and(|st| st.configured) || s.default.is_some();
        if s.required && !set {
            missing.push(s.key.clone());
        }
        settings.push(PluginSetting {
            key: s.key.clone(),
            label: if s.label.is_empty() {
                s.key.clone()
            } else {
                s.label.clone()
            },
            kind: type_name(s.kind).to_owned(),
            secret: s.secret,
            required: s.required,
            description: s.description.clone(),
            default: s.default.clone(),
            value,
            status: secret_status,
        });
    }
    Ok(PluginConfig {
        plugin: manifest.id.clone(),
        settings,
        missing,
    })
}

/// Why an update was refused.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// Per key, what is wrong (unknown key, wrong type).
    #[error("invalid settings")]
    Invalid(BTreeMap<String, String>),
    #[error(transparent)]
    Seal(#[from] SecretError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Applies an admin's update: each named key is set (`Some`) or cleared (`None`); all or nothing.
pub async fn update(
    conn: &mut PgConnection,
    sealer: &Sealer,
    tenant: &Slug,
    manifest: &Manifest,
    changes: &BTreeMap<String, Option<String>>,
    now: DateTime<Utc>,
) -> Result<(), UpdateError> {
    let mut problems = BTreeMap::new();
    for (key, value) in changes {
        match (manifest.setting(key), value) {
            (None, _) => {
                problems.insert(
                    key.clone(),
                    format!("plugin {} has no setting {key:?}", manifest.id),
                );
            }
            (Some(s), Some(v)) => {
                let checked = if s.secret {
                    // A short secret could not be told apart (and redacted) in what comes back.
                    (v.chars().count() >= MIN_SECRET_CHARS && v.len() <= 4096)
                        .then_some(())
                        .ok_or_else(|| format!("must be {MIN_SECRET_CHARS} to 4096 characters"))
                } else {
                    s.kind.check(v)
                };
                if let Err(e) = checked {
                    problems.insert(key.clone(), e);
                }
            }
            (Some(_), None) => {}
        }
    }
    if !problems.is_empty() {
        return Err(UpdateError::Invalid(problems));
    }
    // Lock the plugin's rows so two admins saving at once do not interleave.
    db::plugin_settings::list(conn, &manifest.id, true).await?;
    for (key, value) in changes {
        let secret = manifest.setting(key).is_some_and(|s| s.secret);
        match value {
            None => db::plugin_settings::delete(conn, &manifest.id, key).await?,
            Some(v) if secret => {
                let sealed = seal(sealer, tenant, &manifest.id, key, v)?;
                db::plugin_settings::put(conn, &manifest.id, key, None, Some(&sealed), now).await?
            }
            Some(v) => db::plugin_settings::put(conn, &manifest.id, key, Some(v), None, now).await?,
        }
    }
    Ok(())
}

/// One tenant's settings for one plugin call: plain values (with defaults) and opened secrets.
#[derive(Debug, Clone, Default)]
pub struct CallSettings {
    pub values: HashMap<String, String>,
    pub secrets: Secrets,
    /// Required settings with no value.
    pub missing: Vec<String>,
}

/// Loads what a call of `manifest`'s plugin for `tenant` may use. A secret that does not open (key
/// changed) counts as missing and is logged, never shown.
pub async fn for_call(
    conn: &mut PgConnection,
    sealer: &Sealer,
    tenant: &Slug,
    manifest: &Manifest,
) -> Result<CallSettings, sqlx::Error> {
    let stored = db::plugin_settings::list(conn, &manifest.id, false).await?;
    let mut values = HashMap::new();
    let mut secrets = HashMap::new();
    for row in stored {
        let Some(declared) = manifest.setting(&row.key) else {
            continue;
        };
        match (declared.secret, row.value, row.secret_enc) {
            (false, Some(v), _) => {
                values.insert(row.key, v);
            }
            (true, _, Some(sealed)) => match open(sealer, tenant, &manifest.id, &row.key, &sealed) {
                Ok(plain) => {
                    secrets.insert(row.key, plain);
                }
                Err(e) => {
                    tracing::error!(tenant = %tenant, plugin = %manifest.id, key = %row.key, error = %e, "plugin secret does not open")
                }
            },
            _ => {}
        }
    }
    let mut missing = Vec::new();
    for s in &manifest.settings {
        if let (false, Some(d), false) = (s.secret, &s.default, values.contains_key(&s.key)) {
            values.insert(s.key.clone(), d.clone());
        }
        let set = if s.secret {
            secrets.contains_key(&s.key)
        } else {
            values.contains_key(&s.key)
        };
        if s.required && !set {
            missing.push(s.key.clone());
        }
    }
    Ok(CallSettings {
        values,
        secrets: Secrets::new(secrets),
        missing,
    })
}

/// Rewrites one tenant's plugin secrets that do not open at their own place — legacy-bound
/// ([`LEGACY_PLACES`]) or sealed before values were bound at all — bound to their place. Returns how
/// many were rewritten.
pub async fn reseal(
    conn: &mut PgConnection,
    sealer: &Sealer,
    tenant: &Slug,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let mut rewritten = 0;
    for (plugin, key, sealed) in db::plugin_settings::secrets(conn).await? {
        let own = field(&plugin, &key);
        let place = Place {
            tenant: tenant.as_str(),
            field: &own,
        };
        if sealer.open(&sealed, place).is_ok() {
            continue;
        }
        let plain = open(sealer, tenant, &plugin, &key, &sealed).or_else(|_| sealer.open_unbound(&sealed));
        match plain {
            Ok(plain) => {
                let resealed = sealer.seal(&plain, place)?;
                db::plugin_settings::put(conn, &plugin, &key, None, Some(&resealed), now).await?;
                rewritten += 1;
            }
            Err(_) => {
                tracing::error!(tenant = %tenant, plugin, key, "stored secret opens with neither format; left as is")
            }
        }
    }
    Ok(rewritten)
}
