//! `/api/v1/admin/config`: per-tenant settings. Secret values are sealed with the operator's key before
//! they reach the database and are only ever reported as "configured, ends in …".

use axum::extract::State;
use axum::http::StatusCode;
use nightowl_api::ErrorBody;
use nightowl_api::admin::{SecretStatus, TenantConfig, TenantConfigInput};

use super::error::ApiError;
use super::extract::{Json, TenantTx};
use super::routes::Route;
use crate::db;
use crate::db::config::ConfigRow;
use crate::secrets::{CONFIG_SECRETS, Place, Sealer, SecretError};
use crate::state::AppState;
use crate::tenancy::Slug;
use nightowl_api::Role::Admin;
use utoipa_axum::routes;

/// The routes of tenant configuration, with who may call them.
pub fn routes() -> Vec<Route> {
    vec![
        Route::read(routes!(get_config), Admin),
        Route::write(routes!(put_config), Admin),
    ]
}

fn secret_status(sealer: &Sealer, sealed: Option<&[u8]>, place: Place<'_>) -> SecretStatus {
    let Some(sealed) = sealed else {
        return SecretStatus {
            configured: false,
            last4: None,
        };
    };
    // Short secrets would be given away by their last characters.
    let last4 = sealer
        .open(sealed, place)
        .ok()
        .filter(|plain| plain.chars().count() >= 16)
        .map(|plain| {
            let chars: Vec<char> = plain.chars().collect();
            chars[chars.len() - 4..].iter().collect()
        });
    SecretStatus {
        configured: true,
        last4,
    }
}

fn view(sealer: &Sealer, tenant: &Slug, row: ConfigRow) -> TenantConfig {
    let place = |field| Place {
        tenant: tenant.as_str(),
        field,
    };
    TenantConfig {
        slack_bot_token: secret_status(
            sealer,
            row.slack_bot_token_enc.as_deref(),
            place("slack_bot_token"),
        ),
        slack_signing_secret: secret_status(
            sealer,
            row.slack_signing_secret_enc.as_deref(),
            place("slack_signing_secret"),
        ),
        twilio_auth_token: secret_status(
            sealer,
            row.twilio_auth_token_enc.as_deref(),
            place("twilio_auth_token"),
        ),
        default_timezone: row.default_timezone,
        slack_workspace: row.slack_workspace,
        slack_channel: row.slack_channel,
        twilio_account_sid: row.twilio_account_sid,
        twilio_from_number: row.twilio_from_number,
        retention_days: row.retention_days,
        default_roster_id: row.default_roster_id,
        updated_at: row.updated_at,
    }
}

/// The tenant's configuration.
#[utoipa::path(get, path = "/api/v1/admin/config", tag = "admin",
    responses((status = 200, body = TenantConfig), (status = 403, body = ErrorBody)))]
pub async fn get_config(
    State(state): State<AppState>,
    mut t: TenantTx,
) -> Result<Json<TenantConfig>, ApiError> {
    let row = db::config::get(&mut t, false).await?;
    Ok(Json(view(&state.sealer, &t.principal.tenant.slug, row)))
}

/// Replaces the configuration. Secrets: absent keeps, `null` clears, a string replaces.
#[utoipa::path(put, path = "/api/v1/admin/config", tag = "admin", request_body = TenantConfigInput,
    responses((status = 200, body = TenantConfig), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_config(
    State(state): State<AppState>,
    mut t: TenantTx,
    Json(input): Json<TenantConfigInput>,
) -> Result<Json<TenantConfig>, ApiError> {
    let mut row = db::config::get(&mut t, true).await?;
    let sealer = &state.sealer;
    let tenant = t.principal.tenant.slug.clone();
    let updates = [
        &input.slack_bot_token,
        &input.slack_signing_secret,
        &input.twilio_auth_token,
    ];
    for ((update, stored), field) in updates.into_iter().zip(row.secrets_mut()).zip(CONFIG_SECRETS) {
        let place = Place {
            tenant: tenant.as_str(),
            field,
        };
        match update {
            None => {}
            Some(None) => *stored = None,
            Some(Some(plain)) => *stored = Some(sealer.seal(plain, place).map_err(seal_error)?),
        }
    }
    row.default_timezone = input.default_timezone;
    row.slack_workspace = input.slack_workspace;
    row.slack_channel = input.slack_channel;
    row.twilio_account_sid = input.twilio_account_sid;
    row.twilio_from_number = input.twilio_from_number;
    row.retention_days = input.retention_days;
    if let Some(roster) = input.default_roster_id
        && db::rosters::get(&mut t, roster).await?.is_none()
    {
        return Err(ApiError::invalid_field(
            "default_roster_id",
            "no roster with this id",
        ));
    }
    row.default_roster_id = input.default_roster_id;
    row.updated_at = state.clock.now();
    let row = db::config::put(&mut t, &row).await?;
    t.commit().await?;
    Ok(Json(view(sealer, &tenant, row)))
}

fn seal_error(err: SecretError) -> ApiError {
    match err {
        SecretError::NoKey => ApiError::new(StatusCode::CONFLICT, "encryption_key_missing", err.to_string()),
        other => ApiError::internal(other),
    }
}
