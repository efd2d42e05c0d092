//! Queries on `audit_log`: the writer's batch insert and the filtered, newest-first read.

use chrono::{DateTime, Utc};
use nightowl_api::admin::AuditRecord;
use sqlx::{PgConnection, PgExecutor};

use crate::audit::AuditEntry;
use crate::tenancy::Slug;

/// Inserts entries of one tenant in one statement. The writer serves every tenant from the pool,
/// so the table is named by its schema (from a validated slug) rather than by the search path.
pub async fn insert_batch(
    exec: impl PgExecutor<'_>,
    slug: &Slug,
    entries: &[AuditEntry],
) -> Result<(), sqlx::Error> {
    let col = |f: fn(&AuditEntry) -> Option<String>| entries.iter().map(f).collect::<Vec<_>>();
    sqlx::query(&format!(
        "insert into {}.audit_log (actor_type, actor_id, actor_label, action, resource_type, resource_id, diff,
                                   ip, user_agent, request_id, created_at)
         select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[],
                              $8::text[], $9::text[], $10::text[], $11::timestamptz[])",
        slug.schema()
    ))
    .bind(col(|e| Some(e.actor_type.to_string())))
    .bind(col(|e| e.actor_id.clone()))
    .bind(col(|e| Some(e.actor_label.clone())))
    .bind(col(|e| Some(e.action.clone())))
    .bind(col(|e| Some(e.resource_type.clone())))
    .bind(col(|e| e.resource_id.clone()))
    .bind(entries.iter().map(|e| e.diff.clone()).collect::<Vec<_>>())
    .bind(col(|e| e.ip.clone()))
    .bind(col(|e| e.user_agent.clone()))
    .bind(col(|e| e.request_id.clone()))
    .bind(entries.iter().map(|e| e.created_at).collect::<Vec<_>>())
    .execute(exec)
    .await?;
    Ok(())
}

/// Filters of the audit log; each one left out matches everything.
#[derive(Debug, Default)]
pub struct AuditFilter<'a> {
    /// Matches the actor's label (e-mail, `key:<prefix>`) or id.
    pub actor: Option<&'a str>,
    pub resource_type: Option<&'a str>,
    pub resource_id: Option<&'a str>,
    pub action: Option<&'a str>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Words found anywhere in the entry (what was sent, the resource id, actor, action), ignoring case.
    pub text: Option<&'a str>,
}

/// Up to `limit` entries newest first, those with an id below `before` when given.
pub async fn list(
    conn: &mut PgConnection,
    f: &AuditFilter<'_>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditRecord>, sqlx::Error> {
    sqlx::query_as(
        "select id, actor_type, actor_id, actor_label, action, resource_type, resource_id, diff, ip, user_agent,
                request_id, created_at
         from audit_log
         where ($1::text is null or actor_label = $1 or actor_id = $1)
           and ($2::text is null or resource_type = $2)
           and ($3::text is null or resource_id = $3)
           and ($4::text is null or action = $4)
           and ($5::timestamptz is null or created_at >= $5)
           and ($6::timestamptz is null or created_at < $6)
           and ($7::bigint is null or id < $7)
           and ($9::text is null or strpos(lower(concat_ws(' ', actor_label, action, resource_type, resource_id,
                                                          diff::text)), lower($9)) > 0)
         order by id desc limit $8",
    )
    .bind(f.actor)
    .bind(f.resource_type)
    .bind(f.resource_id)
    .bind(f.action)
    .bind(f.since)
    .bind(f.until)
    .bind(before)
    .bind(limit)
    .bind(f.text.map(str::trim).filter(|t| !t.is_empty()))
    .fetch_all(conn)
    .await
}
