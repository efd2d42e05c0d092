//! Queries on `users`.

use chrono::{DateTime, Utc};
use nightowl_api::Role;
use nightowl_api::admin::User;
use sqlx::PgConnection;
use uuid::Uuid;

/// A row of `users`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub timezone: String,
    pub phone: Option<String>,
    pub slack_user_id: Option<String>,
    pub password_hash: Option<String>,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> User {
        User {
            id: r.id,
            email: r.email,
            display_name: r.display_name,
            role: r.role,
            timezone: r.timezone,
            phone: r.phone,
            slack_user_id: r.slack_user_id,
            is_active: r.is_active,
            has_password: r.password_hash.is_some(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const COLUMNS: &str = "id, email, display_name, role, timezone, phone, slack_user_id, password_hash, \
                       is_active, created_at, updated_at";

/// Fields written by create and update.
pub struct UserWrite<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub timezone: &'a str,
    pub phone: Option<&'a str>,
    pub slack_user_id: Option<&'a str>,
    /// New password hash; `None` keeps the stored one.
    pub password_hash: Option<&'a str>,
    pub is_active: bool,
}

/// One user by id.
pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!("select {COLUMNS} from users where id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// One user by e-mail (case-insensitive).
pub async fn find_by_email(conn: &mut PgConnection, email: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from users where lower(email) = lower($1)"
    ))
    .bind(email)
    .fetch_optional(conn)
    .await
}

/// A page of users ordered by name, with the total.
pub async fn list(
    conn: &mut PgConnection,
    active: Option<bool>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<UserRow>, i64), sqlx::Error> {
    let total: i64 =
        sqlx::query_scalar("select count(*) from users where ($1::bool is null or is_active = $1)")
            .bind(active)
            .fetch_one(&mut *conn)
            .await?;
    let rows = sqlx::query_as(&format!(
        "select {COLUMNS} from users where ($1::bool is null or is_active = $1)
         order by lower(display_name), id limit $2 offset $3"
    ))
    .bind(active)
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await?;
    Ok((rows, total))
}

/// Inserts a user.
pub async fn create(conn: &mut PgConnection, u: UserWrite<'_>) -> Result<UserRow, sqlx::Error> {
    insert(conn, u, "").await?.ok_or(sqlx::Error::RowNotFound)
}

/// Inserts a user unless one with this e-mail exists (which is left as it is); `None` then.
pub async fn create_if_missing(
    conn: &mut PgConnection,
    u: UserWrite<'_>,
) -> Result<Option<UserRow>, sqlx::Error> {
    insert(conn, u, "on conflict (lower(email)) do nothing").await
}

/// The insert of [`create`] and [`create_if_missing`]; `on_conflict` is one of their constant clauses.
async fn insert(
    conn: &mut PgConnection,
    u: UserWrite<'_>,
    on_conflict: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "insert into users (email, display_name, role, timezone, phone, slack_user_id, password_hash, is_active)
         values ($1, $2, $3, $4, $5, $6, $7, $8) {on_conflict} returning {COLUMNS}"
    ))
    .bind(u.email)
    .bind(u.display_name)
    .bind(u.role.as_str())
    .bind(u.timezone)
    .bind(u.phone)
    .bind(u.slack_user_id)
    .bind(u.password_hash)
    .bind(u.is_active)
    .fetch_optional(conn)
    .await
}

/// Replaces a user's fields; `None` when there is no such user.
pub async fn update(
    conn: &mut PgConnection,
    id: Uuid,
    u: UserWrite<'_>,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "update users set email = $2, display_name = $3, role = $4, timezone = $5, phone = $6,
                slack_user_id = $7, password_hash = coalesce($8, password_hash), is_active = $9,
                updated_at = now()
         where id = $1 returning {COLUMNS}"
    ))
    .bind(id)
    .bind(u.email)
    .bind(u.display_name)
    .bind(u.role.as_str())
    .bind(u.timezone)
    .bind(u.phone)
    .bind(u.slack_user_id)
    .bind(u.password_hash)
    .bind(u.is_active)
    .fetch_optional(conn)
    .await
}

/// Sets `is_active`; `None` when there is no such user.
pub async fn set_active(
    conn: &mut PgConnection,
    id: Uuid,
    active: bool,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "update users set is_active = $2, updated_at = now() where id = $1 returning {COLUMNS}"
    ))
    .bind(id)
    .bind(active)
    .fetch_optional(conn)
    .await
}

