-- Knowledge written by automated agents is unreviewed until an engineer confirms it, and reviewed
-- knowledge always comes first in enrichment: an API key that may report agent fixes must not be
-- able to put a "solution" in front of the on-call engineer as if a person had vetted it.

alter table incidents
    add column reviewed    boolean not null default true,
    add column reviewed_by text,
    add column reviewed_at timestamptz;

-- Incidents an agent created so far were never looked at by anyone.
update incidents set reviewed = false where created_by like 'agent:%';

-- Whether an alert's suggested solution came from reviewed knowledge (null: no suggestion).
alter table alerts add column solution_reviewed boolean;
update alerts a set solution_reviewed = i.reviewed
from incidents i
where a.matched_incident_id = i.id and a.suggested_solution is not null;

-- Search and enrichment order by it without reading the wide incidents rows.
alter table incident_search add column reviewed boolean not null default true;
update incident_search s set reviewed = i.reviewed from incidents i where i.id = s.incident_id;

create or replace function incident_search_sync() returns trigger
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
        set resolution_count = new.resolution_count, updated_at = new.updated_at, reviewed = new.reviewed
        where incident_id = new.id;
    else
        insert into incident_search (incident_id, resolution_count, updated_at, reviewed, search_vector)
        values (new.id, new.resolution_count, new.updated_at, new.reviewed, incident_search_vector(new))
        on conflict (incident_id) do update
        set resolution_count = excluded.resolution_count,
            updated_at = excluded.updated_at,
            reviewed = excluded.reviewed,
            search_vector = excluded.search_vector;
    end if;
    return null;
end
$$;
