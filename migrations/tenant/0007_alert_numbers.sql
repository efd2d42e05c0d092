-- Short alert numbers: each tenant's alerts are numbered 1, 2, 3, ... in the order they were first
-- received, so a person can name one (`#1234`) in a Slack command, an SMS reply or an API path. The
-- UUID stays the key.
--
-- The tenant's sequence is the column's default, so the database numbers each row as it is inserted.
-- A default is evaluated for every row an insert proposes, also for one that then meets
-- `ON CONFLICT` and only counts a repeat on the open alert (that branch never sets `number`, so an open
-- alert keeps its number, but the value drawn is lost); the host therefore counts a repeat with an
-- update before it tries an insert (db::alerts::upsert_firing), and a number is lost only when two
-- deliveries create the same alert at the same moment, or an insert is rolled back. Numbers are
-- names, not a count.
create sequence alert_number_seq;

alter table alerts add column number bigint;

-- Existing alerts, in the order they were created.
update alerts a set number = n.rn
from (select id, row_number() over (order by created_at, id) as rn from alerts) n
where a.id = n.id;

select setval('alert_number_seq', coalesce((select max(number) from alerts), 0) + 1, false);

alter sequence alert_number_seq owned by alerts.number;
alter table alerts alter column number set default nextval('alert_number_seq');
alter table alerts alter column number set not null;
alter table alerts add constraint alerts_number_key unique (number);
