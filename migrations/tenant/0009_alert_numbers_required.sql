-- Every alert has a short number (0007 added the column and numbered the rows that existed): the
-- tenant's sequence becomes the column's default, so the database numbers each row as it is inserted,
-- and the column can no longer be empty.
--
-- A default is evaluated for every row an insert proposes, also for one that then meets
-- `ON CONFLICT` and only counts a repeat on the open alert; that branch never sets `number`, so an open
-- alert keeps its number, but the value drawn is lost. The host therefore counts a repeat with an
-- update before it tries an insert (db::alerts::upsert_firing), and a number is lost only when two
-- deliveries create the same alert at the same moment. Numbers may have gaps, then, as they may where
-- a transaction that inserted alerts was rolled back: they are names, not a count.

-- Rows a host before this migration left without a number (it numbered each row in the transaction
-- that inserted it, so there should be none) take the next ones, in the order they were created.
update alerts a set number = m.base + m.rn
from (select id,
             row_number() over (order by created_at, id) as rn,
             (select coalesce(max(number), 0) from alerts) as base
      from alerts
      where number is null) m
where a.id = m.id;

-- The sequence hands out numbers past every stored one (it is only moved forward).
select setval('alert_number_seq', (select max(number) from alerts))
where (select max(number) from alerts) >= (select last_value from alert_number_seq);

alter table alerts alter column number set default nextval('alert_number_seq');
alter table alerts alter column number set not null;
