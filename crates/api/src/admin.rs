//! Types of the administration endpoints: users, API keys, services, tenant configuration, identity.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::text::string_enum;
use crate::{FieldErrors, Role, Validate};

string_enum! {
    /// What kind of caller did something (`audit_log.actor_type`).
    pub enum ActorType("actor type") {
        /// A person of the tenant, signed in (session cookie or OIDC token).
        User = "user",
        /// A machine with an API key.
        ApiKey = "api_key",
        /// A caller of a host started with `--dev-mode`, named by the dev headers.
        Dev = "dev",
        /// The host itself: workers and ingest (never a caller of the API).
        System = "system",
    }
}

string_enum! {
    /// A narrowing of what an API key may do, whatever its role.
    pub enum ApiKeyScope("API key scope") {
        /// Reads only (GET and HEAD); the only scope a key in a URL (calendar feeds) may have.
        Read = "read",
        /// Alert webhooks (`/api/v1/webhooks/...`) only.
        Ingest = "ingest",
        /// Alert webhooks, and reporting fixes as an automated agent (`agent_metadata` with
        /// `auto_resolved`), which write unreviewed knowledge. No other key may report agent fixes.
        Agent = "agent",
    }
}

string_enum! {
    /// The overall answer of `/readyz`.
    pub enum ReadinessStatus("readiness status") {
        /// Every dependency is up.
        Ok = "ok",
        /// Serving, but an optional dependency (Redis) is down: dedup and events fall back to
        /// PostgreSQL.
        Degraded = "degraded",
        /// PostgreSQL is unreachable; answered with 503.
        Failed = "failed",
    }
}

string_enum! {
    /// How one dependency answered the readiness probe.
    pub enum DependencyStatus("dependency status") {
        /// Reachable.
        Ok = "ok",
        /// Configured but unreachable.
        Down = "down",
        /// Not configured (Redis is optional).
        Disabled = "disabled",
    }
}

/// Who is calling: answered by `GET /api/v1/ping`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Identity {
    /// Slug of the caller's tenant.
    pub tenant: String,
    /// Effective role.
    pub role: Role,
    /// What kind of caller it is.
    pub actor_type: ActorType,
    /// User id or API key id.
    pub actor_id: Option<String>,
    /// E-mail of the user, `key:<prefix>` for an API key, or `dev`.
    pub actor_label: String,
}

/// A person in the tenant.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct User {
    /// Id of the user.
    pub id: Uuid,
    /// E-mail address, unique in the tenant regardless of case; the local sign-in name.
    pub email: String,
    /// Name shown in rosters, notifications and the UI.
    pub display_name: String,
    /// What the user may do.
    pub role: Role,
    /// IANA time zone, used to render times for this person.
    pub timezone: String,
    /// E.164 phone number, for the phone and SMS channels.
    pub phone: Option<String>,
    /// Slack member id, for Slack direct messages.
    pub slack_user_id: Option<String>,
    /// Inactive users cannot sign in and are skipped by escalation.
    pub is_active: bool,
    /// True when the user can sign in with a local password.
    pub has_password: bool,
    /// When the user was created.
    pub created_at: DateTime<Utc>,
    /// When the user was last changed.
    pub updated_at: DateTime<Utc>,
}

/// Body of `POST /api/v1/users` and `PUT /api/v1/users/{id}` (PUT replaces every field).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    /// E-mail address, unique in the tenant regardless of case.
    pub email: String,
    /// Name shown in rosters, notifications and the UI (1 to 200 characters).
    pub display_name: String,
    /// What the user may do.
    pub role: Role,
    /// IANA time zone; defaults to UTC.
    #[serde(default = "utc")]
    pub timezone: String,
    /// E.164 phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// Slack member id (1 to 64 characters).
    #[serde(default)]
    pub slack_user_id: Option<String>,
    /// Sets the local sign-in password (at least 12 characters). Absent: unchanged.
    #[serde(default)]
    pub password: Option<String>,
    /// Defaults to true.
    #[serde(default = "yes")]
    pub is_active: bool,
}

