-- Demo knowledge base and alerts: incidents with the fingerprints of the demo alerts (so enrichment
-- shows on the first screen), one open alert already matched, one resolved.
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
                    occurrence_count, matched_incident_id, suggested_solution, first_fired_at, last_fired_at,
                    created_at, resolved_at, resolved_by)
select f.fp, f.status, f.severity, f.priority, f.title, f.description, f.source, f.service, f.labels::jsonb,
       f.n, inc.id, (select solution from incidents where id = inc.id),
       -- The resolved one fired 35 minutes before it was resolved, two hours ago.
       now() - f.fired, now() - f.fired, now() - f.fired,
       case when f.status = 'resolved' then now() - interval '2 hours' end,
       case when f.status = 'resolved' then 'source:alertmanager' end
from (values
    ('demo-oom-checkout', 'firing', 'critical', 'P1', 'KubePodCrashLooping: checkout-api', 'Pod shop/checkout-api-7d9 restarted 6 times in 10 minutes (OOMKilled).', 'alertmanager', 'checkout-api', '{"alertname": "KubePodCrashLooping", "namespace": "shop"}', 6, interval '12 minutes'),
    ('demo-pg-lag', 'resolved', 'major', 'P2', 'PostgresReplicationLag: payments-db', 'Replica payments-db-1 is 74 s behind.', 'alertmanager', 'payments-db', '{"alertname": "PostgresReplicationLag"}', 3, interval '2 hours 35 minutes')
) as f(fp, status, severity, priority, title, description, source, service, labels, n, fired)
join inc on f.fp = any(inc.fingerprints)
