//! Queries on `alerts`, and the reads of an alert's escalation its detail view shows. Dedup is decided
//! here: one open alert per fingerprint, guaranteed by the partial unique index
//! `alerts_open_fingerprint_key` and `INSERT ... ON CONFLICT`. The rules of acknowledging and resolving
//! are in [`crate::alerts`].

use chrono::{DateTime, Utc};
use nightowl_api::alerts::{Alert, AlertKey, AlertStatus, Severity};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::ingest::normalize::NormalizedAlert;

const COLUMNS: &str = "id, number, fingerprint, status, severity, priority, title, description, source, service, labels, \
     annotations, links, occurrence_count, starts_at, ends_at, first_fired_at, last_fired_at, acknowledged_at, \
     acknowledged_by, resolved_at, resolved_by, matched_incident_id, suggested_solution, solution_reviewed, agent_metadata, created_at";

/// The id of the alert a person named (by id or by short number), if the tenant has it.
pub async fn resolve_key(conn: &mut PgConnection, key: AlertKey) -> Result<Option<Uuid>, sqlx::Error> {
    let (id, number) = match key {
        AlertKey::Id(id) => (Some(id), None),
        AlertKey::Number(n) => (None, Some(n)),
    };
    sqlx::query_scalar("select id from alerts where id = $1 or number = $2")
        .bind(id)
        .bind(number)
        .fetch_optional(conn)
        .await
}

/// A firing alert as stored: the open row it became or was counted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Stored {
    pub id: Uuid,
    /// Its short number (`#1234`).
    pub number: i64,
    /// Whether this call created it (else it counted a repeat).
    pub created: bool,
}

/// Inserts a firing alert or counts it on the open one with the same fingerprint.
///
/// The repeat is counted first, by an update: an insert that ends in `ON CONFLICT` has already taken
/// a number from the sequence (a column default is evaluated for every proposed row), so trying the
/// insert first would use a number up on every repeat. Only when no alert with the fingerprint is
/// open does the insert run; its `ON CONFLICT` branch is then taken only by the loser of two
/// deliveries creating the same alert at once, which leaves a gap in the numbers (as a rollback does).
pub async fn upsert_firing(
    conn: &mut PgConnection,
    source: &str,
    a: &NormalizedAlert,
    now: DateTime<Utc>,
) -> Result<Stored, sqlx::Error> {
    let repeat: Option<(Uuid, i64)> = sqlx::query_as(
        "update alerts set occurrence_count = occurrence_count + 1, last_fired_at = greatest(last_fired_at, $2),
                updated_at = $2
         where fingerprint = $1 and status <> 'resolved'
         returning id, number",
    )
    .bind(&a.fingerprint)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((id, number)) = repeat {
        return Ok(Stored {
            id,
            number,
            created: false,
        });
    }
    insert(conn, source, a, None, now).await
}

/// Stores an alert that arrives already resolved (an agent fixed it); returns its id and number.
pub async fn insert_resolved(
    conn: &mut PgConnection,
    source: &str,
    a: &NormalizedAlert,
    resolved_by: &str,
    now: DateTime<Utc>,
) -> Result<(Uuid, i64), sqlx::Error> {
    let stored = insert(conn, source, a, Some(resolved_by), now).await?;
    Ok((stored.id, stored.number))
}

/// One insert for both: a resolved row never enters the partial unique index of open alerts, so the
/// `ON CONFLICT` branch (counting a repeat) can only be taken by a firing one. The number is the
/// column's default (the tenant's `alert_number_seq`, migration tenant/0007); the
/// `ON CONFLICT` branch leaves the open alert's number as it is.
async fn insert(
    conn: &mut PgConnection,
    source: &str,
    a: &NormalizedAlert,
    resolved_by: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Stored, sqlx::Error> {
    sqlx::query_as(
        "insert into alerts (fingerprint, status, severity, priority, title, description, source, service, labels,
                             annotations, links, starts_at, ends_at, first_fired_at, last_fired_at, created_at,
                             updated_at, agent_metadata, resolved_by, resolved_at)
         values ($1, case when $15::text is null then 'firing' else 'resolved' end, $2, $3, $4, $5, $6, $7, $8, $9,
                 $10, $11, $12, $13, $13, $13, $13, $14, $15, case when $15::text is null then null else $13 end)
         on conflict (fingerprint) where status <> 'resolved'
         do update set occurrence_count = alerts.occurrence_count + 1,
                       last_fired_at = greatest(alerts.last_fired_at, excluded.last_fired_at),
                       updated_at = excluded.updated_at
         returning id, number, (xmax = 0) as created",
    )
    .bind(&a.fingerprint)
    .bind(a.severity.as_str())
    .bind(a.priority)
    .bind(&a.title)
    .bind(&a.description)
    .bind(source)
    .bind(&a.service)
    .bind(sqlx::types::Json(&a.labels))
    .bind(sqlx::types::Json(&a.annotations))
    .bind(&a.links)
    .bind(a.starts_at)
    .bind(a.ends_at)
    .bind(now)
    .bind(a.agent.as_ref().map(|r| sqlx::types::Json(&r.raw)))
    .bind(resolved_by)
    .fetch_one(conn)
    .await
}

