//! Development and demo data. `seed` is idempotent (adds what is missing to tenant `acme`);
//! `seed-demo` drops `acme` and builds it again, and also prints a fresh admin API key.

use nightowl_api::Role;
use rand::Rng;
use rand::distributions::Alphanumeric;
use sqlx::PgPool;

use crate::auth::password;
use crate::tenancy::{self, Slug, Tenant};
use crate::{cli, db};

/// Slug of the seeded tenant.
pub const DEMO_TENANT: &str = "acme";

const USERS: [(&str, &str, Role, &str, &str, &str); 2] = [
    (
        "alice@acme.example",
        "Alice Admin",
        Role::Admin,
        "Europe/Berlin",
        "+4915112345678",
        "U0ALICE01",
    ),
    (
        "bob@acme.example",
        "Bob Engineer",
        Role::Engineer,
        "America/New_York",
        "+12125550142",
        "U0BOB0002",
    ),
];

const SERVICES: [(&str, &str, &str, &str, i16); 4] = [
    (
        "checkout-api",
        "Takes orders and payments from the web shop",
        "prod-eu-1",
        "shop",
        1,
    ),
    (
        "payments-db",
        "PostgreSQL cluster behind checkout",
        "prod-eu-1",
        "payments",
        1,
    ),
    ("search", "Product search (OpenSearch)", "prod-eu-1", "search", 2),
    (
        "notifications-worker",
        "Sends order e-mails and push messages",
        "prod-us-1",
        "notify",
        3,
    ),
];

/// What seeding did, for the operator.
#[derive(Debug)]
pub struct SeedReport {
    pub tenant: Tenant,
    /// Set when the admin's password was generated now (printed once).
    pub generated_password: Option<String>,
    /// Set by `seed-demo`.
    pub api_key: Option<String>,
}

impl SeedReport {
    /// Prints the credentials an operator needs to try the install.
    pub fn print(&self) {
        println!(
            "tenant {} ready (schema {})",
            self.tenant.slug,
            self.tenant.slug.schema()
        );
        println!("admin sign-in: tenant {} / {}", self.tenant.slug, USERS[0].0);
        if let Some(password) = &self.generated_password {
            println!("admin password (generated, shown once): {password}");
        }
        if let Some(key) = &self.api_key {
            println!("admin API key (shown once): {key}");
        }
    }
}

