//! Escalation benchmark: what an on-call lookup costs, and how late escalation tiers fire after their
//! deadlines when many come due at once, each next to a baseline measured in the same run (this
//! machine is shared and noisy: compare the ratios).
//!
//! ```sh
//! cargo run --release -p nightowl-tests --bin bench-escalation             # 1000 escalations, 2 workers
//! cargo run --release -p nightowl-tests --bin bench-escalation -- 300 1
//! ```
//! Uses `NIGHTOWL_TEST_DATABASE_URL` (default: the test database) and re-creates tenant `bench_esc`.
//!
//! 1. On-call lookup: the pure module (`Rotation::on_call`, 8 members, 200 overrides) and the full
//!    database-backed lookup every caller uses (`db::rosters::on_call`: roster, members, overrides),
//!    against a `select 1` round trip.
//! 2. Tier lateness: `n` critical alerts whose first tier comes due spread over 10 s of real time,
//!    while a load task keeps inserting alerts, fired by `workers` escalation workers on the system
//!    clock. Lateness = when the `notified` event was written − the tier's deadline. Baseline: the
//!    same for one escalation with no other load.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveTime, Utc};
use nightowl::clock::SystemClock;
use nightowl::config::Config;
use nightowl::db;
use nightowl::oncall::{Override, Rotation};
use nightowl::state::AppState;
use nightowl::tenancy::{self, Slug};
use nightowl::worker::{self, Scope};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use uuid::Uuid;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(name: &str, mut samples: Vec<f64>, unit: &str, baseline: Option<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    let (p50, p99, max) = (
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        *samples.last().unwrap(),
    );
    let ratio = baseline
        .map(|b| format!("  p50 = {:.1}x baseline", p50 / b))
        .unwrap_or_default();
    println!(
        "{name:<34} n={:<5} p50 {p50:>9.3} {unit}  p99 {p99:>9.3} {unit}  max {max:>9.3} {unit}{ratio}",
        samples.len()
    );
    p50
}

