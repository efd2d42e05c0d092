-- Routing an alert to the people who answer for it, and what the escalation and notification workers
-- need beyond the first schema.
--
-- An alert's service names a row in `services`; that service belongs to a team roster, and the roster's
-- escalation policy pages for it. Alerts without a routed service go to the tenant's default roster.
-- The policy's `oncall_primary`, `oncall_secondary` and `team_lead` targets are resolved against that
-- roster (remembered per alert in alert_escalations.roster_id).

-- The `team_lead` escalation target of the roster's policy.
alter table rosters add column team_lead_id uuid references users (id) on delete set null;

-- The team roster answering for the service.
alter table services add column roster_id uuid references rosters (id) on delete set null;

-- Where alerts without a routed service go.
alter table tenant_config add column default_roster_id uuid references rosters (id) on delete set null;

-- The roster the policy's on-call targets are resolved against for this alert.
alter table alert_escalations add column roster_id uuid references rosters (id) on delete set null;

-- A notification nobody needs any more (its alert was acknowledged or resolved before delivery).
alter table notification_outbox drop constraint notification_outbox_status_check;
alter table notification_outbox add constraint notification_outbox_status_check
    check (status in ('pending', 'sending', 'sent', 'failed', 'cancelled'));

-- The worker that claimed a row in 'sending' and until when the claim holds; after that another worker
-- may take the row over (its first holder died mid-delivery).
alter table notification_outbox add column claimed_by text;

create index notification_outbox_alert_idx on notification_outbox (alert_id) where alert_id is not null;
create index notification_outbox_sending_idx on notification_outbox (next_attempt_at) where status = 'sending';
