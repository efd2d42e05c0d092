-- Short alert numbers: each tenant's alerts are numbered 1, 2, 3, ... in the order they were first
-- received, so a person can name one (`#1234`) in a Slack command or an SMS reply. The UUID stays
-- the key. Numbers come from a sequence of the tenant's schema, taken only when a row is actually
-- inserted (db::alerts::insert assigns it right after the insert, in the same transaction), so a
-- repeat of an open alert does not use one up; a rolled-back insert may leave a gap.
create sequence alert_number_seq;

alter table alerts add column number bigint;

update alerts a set number = n.rn
from (select id, row_number() over (order by created_at, id) as rn from alerts) n
where a.id = n.id;

select setval('alert_number_seq', coalesce((select max(number) from alerts), 0) + 1, false);

alter sequence alert_number_seq owned by alerts.number;
alter table alerts add constraint alerts_number_key unique (number);
