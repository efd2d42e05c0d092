//! Knowledge-base incident queries used by alert enrichment. Only live incidents (not merged, not
//! archived) ever match.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// A knowledge-base match: the incident and its known solution.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct KbMatch {
    pub id: Uuid,
    pub solution: Option<String>,
}

/// The live incident that lists this fingerprint (the most often resolved one if several do).
pub async fn by_fingerprint(
    conn: &mut PgConnection,
    fingerprint: &str,
) -> Result<Option<KbMatch>, sqlx::Error> {
    sqlx::query_as(
        "select id, solution from incidents
         where fingerprints @> array[$1] and merged_into_id is null and archived_at is null
         order by resolution_count desc, updated_at desc limit 1",
    )
    .bind(fingerprint)
    .fetch_optional(conn)
    .await
}

/// The best full-text match for an alert's text: any of its words may match (OR), ranked by
/// ts_rank over the weighted vector; at least two distinct words must match when the text has two,
/// so one common word ("error") does not link unrelated incidents.
pub async fn best_text_match(conn: &mut PgConnection, text: &str) -> Result<Option<KbMatch>, sqlx::Error> {
    sqlx::query_as(
        "with terms as (
             select distinct lexeme from unnest(tsvector_to_array(to_tsvector('english', $1))) as lexeme
         ), q as (
             select to_tsquery('simple', string_agg(quote_literal(lexeme), ' | ')) as query, count(*) as n from terms
         )
         select i.id, i.solution from incidents i, q
         where q.n > 0 and i.search_vector @@ q.query and i.merged_into_id is null and i.archived_at is null
           and (select count(*) from terms t where i.search_vector @@ to_tsquery('simple', quote_literal(t.lexeme)))
               >= least(2, q.n)
         order by ts_rank(i.search_vector, q.query) desc, i.resolution_count desc, i.updated_at desc
         limit 1",
    )
    .bind(text)
    .fetch_optional(conn)
    .await
}

/// What an agent reported fixing.
pub struct AgentFix<'a> {
    pub title: &'a str,
    pub fingerprint: &'a str,
    pub service: Option<&'a str>,
    pub symptoms: Option<&'a str>,
    pub root_cause: Option<&'a str>,
    pub action: Option<&'a str>,
    pub agent: &'a str,
    pub severity: &'a str,
}

/// Records an agent's fix in the knowledge base: counts a resolution on the incident that already
/// knows this fingerprint, or creates one from the agent's report. Returns the incident id.
pub async fn record_agent_fix(
    conn: &mut PgConnection,
    fix: AgentFix<'_>,
    now: DateTime<Utc>,
) -> Result<Uuid, sqlx::Error> {
    if let Some(existing) = by_fingerprint(&mut *conn, fix.fingerprint).await? {
        sqlx::query(
            "update incidents set resolution_count = resolution_count + 1, last_resolved_at = $2,
                    last_resolved_by = $3, solution = coalesce(solution, $4), updated_at = $2
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
    let severity = if fix.severity == "critical" || fix.severity == "major" || fix.severity == "warning" {
        fix.severity
    } else {
        "info"
    };
    sqlx::query_scalar(
        "insert into incidents (title, fingerprints, severity, services, symptoms, root_cause, solution, tags,
                                resolution_count, last_resolved_at, last_resolved_by, created_by, created_at,
                                updated_at)
         values ($1, array[$2], $3, coalesce(array_remove(array[$4::text], null), '{}'), $5, $6, $7,
                 array['agent-resolved'], 1, $8, $9, $9, $8, $8)
         returning id",
    )
    .bind(fix.title)
    .bind(fix.fingerprint)
    .bind(severity)
    .bind(fix.service)
    .bind(fix.symptoms)
    .bind(fix.root_cause)
    .bind(fix.action)
    .bind(now)
    .bind(fix.agent)
    .fetch_one(conn)
    .await
}