/// Ensures tenant `acme` with its users and services exists. Running it again changes nothing.
pub async fn seed(
    pool: &PgPool,
    database_url: &str,
    admin_password: Option<&str>,
) -> anyhow::Result<SeedReport> {
    let slug = Slug::parse(DEMO_TENANT)?;
    let tenant = match tenancy::find_tenant(pool, DEMO_TENANT).await? {
        Some(t) => {
            db::migrate::migrate_tenant(database_url, &t.slug).await?;
            t
        }
        None => tenancy::create_tenant(pool, database_url, &slug, "Acme Corp").await?,
    };
    let mut tx = db::begin_tenant(pool, &tenant.slug, "seed").await?;
    for (email, name, role, tz, phone, slack) in USERS {
        sqlx::query(
            "insert into users (email, display_name, role, timezone, phone, slack_user_id)
             values ($1, $2, $3, $4, $5, $6) on conflict (lower(email)) do nothing",
        )
        .bind(email)
        .bind(name)
        .bind(role.as_str())
        .bind(tz)
        .bind(phone)
        .bind(slack)
        .execute(&mut *tx)
        .await?;
    }
    let admin = db::users::find_by_email(&mut tx, USERS[0].0)
        .await?
        .expect("admin inserted above");
    let mut generated_password = None;
    if admin.password_hash.is_none() || admin_password.is_some() {
        let plain = match admin_password {
            Some(p) => p.to_owned(),
            None => {
                let p: String = rand::thread_rng()
                    .sample_iter(&Alphanumeric)
                    .take(20)
                    .map(char::from)
                    .collect();
                generated_password = Some(p.clone());
                p
            }
        };
        let hash = tokio::task::spawn_blocking(move || password::hash(&plain)).await??;
        sqlx::query("update users set password_hash = $2 where id = $1")
            .bind(admin.id)
            .bind(hash)
            .execute(&mut *tx)
            .await?;
    }
    for (name, description, cluster, namespace, tier) in SERVICES {
        sqlx::query(
            "insert into services (name, description, cluster, namespace, owner_user_id, tier)
             values ($1, $2, $3, $4, $5, $6) on conflict (name) do nothing",
        )
        .bind(name)
        .bind(description)
        .bind(cluster)
        .bind(namespace)
        .bind(admin.id)
        .bind(tier)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(SeedReport {
        tenant,
        generated_password,
        api_key: None,
    })
}

/// Drops tenant `acme` and everything in it, then seeds it afresh with an admin API key.
pub async fn seed_demo(
    pool: &PgPool,
    database_url: &str,
    admin_password: Option<&str>,
) -> anyhow::Result<SeedReport> {
    tenancy::drop_tenant(pool, &Slug::parse(DEMO_TENANT)?).await?;
    let mut report = seed(pool, database_url, admin_password).await?;
    report.api_key = Some(cli::create_api_key(pool, &report.tenant, Role::Admin, "demo").await?);
    let mut tx = db::begin_tenant(pool, &report.tenant.slug, "seed-demo").await?;
    sqlx::query(DEMO_KNOWLEDGE).execute(&mut *tx).await?;
    for statement in DEMO_ONCALL.split(";\n").filter(|s| !s.trim().is_empty()) {
        sqlx::query(statement).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(report)
}

/// Demo knowledge base and alerts: incidents with the fingerprints of the demo alerts (so enrichment
/// shows on the first screen), one open alert already matched, one resolved.
const DEMO_KNOWLEDGE: &str = r#"
with runbook as (select id from runbooks where is_template and title = 'Container OOMKilled'),
inc as (
    insert into incidents (title, fingerprints, severity, category, tags, services, clusters, namespaces, symptoms,
                           error_patterns, root_cause, solution, runbook_id, resolution_count, avg_resolution_mins,
                           last_resolved_at, last_resolved_by, created_by)
    values
    ('checkout-api pods OOMKilled under Black Friday load', array['demo-oom-checkout'], 'critical', 'kubernetes',
     array['oom', 'checkout'], array['checkout-api'], array['prod-eu-1'], array['shop'],
     'Checkout pods restart every few minutes; 502s at the ingress; exit code 137.',
     array['OOMKilled', 'exit code 137'], 'JVM heap sized above the 512Mi container limit after the cache change.',
     'Set -XX:MaxRAMPercentage=75 and raise the limit to 1Gi: kubectl -n shop set resources deploy/checkout-api --limits=memory=1Gi',
     (select id from runbook), 4, 18.5, now() - interval '9 days', 'alice@acme.example', 'seed-demo'),
    ('payments-db replication lag over 60 s', array['demo-pg-lag'], 'major', 'database',
     array['postgres', 'replication'], array['payments-db'], array['prod-eu-1'], array['payments'],
     'Read replicas return stale balances; replication lag alert fires.',
     array['replication lag', 'WAL sender'], 'Nightly VACUUM FULL on the ledger table generated WAL faster than the replica could apply.',
     'Cancel the VACUUM FULL, use pg_repack off-peak; watch pg_stat_replication until replay_lag < 5 s.',
     null, 2, 35, now() - interval '30 days', 'bob@acme.example', 'seed-demo'),
    ('search cluster red: unassigned shards', array['demo-search-red'], 'warning', 'search',
     array['opensearch'], array['search'], array['prod-eu-1'], array['search'],
     'Search returns partial results; cluster health red.', array['unassigned shards'],
     'A node ran out of disk and the cluster blocked shard allocation.',
     'Free disk on the data node, then PUT _cluster/settings to clear the read-only block and retry allocation.',
     null, 1, 42, now() - interval '60 days', 'alice@acme.example', 'seed-demo'),
    ('Disk full on database host', array['demo-disk-full'], 'critical', 'database',
     array['disk', 'postgres'], array['payments-db'], array['prod-eu-1'], array['payments'],
     'Writes fail with "No space left on device"; PostgreSQL refuses new connections; node_filesystem_avail_bytes near 0 on /var/lib/postgresql.',
     array['No space left on device', 'could not extend file'],
     'WAL piled up behind an inactive replication slot left by a decommissioned replica.',
     'Find what grew: du -xh /var/lib/postgresql | sort -h | tail. If it is pg_wal, list slots (select slot_name, active, pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)) from pg_replication_slots) and drop the inactive one with pg_drop_replication_slot. Then grow the volume (kubectl -n payments patch pvc data-payments-db-0 -p ''{"spec":{"resources":{"requests":{"storage":"200Gi"}}}}'') and alert on slot lag.',
     null, 3, 25, now() - interval '14 days', 'bob@acme.example', 'seed-demo')
    returning id, fingerprints
)
insert into alerts (fingerprint, status, severity, priority, title, description, source, service, labels,
                    occurrence_count, matched_incident_id, suggested_solution, resolved_at, resolved_by)
select f.fp, f.status, f.severity, f.priority, f.title, f.description, f.source, f.service, f.labels::jsonb,
       f.n, inc.id, (select solution from incidents where id = inc.id),
       case when f.status = 'resolved' then now() - interval '2 hours' end,
       case when f.status = 'resolved' then 'source:alertmanager' end
from (values
    ('demo-oom-checkout', 'firing', 'critical', 'P1', 'KubePodCrashLooping: checkout-api', 'Pod shop/checkout-api-7d9 restarted 6 times in 10 minutes (OOMKilled).', 'alertmanager', 'checkout-api', '{"alertname": "KubePodCrashLooping", "namespace": "shop"}', 6),
    ('demo-pg-lag', 'resolved', 'major', 'P2', 'PostgresReplicationLag: payments-db', 'Replica payments-db-1 is 74 s behind.', 'alertmanager', 'payments-db', '{"alertname": "PostgresReplicationLag"}', 3)
) as f(fp, status, severity, priority, title, description, source, service, labels, n)
join inc on f.fp = any(inc.fingerprints)
"#;

/// Demo on-call: two more people, a weekly Berlin roster of the three engineers with Dana as team
/// lead, a two-tier policy that repeats once (built-in `log` channel, so it works without Slack or
/// Twilio configured), every service and the tenant default routed to the roster.
const DEMO_ONCALL: &str = r#"
insert into users (email, display_name, role, timezone, phone)
values ('chandra@acme.example', 'Chandra SRE', 'engineer', 'Asia/Kolkata', '+919812345678'),
       ('dana@acme.example', 'Dana Lead', 'manager', 'Europe/Berlin', '+4915198765432');
insert into escalation_policies (name, description, tiers, repeat_count)
values ('Platform default', 'Primary first; after 5 minutes the secondary and the team lead.',
        '[{"timeout_minutes": 5, "notify_via": ["log"], "targets": ["oncall_primary"]},
          {"timeout_minutes": 10, "notify_via": ["log"], "targets": ["oncall_secondary", "team_lead"]}]', 1);
insert into rosters (name, description, timezone, rotation_type, rotation_length, handoff_time, start_date,
                     escalation_policy_id, team_lead_id)
select 'Platform on-call', 'Weekly rotation, handoff Monday 09:00 Berlin time', 'Europe/Berlin', 'weekly', 7,
       '09:00', date_trunc('week', now())::date - 14,
       (select id from escalation_policies where name = 'Platform default'),
       (select id from users where email = 'dana@acme.example');
insert into roster_members (roster_id, user_id, position)
select r.id, u.id, p.pos
from rosters r,
     (values ('alice@acme.example', 0), ('bob@acme.example', 1), ('chandra@acme.example', 2)) as p(email, pos)
     join users u on u.email = p.email
where r.name = 'Platform on-call';
update services set roster_id = (select id from rosters where name = 'Platform on-call');
update tenant_config set default_roster_id = (select id from rosters where name = 'Platform on-call')
"#;