fn utc() -> String {
    "UTC".to_owned()
}

fn yes() -> bool {
    true
}

impl Validate for UserInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        e.email("email", &self.email);
        e.required("display_name", &self.display_name, 200);
        e.timezone("timezone", &self.timezone);
        if let Some(phone) = &self.phone {
            e.phone("phone", phone);
        }
        if let Some(slack) = &self.slack_user_id {
            e.required("slack_user_id", slack, 64);
        }
        if let Some(password) = &self.password {
            if password.chars().count() < 12 {
                e.add("password", "must be at least 12 characters");
            }
            e.max_len("password", password, 1024);
        }
        e.finish()
    }
}

/// An API key as listed: never the key itself.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct ApiKey {
    /// Id of the key.
    pub id: Uuid,
    /// What the key is for.
    pub name: String,
    /// First characters of the key, to tell keys apart.
    pub prefix: String,
    /// What the key may do.
    pub role: Role,
    /// Narrowing of the role; empty: everything the role allows.
    pub scopes: Vec<ApiKeyScope>,
    /// When the key stops working; absent: never.
    pub expires_at: Option<DateTime<Utc>>,
    /// When the key last authenticated a request.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When the key was revoked; it works no more.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Who created it.
    pub created_by: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// Scopes an API key can be narrowed to (the spellings of [`ApiKeyScope`]).
pub const API_KEY_SCOPES: [&str; 3] = ["read", "ingest", "agent"];

/// Body of `POST /api/v1/admin/api-keys`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyInput {
    /// What the key is for (1 to 200 characters).
    pub name: String,
    /// What the key may do.
    pub role: Role,
    /// Optional narrowing: `read` allows only reads, `ingest` only alert webhooks, `agent` alert
    /// webhooks with agent fixes, whatever the role.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// When the key stops working; absent: never.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

impl Validate for ApiKeyInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        e.required("name", &self.name, 200);
        for scope in &self.scopes {
            if ApiKeyScope::parse(scope).is_none() {
                e.add(
                    "scopes",
                    format!("unknown scope {scope:?}; known: {API_KEY_SCOPES:?}"),
                );
            }
        }
        e.finish()
    }
}

/// Answer to key creation: the only time the raw key is shown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedApiKey {
    /// The key to send as `X-API-Key`. Store it now: it cannot be shown again.
    pub key: String,
    /// The key as listed, at the top level of the answer.
    #[serde(flatten)]
    pub api_key: ApiKey,
}

impl CreatedApiKey {
    /// Reads the answer with plain derives (the key, then the listed fields from the same text): the
    /// same value as `serde_json::from_str`, without `flatten`'s deserializer in the web bundle.
    pub fn from_json(text: &str) -> serde_json::Result<CreatedApiKey> {
        #[derive(Deserialize)]
        struct Key {
            key: String,
        }
        let Key { key } = serde_json::from_str(text)?;
        Ok(CreatedApiKey {
            key,
            api_key: serde_json::from_str(text)?,
        })
    }
}

/// An entry of the service catalogue.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Service {
    /// Id of the service.
    pub id: Uuid,
    /// Unique name; alerts name their service with it.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Cluster it runs on.
    pub cluster: Option<String>,
    /// Namespace it runs in.
    pub namespace: Option<String>,
    /// The user who owns it.
    pub owner_user_id: Option<Uuid>,
    /// Business criticality, 1 (most critical) to 4 (not an escalation tier).
    pub tier: i16,
    /// The team roster answering for the service: its escalation policy pages for the service's alerts.
    pub roster_id: Option<Uuid>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// Body of `POST /api/v1/services` and `PUT /api/v1/services/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceInput {
    /// Unique name (1 to 200 characters).
    pub name: String,
    /// Free text (at most 4000 characters).
    #[serde(default)]
    pub description: Option<String>,
    /// Cluster it runs on (at most 253 characters).
    #[serde(default)]
    pub cluster: Option<String>,
    /// Namespace it runs in (at most 253 characters).
    #[serde(default)]
    pub namespace: Option<String>,
    /// The user who owns it; must exist.
    #[serde(default)]
    pub owner_user_id: Option<Uuid>,
    /// 1 (most critical) to 4; defaults to 3.
    #[serde(default = "default_tier")]
    pub tier: i16,
    /// The team roster answering for the service; must exist.
    #[serde(default)]
    pub roster_id: Option<Uuid>,
}

