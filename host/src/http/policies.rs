//! `/api/v1/escalation-policies`: ordered tiers, repeats, and the dry run.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use nightowl_api::ErrorBody;
use nightowl_api::escalation::{
    BUILTIN_CHANNELS, Channel, ChannelOption, DryRun, DryRunInput, EscalationPolicy, PolicyInput, Target,
};
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{Json, TenantTx};
use super::routes::Route;
use crate::db;
use crate::plugins::Kind;
use crate::state::AppState;
use nightowl_api::Role::{Manager, Readonly};
use utoipa_axum::routes;

/// The routes of escalation policies, with who may call them.
pub fn routes() -> Vec<Route> {
    vec![
        Route::read(routes!(list_policies), Readonly),
        Route::read(routes!(list_channels), Readonly),
        Route::write(routes!(create_policy), Manager),
        Route::read(routes!(get_policy), Readonly),
        Route::write(routes!(update_policy), Manager),
        Route::write(routes!(delete_policy), Manager),
        Route::write(routes!(dry_run), Readonly).unaudited("a simulation: it changes nothing"),
    ]
}

/// The channels a tier can name: the built-in ones (with whether the plugin that delivers them is
/// installed) and every installed channel plugin, for the policy editor.
#[utoipa::path(get, path = "/api/v1/escalation-policies/channels", tag = "escalation",
    responses((status = 200, body = Vec<ChannelOption>)))]
pub async fn list_channels(State(state): State<AppState>) -> Json<Vec<ChannelOption>> {
    let is_channel_plugin = |id: &str| {
        state
            .plugins
            .get(id)
            .is_some_and(|p| p.manifest.kind == Kind::Channel)
    };
    let builtin = |name: &str| match name {
        "log" => "a line in NightOwl's log (for testing a policy)",
        "slack_dm" => "a Slack direct message",
        "slack_channel" => "a message in the team's Slack channel",
        "phone" => "a phone call",
        _ => "a text message (SMS)",
    };
    let mut options: Vec<ChannelOption> = BUILTIN_CHANNELS
        .iter()
        .filter_map(|name| Channel::parse(name))
        .map(|c| ChannelOption {
            name: c.as_str().to_owned(),
            plugin: c.plugin_id().map(str::to_owned),
            installed: c.plugin_id().is_none_or(is_channel_plugin),
            description: builtin(c.as_str()).to_owned(),
        })
        .collect();
    // Installed channel plugins other than those the built-in channels already name, by id.
    let named = |id: &str| options.iter().any(|o| o.plugin.as_deref() == Some(id));
    let plugins: Vec<_> = state
        .plugins
        .list()
        .into_iter()
        .filter(|p| is_channel_plugin(&p.id) && !named(&p.id))
        .collect();
    options.extend(plugins.into_iter().map(|p| ChannelOption {
        name: p.id.clone(),
        plugin: Some(p.id),
        installed: true,
        description: p.description,
    }));
    Json(options)
}

fn map_write_error(err: sqlx::Error) -> ApiError {
    if db::is_unique_violation(&err, "escalation_policies_name_key") {
        ApiError::conflict(
            "policy_exists",
            "an escalation policy with this name already exists",
        )
    } else {
        err.into()
    }
}