/// Counts a repeat on an open alert known by id (the Redis fast path); its number, `None` when it is
/// no longer open.
pub async fn bump_open(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "update alerts set occurrence_count = occurrence_count + 1, last_fired_at = greatest(last_fired_at, $2),
                updated_at = $2
         where id = $1 and status <> 'resolved'
         returning number",
    )
    .bind(id)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// An alert that was open and is now resolved.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Resolved {
    pub id: Uuid,
    pub number: i64,
    pub matched_incident_id: Option<Uuid>,
    pub first_fired_at: DateTime<Utc>,
    pub severity: Severity,
}

/// Resolves the open alert with this fingerprint, when there is one.
pub async fn resolve_by_fingerprint(
    conn: &mut PgConnection,
    fingerprint: &str,
    ends_at: Option<DateTime<Utc>>,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Option<Resolved>, sqlx::Error> {
    sqlx::query_as(
        "update alerts set status = 'resolved', resolved_at = $3, resolved_by = $4,
                ends_at = coalesce($2, ends_at), updated_at = $3
         where fingerprint = $1 and status <> 'resolved'
         returning id, number, matched_incident_id, first_fired_at, severity",
    )
    .bind(fingerprint)
    .bind(ends_at)
    .bind(now)
    .bind(by)
    .fetch_optional(conn)
    .await
}

/// Links an alert to a knowledge-base incident and copies its solution.
pub async fn set_match(
    conn: &mut PgConnection,
    id: Uuid,
    incident_id: Uuid,
    solution: Option<&str>,
    reviewed: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update alerts set matched_incident_id = $2, suggested_solution = $3,
                solution_reviewed = case when $3::text is null then null else $4 end
         where id = $1",
    )
    .bind(id)
    .bind(incident_id)
    .bind(solution)
    .bind(reviewed)
    .execute(conn)
    .await?;
    Ok(())
}

/// One alert.
pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<Alert>, sqlx::Error> {
    let row: Option<Alert> = sqlx::query_as(&format!("select {COLUMNS} from alerts where id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row)
}

/// Records which policy escalates an alert.
pub async fn set_escalation_policy(
    conn: &mut PgConnection,
    id: Uuid,
    policy: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("update alerts set escalation_policy_id = $2 where id = $1")
        .bind(id)
        .bind(policy)
        .execute(conn)
        .await?;
    Ok(())
}

/// Most severe first (an unknown severity last).
const BY_SEVERITY: &str = "array_position(array['critical','major','warning','info'], severity)";

/// Up to `limit` alerts first fired in `[from, until)`, most severe and then newest first, and how
/// many there were in all.
pub async fn raised_between(
    conn: &mut PgConnection,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: i64,
) -> Result<(Vec<Alert>, i64), sqlx::Error> {
    let total: i64 =
        sqlx::query_scalar("select count(*) from alerts where first_fired_at >= $1 and first_fired_at < $2")
            .bind(from)
            .bind(until)
            .fetch_one(&mut *conn)
            .await?;
    let rows: Vec<Alert> = sqlx::query_as(&format!(
        "select {COLUMNS} from alerts where first_fired_at >= $1 and first_fired_at < $2
         order by {BY_SEVERITY}, first_fired_at desc
         limit $3"
    ))
    .bind(from)
    .bind(until)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok((rows, total))
}

/// Up to `limit` open (unresolved) alerts, most severe and then oldest first, and how many are open.
pub async fn open_by_severity(conn: &mut PgConnection, limit: i64) -> Result<(Vec<Alert>, i64), sqlx::Error> {
    let total: i64 = sqlx::query_scalar("select count(*) from alerts where status <> 'resolved'")
        .fetch_one(&mut *conn)
        .await?;
    let rows: Vec<Alert> = sqlx::query_as(&format!(
        "select {COLUMNS} from alerts where status <> 'resolved'
         order by {BY_SEVERITY}, first_fired_at
         limit $1"
    ))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok((rows, total))
}

/// Filters of the alert list.
#[derive(Debug, Default)]
pub struct AlertFilter<'a> {
    /// Alerts in any of these states; empty: every state.
    pub statuses: Vec<AlertStatus>,
    pub severity: Option<Severity>,
    pub service: Option<&'a str>,
    pub source: Option<&'a str>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub sort: AlertSort,
}

/// The order of an alert list; each is a `(time, id)` key, so cursors work alike for all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AlertSort {
    /// Most recently created first.
    #[default]
    Newest,
    /// Oldest first.
    Oldest,
    /// Most recently fired (an occurrence counts) first.
    LastFired,
}

