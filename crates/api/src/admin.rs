//! Types of the administration endpoints: users, API keys, services, tenant configuration, identity.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{FieldErrors, Role, Validate};

/// Who is calling: answered by `GET /api/v1/ping`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Identity {
    /// Slug of the caller's tenant.
    pub tenant: String,
    /// Effective role.
    pub role: Role,
    /// `user`, `api_key` or `dev`.
    pub actor_type: String,
    /// User id or API key id.
    pub actor_id: Option<String>,
    /// E-mail of the user, or the API key's prefix.
    pub actor_label: String,
}

/// A person in the tenant.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// IANA time zone.
    pub timezone: String,
    /// E.164 phone number.
    pub phone: Option<String>,
    pub slack_user_id: Option<String>,
    pub is_active: bool,
    /// True when the user can sign in with a local password.
    pub has_password: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Body of `POST /api/v1/users` and `PUT /api/v1/users/{id}` (PUT replaces every field).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// IANA time zone; defaults to UTC.
    #[serde(default = "utc")]
    pub timezone: String,
    /// E.164 phone number.
    #[serde(default)]
    pub phone: Option<String>,
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
pub struct ApiKey {
    pub id: Uuid,
    pub name: String,
    /// First characters of the key, to tell keys apart.
    pub prefix: String,
    pub role: Role,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Scopes an API key can be narrowed to.
pub const API_KEY_SCOPES: [&str; 2] = ["read", "ingest"];

/// Body of `POST /api/v1/admin/api-keys`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyInput {
    pub name: String,
    pub role: Role,
    /// Optional narrowing: `read` allows only reads, `ingest` only alert webhooks, whatever the role.
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
            if !API_KEY_SCOPES.contains(&scope.as_str()) {
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
    #[serde(flatten)]
    pub api_key: ApiKey,
}

/// An entry of the service catalogue.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Service {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub cluster: Option<String>,
    pub namespace: Option<String>,
    pub owner_user_id: Option<Uuid>,
    /// 1 (most critical) to 4.
    pub tier: i16,
    /// The team roster answering for the service: its escalation policy pages for the service's alerts.
    pub roster_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Body of `POST /api/v1/services` and `PUT /api/v1/services/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceInput {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub cluster: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub owner_user_id: Option<Uuid>,
    /// 1 (most critical) to 4; defaults to 3.
    #[serde(default = "default_tier")]
    pub tier: i16,
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
    pub configured: bool,
    /// Last four characters, when the secret is long enough for that to give nothing away.
    pub last4: Option<String>,
}

/// Tenant configuration as read back.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TenantConfig {
    pub default_timezone: String,
    pub slack_workspace: Option<String>,
    pub slack_channel: Option<String>,
    pub twilio_account_sid: Option<String>,
    pub twilio_from_number: Option<String>,
    /// Days to keep resolved alerts and audit rows.
    pub retention_days: i32,
    /// Roster (and so escalation policy) for alerts whose service routes nowhere.
    pub default_roster_id: Option<Uuid>,
    pub slack_bot_token: SecretStatus,
    pub slack_signing_secret: SecretStatus,
    pub twilio_auth_token: SecretStatus,
    pub updated_at: DateTime<Utc>,
}

/// Body of `PUT /api/v1/admin/config`. Plain fields are replaced. Secret fields: absent keeps the
/// stored value, `null` clears it, a string replaces it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantConfigInput {
    #[serde(default = "utc")]
    pub default_timezone: String,
    #[serde(default)]
    pub slack_workspace: Option<String>,
    #[serde(default)]
    pub slack_channel: Option<String>,
    #[serde(default)]
    pub twilio_account_sid: Option<String>,
    #[serde(default)]
    pub twilio_from_number: Option<String>,
    #[serde(default = "default_retention")]
    pub retention_days: i32,
    #[serde(default)]
    pub default_roster_id: Option<Uuid>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub slack_bot_token: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub slack_signing_secret: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub twilio_auth_token: Option<Option<String>>,
}

fn default_retention() -> i32 {
    365
}

/// Tells a field that was sent as `null` (`Some(None)`) from one that was left out (`None`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

impl Validate for TenantConfigInput {
    fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        e.timezone("default_timezone", &self.default_timezone);
        if let Some(n) = &self.twilio_from_number {
            e.phone("twilio_from_number", n);
        }
        if let Some(sid) = &self.twilio_account_sid
            && !(sid.len() == 34 && sid.starts_with("AC") && sid[2..].bytes().all(|b| b.is_ascii_hexdigit()))
        {
            e.add(
                "twilio_account_sid",
                "must be a Twilio account SID (AC + 32 hex digits)",
            );
        }
        if let Some(ch) = &self.slack_channel {
            e.required("slack_channel", ch, 80);
        }
        if !(1..=3650).contains(&self.retention_days) {
            e.add("retention_days", "must be between 1 and 3650");
        }
        for (field, value) in [
            ("slack_bot_token", &self.slack_bot_token),
            ("slack_signing_secret", &self.slack_signing_secret),
            ("twilio_auth_token", &self.twilio_auth_token),
        ] {
            if let Some(Some(v)) = value {
                e.required(field, v, 512);
            }
        }
        e.finish()
    }
}

/// Body of `POST /api/v1/auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    /// Tenant slug.
    pub tenant: String,
    pub email: String,
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
    /// `ok`, `degraded` (serving, an optional dependency is down) or `failed`.
    pub status: String,
    /// `ok` or `down`.
    pub database: String,
    /// `ok`, `down` or `disabled`.
    pub redis: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_secret_absent_null_and_value_are_distinct() {
        let absent: TenantConfigInput = serde_json::from_str("{}").unwrap();
        assert_eq!(absent.slack_bot_token, None);
        let cleared: TenantConfigInput = serde_json::from_str(r#"{"slack_bot_token": null}"#).unwrap();
        assert_eq!(cleared.slack_bot_token, Some(None));
        let set: TenantConfigInput = serde_json::from_str(r#"{"slack_bot_token": "xoxb-1"}"#).unwrap();
        assert_eq!(set.slack_bot_token, Some(Some("xoxb-1".into())));
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
}

/// One audit-log row.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditRecord {
    pub id: i64,
    /// user, api_key, dev or system.
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub actor_label: Option<String>,
    /// create, update, delete, acknowledge, resolve, merge, ...
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<String>,
    /// The request as sent, secrets redacted.
    #[schema(value_type = Option<Object>)]
    pub diff: Option<serde_json::Value>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub created_at: DateTime<Utc>,
}
