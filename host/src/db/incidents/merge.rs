//! Merging one incident into another: arrays unioned, the better solution and the resolution
//! statistics combined, alerts relinked, both sides' history recorded.

use chrono::{DateTime, Utc};
use nightowl_api::incidents::Incident;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{COLUMNS, record_event};

/// Why a merge was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum MergeRefusal {
    IntoItself,
    NotFound,
    /// Source or target is already merged or deleted.
    NotLive(Uuid),
}

/// Folds `source` into `target` (see `http::incidents::merge_incident` for the rules). Both rows are
/// locked first, so two concurrent merges cannot interleave.
pub async fn merge(
    conn: &mut PgConnection,
    source: Uuid,
    target: Uuid,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Result<Incident, MergeRefusal>, sqlx::Error> {
    if source == target {
        return Ok(Err(MergeRefusal::IntoItself));
    }
    let rows: Vec<(Uuid, bool)> = sqlx::query_as(
        "select id, merged_into_id is null and archived_at is null from incidents
         where id in ($1, $2) order by id for update",
    )
    .bind(source)
    .bind(target)
    .fetch_all(&mut *conn)
    .await?;
    if rows.len() != 2 {
        return Ok(Err(MergeRefusal::NotFound));
    }
    if let Some((id, _)) = rows.iter().find(|(_, live)| !live) {
        return Ok(Err(MergeRefusal::NotLive(*id)));
    }
    let union = |col: &str| {
        format!("{col} = t.{col} || array(select x from unnest(s.{col}) x where not (x = any(t.{col})))")
    };
    let row: Incident = sqlx::query_as(&format!(
        "update incidents t set
            {fingerprints}, {services}, {clusters}, {namespaces}, {tags}, {error_patterns},
            solution = case when nullif(btrim(s.solution), '') is not null
                             and (nullif(btrim(t.solution), '') is null or s.resolution_count > t.resolution_count)
                            then s.solution else t.solution end,
            resolution_count = t.resolution_count + s.resolution_count,
            avg_resolution_mins = case when t.resolution_count + s.resolution_count = 0 then null
                else (coalesce(t.avg_resolution_mins, 0) * t.resolution_count
                      + coalesce(s.avg_resolution_mins, 0) * s.resolution_count)
                     / (t.resolution_count + s.resolution_count) end,
            last_resolved_by = case when s.last_resolved_at > t.last_resolved_at or t.last_resolved_at is null
                                    then coalesce(s.last_resolved_by, t.last_resolved_by) else t.last_resolved_by end,
            last_resolved_at = greatest(t.last_resolved_at, s.last_resolved_at),
            updated_at = $3
         from incidents s
         where t.id = $2 and s.id = $1
         returning {cols}",
        fingerprints = union("fingerprints"),
        services = union("services"),
        clusters = union("clusters"),
        namespaces = union("namespaces"),
        tags = union("tags"),
        error_patterns = union("error_patterns"),
        cols = COLUMNS.split(", ").map(|c| format!("t.{c}")).collect::<Vec<_>>().join(", ")
    ))
    .bind(source)
    .bind(target)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query("update alerts set matched_incident_id = $2 where matched_incident_id = $1")
        .bind(source)
        .bind(target)
        .execute(&mut *conn)
        .await?;
    sqlx::query("update incidents set merged_into_id = $2, updated_at = $3 where id = $1")
        .bind(source)
        .bind(target)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    record_event(
        conn,
        source,
        "merge",
        Some("merged_into_id"),
        Some(serde_json::json!(target)),
        by,
        now,
    )
    .await?;
    record_event(
        conn,
        target,
        "merge",
        Some("merged_from"),
        Some(serde_json::json!(source)),
        by,
        now,
    )
    .await?;
    Ok(Ok(row))
}
