-- The alert list's `sort=last_fired` order (`(last_fired_at, id)` keyset), so it pages by index
-- like the default order does instead of sorting every alert of the tenant.
create index alerts_last_fired_idx on alerts (last_fired_at desc, id desc);