async fn setup(pool: &PgPool, url: &str, slug: &Slug) -> anyhow::Result<(Uuid, Vec<Uuid>)> {
    tenancy::drop_tenant(pool, slug).await?;
    tenancy::create_tenant(pool, url, slug, "Escalation benchmark").await?;
    let mut tx = db::begin_tenant(pool, slug, "bench").await?;
    let mut users = Vec::new();
    for i in 0..8 {
        let id: Uuid =
            sqlx::query_scalar("insert into users (email, display_name) values ($1, $2) returning id")
                .bind(format!("user{i}@bench.example"))
                .bind(format!("User {i}"))
                .fetch_one(&mut *tx)
                .await?;
        users.push(id);
    }
    let policy: Uuid = sqlx::query_scalar(
        "insert into escalation_policies (name, tiers) values ('bench',
           '[{\"timeout_minutes\": 5, \"notify_via\": [\"log\"], \"targets\": [\"oncall_primary\", \"oncall_secondary\"]},
             {\"timeout_minutes\": 5, \"notify_via\": [\"log\"], \"targets\": [\"team_lead\"]}]') returning id",
    )
    .fetch_one(&mut *tx)
    .await?;
    let roster: Uuid = sqlx::query_scalar(
        "insert into rosters (name, timezone, rotation_type, rotation_length, handoff_time, start_date,
             escalation_policy_id, team_lead_id)
         values ('bench', 'Europe/Berlin', 'weekly', 7, '09:00', '2026-01-05', $1, $2) returning id",
    )
    .bind(policy)
    .bind(users[0])
    .fetch_one(&mut *tx)
    .await?;
    for (i, u) in users.iter().enumerate() {
        sqlx::query("insert into roster_members (roster_id, user_id, position) values ($1, $2, $3)")
            .bind(roster)
            .bind(u)
            .bind(i as i32)
            .execute(&mut *tx)
            .await?;
    }
    // 200 one-day overrides spread over the year around now.
    let base = Utc::now() - chrono::Duration::days(100);
    for i in 0..200 {
        let starts = base + chrono::Duration::hours(i * 36);
        sqlx::query(
            "insert into roster_overrides (roster_id, user_id, starts_at, ends_at) values ($1, $2, $3, $4)",
        )
        .bind(roster)
        .bind(users[(i % 8) as usize])
        .bind(starts)
        .bind(starts + chrono::Duration::hours(24))
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("insert into services (name, roster_id) values ('bench', $1)")
        .bind(roster)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((roster, users))
}

async fn lookups(pool: &PgPool, slug: &Slug, roster: Uuid, users: &[Uuid]) -> anyhow::Result<()> {
    let rotation = Rotation {
        timezone: "Europe/Berlin".parse().unwrap(),
        length_days: 7,
        handoff_time: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        start_date: NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
        end_date: None,
        members: users.to_vec(),
    };
    let base = Utc::now() - chrono::Duration::days(100);
    let overrides: Vec<Override> = (0..200)
        .map(|i| Override {
            user: users[(i % 8) as usize],
            starts_at: base + chrono::Duration::hours(i * 36),
            ends_at: base + chrono::Duration::hours(i * 36 + 24),
            kind: nightowl::oncall::OverrideKind::Cover,
        })
        .collect();
    let mut pure = Vec::new();
    for i in 0..20_000 {
        let t = base + chrono::Duration::minutes(i * 17);
        let start = Instant::now();
        std::hint::black_box(rotation.on_call(t, &overrides));
        pure.push(start.elapsed().as_secs_f64() * 1e6);
    }
    report("on-call, pure module", pure, "µs", None);

    let mut baseline = Vec::new();
    let mut full = Vec::new();
    let mut conn = pool.acquire().await?;
    sqlx::query(&format!("set search_path = {}, public", slug.schema()))
        .execute(&mut *conn)
        .await?;
    for i in 0..1000 {
        let start = Instant::now();
        sqlx::query("select 1").execute(&mut *conn).await?;
        baseline.push(start.elapsed().as_secs_f64() * 1e3);
        let t = base + chrono::Duration::minutes(i * 311);
        let start = Instant::now();
        let r = db::rosters::get(&mut conn, roster).await?.expect("roster");
        std::hint::black_box(db::rosters::on_call(&mut conn, r, t).await?);
        full.push(start.elapsed().as_secs_f64() * 1e3);
    }
    let b = report("baseline: select 1 round trip", baseline, "ms", None);
    report("on-call, database-backed", full, "ms", Some(b));
    Ok(())
}

/// Creates `n` escalating alerts whose first tier is due `delay` + i/n × `spread` from now.
async fn due_alerts(
    pool: &PgPool,
    slug: &Slug,
    n: usize,
    delay: Duration,
    spread: Duration,
) -> anyhow::Result<()> {
    let mut tx = db::begin_tenant(pool, slug, "bench").await?;
    let policy: Uuid = sqlx::query_scalar("select id from escalation_policies")
        .fetch_one(&mut *tx)
        .await?;
    let roster: Uuid = sqlx::query_scalar("select id from rosters")
        .fetch_one(&mut *tx)
        .await?;
    let now = Utc::now();
    for i in 0..n {
        let due = now + chrono::Duration::from_std(delay + spread.mul_f64(i as f64 / n.max(1) as f64))?;
        let alert: Uuid = sqlx::query_scalar(
            "insert into alerts (fingerprint, severity, title, source, service, escalation_policy_id)
             values ($1, 'critical', 'bench', 'bench', 'bench', $2) returning id",
        )
        .bind(Uuid::new_v4().to_string())
        .bind(policy)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "insert into alert_escalations (alert_id, policy_id, roster_id, next_at, started_at)
             values ($1, $2, $3, $4, $4)",
        )
        .bind(alert)
        .bind(policy)
        .bind(roster)
        .bind(due)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Seconds between each first tier's deadline and its `notified` event, once `n` have fired.
async fn lateness(pool: &PgPool, slug: &Slug, n: usize) -> anyhow::Result<Vec<f64>> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let rows: Vec<f64> = sqlx::query_scalar(&format!(
            "select extract(epoch from min(created_at) - min((detail->>'scheduled_at')::timestamptz))::float8
             from {}.escalation_events where action = 'notified' and tier = 1 group by alert_id",
            slug.schema()
        ))
        .fetch_all(pool)
        .await?;
        if rows.len() >= n || Instant::now() > deadline {
            return Ok(rows);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1000);
    let workers: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(2);
    nightowl_tests::prepare_database().await;
    let url = nightowl_tests::database_url();
    let pool = PgPoolOptions::new().max_connections(20).connect(&url).await?;
    let slug = Slug::parse("bench_esc")?;
    let (roster, users) = setup(&pool, &url, &slug).await?;
    lookups(&pool, &slug, roster, &users).await?;

    let mut config = Config::for_database(&url);
    config.plugin_dir = std::env::temp_dir().join("nightowl-bench-no-plugins");
    config.redis_url = None;
    let state = AppState::new(config, pool.clone(), Arc::new(SystemClock))?;
    let spawn = |i: usize| {
        worker::spawn_scoped(
            state.clone(),
            format!("bench-{i}"),
            Scope::Only(vec![slug.clone()]),
        )
    };

    // Baseline: one escalation, nothing else going on.
    let handles: Vec<_> = (0..workers).map(spawn).collect();
    due_alerts(&pool, &slug, 1, Duration::from_secs(2), Duration::ZERO).await?;
    let one = lateness(&pool, &slug, 1).await?;
    let baseline = report("baseline: 1 tier, idle", one, "s", None);
    for h in handles {
        h.shutdown().await;
    }
    sqlx::query(&format!("truncate {}.escalation_events", slug.schema()))
        .execute(&pool)
        .await?;

    // Load: n tiers due within 10 s, plus a steady stream of new alerts.
    due_alerts(&pool, &slug, n, Duration::from_secs(3), Duration::from_secs(10)).await?;
    let handles: Vec<_> = (0..workers).map(spawn).collect();
    let load_pool = pool.clone();
    let load_slug = slug.clone();
    let load = tokio::spawn(async move {
        loop {
            let mut tx = db::begin_tenant(&load_pool, &load_slug, "bench-load")
                .await
                .unwrap();
            for _ in 0..20 {
                sqlx::query("insert into alerts (fingerprint, severity, title, source) values ($1, 'warning', 'noise', 'bench')")
                    .bind(Uuid::new_v4().to_string())
                    .execute(&mut *tx)
                    .await
                    .unwrap();
            }
            tx.commit().await.unwrap();
            tokio::task::yield_now().await;
        }
    });
    let started = Instant::now();
    let late = lateness(&pool, &slug, n).await?;
    load.abort();
    let fired = late.len();
    report(
        &format!("{n} tiers in 10 s, {workers} worker(s)"),
        late,
        "s",
        Some(baseline),
    );
    println!(
        "fired {fired}/{n} first tiers in {:.1} s (target: every tier within 2 s of its deadline)",
        started.elapsed().as_secs_f64()
    );
    for h in handles {
        h.shutdown().await;
    }
    Ok(())
}