impl AlertSort {
    /// The sort a `sort` query value names.
    pub fn parse(s: &str) -> Option<AlertSort> {
        match s {
            "newest" => Some(AlertSort::Newest),
            "oldest" => Some(AlertSort::Oldest),
            "last_fired" => Some(AlertSort::LastFired),
            _ => None,
        }
    }

    /// The alert's position in this order (what its cursor holds).
    pub fn position(self, a: &Alert) -> (DateTime<Utc>, Uuid) {
        match self {
            AlertSort::Newest | AlertSort::Oldest => (a.created_at, a.id),
            AlertSort::LastFired => (a.last_fired_at, a.id),
        }
    }
}

/// Alerts in the filter's order, after the cursor's position when given.
pub async fn list(
    conn: &mut PgConnection,
    f: &AlertFilter<'_>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<Alert>, sqlx::Error> {
    let (key, after_op, direction) = match f.sort {
        AlertSort::Newest => ("created_at", "<", "desc"),
        AlertSort::Oldest => ("created_at", ">", "asc"),
        AlertSort::LastFired => ("last_fired_at", "<", "desc"),
    };
    let rows: Vec<Alert> = sqlx::query_as(&format!(
        "select {COLUMNS} from alerts
         where ($1::text[] is null or status = any($1))
           and ($2::text is null or severity = $2)
           and ($3::text is null or service = $3)
           and ($4::text is null or source = $4)
           and ($5::timestamptz is null or created_at >= $5)
           and ($6::timestamptz is null or created_at < $6)
           and ($7::timestamptz is null or ({key}, id) {after_op} ($7, $8))
         order by {key} {direction}, id {direction}
         limit $9"
    ))
    .bind((!f.statuses.is_empty()).then_some(&f.statuses))
    .bind(f.severity)
    .bind(f.service)
    .bind(f.source)
    .bind(f.since)
    .bind(f.until)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows)
}

/// An alert's status and severity, read under a row lock so the action deciding on them cannot race
/// another one on the same alert. `FOR NO KEY UPDATE`, not `FOR UPDATE`: the latter also blocks the
/// key-share locks that inserting escalation events and outbox rows (foreign keys to the alert) take,
/// so an acknowledge racing a tier that is firing would deadlock with the worker.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Locked {
    pub status: AlertStatus,
    pub severity: Severity,
}

/// Locks an alert for an action; `None` when there is no such alert.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> Result<Option<Locked>, sqlx::Error> {
    sqlx::query_as("select status, severity from alerts where id = $1 for no key update")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Locks several alerts, in the order of their ids (callers that change several alerts in one
/// transaction lock them so, and cannot wait for each other).
pub async fn lock_many(conn: &mut PgConnection, ids: &[Uuid]) -> Result<(), sqlx::Error> {
    sqlx::query("select id from alerts where id = any($1) order by id for no key update")
        .bind(ids)
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks an alert acknowledged (the caller has checked it is firing).
pub async fn set_acknowledged(
    conn: &mut PgConnection,
    id: Uuid,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update alerts set status = 'acknowledged', acknowledged_at = $2, acknowledged_by = $3, updated_at = $2
         where id = $1",
    )
    .bind(id)
    .bind(now)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(())
}

/// Resolves an alert by id. `None`: no such alert; `Some(None)`: it was already resolved.
pub async fn resolve(
    conn: &mut PgConnection,
    id: Uuid,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Option<Option<Resolved>>, sqlx::Error> {
    let resolved: Option<Resolved> = sqlx::query_as(
        "update alerts set status = 'resolved', resolved_at = $2, resolved_by = $3, updated_at = $2
         where id = $1 and status <> 'resolved'
         returning id, number, matched_incident_id, first_fired_at, severity",
    )
    .bind(id)
    .bind(now)
    .bind(by)
    .fetch_optional(&mut *conn)
    .await?;
    if resolved.is_some() {
        return Ok(Some(resolved));
    }
    let exists: Option<Uuid> = sqlx::query_scalar("select id from alerts where id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(exists.map(|_| None))
}

/// Whether the alert exists.
pub async fn exists(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists(select 1 from alerts where id = $1)")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// The policy that escalates the alert: `None` when there is no such alert, `Some(None)` when it
/// never escalated.
pub async fn escalation_policy(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<Option<Uuid>>, sqlx::Error> {
    sqlx::query_scalar("select escalation_policy_id from alerts where id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}
