//! Knowledge-base search benchmark: p50/p99 of `GET /api/v1/incidents/search`'s query over 100,000
//! generated incidents, next to baselines measured in the same run (a bare round trip, the exact
//! fingerprint lookup), because this machine is shared and noisy: the ratios are what to compare.
//! Also enrichment's text match for new alerts, against the query it replaced (same answers required).
//!
//! ```sh
//! cargo run --release -p nightowl-tests --bin bench-search            # 100k incidents, 400 queries
//! cargo run --release -p nightowl-tests --bin bench-search -- 20000 200
//! ```
//! Uses `NIGHTOWL_TEST_DATABASE_URL` (default: the test database) and a tenant `bench_kb` that is
//! re-created when its incident count differs from the requested one.

use std::time::{Duration, Instant};

use nightowl::db;
use nightowl::tenancy::{self, Slug};
use sqlx::postgres::PgPoolOptions;

const QUERIES: [&str; 20] = [
    "disk full",
    "kafka consumer lag",
    "certificate expired",
    "oom killed",
    "dns timeout",
    "postgres replication lag",
    "node not ready",
    "pod crashloop",
    "redis memory",
    "connection refused",
    "\"consumer lag\"",
    "etcd leader",
    "tls handshake",
    "volume pending",
    "queue backlog orders",
    "latency spike checkout",
    "error rate payments -staging",
    "ingress 502",
    "cpu throttling",
    "deadlock",
];

/// Alert texts (title and description) as enrichment sees them on a new alert.
const ALERT_TEXTS: [&str; 5] = [
    "High error rate on checkout-api: connection refused from postgres replica",
    "KafkaConsumerLag orders consumer group is 50000 messages behind",
    "Certificate for ingress gateway expires in 3 days",
    "Node worker-17 NotReady kubelet stopped posting node status",
    "Redis memory pressure evicting keys on cache cluster during peak traffic",
];

