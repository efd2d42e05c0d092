//! `/api/v1/users`: the people of a tenant.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use nightowl_api::admin::{User, UserInput};
use nightowl_api::{ErrorBody, OffsetPage};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{Json, TenantTx};
use super::pagination::OffsetParams;
use super::routes::Route;
use crate::auth::password;
use crate::db::{self, users::UserWrite};
use crate::state::AppState;
use nightowl_api::Role::{Admin, Readonly};
use utoipa_axum::routes;

/// The routes of users, with who may call them.
pub fn routes() -> Vec<Route> {
    vec![
        Route::read(routes!(list_users), Readonly),
        Route::write(routes!(create_user), Admin),
        Route::read(routes!(get_user), Readonly),
        Route::write(routes!(update_user), Admin),
        Route::write(routes!(delete_user), Admin),
        Route::write(routes!(deactivate_user), Admin),
        Route::write(routes!(activate_user), Admin),
    ]
}

/// Filters of the user list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    /// Only active (true) or deactivated (false) users.
    pub active: Option<bool>,
}

/// Users ordered by display name.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(UserFilter, OffsetParams),
    responses((status = 200, body = OffsetPage<User>), (status = 401, body = ErrorBody)))]
pub async fn list_users(
    mut t: TenantTx,
    Query(filter): Query<UserFilter>,
    Query(page): Query<OffsetParams>,
) -> Result<Json<OffsetPage<User>>, ApiError> {
    let (limit, offset) = page.resolve()?;
    let (rows, total) = db::users::list(&mut t, filter.active, limit, offset).await?;
    Ok(Json(OffsetPage {
        items: rows.into_iter().map(User::from).collect(),
        total,
        offset,
        limit,
    }))
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = Uuid, Path)),
    responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
pub async fn get_user(mut t: TenantTx, Path(id): Path<Uuid>) -> Result<Json<User>, ApiError> {
    let user = db::users::get(&mut t, id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    Ok(Json(user.into()))
}

/// Hashes the new password on the bounded hashing pool sign-in uses (`auth::throttle`).
async fn hash_password(state: &AppState, input: &UserInput) -> Result<Option<String>, ApiError> {
    let Some(password) = input.password.clone() else {
        return Ok(None);
    };
    let hashed = state
        .logins
        .hashes
        .run(move || password::hash(&password))
        .await
        .map_err(|_| {
            ApiError::too_many("hashing_busy", "passwords are being hashed; retry in a moment", 1)
        })??;
    Ok(Some(hashed))
}

fn write<'a>(input: &'a UserInput, password_hash: Option<&'a str>) -> UserWrite<'a> {
    UserWrite {
        email: input.email.trim(),
        display_name: input.display_name.trim(),
        role: input.role,
        timezone: &input.timezone,
        phone: input.phone.as_deref(),
        slack_user_id: input.slack_user_id.as_deref(),
        password_hash,
        is_active: input.is_active,
    }
}

/// Runs before a change to user `id`; the returned guard refuses the change if it removes the tenant's
/// last active admin (a tenant with no admin user at all, e.g. run only through API keys, is left alone).
async fn admin_guard(t: &mut TenantTx, id: Uuid) -> Result<bool, ApiError> {
    Ok(db::users::lock_active_admins(t).await?.contains(&id))
}

async fn check_admin_remains(t: &mut TenantTx, was_admin: bool) -> Result<(), ApiError> {
    if was_admin && db::users::count_active_admins(t).await? == 0 {
        return Err(ApiError::conflict(
            "last_admin",
            "this change would leave the tenant without an active admin",
        ));
    }
    Ok(())
}

fn map_write_error(err: sqlx::Error) -> ApiError {
    if db::is_unique_violation(&err, "users_email_key") {
        ApiError::conflict("email_taken", "a user with this e-mail already exists")
    } else {
        err.into()
    }
}

/// Creates a user.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = UserInput,
    responses((status = 201, body = User), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    mut t: TenantTx,
    Json(input): Json<UserInput>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let hash = hash_password(&state, &input).await?;
    let user = db::users::create(&mut t, write(&input, hash.as_deref()))
        .await
        .map_err(map_write_error)?;
    t.commit().await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Replaces a user's fields (the password only when one is sent).
#[utoipa::path(put, path = "/api/v1/users/{id}", tag = "users", params(("id" = Uuid, Path)), request_body = UserInput,
    responses((status = 200, body = User), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_user(
    State(state): State<AppState>,
    mut t: TenantTx,
    Path(id): Path<Uuid>,
    Json(input): Json<UserInput>,
) -> Result<Json<User>, ApiError> {
    let hash = hash_password(&state, &input).await?;
    let was_admin = admin_guard(&mut t, id).await?;
    let user = db::users::update(&mut t, id, write(&input, hash.as_deref()))
        .await
        .map_err(map_write_error)?
        .ok_or_else(|| ApiError::not_found("user"))?;
    check_admin_remains(&mut t, was_admin).await?;
    if !user.is_active || hash.is_some() {
        // A deactivated user or a changed password ends every open session.
        let tenant_id = t.principal.tenant.id;
        db::sessions::delete_for_user(&mut t, tenant_id, id).await?;
    }
    t.commit().await?;
    Ok(Json(user.into()))
}

/// Deletes a user who is in no roster; deactivate instead to keep history.
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_user(mut t: TenantTx, Path(id): Path<Uuid>) -> Result<StatusCode, ApiError> {
    let was_admin = admin_guard(&mut t, id).await?;
    let deleted = db::users::delete(&mut t, id).await.map_err(|err| {
        if db::is_foreign_key_violation(&err) {
            ApiError::conflict(
                "user_in_use",
                "the user is still in a roster or override; deactivate them instead",
            )
        } else {
            err.into()
        }
    })?;
    if !deleted {
        return Err(ApiError::not_found("user"));
    }
    check_admin_remains(&mut t, was_admin).await?;
    let tenant_id = t.principal.tenant.id;
    db::sessions::delete_for_user(&mut t, tenant_id, id).await?;
    t.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deactivates a user: they can no longer sign in and their sessions end.
#[utoipa::path(post, path = "/api/v1/users/{id}/deactivate", tag = "users", params(("id" = Uuid, Path)),
    responses((status = 200, body = User), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn deactivate_user(mut t: TenantTx, Path(id): Path<Uuid>) -> Result<Json<User>, ApiError> {
    let was_admin = admin_guard(&mut t, id).await?;
    let user = db::users::set_active(&mut t, id, false)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    check_admin_remains(&mut t, was_admin).await?;
    let tenant_id = t.principal.tenant.id;
    db::sessions::delete_for_user(&mut t, tenant_id, id).await?;
    t.commit().await?;
    Ok(Json(user.into()))
}

/// Reactivates a user.
#[utoipa::path(post, path = "/api/v1/users/{id}/activate", tag = "users", params(("id" = Uuid, Path)),
    responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
pub async fn activate_user(mut t: TenantTx, Path(id): Path<Uuid>) -> Result<Json<User>, ApiError> {
    let user = db::users::set_active(&mut t, id, true)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    t.commit().await?;
    Ok(Json(user.into()))
}
