//! Knowledge-base incidents: the row, create/read/update/archive and the linked alerts here; matching
//! for enrichment, search, merge, history, resolutions and highlight parsing in the submodules, whose
//! items are re-exported so callers name them `db::incidents::…`.

mod highlight;
mod history;
mod matching;
mod merge;
mod resolutions;
mod search;

use chrono::{DateTime, Utc};
use nightowl_api::incidents::{Incident, IncidentInput, LinkedAlert};
use sqlx::PgConnection;
use uuid::Uuid;

pub use self::highlight::fragments;
pub use self::history::{history, record_event};
pub use self::matching::{
    KbMatch, MATCH_TERMS, Similar, best_text_match, by_fingerprint, match_text, similar,
};
pub use self::merge::{MergeRefusal, merge};
pub use self::resolutions::{AgentFix, record_agent_fix, record_resolution};
pub use self::search::{SearchRow, search, split_prefix};

const COLUMNS: &str = "id, title, fingerprints, severity, category, tags, services, clusters, namespaces, symptoms, \
     error_patterns, root_cause, solution, runbook_id, resolution_count, last_resolved_at, last_resolved_by, \
     avg_resolution_mins, merged_into_id, archived_at, created_by, reviewed, reviewed_by, reviewed_at, created_at, \
     updated_at";

/// [`COLUMNS`] qualified with a table alias.
fn prefixed_columns(alias: &str) -> String {
    COLUMNS
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One incident, live or not.
pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<Incident>, sqlx::Error> {
    let row: Option<Incident> = sqlx::query_as(&format!("select {COLUMNS} from incidents where id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row)
}

/// Live incidents listing this fingerprint, most resolved first.
pub async fn list_by_fingerprint(
    conn: &mut PgConnection,
    fingerprint: &str,
) -> Result<Vec<Incident>, sqlx::Error> {
    let rows: Vec<Incident> = sqlx::query_as(&format!(
        "select {COLUMNS} from incidents
         where fingerprints @> array[$1] and merged_into_id is null and archived_at is null
         order by resolution_count desc, updated_at desc"
    ))
    .bind(fingerprint)
    .fetch_all(conn)
    .await?;
    Ok(rows)
}

/// Filters of the incident list.
#[derive(Debug, Default)]
pub struct IncidentFilter<'a> {
    pub severity: Option<&'a str>,
    pub category: Option<&'a str>,
    pub service: Option<&'a str>,
    /// Every one of these tags.
    pub tags: &'a [String],
}

/// A page of live incidents, most recently updated first, with the total.
pub async fn list(
    conn: &mut PgConnection,
    f: &IncidentFilter<'_>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Incident>, i64), sqlx::Error> {
    let filter = "merged_into_id is null and archived_at is null
         and ($1::text is null or severity = $1)
         and ($2::text is null or category = $2)
         and ($3::text is null or services @> array[$3])
         and (cardinality($4::text[]) = 0 or tags @> $4)";
    let total: i64 = sqlx::query_scalar(&format!("select count(*) from incidents where {filter}"))
        .bind(f.severity)
        .bind(f.category)
        .bind(f.service)
        .bind(f.tags)
        .fetch_one(&mut *conn)
        .await?;
    let rows: Vec<Incident> = sqlx::query_as(&format!(
        "select {COLUMNS} from incidents where {filter} order by updated_at desc, id desc limit $5 offset $6"
    ))
    .bind(f.severity)
    .bind(f.category)
    .bind(f.service)
    .bind(f.tags)
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await?;
    Ok((rows, total))
}

/// `sql` with `$1` = `key`, `$2`..`$14` = the editable fields in table order, `$15` = `now`.
fn with_fields<'q, K>(
    sql: &'q str,
    key: K,
    i: &'q IncidentInput,
    now: DateTime<Utc>,
) -> sqlx::query::QueryAs<'q, sqlx::Postgres, Incident, sqlx::postgres::PgArguments>
where
    K: 'q + Send + sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    sqlx::query_as(sql)
        .bind(key)
        .bind(&i.title)
        .bind(&i.fingerprints)
        .bind(&i.severity)
        .bind(&i.category)
        .bind(&i.tags)
        .bind(&i.services)
        .bind(&i.clusters)
        .bind(&i.namespaces)
        .bind(&i.symptoms)
        .bind(&i.error_patterns)
        .bind(&i.root_cause)
        .bind(&i.solution)
        .bind(i.runbook_id)
        .bind(now)
}

/// Inserts an incident.
pub async fn create(
    conn: &mut PgConnection,
    i: &IncidentInput,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Incident, sqlx::Error> {
    let sql = format!(
        "insert into incidents (created_by, title, fingerprints, severity, category, tags, services, clusters,
                                namespaces, symptoms, error_patterns, root_cause, solution, runbook_id, created_at,
                                updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)
         returning {COLUMNS}"
    );
    with_fields(&sql, by, i, now).fetch_one(conn).await
}

/// Replaces the editable fields of a live incident; `None` when there is none with this id.
pub async fn update(
    conn: &mut PgConnection,
    id: Uuid,
    i: &IncidentInput,
    now: DateTime<Utc>,
) -> Result<Option<Incident>, sqlx::Error> {
    let sql = format!(
        "update incidents set title = $2, fingerprints = $3, severity = $4, category = $5, tags = $6, services = $7,
                clusters = $8, namespaces = $9, symptoms = $10, error_patterns = $11, root_cause = $12,
                solution = $13, runbook_id = $14, updated_at = $15
         where id = $1 and merged_into_id is null and archived_at is null
         returning {COLUMNS}"
    );
    with_fields(&sql, id, i, now).fetch_optional(conn).await
}

/// Soft-deletes a live incident; `false` when there is no live incident with this id.
pub async fn archive(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "update incidents set archived_at = $2, updated_at = $2
         where id = $1 and archived_at is null and merged_into_id is null",
    )
    .bind(id)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Marks a live incident reviewed by `by` (its history records the change), and with it the
/// solution its open alerts were given, so their later notifications no longer warn; `None` when
/// it is not live.
pub async fn review(
    conn: &mut PgConnection,
    id: Uuid,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Option<Incident>, sqlx::Error> {
    sqlx::query(
        "update alerts a set solution_reviewed = true
         from incidents i
         where i.id = $1 and a.matched_incident_id = i.id and a.status <> 'resolved'
           and a.suggested_solution is not distinct from i.solution",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    sqlx::query_as(&format!(
        "update incidents set reviewed = true, reviewed_by = $2, reviewed_at = $3, updated_at = $3
         where id = $1 and archived_at is null and merged_into_id is null
         returning {COLUMNS}"
    ))
    .bind(id)
    .bind(by)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// The most recent alerts linked to the incident.
pub async fn linked_alerts(conn: &mut PgConnection, id: Uuid) -> Result<Vec<LinkedAlert>, sqlx::Error> {
    sqlx::query_as(
        "select id, number, title, status, severity, first_fired_at, resolved_at from alerts
         where matched_incident_id = $1 order by created_at desc, id desc limit 50",
    )
    .bind(id)
    .fetch_all(conn)
    .await
}