fn default_tier() -> i16 {
    3
}

impl Validate for ServiceInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        e.required("name", &self.name, 200);
        for (field, value) in [
            ("description", &self.description),
            ("cluster", &self.cluster),
            ("namespace", &self.namespace),
        ] {
            if let Some(v) = value {
                e.max_len(field, v, if field == "description" { 4000 } else { 253 });
            }
        }
        if !(1..=4).contains(&self.tier) {
            e.add("tier", "must be between 1 and 4");
        }
        e.finish()
    }
}

/// Whether a secret is set, and enough of it to recognise it; never the value.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct SecretStatus {
    /// Whether a value is stored.
    pub configured: bool,
    /// Last four characters, when the secret is long enough for that to give nothing away.
    pub last4: Option<String>,
}

/// Tenant configuration as read back. Channel settings (Slack, Twilio, ...) are per plugin:
/// [`PluginConfig`].
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TenantConfig {
    /// IANA time zone for times not tied to a person.
    pub default_timezone: String,
    /// Days to keep resolved alerts and audit rows.
    pub retention_days: i32,
    /// Roster (and so escalation policy) for alerts whose service routes nowhere.
    pub default_roster_id: Option<Uuid>,
    /// The paging-storm rule: per channel name, the least number of seconds between two pages to one
    /// person; pages due in between are folded into the next one.
    pub page_interval_secs: BTreeMap<String, u32>,
    /// When the configuration was last changed.
    pub updated_at: DateTime<Utc>,
}

/// Body of `PUT /api/v1/admin/config`: every field is replaced.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantConfigInput {
    /// IANA time zone; defaults to UTC.
    #[serde(default = "utc")]
    pub default_timezone: String,
    /// Days to keep resolved alerts and audit rows (1 to 3650, default 365).
    #[serde(default = "default_retention")]
    pub retention_days: i32,
    /// Roster for alerts whose service routes nowhere; must exist.
    #[serde(default)]
    pub default_roster_id: Option<Uuid>,
    /// The paging-storm rule: per channel name (`phone`, `sms`, `slack_dm`, a plugin id), the least
    /// number of seconds between two pages to one person through it (0 to 3600; 0 or absent: no
    /// limit). Pages that come due in between are folded into the next page, which counts them and
    /// names the worst severity; acknowledging it acknowledges them all. Default: `{"phone": 60,
    /// "sms": 60}`.
    #[serde(default = "default_page_intervals")]
    pub page_interval_secs: BTreeMap<String, u32>,
}

/// The paging-storm rule when a tenant has not set one: one call and one SMS per minute at most.
pub fn default_page_intervals() -> BTreeMap<String, u32> {
    BTreeMap::from([("phone".to_owned(), 60), ("sms".to_owned(), 60)])
}

/// The longest interval between two pages a tenant may set: an hour.
pub const MAX_PAGE_INTERVAL_SECS: u32 = 3600;

fn default_retention() -> i32 {
    365
}

impl Validate for TenantConfigInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        e.timezone("default_timezone", &self.default_timezone);
        if !(1..=3650).contains(&self.retention_days) {
            e.add("retention_days", "must be between 1 and 3650");
        }
        for (channel, secs) in &self.page_interval_secs {
            if crate::escalation::Channel::parse(channel).is_none() {
                e.add("page_interval_secs", format!("{channel:?} is not a channel name"));
            }
            if *secs > MAX_PAGE_INTERVAL_SECS {
                e.add(
                    "page_interval_secs",
                    format!("{channel}: at most {MAX_PAGE_INTERVAL_SECS} seconds"),
                );
            }
        }
        e.finish()
    }
}