/// Enrichment's text match as it was before word pairs went to the index (each matching incident
/// counted its matched words one by one), kept to measure the change against in the same run.
const PER_ROW_MATCH: &str = "with terms as (
        select distinct lexeme from unnest(tsvector_to_array(to_tsvector('english', $1))) as lexeme
    ), q as (
        select to_tsquery('simple', string_agg(quote_literal(lexeme), ' | ')) as query, count(*) as n from terms
    )
    select s.incident_id from incident_search s, q
    where q.n > 0 and s.search_vector @@ q.query
      and (select count(*) from terms t where s.search_vector @@ to_tsquery('simple', quote_literal(t.lexeme)))
          >= least(2, q.n)
    order by ts_rank(s.search_vector, q.query) desc, s.resolution_count desc, s.updated_at desc, s.incident_id
    limit 1";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(name: &str, mut samples: Vec<Duration>, baseline: Option<Duration>) -> Duration {
    samples.sort();
    let (p50, p99) = (percentile(&samples, 0.50), percentile(&samples, 0.99));
    let ratio = baseline
        .map(|b| format!("  p50 = {:.2}x baseline", p50.as_secs_f64() / b.as_secs_f64()))
        .unwrap_or_default();
    println!(
        "{name:<28} n={:<5} p50 {:>8.3} ms   p99 {:>8.3} ms{ratio}",
        samples.len(),
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
    p50
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let incidents: i64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(100_000);
    let iterations: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(400);
    nightowl_tests::prepare_database().await;
    let url = nightowl_tests::database_url();
    let pool = PgPoolOptions::new().max_connections(2).connect(&url).await?;
    let slug = Slug::parse("bench_kb")?;

    let existing: Option<i64> = match tenancy::find_tenant(&pool, slug.as_str()).await? {
        Some(_) => Some(
            sqlx::query_scalar(&format!("select count(*) from {}.incidents", slug.schema()))
                .fetch_one(&pool)
                .await?,
        ),
        None => None,
    };
    if existing != Some(incidents) {
        tenancy::drop_tenant(&pool, &slug).await?;
        tenancy::create_tenant(&pool, &url, &slug, "Search benchmark").await?;
        let started = Instant::now();
        let mut tx = db::begin_tenant(&pool, &slug, "bench").await?;
        // Realistic vocabulary: components, failure words and fixes, so queries hit varying fractions.
        sqlx::query(
            "with w as (select
                array['kafka','postgres','redis','etcd','coredns','ingress','checkout','payments','orders','search',
                      'api','worker','node','pod','volume','certificate','queue','cache','gateway','scheduler'] as comp,
                array['disk full','consumer lag','oom killed','timeout','connection refused','replication lag',
                      'crashloop','not ready','latency spike','error rate','handshake failure','leader election',
                      'pending','backlog','throttling','deadlock','expired','502 bad gateway','memory pressure',
                      'split brain'] as fail,
                array['restart the deployment','scale out consumers','rotate logs and grow the volume',
                      'renew the certificate with cert-manager','raise the memory limit','fail over to the replica',
                      'drain and replace the node','flush the cache','roll back the release','increase the timeout']
                      as fix)
             insert into incidents (title, fingerprints, severity, category, tags, services, symptoms, error_patterns,
                                    root_cause, solution, resolution_count)
             select w.comp[1 + (i % 20)] || ' ' || w.fail[1 + ((i / 20) % 20)] || ' #' || i,
                    array['fp-' || i],
                    (array['info','warning','major','critical'])[1 + (i % 4)],
                    w.comp[1 + ((i / 7) % 20)],
                    array[w.comp[1 + ((i / 3) % 20)], 'env-' || (i % 5)],
                    array[w.comp[1 + (i % 20)]],
                    'Users see ' || w.fail[1 + ((i / 20) % 20)] || ' on ' || w.comp[1 + ((i / 11) % 20)]
                      || ' during peak traffic; dashboards show ' || w.fail[1 + ((i / 13) % 20)],
                    array[w.fail[1 + ((i / 20) % 20)] || ' in ' || w.comp[1 + (i % 20)]],
                    'Root cause: ' || w.fail[1 + ((i / 17) % 20)] || ' in ' || w.comp[1 + ((i / 5) % 20)],
                    w.fix[1 + (i % 10)] || ', then verify ' || w.comp[1 + ((i / 9) % 20)] || ' recovers',
                    i % 7
             from generate_series(1, $1) as i, w",
        )
        .bind(incidents)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        sqlx::query(&format!("vacuum analyze {}.incidents", slug.schema()))
            .execute(&pool)
            .await?;
        println!(
            "generated {incidents} incidents in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }

    let mut round_trip = Vec::with_capacity(iterations);
    let mut by_fingerprint = Vec::with_capacity(iterations);
    let mut search = Vec::with_capacity(iterations);
    let mut hits = 0usize;
    // How many live incidents each query matches: ranking visits every one of them, so this is what
    // a query's latency grows with.
    let mut matches = Vec::with_capacity(QUERIES.len());
    {
        let mut tx = db::begin_tenant(&pool, &slug, "bench").await?;
        for q in QUERIES {
            let n: i64 = sqlx::query_scalar(
                "select count(*) from incident_search where search_vector @@ websearch_to_tsquery('english', $1)",
            )
            .bind(q)
            .fetch_one(&mut *tx)
            .await?;
            matches.push(n);
        }
        tx.rollback().await?;
    }
    let broadest = (0..QUERIES.len()).max_by_key(|&i| matches[i]).unwrap_or(0);
    let mut search_broadest = Vec::new();
    for n in 0..iterations {
        let mut tx = db::begin_tenant(&pool, &slug, "bench").await?;
        let t = Instant::now();
        sqlx::query("select 1").execute(&mut *tx).await?;
        round_trip.push(t.elapsed());
        let t = Instant::now();
        db::incidents::list_by_fingerprint(&mut tx, &format!("fp-{}", 1 + (n as i64 * 7919) % incidents))
            .await?;
        by_fingerprint.push(t.elapsed());
        let t = Instant::now();
        hits += db::incidents::search(&mut tx, QUERIES[n % QUERIES.len()], &Default::default(), 20, 0)
            .await?
            .len();
        search.push(t.elapsed());
        if n % QUERIES.len() == broadest {
            search_broadest.push(t.elapsed());
        }
        tx.rollback().await?;
    }
    // Enrichment: the best text match for a new alert, as ingest runs it, and the earlier query.
    let mut enrich = Vec::new();
    let mut enrich_per_row = Vec::new();
    for n in 0..(iterations / 4).max(ALERT_TEXTS.len()) {
        let text = ALERT_TEXTS[n % ALERT_TEXTS.len()];
        let mut tx = db::begin_tenant(&pool, &slug, "bench").await?;
        let t = Instant::now();
        let found = db::incidents::best_text_match(&mut tx, text).await?;
        enrich.push(t.elapsed());
        let t = Instant::now();
        let before: Option<uuid::Uuid> = sqlx::query_scalar(PER_ROW_MATCH)
            .bind(text)
            .fetch_optional(&mut *tx)
            .await?;
        enrich_per_row.push(t.elapsed());
        anyhow::ensure!(
            found.map(|m| m.id) == before,
            "both enrichment queries must pick the same incident for {text:?}"
        );
        tx.rollback().await?;
    }
    println!(
        "{incidents} incidents, {iterations} iterations, {} hits per search on average",
        hits / iterations
    );
    let base = report("baseline: select 1", round_trip, None);
    report("fingerprint lookup (GIN)", by_fingerprint, Some(base));
    report("search + highlights (20)", search, Some(base));
    let label = format!(
        "broadest: {:?} ({} matches)",
        QUERIES[broadest], matches[broadest]
    );
    report(&label, search_broadest, Some(base));
    let per_row = report("enrichment, per-row word count", enrich_per_row, None);
    report("enrichment text match", enrich, Some(per_row));
    let mut sorted = matches.clone();
    sorted.sort();
    println!(
        "matches per query: min {}, median {}, max {} of {incidents}",
        sorted[0],
        sorted[sorted.len() / 2],
        sorted[sorted.len() - 1]
    );
    Ok(())
}
