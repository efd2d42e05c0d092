//! Resolutions counted on knowledge-base incidents: an alert resolved while linked to one, and an
//! agent's reported fix (which counts on the incident knowing the fingerprint, or creates it).

use chrono::{DateTime, Utc};
use nightowl_api::alerts::Severity;
use sqlx::PgConnection;
use uuid::Uuid;

use super::by_fingerprint;

/// What an agent reported fixing.
pub struct AgentFix<'a> {
    pub title: &'a str,
    pub fingerprint: &'a str,
    pub service: Option<&'a str>,
    pub symptoms: Option<&'a str>,
    pub root_cause: Option<&'a str>,
    pub action: Option<&'a str>,
    pub agent: &'a str,
    pub severity: Severity,
}

/// Records an agent's fix in the knowledge base: counts a resolution on the incident that already
/// knows this fingerprint, or creates one from the agent's report, unreviewed. The agent's action
/// becomes the solution only of an unreviewed incident that has none: reviewed knowledge is never
/// written by an agent. Returns the incident id.
pub async fn record_agent_fix(
    conn: &mut PgConnection,
    fix: AgentFix<'_>,
    now: DateTime<Utc>,
) -> Result<Uuid, sqlx::Error> {
    if let Some(existing) = by_fingerprint(&mut *conn, fix.fingerprint).await? {
        sqlx::query(
            "update incidents set resolution_count = resolution_count + 1, last_resolved_at = $2,
                    last_resolved_by = $3,
                    solution = case when reviewed then solution else coalesce(solution, $4) end,
                    updated_at = $2
             where id = $1",
        )
        .bind(existing.id)
        .bind(now)
        .bind(fix.agent)
        .bind(fix.action)
        .execute(conn)
        .await?;
        return Ok(existing.id);
    }
    sqlx::query_scalar(
        "insert into incidents (title, fingerprints, severity, services, symptoms, root_cause, solution, tags,
                                resolution_count, last_resolved_at, last_resolved_by, created_by, created_at,
                                updated_at, reviewed)
         values ($1, array[$2], $3, coalesce(array_remove(array[$4::text], null), '{}'), $5, $6, $7,
                 array['agent-resolved'], 1, $8, $9, $9, $8, $8, false)
         returning id",
    )
    .bind(fix.title)
    .bind(fix.fingerprint)
    .bind(fix.severity)
    .bind(fix.service)
    .bind(fix.symptoms)
    .bind(fix.root_cause)
    .bind(fix.action)
    .bind(now)
    .bind(fix.agent)
    .fetch_one(conn)
    .await
}

/// Counts one resolved alert on its incident: resolution count, last resolution, running mean of
/// minutes from firing to resolution.
pub async fn record_resolution(
    conn: &mut PgConnection,
    id: Uuid,
    minutes: f64,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update incidents set resolution_count = resolution_count + 1, last_resolved_at = $2, last_resolved_by = $3,
                avg_resolution_mins = (coalesce(avg_resolution_mins, 0) * resolution_count + $4) / (resolution_count + 1),
                updated_at = $2
         where id = $1",
    )
    .bind(id)
    .bind(now)
    .bind(by)
    .bind(minutes)
    .execute(conn)
    .await?;
    Ok(())
}
