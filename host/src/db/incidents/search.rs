//! Full-text search over live incidents: the query (with its last word as a prefix), ranking, and
//! highlights for the page.

use nightowl_api::incidents::{Fragment, Incident};
use sqlx::PgConnection;

use super::highlight::fragments;
use super::{IncidentFilter, prefixed_columns};

/// A search result row: the incident, its rank and the three highlighted texts.
pub struct SearchRow {
    pub incident: Incident,
    pub rank: f32,
    pub title: Vec<Fragment>,
    pub symptoms: Vec<Fragment>,
    pub solution: Vec<Fragment>,
}

/// Splits a search into what `websearch_to_tsquery` reads as written and a last word that matches as a
/// prefix, so a query finds while it is being typed ("kafka consu") and a fragment finds the compound
/// identifiers alerts are named with ("crashloop" → CrashLoopBackOff, "oomkill" → OOMKilled). Only a
/// plain last word of two or more letters or digits is a prefix: not one inside an open quote, after
/// `-` or other punctuation, or next to the `or` operator.
pub fn split_prefix(q: &str) -> Option<(&str, &str)> {
    let q = q.trim_end();
    let start = q
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric())
        .last()
        .map(|(i, _)| i)?;
    let (head, last) = q.split_at(start);
    let plain = last.chars().count() >= 2
        && !last.eq_ignore_ascii_case("or")
        && head.chars().next_back().is_none_or(char::is_whitespace)
        && head.matches('"').count() % 2 == 0
        && !head
            .split_whitespace()
            .next_back()
            .is_some_and(|w| w.eq_ignore_ascii_case("or"));
    plain.then_some((head, last))
}

/// Weighted full-text search over live incidents (`websearch_to_tsquery`: quotes, `or`, `-word`; any
/// other input is taken as words, never as syntax; the last word also matches as a prefix, see
/// [`split_prefix`]), ranked, with highlights computed for the page only.
/// Matching and ranking read the narrow `incident_search` table (live incidents only; see migration
/// `tenant/0004_incident_search.sql`): a broad query visits every match, so each visit is kept small.
/// `ts_headline` marks matches with chr(1) and chr(2), the marks [`fragments`] splits on.
/// The list's filters (severity, category, service, tags) narrow the matches; only a filtered search
/// reads the incidents table to match.
pub async fn search(
    conn: &mut PgConnection,
    q: &str,
    filter: &IncidentFilter<'_>,
    limit: i64,
    offset: i64,
) -> Result<Vec<SearchRow>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        incident: Incident,
        rank: f32,
        h_title: String,
        h_symptoms: String,
        h_solution: String,
    }
    let prefix = split_prefix(q);
    let filtered = filter.severity.is_some()
        || filter.category.is_some()
        || filter.service.is_some()
        || !filter.tags.is_empty();
    let narrow = if filtered {
        "join incidents f on f.id = s.incident_id
                     and ($6::text is null or f.severity = $6)
                     and ($7::text is null or f.category = $7)
                     and ($8::text is null or f.services @> array[$8])
                     and (cardinality($9::text[]) = 0 or f.tags @> $9)"
    } else {
        ""
    };
    let sql = format!(
        "with q as (select case when $5::text is null then websearch_to_tsquery('english', $1)
                                else websearch_to_tsquery('english', $4)
                                     && to_tsquery('english', quote_literal($5) || ':*')
                           end as query),
              opts as (select 'StartSel=' || chr(1) || ', StopSel=' || chr(2) as sel),
              hits as (
                  select s.incident_id as id, ts_rank(s.search_vector, q.query) as rank, s.updated_at
                  from incident_search s {narrow}, q
                  where s.search_vector @@ q.query
                  order by rank desc, s.updated_at desc, s.incident_id
                  limit $2 offset $3
              )
         select {cols}, hits.rank,
                ts_headline('english', translate(i.title, chr(1) || chr(2), ''), q.query,
                            opts.sel || ', HighlightAll=true') as h_title,
                ts_headline('english', translate(coalesce(i.symptoms, ''), chr(1) || chr(2), ''), q.query,
                            opts.sel || ', MaxFragments=2, MaxWords=30, MinWords=8') as h_symptoms,
                ts_headline('english', translate(coalesce(i.solution, ''), chr(1) || chr(2), ''), q.query,
                            opts.sel || ', MaxFragments=2, MaxWords=30, MinWords=8') as h_solution
         from hits join incidents i on i.id = hits.id, q, opts
         order by hits.rank desc, hits.updated_at desc, hits.id",
        cols = prefixed_columns("i")
    );
    let mut query = sqlx::query_as::<_, Row>(&sql)
        .bind(q)
        .bind(limit)
        .bind(offset)
        .bind(prefix.map(|(head, _)| head))
        .bind(prefix.map(|(_, last)| last));
    if filtered {
        query = query
            .bind(filter.severity)
            .bind(filter.category)
            .bind(filter.service)
            .bind(filter.tags);
    }
    let rows = query.fetch_all(conn).await?;
    Ok(rows
        .into_iter()
        .map(|r| SearchRow {
            incident: r.incident,
            rank: r.rank,
            title: fragments(&r.h_title),
            symptoms: fragments(&r.h_symptoms),
            solution: fragments(&r.h_solution),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_plain_last_word_matches_as_a_prefix() {
        assert_eq!(split_prefix("crashloop"), Some(("", "crashloop")));
        assert_eq!(split_prefix("kafka consu  "), Some(("kafka ", "consu")));
        assert_eq!(split_prefix("Größe übers"), Some(("Größe ", "übers")));
        assert_eq!(
            split_prefix("\"consumer lag\" kafk"),
            Some(("\"consumer lag\" ", "kafk"))
        );
        for q in [
            "\"consumer lag",
            "\"consumer lag\"",
            "payments -stag",
            "db-7",
            "disk or ful",
            "disk or",
            "x",
            "kafka !",
            "",
            "   ",
        ] {
            assert_eq!(split_prefix(q), None, "{q:?}");
        }
    }
}
