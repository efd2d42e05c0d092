//! Knowledge-base matching for alert enrichment and the similar-incidents view: the fingerprint match
//! and the full-text match over an alert's first words. Only live incidents (not merged, not archived)
//! ever match.

use sqlx::PgConnection;
use uuid::Uuid;

use super::{Incident, prefixed_columns};

/// A knowledge-base match: the incident and its known solution.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct KbMatch {
    pub id: Uuid,
    pub solution: Option<String>,
    /// Whether an engineer stands behind it (agent-made knowledge is unreviewed).
    pub reviewed: bool,
}

/// The live incident that lists this fingerprint (the most often resolved one if several do).
pub async fn by_fingerprint(
    conn: &mut PgConnection,
    fingerprint: &str,
) -> Result<Option<KbMatch>, sqlx::Error> {
    sqlx::query_as(
        "select id, solution, reviewed from incidents
         where fingerprints @> array[$1] and merged_into_id is null and archived_at is null
         order by reviewed desc, resolution_count desc, updated_at desc limit 1",
    )
    .bind(fingerprint)
    .fetch_optional(conn)
    .await
}

/// The text of an alert that knowledge-base matching reads: its title, then its description.
pub fn match_text(title: &str, description: Option<&str>) -> String {
    format!("{title} {}", description.unwrap_or(""))
}

/// Distinct words of an alert's text that take part in matching: the first ones, title first.
pub const MATCH_TERMS: i64 = 16;

/// The best full-text match for an alert's text: ranked by ts_rank of any of its words (OR) over the
/// weighted vector, among incidents that contain at least two distinct words of it when it has two,
/// so one common word ("error") does not link unrelated incidents. Only the first [`MATCH_TERMS`]
/// distinct words count (the title comes first), which bounds the query a long description builds.
///
/// "At least two words" is a disjunction of word pairs, which the GIN index evaluates: filtering rows
/// one by one would visit every incident sharing any single word with the alert (most of a large
/// knowledge base, for words such as "high" or "rate").
pub async fn best_text_match(conn: &mut PgConnection, text: &str) -> Result<Option<KbMatch>, sqlx::Error> {
    sqlx::query_as(&format!(
        "with {TEXT_MATCH}
         select i.id, i.solution, i.reviewed
         from (select id from text_hits order by {TEXT_ORDER} limit 1) best
         join incidents i on i.id = best.id"
    ))
    .bind(text)
    .bind(MATCH_TERMS)
    .fetch_optional(conn)
    .await
}

/// The text-matching part of [`best_text_match`] and [`similar`] (`$1` the alert's text, `$2`
/// [`MATCH_TERMS`]): `terms`, the words taking part; `q.any_term`, the OR query ranking uses; `need`,
/// the query a match must satisfy (two of the words, or the one word there is); `text_hits`, the
/// matching live incidents with their rank and tie-breaks, to be ordered by [`TEXT_ORDER`].
const TEXT_MATCH: &str = "terms as (
        select t.lexeme from unnest(to_tsvector('english', $1)) as t
        order by t.positions[1], t.lexeme
        limit $2
    ), q as (
        select to_tsquery('simple', string_agg(quote_literal(lexeme), ' | ')) as any_term, count(*) as n
        from terms
    ), need as (
        select case when q.n < 2 then q.any_term
                    else (select to_tsquery('simple', string_agg(
                              '(' || quote_literal(a.lexeme) || ' & ' || quote_literal(b.lexeme) || ')', ' | '))
                          from terms a join terms b on a.lexeme < b.lexeme)
               end as query
        from q
    ), text_hits as (
        select s.incident_id as id, ts_rank(s.search_vector, q.any_term) as rank, s.resolution_count,
               s.updated_at, s.reviewed
        from incident_search s, q, need
        where q.n > 0 and s.search_vector @@ need.query
    )";

/// Best text match first: reviewed knowledge before anything an agent wrote, then rank, then the
/// better-proven incident, then the newest.
const TEXT_ORDER: &str = "reviewed desc, rank desc, resolution_count desc, updated_at desc, id";

/// A knowledge-base incident like an alert, and why.
pub struct Similar {
    pub incident: Incident,
    /// `None` when the incident lists the alert's fingerprint; else the text match's rank.
    pub rank: Option<f32>,
}

/// Live incidents like an alert, best first, at most `limit`: those listing its fingerprint, then the
/// text matches enrichment would consider (see [`best_text_match`]), so an engineer sees the
/// alternatives when the automatic link is missing or wrong.
pub async fn similar(
    conn: &mut PgConnection,
    fingerprint: &str,
    text: &str,
    limit: i64,
) -> Result<Vec<Similar>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        incident: Incident,
        rank: Option<f32>,
    }
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "with {TEXT_MATCH},
         by_fingerprint as (
             select id, null::real as rank, resolution_count, updated_at, reviewed from incidents
             where fingerprints @> array[$3] and merged_into_id is null and archived_at is null
         ),
         by_text as (
             select * from text_hits where id not in (select id from by_fingerprint)
             order by {TEXT_ORDER}
             limit $4
         ),
         found as (select * from by_fingerprint union all select * from by_text)
         select {cols}, found.rank
         from found join incidents i on i.id = found.id
         order by found.rank is null desc, found.reviewed desc, found.rank desc,
                  found.resolution_count desc, found.updated_at desc, found.id
         limit $4",
        cols = prefixed_columns("i")
    ))
    .bind(text)
    .bind(MATCH_TERMS)
    .bind(fingerprint)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Similar {
            incident: r.incident,
            rank: r.rank,
        })
        .collect())
}
