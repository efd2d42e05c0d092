-- Demo on-call: two more people, a weekly Berlin roster of the three engineers with Dana as team
-- lead, a two-tier policy that repeats once (built-in `log` channel, so it works without Slack or
-- Twilio configured), every service and the tenant default routed to the roster.
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