/// Whether the user exists.
pub async fn exists(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists(select 1 from users where id = $1)")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// Display names of these users (those that exist).
pub async fn display_names(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    sqlx::query_as("select id, display_name from users where id = any($1)")
        .bind(ids)
        .fetch_all(conn)
        .await
}

/// Sets a user's password hash.
pub async fn set_password_hash(conn: &mut PgConnection, id: Uuid, hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("update users set password_hash = $2 where id = $1")
        .bind(id)
        .bind(hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes a user; fails with a foreign-key violation while rosters still name them.
pub async fn delete(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("delete from users where id = $1")
        .bind(id)
        .execute(conn)
        .await?
        .rows_affected()
        == 1)
}

/// What an OIDC token says about the person signing in.
pub struct OidcIdentity<'a> {
    pub subject: &'a str,
    pub email: &'a str,
    /// The provider vouches that the person owns `email` (`email_verified: true`).
    pub email_verified: bool,
    pub display_name: &'a str,
    /// Role named by the token, which then wins over the stored one.
    pub claimed_role: Option<Role>,
    /// Role for a user created now when the token names none.
    pub default_role: Role,
}

/// Why an OIDC identity cannot be given an account.
#[derive(Debug, thiserror::Error)]
pub enum OidcSignInError {
    #[error("an account with this e-mail is linked to another sign-in identity")]
    LinkedElsewhere,
    #[error("an account with this e-mail exists, and the provider does not vouch for the e-mail")]
    EmailUnverified,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Finds the user by subject; else links the account with the same e-mail when the provider vouches
/// for the e-mail and the account has no other subject; else creates the user. An existing account
/// is never taken over by a token that merely claims its e-mail.
pub async fn sign_in_oidc(conn: &mut PgConnection, id: OidcIdentity<'_>) -> Result<UserRow, OidcSignInError> {
    let role = id.claimed_role.map(Role::as_str);
    let by_subject: Option<UserRow> = sqlx::query_as(&format!(
        "update users set role = coalesce($2, role),
                updated_at = case when role is distinct from coalesce($2, role) then now() else updated_at end
         where oidc_subject = $1 returning {COLUMNS}"
    ))
    .bind(id.subject)
    .bind(role)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(user) = by_subject {
        return Ok(user);
    }
    let by_email: Option<(Uuid, Option<String>)> =
        sqlx::query_as("select id, oidc_subject from users where lower(email) = lower($1) for update")
            .bind(id.email)
            .fetch_optional(&mut *conn)
            .await?;
    match by_email {
        Some((_, Some(_))) => Err(OidcSignInError::LinkedElsewhere),
        Some(_) if !id.email_verified => Err(OidcSignInError::EmailUnverified),
        Some((user_id, None)) => Ok(sqlx::query_as(&format!(
            "update users set oidc_subject = $2, role = coalesce($3, role), updated_at = now()
             where id = $1 returning {COLUMNS}"
        ))
        .bind(user_id)
        .bind(id.subject)
        .bind(role)
        .fetch_one(conn)
        .await?),
        None => {
            let created: Option<UserRow> = sqlx::query_as(&format!(
                "insert into users (email, display_name, role, oidc_subject) values ($1, $2, $3, $4)
                 on conflict do nothing returning {COLUMNS}"
            ))
            .bind(id.email)
            .bind(id.display_name)
            .bind(id.claimed_role.unwrap_or(id.default_role).as_str())
            .bind(id.subject)
            .fetch_optional(conn)
            .await?;
            // Someone took the e-mail or subject between our reads and this insert.
            created.ok_or(OidcSignInError::LinkedElsewhere)
        }
    }
}

/// Number of active admins.
pub async fn count_active_admins(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select count(*) from users where role = 'admin' and is_active")
        .fetch_one(conn)
        .await
}

/// Locks the active admins, so concurrent demotions cannot both see "another admin remains".
pub async fn lock_active_admins(conn: &mut PgConnection) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar("select id from users where role = 'admin' and is_active order by id for update")
        .fetch_all(conn)
        .await
}

/// Who a channel identity names.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IdentityMatch {
    pub id: Uuid,
    pub email: String,
    pub role: String,
    pub is_active: bool,
}

/// The users whose profile `field` holds `value` (a Slack member id, an E.164 number, an e-mail
/// address, compared without case); empty for an empty value.
pub async fn by_identity(
    conn: &mut PgConnection,
    field: crate::plugins::manifest::UserField,
    value: &str,
) -> Result<Vec<IdentityMatch>, sqlx::Error> {
    use crate::plugins::manifest::UserField;
    let value = value.trim();
    if value.is_empty() {
        return Ok(Vec::new());
    }
    let sql = match field {
        UserField::SlackUserId => "select id, email, role, is_active from users where slack_user_id = $1",
        UserField::Phone => "select id, email, role, is_active from users where phone = $1",
        UserField::Email => "select id, email, role, is_active from users where lower(email) = lower($1)",
    };
    sqlx::query_as(sql).bind(value).fetch_all(conn).await
}

/// An active user as a notification reaches them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Person {
    pub id: Uuid,
    pub display_name: String,
    pub email: String,
    pub phone: Option<String>,
    pub timezone: String,
    pub slack_user_id: Option<String>,
}

/// Active users by id, in the order asked (inactive and unknown ids drop out).
pub async fn people(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<Person>, sqlx::Error> {
    let rows: Vec<Person> = sqlx::query_as(
        "select id, display_name, email, phone, timezone, slack_user_id from users
         where id = any($1) and is_active",
    )
    .bind(ids)
    .fetch_all(conn)
    .await?;
    Ok(ids
        .iter()
        .filter_map(|id| rows.iter().find(|p| p.id == *id).cloned())
        .collect())
}