/// An installed plugin, as `GET /api/v1/admin/plugins` lists it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InstalledPlugin {
    /// Plugin id (its directory's name).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Version from the manifest.
    pub version: String,
    /// `source` or `channel`.
    pub kind: String,
    /// What it does.
    pub description: String,
    /// Host interfaces it may use beyond logging and its settings.
    pub capabilities: Vec<String>,
    /// WIT package version the component was built against (`0.1.0`, `0.1.1`).
    pub api_version: String,
    /// Hosts the manifest asks to reach (the operator's grant may narrow them).
    pub allowed_hosts: Vec<String>,
    /// SHA-256 of the component.
    pub sha256: String,
    /// Last load error of this plugin's directory, if the newest files did not load.
    pub error: Option<String>,
    /// Calls stopped by the sandbox since the server started, by kind (`trap`, `timeout`, `memory`,
    /// `instantiate`); kinds that never happened are left out.
    pub faults: BTreeMap<String, u64>,
    /// For a source plugin, where senders (Alertmanager, Keep) post alerts, with an API key of the
    /// `ingest` scope.
    pub webhook_url: Option<String>,
}

/// A plugin directory with no working version, and why.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PluginFailure {
    /// The directory's name under the plugin directory.
    pub directory: String,
    /// Why it did not load.
    pub error: String,
}

/// Installed plugins and directories that failed to load.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PluginList {
    /// Installed plugins, by id.
    pub plugins: Vec<InstalledPlugin>,
    /// Directories with no working version, and why.
    pub failed: Vec<PluginFailure>,
}

/// One setting of a plugin for this tenant, as its manifest declares it and as it is set.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct PluginSetting {
    /// The setting's name.
    pub key: String,
    /// What a form shows.
    pub label: String,
    /// `string`, `url`, `phone`, `integer` or `boolean`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Whether the value is a secret (sealed at rest, never shown, never given to plugin code).
    pub secret: bool,
    /// Whether the plugin needs it to work.
    pub required: bool,
    /// What the manifest says about it.
    pub description: String,
    /// The value used when none is set (never for secrets).
    pub default: Option<String>,
    /// The value set for this tenant (always absent for secrets).
    pub value: Option<String>,
    /// For secrets: whether one is stored, and its last characters.
    pub status: Option<SecretStatus>,
}

/// A plugin's settings for this tenant.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PluginConfig {
    /// The plugin id.
    pub plugin: String,
    /// Every declared setting, in manifest order.
    pub settings: Vec<PluginSetting>,
    /// Required settings that have no value (the plugin cannot work for this tenant until set).
    pub missing: Vec<String>,
}

/// Body of `PUT /api/v1/admin/plugins/{id}/config`: for each key named, a string sets the value
/// (a secret is sealed) and `null` clears it; keys left out keep their value.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PluginConfigInput {
    /// Setting key to new value (or `null`).
    #[schema(value_type = Object)]
    pub settings: std::collections::BTreeMap<String, Option<String>>,
}

impl Validate for PluginConfigInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        if self.settings.len() > 100 {
            e.add("settings", "at most 100 settings at once");
        }
        // Types and known keys are checked against the plugin's manifest by the host.
        e.finish()
    }
}

/// `GET /api/v1/auth/methods`: how people can sign in here (the sign-in page asks).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuthMethods {
    /// Local passwords (`POST /api/v1/auth/login`).
    pub password: bool,
    /// Single sign-on through the configured OpenID Connect provider, when there is one.
    pub oidc: Option<OidcMethod>,
}

/// Single sign-on: where the browser goes to start it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OidcMethod {
    /// The path that starts the sign-in; `?next=<path>` brings the person back there afterwards.
    pub login_url: String,
}

/// Body of `POST /api/v1/auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    /// Tenant slug.
    pub tenant: String,
    /// The user's e-mail address.
    pub email: String,
    /// The user's local password.
    pub password: String,
}

impl Validate for LoginInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        e.required("tenant", &self.tenant, 64);
        e.required("email", &self.email, 254);
        e.required("password", &self.password, 1024);
        e.finish()
    }
}

