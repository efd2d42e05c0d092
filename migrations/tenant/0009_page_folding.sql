-- Paging storms: a person gets at most one page per channel within a tenant-set interval (phone and
-- SMS: 60 s by default); the pages that come due in between are folded into the next one, which
-- names the count and the worst severity, and whose acknowledgement covers them all.

-- Seconds between two pages to one person through one channel, by channel name; 0 or absent: no
-- limit.
alter table tenant_config add column page_interval_secs jsonb not null default '{"phone": 60, "sms": 60}';

-- When the row was handed to its channel (its first attempt started): the interval counts from here.
alter table notification_outbox add column handed_at timestamptz;
-- Pages already handed over before this migration (a worker of the previous version may be delivering
-- one right now: it must not be folded into another page).
update notification_outbox set handed_at = coalesce(sent_at, created_at)
where kind = 'alert' and (status in ('sending', 'sent', 'failed') or (status = 'pending' and attempts > 0));
-- The delivery a folded row went out with.
alter table notification_outbox add column folded_into uuid references notification_outbox (id) on delete set null;

alter table notification_outbox drop constraint notification_outbox_status_check;
alter table notification_outbox add constraint notification_outbox_status_check
    check (status in ('pending', 'sending', 'sent', 'failed', 'cancelled', 'folded'));

create index notification_outbox_person_idx on notification_outbox (target, channel, handed_at)
    where kind = 'alert';
create index notification_outbox_folded_idx on notification_outbox (folded_into) where folded_into is not null;

-- How a delivered page ended (a call's status callback names the call SID the channel answered).
create index notification_outbox_external_idx on notification_outbox ((result ->> 'external_id'))
    where result is not null;