/// Checks what the shared validation cannot: channels are built in or installed channel plugins, and
/// named users and rosters exist.
async fn check_references(state: &AppState, t: &mut TenantTx, input: &PolicyInput) -> Result<(), ApiError> {
    let mut errors = nightowl_api::FieldErrors::default();
    for (i, tier) in input.tiers.iter().enumerate() {
        for via in &tier.notify_via {
            let installed = state
                .plugins
                .get(via)
                .is_some_and(|p| p.manifest.kind == Kind::Channel);
            if !BUILTIN_CHANNELS.contains(&via.as_str()) && !installed {
                errors.add(
                    &format!("tiers[{i}].notify_via"),
                    format!("{via:?} is neither a built-in channel nor an installed channel plugin"),
                );
            }
        }
        for target in tier.targets.iter().filter_map(|t| Target::parse(t)) {
            let exists = match target {
                Target::User(id) => db::users::exists(t, id).await?,
                Target::Roster(id) => db::rosters::exists(t, id).await?,
                _ => continue,
            };
            if !exists {
                errors.add(&format!("tiers[{i}].targets"), format!("{target} does not exist"));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

async fn load(t: &mut TenantTx, id: Uuid) -> Result<EscalationPolicy, ApiError> {
    db::policies::get(t, id)
        .await?
        .ok_or_else(|| ApiError::not_found("escalation policy"))
}

/// Every escalation policy.
#[utoipa::path(get, path = "/api/v1/escalation-policies", tag = "escalation",
    responses((status = 200, body = Vec<EscalationPolicy>)))]
pub async fn list_policies(mut t: TenantTx) -> Result<Json<Vec<EscalationPolicy>>, ApiError> {
    Ok(Json(db::policies::list(&mut t).await?))
}

/// Creates a policy.
#[utoipa::path(post, path = "/api/v1/escalation-policies", tag = "escalation", request_body = PolicyInput,
    responses((status = 201, body = EscalationPolicy), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_policy(
    State(state): State<AppState>,
    mut t: TenantTx,
    Json(input): Json<PolicyInput>,
) -> Result<(StatusCode, Json<EscalationPolicy>), ApiError> {
    check_references(&state, &mut t, &input).await?;
    let policy = db::policies::save(&mut t, None, &input, state.clock.now())
        .await
        .map_err(map_write_error)?
        .expect("insert returns the row");
    t.commit().await?;
    Ok((StatusCode::CREATED, Json(policy)))
}

/// One policy.
#[utoipa::path(get, path = "/api/v1/escalation-policies/{id}", tag = "escalation", params(("id" = Uuid, Path)),
    responses((status = 200, body = EscalationPolicy), (status = 404, body = ErrorBody)))]
pub async fn get_policy(mut t: TenantTx, Path(id): Path<Uuid>) -> Result<Json<EscalationPolicy>, ApiError> {
    Ok(Json(load(&mut t, id).await?))
}

/// Replaces a policy. Running escalations continue at their current tier index with the new tiers.
#[utoipa::path(put, path = "/api/v1/escalation-policies/{id}", tag = "escalation", params(("id" = Uuid, Path)),
    request_body = PolicyInput,
    responses((status = 200, body = EscalationPolicy), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_policy(
    State(state): State<AppState>,
    mut t: TenantTx,
    Path(id): Path<Uuid>,
    Json(input): Json<PolicyInput>,
) -> Result<Json<EscalationPolicy>, ApiError> {
    load(&mut t, id).await?;
    check_references(&state, &mut t, &input).await?;
    let policy = db::policies::save(&mut t, Some(id), &input, state.clock.now())
        .await
        .map_err(map_write_error)?
        .ok_or_else(|| ApiError::not_found("escalation policy"))?;
    t.commit().await?;
    Ok(Json(policy))
}

/// Deletes a policy; rosters using it are left without one and its running escalations end.
#[utoipa::path(delete, path = "/api/v1/escalation-policies/{id}", tag = "escalation", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_policy(mut t: TenantTx, Path(id): Path<Uuid>) -> Result<StatusCode, ApiError> {
    if !db::policies::delete(&mut t, id).await? {
        return Err(ApiError::not_found("escalation policy"));
    }
    t.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Simulates the policy for an alert created at `start` that nobody acknowledges: every tier firing
/// with who is reached through which channel, when, and the minutes since the start, using the same
/// on-call resolution and timing rules as the worker. Nobody is notified.
#[utoipa::path(post, path = "/api/v1/escalation-policies/{id}/dry-run", tag = "escalation", params(("id" = Uuid, Path)),
    request_body = DryRunInput,
    responses((status = 200, body = DryRun), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn dry_run(
    State(state): State<AppState>,
    mut t: TenantTx,
    Path(id): Path<Uuid>,
    Json(input): Json<DryRunInput>,
) -> Result<Json<DryRun>, ApiError> {
    let policy = load(&mut t, id).await?;
    let roster = match input.roster_id {
        Some(roster) => {
            db::rosters::get(&mut t, roster)
                .await?
                .ok_or_else(|| ApiError::invalid_field("roster_id", "no such roster"))?;
            Some(roster)
        }
        None => {
            let using = db::policies::rosters_using(&mut t, id).await?;
            match using.as_slice() {
                [] => None,
                [one] => Some(*one),
                _ => {
                    return Err(ApiError::invalid_field(
                        "roster_id",
                        "several rosters use this policy; name the one to simulate",
                    ));
                }
            }
        }
    };
    let start = input.start.unwrap_or_else(|| state.clock.now());
    Ok(Json(
        crate::escalation::dry_run(&mut t, &policy, roster, start).await?,
    ))
}
