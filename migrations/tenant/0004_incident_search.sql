-- Search reads a narrow table of live incidents instead of the wide incidents rows.
--
-- A broad query ("connection refused" over 100,000 incidents) matches thousands of rows, and ranking
-- has to visit every one of them before the top 20 are known. On the wide table each visit walks a
-- ~840-byte row of text and arrays to reach the vector at its end, and filters out merged and archived
-- rows; here a row is the vector and the few columns ranking and its tie-breaks read, and only live
-- incidents have one. `bench-search` measured the broadest query about a quarter faster this way.
--
-- The vector moves here: incidents no longer carry it. A trigger keeps this table in step inside the
-- writing transaction, so search never sees a half-written incident.

create table incident_search (
    incident_id       uuid primary key references incidents (id) on delete cascade,
    -- Tie-breaks of the ranking: better-proven incidents first (enrichment), then the newest.
    resolution_count  integer not null,
    updated_at        timestamptz not null,
    search_vector     tsvector not null
);

-- Weights: A = what names the failure (title, category, error patterns), B = how it shows and why
-- (symptoms, root cause, services), C = what fixed it (solution, tags). Title matches therefore outrank
-- matches that appear only in a solution.
create function incident_search_vector(i incidents) returns tsvector
language sql stable parallel safe as $$
    select setweight(to_tsvector('english', coalesce(i.title, '')), 'A') ||
           setweight(to_tsvector('english', coalesce(i.category, '')), 'A') ||
           setweight(to_tsvector('english', array_to_string(i.error_patterns, ' ')), 'A') ||
           setweight(to_tsvector('english', coalesce(i.symptoms, '')), 'B') ||
           setweight(to_tsvector('english', coalesce(i.root_cause, '')), 'B') ||
           setweight(to_tsvector('english', array_to_string(i.services, ' ')), 'B') ||
           setweight(to_tsvector('english', coalesce(i.solution, '')), 'C') ||
           setweight(to_tsvector('english', array_to_string(i.tags, ' ')), 'C')
$$;

insert into incident_search (incident_id, resolution_count, updated_at, search_vector)
select i.id, i.resolution_count, i.updated_at, incident_search_vector(i)
from incidents i
where i.merged_into_id is null and i.archived_at is null;

create index incident_search_vector_idx on incident_search using gin (search_vector) with (fastupdate = off);

drop trigger incidents_search_vector on incidents;
drop function incidents_search_vector_update();
drop index incidents_search_idx;
alter table incidents drop column search_vector;

-- A live incident has exactly one row here; a merged or archived one has none. The vector is only
-- recomputed when a searched column changed (resolution counts change on every resolved alert).
create function incident_search_sync() returns trigger
language plpgsql set search_path from current as $$
begin
    if new.merged_into_id is not null or new.archived_at is not null then
        delete from incident_search where incident_id = new.id;
    elsif tg_op = 'UPDATE'
          and (old.title, old.category, old.error_patterns, old.symptoms, old.root_cause, old.services,
               old.solution, old.tags)
              is not distinct from
              (new.title, new.category, new.error_patterns, new.symptoms, new.root_cause, new.services,
               new.solution, new.tags)
          and exists (select 1 from incident_search where incident_id = new.id) then
        update incident_search
        set resolution_count = new.resolution_count, updated_at = new.updated_at
        where incident_id = new.id;
    else
        insert into incident_search (incident_id, resolution_count, updated_at, search_vector)
        values (new.id, new.resolution_count, new.updated_at, incident_search_vector(new))
        on conflict (incident_id) do update
        set resolution_count = excluded.resolution_count,
            updated_at = excluded.updated_at,
            search_vector = excluded.search_vector;
    end if;
    return null;
end
$$;

create trigger incidents_search_sync
    after insert or update on incidents
    for each row execute function incident_search_sync();
