-- Delivery events (`delivered`, `delivery_failed`) recorded the notified person's id in `target`,
-- where every other event records the policy target that named the person (`oncall_primary`,
-- `user:<id>`, ...). They now record the policy target too; rows written before keep the person as
-- the explicit `user:<id>` target, so every stored target is one the API can read.
update escalation_events
set target = 'user:' || target
where action in ('delivered', 'delivery_failed')
  and target ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
