//! Queries on `runbooks`.

use nightowl_api::incidents::{Runbook, RunbookInput};
use sqlx::PgConnection;
use uuid::Uuid;

const COLUMNS: &str = "id, title, content, category, tags, is_template, created_by, created_at, updated_at";

/// Runbooks by title; `templates` selects templates only, or only the tenant's own.
pub async fn list(
    conn: &mut PgConnection,
    templates: bool,
    category: Option<&str>,
    tag: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Runbook>, i64), sqlx::Error> {
    let filter = "is_template = $1 and ($2::text is null or category = $2) and ($3::text is null or tags @> array[$3])";
    let total: i64 = sqlx::query_scalar(&format!("select count(*) from runbooks where {filter}"))
        .bind(templates)
        .bind(category)
        .bind(tag)
        .fetch_one(&mut *conn)
        .await?;
    let rows: Vec<Runbook> = sqlx::query_as(&format!(
        "select {COLUMNS} from runbooks where {filter} order by title, id limit $4 offset $5"
    ))
    .bind(templates)
    .bind(category)
    .bind(tag)
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await?;
    Ok((rows, total))
}

/// One runbook.
pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<Runbook>, sqlx::Error> {
    let row: Option<Runbook> = sqlx::query_as(&format!("select {COLUMNS} from runbooks where id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row)
}

/// Adds a runbook.
pub async fn create(conn: &mut PgConnection, r: &RunbookInput, by: &str) -> Result<Runbook, sqlx::Error> {
    let row: Runbook = sqlx::query_as(&format!(
        "insert into runbooks (title, content, category, tags, created_by) values ($1, $2, $3, $4, $5) returning {COLUMNS}"
    ))
    .bind(&r.title)
    .bind(&r.content)
    .bind(&r.category)
    .bind(&r.tags)
    .bind(by)
    .fetch_one(conn)
    .await?;
    Ok(row)
}

/// Replaces a runbook's fields.
pub async fn update(
    conn: &mut PgConnection,
    id: Uuid,
    r: &RunbookInput,
) -> Result<Option<Runbook>, sqlx::Error> {
    let row: Option<Runbook> = sqlx::query_as(&format!(
        "update runbooks set title = $2, content = $3, category = $4, tags = $5, updated_at = now()
         where id = $1 returning {COLUMNS}"
    ))
    .bind(id)
    .bind(&r.title)
    .bind(&r.content)
    .bind(&r.category)
    .bind(&r.tags)
    .fetch_optional(conn)
    .await?;
    Ok(row)
}

/// Deletes a runbook (incidents linking it keep their data; the link is cleared).
pub async fn delete(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("delete from runbooks where id = $1")
        .bind(id)
        .execute(conn)
        .await?
        .rows_affected()
        == 1)
}
