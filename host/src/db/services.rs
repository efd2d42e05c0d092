//! Queries on `services` (the service catalogue).

use nightowl_api::admin::{Service, ServiceInput};
use sqlx::PgConnection;
use uuid::Uuid;

const COLUMNS: &str =
    "id, name, description, cluster, namespace, owner_user_id, tier, roster_id, created_at, updated_at";

/// A page of services ordered by name, with the total; `q` filters by name substring.
pub async fn list(
    conn: &mut PgConnection,
    q: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Service>, i64), sqlx::Error> {
    let filter = "($1::text is null or name ilike '%' || replace(replace(replace($1, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%')";
    let total: i64 = sqlx::query_scalar(&format!("select count(*) from services where {filter}"))
        .bind(q)
        .fetch_one(&mut *conn)
        .await?;
    let rows: Vec<Service> = sqlx::query_as(&format!(
        "select {COLUMNS} from services where {filter} order by name limit $2 offset $3"
    ))
    .bind(q)
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await?;
    Ok((rows, total))
}

/// One service.
pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<Service>, sqlx::Error> {
    let row: Option<Service> = sqlx::query_as(&format!("select {COLUMNS} from services where id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row)
}

/// Inserts a service.
pub async fn create(conn: &mut PgConnection, s: &ServiceInput) -> Result<Service, sqlx::Error> {
    insert(conn, s, "").await?.ok_or(sqlx::Error::RowNotFound)
}

/// Inserts a service unless one with this name exists (which is left as it is); `None` then.
pub async fn create_if_missing(
    conn: &mut PgConnection,
    s: &ServiceInput,
) -> Result<Option<Service>, sqlx::Error> {
    insert(conn, s, "on conflict (name) do nothing").await
}

/// The insert of [`create`] and [`create_if_missing`]; `on_conflict` is one of their constant clauses.
async fn insert(
    conn: &mut PgConnection,
    s: &ServiceInput,
    on_conflict: &str,
) -> Result<Option<Service>, sqlx::Error> {
    let row: Option<Service> = sqlx::query_as(&format!(
        "insert into services (name, description, cluster, namespace, owner_user_id, tier, roster_id)
         values ($1, $2, $3, $4, $5, $6, $7) {on_conflict} returning {COLUMNS}"
    ))
    .bind(&s.name)
    .bind(&s.description)
    .bind(&s.cluster)
    .bind(&s.namespace)
    .bind(s.owner_user_id)
    .bind(s.tier)
    .bind(s.roster_id)
    .fetch_optional(conn)
    .await?;
    Ok(row)
}

/// Replaces a service's fields; `None` when there is no such service.
pub async fn update(
    conn: &mut PgConnection,
    id: Uuid,
    s: &ServiceInput,
) -> Result<Option<Service>, sqlx::Error> {
    let row: Option<Service> = sqlx::query_as(&format!(
        "update services set name = $2, description = $3, cluster = $4, namespace = $5, owner_user_id = $6,
                tier = $7, roster_id = $8, updated_at = now()
         where id = $1 returning {COLUMNS}"
    ))
    .bind(id)
    .bind(&s.name)
    .bind(&s.description)
    .bind(&s.cluster)
    .bind(&s.namespace)
    .bind(s.owner_user_id)
    .bind(s.tier)
    .bind(s.roster_id)
    .fetch_optional(conn)
    .await?;
    Ok(row)
}

/// Deletes a service.
pub async fn delete(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("delete from services where id = $1")
        .bind(id)
        .execute(conn)
        .await?
        .rows_affected()
        == 1)
}

/// The roster answering for the service named `name`, if the service exists and has one.
pub async fn roster_of(conn: &mut PgConnection, name: &str) -> Result<Option<Uuid>, sqlx::Error> {
    let roster: Option<Option<Uuid>> = sqlx::query_scalar("select roster_id from services where name = $1")
        .bind(name)
        .fetch_optional(conn)
        .await?;
    Ok(roster.flatten())
}