/// Answer of `/readyz`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Readiness {
    /// Serving, serving with an optional dependency down, or not serving.
    pub status: ReadinessStatus,
    /// PostgreSQL: `ok` or `down`.
    pub database: DependencyStatus,
    /// Redis: `ok`, `down` or `disabled`.
    pub redis: DependencyStatus,
    /// The worker loops of this process: `ok`, `down` (one panicked and waits to restart; the
    /// answer is then `degraded`) or `disabled` (this process runs no workers).
    pub workers: DependencyStatus,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_setting_null_and_value_are_distinct_and_absent_keys_are_not_named() {
        let input: PluginConfigInput =
            serde_json::from_str(r##"{"settings": {"token": null, "room": "#ops"}}"##).unwrap();
        assert_eq!(input.settings.get("token"), Some(&None));
        assert_eq!(input.settings.get("room"), Some(&Some("#ops".to_owned())));
        assert_eq!(input.settings.get("other"), None);
        assert!(serde_json::from_str::<TenantConfigInput>(r#"{"slack_bot_token": "x"}"#).is_err());
    }

    #[test]
    fn user_input_reports_every_bad_field() {
        let input: UserInput = serde_json::from_value(serde_json::json!({
            "email": "nope", "display_name": "", "role": "engineer",
            "timezone": "Nowhere/City", "phone": "0151", "password": "short"
        }))
        .unwrap();
        let errors = input.validate().unwrap_err();
        let fields: Vec<_> = errors.0.keys().map(String::as_str).collect();
        assert_eq!(fields, ["display_name", "email", "password", "phone", "timezone"]);
    }

    #[test]
    fn admin_names_round_trip() {
        assert_eq!(
            ActorType::ALL.map(ActorType::as_str),
            ["user", "api_key", "dev", "system"]
        );
        assert_eq!(ApiKeyScope::ALL.map(ApiKeyScope::as_str), API_KEY_SCOPES);
        assert_eq!(
            ReadinessStatus::ALL.map(ReadinessStatus::as_str),
            ["ok", "degraded", "failed"]
        );
        assert_eq!(
            DependencyStatus::ALL.map(DependencyStatus::as_str),
            ["ok", "down", "disabled"]
        );
        for a in ActorType::ALL {
            assert_eq!(a.as_str().parse(), Ok(a));
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
        }
        for s in ApiKeyScope::ALL {
            assert_eq!(ApiKeyScope::parse(&s.to_string()), Some(s));
        }
        assert_eq!(ApiKeyScope::parse("write"), None);
    }

    #[test]
    fn api_key_scopes_are_checked_against_the_known_ones() {
        let input: ApiKeyInput = serde_json::from_value(serde_json::json!({
            "name": "ci", "role": "engineer", "scopes": ["read", "admin"]
        }))
        .unwrap();
        assert_eq!(
            input.validate().unwrap_err().0["scopes"],
            [r#"unknown scope "admin"; known: ["read", "ingest", "agent"]"#]
        );
    }
}

/// One audit-log row.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct AuditRecord {
    /// Id of the row; increases in recording order (the audit log's cursor).
    pub id: i64,
    /// What kind of actor acted.
    pub actor_type: ActorType,
    /// User id or API key id.
    pub actor_id: Option<String>,
    /// E-mail of the user, or `key:<prefix>`.
    pub actor_label: Option<String>,
    /// create, update, delete, acknowledge, resolve, merge, ...
    pub action: String,
    /// What was acted on, e.g. `users`, `incidents`, `config`.
    pub resource_type: String,
    /// Id of the resource, when it has one.
    pub resource_id: Option<String>,
    /// The request as sent, secrets redacted.
    #[schema(value_type = Option<Object>)]
    pub diff: Option<serde_json::Value>,
    /// The caller's address.
    pub ip: Option<String>,
    /// The caller's `User-Agent`.
    pub user_agent: Option<String>,
    /// The request id, as in the logs and the `x-request-id` answer header.
    pub request_id: Option<String>,
    /// When it happened.
    pub created_at: DateTime<Utc>,
}
