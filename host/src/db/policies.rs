//! Queries on `escalation_policies`.

use chrono::{DateTime, Utc};
use nightowl_api::escalation::{EscalationPolicy, PolicyInput};
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

const COLUMNS: &str = "id, name, description, tiers, repeat_count, created_at, updated_at";

/// One policy.
pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<EscalationPolicy>, sqlx::Error> {
    let row: Option<EscalationPolicy> = sqlx::query_as(&format!(
        "select {COLUMNS} from escalation_policies where id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row)
}

/// Every policy, by name.
pub async fn list(conn: &mut PgConnection) -> Result<Vec<EscalationPolicy>, sqlx::Error> {
    let rows: Vec<EscalationPolicy> = sqlx::query_as(&format!(
        "select {COLUMNS} from escalation_policies order by name"
    ))
    .fetch_all(conn)
    .await?;
    Ok(rows)
}

/// Inserts (`id` none) or replaces a policy; `None` when there is no policy `id`.
pub async fn save(
    conn: &mut PgConnection,
    id: Option<Uuid>,
    p: &PolicyInput,
    now: DateTime<Utc>,
) -> Result<Option<EscalationPolicy>, sqlx::Error> {
    let sql = match id {
        None => format!(
            "insert into escalation_policies (name, description, tiers, repeat_count, created_at, updated_at)
             values ($2, $3, $4, $5, $6, $6) returning {COLUMNS}"
        ),
        Some(_) => format!(
            "update escalation_policies set name = $2, description = $3, tiers = $4, repeat_count = $5,
                 updated_at = $6
             where id = $1 returning {COLUMNS}"
        ),
    };
    let row: Option<EscalationPolicy> = sqlx::query_as(&sql)
        .bind(id)
        .bind(&p.name)
        .bind(&p.description)
        .bind(Json(&p.tiers))
        .bind(p.repeat_count)
        .bind(now)
        .fetch_optional(conn)
        .await?;
    Ok(row)
}

/// Deletes a policy (rosters using it keep no policy; running escalations end with it).
pub async fn delete(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("delete from escalation_policies where id = $1")
        .bind(id)
        .execute(conn)
        .await?
        .rows_affected()
        == 1)
}

/// Rosters whose escalation policy this is.
pub async fn rosters_using(conn: &mut PgConnection, id: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar("select id from rosters where escalation_policy_id = $1 order by name")
        .bind(id)
        .fetch_all(conn)
        .await
}
