//! Dashboard figures, computed in SQL over the tenant's alerts.

use chrono::{DateTime, NaiveDate, Utc};
use nightowl_api::stats::RecurringAlert;
use sqlx::PgConnection;

/// Open alerts by severity, and how many of them are firing.
pub async fn open_by_severity(conn: &mut PgConnection) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "select severity, count(*), count(*) filter (where status = 'firing')
         from alerts where status in ('firing', 'acknowledged') group by severity",
    )
    .fetch_all(conn)
    .await
}

/// Per UTC day from `from` to `until` (inclusive): alerts resolved, and their mean minutes from first
/// firing to resolution.
pub async fn mttr(
    conn: &mut PgConnection,
    from: NaiveDate,
    until: NaiveDate,
) -> Result<Vec<(NaiveDate, i64, Option<f64>)>, sqlx::Error> {
    sqlx::query_as(
        "select d::date, count(a.id),
                avg(extract(epoch from (a.resolved_at - a.first_fired_at)) / 60.0)::float8
         from generate_series($1::date, $2::date, interval '1 day') d
         left join alerts a on a.resolved_at >= d and a.resolved_at < d + interval '1 day'
                           and a.status = 'resolved'
         group by d order by d",
    )
    .bind(from)
    .bind(until)
    .fetch_all(conn)
    .await
}

/// The `limit` fingerprints with the most reports among alerts that fired since `since`.
pub async fn top_recurring(
    conn: &mut PgConnection,
    since: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<RecurringAlert>, sqlx::Error> {
    sqlx::query_as(
        "select fingerprint,
                (array_agg(title order by last_fired_at desc))[1] as title,
                (array_agg(service order by last_fired_at desc))[1] as service,
                sum(occurrence_count)::bigint as occurrences, count(*) as alerts,
                (array_agg(id order by last_fired_at desc))[1] as last_alert_id,
                (array_agg(number order by last_fired_at desc))[1] as last_number
         from alerts where last_fired_at >= $1
         group by fingerprint order by occurrences desc, fingerprint limit $2",
    )
    .bind(since)
    .bind(limit)
    .fetch_all(conn)
    .await
}
