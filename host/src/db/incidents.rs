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
         select i.id, i.solution
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
               s.updated_at
        from incident_search s, q, need
        where q.n > 0 and s.search_vector @@ need.query
    )";

/// Best text match first: rank, then the better-proven incident, then the newest.
const TEXT_ORDER: &str = "rank desc, resolution_count desc, updated_at desc, id";

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
        incident: IncidentRow,
        rank: Option<f32>,
    }
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "with {TEXT_MATCH},
         by_fingerprint as (
             select id, null::real as rank, resolution_count, updated_at from incidents
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
         order by found.rank desc nulls first, found.resolution_count desc, found.updated_at desc, found.id
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
            incident: r.incident.into(),
            rank: r.rank,
        })
        .collect())
}

/// [`COLUMNS`] qualified with a table alias.
fn prefixed_columns(alias: &str) -> String {
    COLUMNS
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
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

// --- The knowledge-base API ---------------------------------------------------------------------------

use nightowl_api::incidents::{Fragment, HistoryEntry, Incident, IncidentInput, LinkedAlert};

const COLUMNS: &str = "id, title, fingerprints, severity, category, tags, services, clusters, namespaces, symptoms, \
     error_patterns, root_cause, solution, runbook_id, resolution_count, last_resolved_at, last_resolved_by, \
     avg_resolution_mins, merged_into_id, archived_at, created_by, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct IncidentRow {
    id: Uuid,
    title: String,
    fingerprints: Vec<String>,
    severity: String,
    category: Option<String>,
    tags: Vec<String>,
    services: Vec<String>,
    clusters: Vec<String>,
    namespaces: Vec<String>,
    symptoms: Option<String>,
    error_patterns: Vec<String>,
    root_cause: Option<String>,
    solution: Option<String>,
    runbook_id: Option<Uuid>,
    resolution_count: i32,
    last_resolved_at: Option<DateTime<Utc>>,
    last_resolved_by: Option<String>,
    avg_resolution_mins: Option<f64>,
    merged_into_id: Option<Uuid>,
    archived_at: Option<DateTime<Utc>>,
    created_by: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<IncidentRow> for Incident {
    fn from(r: IncidentRow) -> Incident {
        Incident {
            id: r.id,
            title: r.title,
            fingerprints: r.fingerprints,
            severity: r.severity,
            category: r.category,
            tags: r.tags,
            services: r.services,
            clusters: r.clusters,
            namespaces: r.namespaces,
            symptoms: r.symptoms,
            error_patterns: r.error_patterns,
            root_cause: r.root_cause,
            solution: r.solution,
            runbook_id: r.runbook_id,
            resolution_count: r.resolution_count,
            last_resolved_at: r.last_resolved_at,
            last_resolved_by: r.last_resolved_by,
            avg_resolution_mins: r.avg_resolution_mins,
            merged_into_id: r.merged_into_id,
            archived_at: r.archived_at,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// One incident, live or not.
pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<Incident>, sqlx::Error> {
    let row: Option<IncidentRow> = sqlx::query_as(&format!("select {COLUMNS} from incidents where id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(Incident::from))
}

/// Live incidents listing this fingerprint, most resolved first.
pub async fn list_by_fingerprint(
    conn: &mut PgConnection,
    fingerprint: &str,
) -> Result<Vec<Incident>, sqlx::Error> {
    let rows: Vec<IncidentRow> = sqlx::query_as(&format!(
        "select {COLUMNS} from incidents
         where fingerprints @> array[$1] and merged_into_id is null and archived_at is null
         order by resolution_count desc, updated_at desc"
    ))
    .bind(fingerprint)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Incident::from).collect())
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
    let rows: Vec<IncidentRow> = sqlx::query_as(&format!(
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
    Ok((rows.into_iter().map(Incident::from).collect(), total))
}

/// `sql` with `$1` = `key`, `$2`..`$14` = the editable fields in table order, `$15` = `now`.
fn with_fields<'q, K>(
    sql: &'q str,
    key: K,
    i: &'q IncidentInput,
    now: DateTime<Utc>,
) -> sqlx::query::QueryAs<'q, sqlx::Postgres, IncidentRow, sqlx::postgres::PgArguments>
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
    Ok(with_fields(&sql, by, i, now).fetch_one(conn).await?.into())
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
    Ok(with_fields(&sql, id, i, now)
        .fetch_optional(conn)
        .await?
        .map(Incident::from))
}

/// Records an event (create/merge/delete) that is not a field change.
pub async fn record_event(
    conn: &mut PgConnection,
    id: Uuid,
    change_type: &str,
    field: Option<&str>,
    new_value: Option<serde_json::Value>,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into incident_history (incident_id, change_type, field, new_value, changed_by, changed_at)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(change_type)
    .bind(field)
    .bind(new_value)
    .bind(by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
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

#[derive(sqlx::FromRow)]
struct HistoryRow {
    id: i64,
    change_type: String,
    field: Option<String>,
    old_value: Option<serde_json::Value>,
    new_value: Option<serde_json::Value>,
    changed_by: Option<String>,
    changed_at: DateTime<Utc>,
}

/// The incident's history, oldest first.
pub async fn history(conn: &mut PgConnection, id: Uuid) -> Result<Vec<HistoryEntry>, sqlx::Error> {
    let rows: Vec<HistoryRow> = sqlx::query_as(
        "select id, change_type, field, old_value, new_value, changed_by, changed_at from incident_history
         where incident_id = $1 order by changed_at, id",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| HistoryEntry {
            id: r.id,
            change_type: r.change_type,
            field: r.field,
            old_value: r.old_value,
            new_value: r.new_value,
            changed_by: r.changed_by,
            changed_at: r.changed_at,
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct LinkedAlertRow {
    id: Uuid,
    title: String,
    status: String,
    severity: String,
    first_fired_at: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
}

/// The most recent alerts linked to the incident.
pub async fn linked_alerts(conn: &mut PgConnection, id: Uuid) -> Result<Vec<LinkedAlert>, sqlx::Error> {
    let rows: Vec<LinkedAlertRow> = sqlx::query_as(
        "select id, title, status, severity, first_fired_at, resolved_at from alerts
         where matched_incident_id = $1 order by created_at desc, id desc limit 50",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| LinkedAlert {
            id: r.id,
            title: r.title,
            status: r.status,
            severity: r.severity,
            first_fired_at: r.first_fired_at,
            resolved_at: r.resolved_at,
        })
        .collect())
}

/// A search result row: the incident, its rank and the three highlighted texts.
pub struct SearchRow {
    pub incident: Incident,
    pub rank: f32,
    pub title: Vec<Fragment>,
    pub symptoms: Vec<Fragment>,
    pub solution: Vec<Fragment>,
}

/// Marks around matches in `ts_headline` output: control characters stripped from the text first, so
/// they cannot occur in it, and never HTML.
const START: char = '\u{1}';
const STOP: char = '\u{2}';

/// Splits `ts_headline` output into plain and highlighted fragments.
pub fn fragments(marked: &str) -> Vec<Fragment> {
    let mut out = Vec::new();
    let mut rest = marked;
    while let Some(start) = rest.find(START) {
        if start > 0 {
            out.push(Fragment {
                text: rest[..start].to_owned(),
                highlighted: false,
            });
        }
        let after = &rest[start + START.len_utf8()..];
        let end = after.find(STOP).unwrap_or(after.len());
        out.push(Fragment {
            text: after[..end].to_owned(),
            highlighted: true,
        });
        rest = after.get(end + STOP.len_utf8()..).unwrap_or("");
    }
    if !rest.is_empty() {
        out.push(Fragment {
            text: rest.to_owned(),
            highlighted: false,
        });
    }
    out
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
pub async fn search(
    conn: &mut PgConnection,
    q: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<SearchRow>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        incident: IncidentRow,
        rank: f32,
        h_title: String,
        h_symptoms: String,
        h_solution: String,
    }
    let prefix = split_prefix(q);
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "with q as (select case when $5::text is null then websearch_to_tsquery('english', $1)
                                else websearch_to_tsquery('english', $4)
                                     && to_tsquery('english', quote_literal($5) || ':*')
                           end as query),
              opts as (select 'StartSel=' || chr(1) || ', StopSel=' || chr(2) as sel),
              hits as (
                  select s.incident_id as id, ts_rank(s.search_vector, q.query) as rank, s.updated_at
                  from incident_search s, q
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
    ))
    .bind(q)
    .bind(limit)
    .bind(offset)
    .bind(prefix.map(|(head, _)| head))
    .bind(prefix.map(|(_, last)| last))
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| SearchRow {
            incident: r.incident.into(),
            rank: r.rank,
            title: fragments(&r.h_title),
            symptoms: fragments(&r.h_symptoms),
            solution: fragments(&r.h_solution),
        })
        .collect())
}

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
    let row: IncidentRow = sqlx::query_as(&format!(
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
    Ok(Ok(row.into()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headline_marks_become_fragments() {
        let f = fragments("Disk \u{1}full\u{2} on \u{1}db\u{2}");
        let texts: Vec<_> = f.iter().map(|f| (f.text.as_str(), f.highlighted)).collect();
        assert_eq!(
            texts,
            [("Disk ", false), ("full", true), (" on ", false), ("db", true)]
        );
        assert!(fragments("").is_empty());
        assert_eq!(fragments("<b>x</b>")[0].text, "<b>x</b>", "text stays text");
    }

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
