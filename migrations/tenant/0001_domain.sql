-- The tenant's domain tables. This file runs once in every tenant_<slug> schema with search_path set to
-- that schema alone, so every name below is created inside it. Time columns that drive behaviour
-- (escalation deadlines, shifts) are always written from the host's injected clock, never SQL now().

-- People ---------------------------------------------------------------------------------------------

create table users (
    id             uuid primary key default gen_random_uuid(),
    email          text not null,
    display_name   text not null,
    role           text not null default 'engineer',
    -- IANA zone name used to render times for this person (handoff briefings, UI).
    timezone       text not null default 'UTC',
    -- E.164, used by the phone and SMS channels.
    phone          text,
    slack_user_id  text,
    -- argon2 PHC string; null when the user only signs in through OIDC.
    password_hash  text,
    -- OIDC `sub` of the identity that created or last signed in as this user.
    oidc_subject   text,
    is_active      boolean not null default true,
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now(),
    constraint users_role_check check (role in ('admin', 'manager', 'engineer', 'readonly')),
    constraint users_phone_e164 check (phone ~ '^\+[1-9][0-9]{1,14}$')
);

create unique index users_email_key on users (lower(email));
create unique index users_oidc_subject_key on users (oidc_subject) where oidc_subject is not null;

-- Service catalogue ----------------------------------------------------------------------------------

create table services (
    id             uuid primary key default gen_random_uuid(),
    name           text not null,
    description    text,
    cluster        text,
    namespace      text,
    owner_user_id  uuid references users (id) on delete set null,
    -- Business criticality, 1 (most critical) to 4.
    tier           smallint not null default 3,
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now(),
    constraint services_name_key unique (name),
    constraint services_tier_check check (tier between 1 and 4)
);

-- Escalation policies ----------------------------------------------------------------------------------

create table escalation_policies (
    id            uuid primary key default gen_random_uuid(),
    name          text not null,
    description   text,
    -- Ordered tiers: [{"timeout_minutes": 5, "notify_via": ["slack_dm"], "targets": ["oncall_primary"]}, ...]
    tiers         jsonb not null default '[]',
    -- How many times the whole policy repeats after the last tier before giving up.
    repeat_count  integer not null default 0,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now(),
    constraint escalation_policies_name_key unique (name),
    constraint escalation_policies_tiers_array check (jsonb_typeof(tiers) = 'array'),
    constraint escalation_policies_repeat_check check (repeat_count between 0 and 10)
);

-- Knowledge base ---------------------------------------------------------------------------------------

create table runbooks (
    id           uuid primary key default gen_random_uuid(),
    title        text not null,
    -- Markdown.
    content      text not null default '',
    category     text,
    tags         text[] not null default '{}',
    -- Pre-seeded templates teams copy and adapt.
    is_template  boolean not null default false,
    created_by   text,
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now()
);

create index runbooks_tags_idx on runbooks using gin (tags);

create table incidents (
    id                   uuid primary key default gen_random_uuid(),
    title                text not null,
    -- Alert fingerprints known to be this incident; an alert with one of them links here on arrival.
    fingerprints         text[] not null default '{}',
    severity             text not null default 'warning',
    category             text,
    tags                 text[] not null default '{}',
    services             text[] not null default '{}',
    clusters             text[] not null default '{}',
    namespaces           text[] not null default '{}',
    symptoms             text,
    error_patterns       text[] not null default '{}',
    root_cause           text,
    solution             text,
    runbook_id           uuid references runbooks (id) on delete set null,
    resolution_count     integer not null default 0,
    last_resolved_at     timestamptz,
    last_resolved_by     text,
    avg_resolution_mins  double precision,
    -- Soft delete by merge: the incident this one was folded into.
    merged_into_id       uuid references incidents (id),
    -- Soft delete without a merge target.
    archived_at          timestamptz,
    -- Maintained by incidents_search_vector_update(); weights documented there.
    search_vector        tsvector not null default ''::tsvector,
    created_by           text,
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    constraint incidents_severity_check check (severity in ('info', 'warning', 'major', 'critical')),
    constraint incidents_not_merged_into_self check (merged_into_id is distinct from id)
);

-- Incidents are written rarely and read on every new alert (fingerprint match) and every search, so
-- their GIN indexes skip the pending list (fastupdate): no lookup ever scans unmerged entries.
create index incidents_fingerprints_idx on incidents using gin (fingerprints) with (fastupdate = off);
create index incidents_tags_idx on incidents using gin (tags);
create index incidents_services_idx on incidents using gin (services);
create index incidents_search_idx on incidents using gin (search_vector) with (fastupdate = off);
-- Lists and search only ever show live incidents.
create index incidents_live_idx on incidents (updated_at desc)
    where merged_into_id is null and archived_at is null;

-- Weights: A = what names the failure (title, category, error patterns), B = how it shows and why
-- (symptoms, root cause, services), C = what fixed it (solution, tags). Title matches therefore outrank
-- matches that appear only in a solution.
-- Trigger functions pin their search path to the schema they were created in (the tenant's), so they
-- resolve the tenant's tables whatever the calling session's path is.
create function incidents_search_vector_update() returns trigger
language plpgsql set search_path from current as $$
begin
    new.search_vector :=
        setweight(to_tsvector('english', coalesce(new.title, '')), 'A') ||
        setweight(to_tsvector('english', coalesce(new.category, '')), 'A') ||
        setweight(to_tsvector('english', array_to_string(new.error_patterns, ' ')), 'A') ||
        setweight(to_tsvector('english', coalesce(new.symptoms, '')), 'B') ||
        setweight(to_tsvector('english', coalesce(new.root_cause, '')), 'B') ||
        setweight(to_tsvector('english', array_to_string(new.services, ' ')), 'B') ||
        setweight(to_tsvector('english', coalesce(new.solution, '')), 'C') ||
        setweight(to_tsvector('english', array_to_string(new.tags, ' ')), 'C');
    return new;
end
$$;

create trigger incidents_search_vector
    before insert or update on incidents
    for each row execute function incidents_search_vector_update();

create table incident_history (
    id           bigint generated always as identity primary key,
    incident_id  uuid not null references incidents (id) on delete cascade,
    -- update: one row per changed field; create, merge, delete: one row for the event.
    change_type  text not null,
    field        text,
    old_value    jsonb,
    new_value    jsonb,
    -- Who did it: the request's principal, passed in the transaction setting nightowl.actor.
    changed_by   text,
    changed_at   timestamptz not null default now(),
    constraint incident_history_change_type_check
        check (change_type in ('create', 'update', 'merge', 'delete', 'restore'))
);

create index incident_history_incident_idx on incident_history (incident_id, changed_at, id);

-- Records old and new value of every changed column, skipping the derived and bookkeeping ones.
create function incidents_record_history() returns trigger
language plpgsql set search_path from current as $$
declare
    old_row jsonb := to_jsonb(old);
    new_row jsonb := to_jsonb(new);
    actor   text := nullif(current_setting('nightowl.actor', true), '');
    col     text;
begin
    if tg_op = 'INSERT' then
        insert into incident_history (incident_id, change_type, changed_by)
        values (new.id, 'create', actor);
        return new;
    end if;
    for col in select jsonb_object_keys(new_row) loop
        if col in ('search_vector', 'updated_at', 'created_at') then
            continue;
        end if;
        if old_row -> col is distinct from new_row -> col then
            insert into incident_history (incident_id, change_type, field, old_value, new_value, changed_by)
            values (new.id, 'update', col, old_row -> col, new_row -> col, actor);
        end if;
    end loop;
    return new;
end
$$;

create trigger incidents_history
    after insert or update on incidents
    for each row execute function incidents_record_history();

-- Alerts -----------------------------------------------------------------------------------------------

create table alerts (
    id                   uuid primary key default gen_random_uuid(),
    -- Dedup key: the source's fingerprint, else SHA-256 of title + sorted labels.
    fingerprint          text not null,
    status               text not null default 'firing',
    severity             text not null default 'warning',
    -- P1 (most urgent) .. P5, derived from severity unless the source says otherwise.
    priority             text,
    title                text not null,
    description          text,
    -- Id of the source plugin that parsed it (alertmanager, keep, generic, ...).
    source               text not null,
    service              text,
    labels               jsonb not null default '{}',
    annotations          jsonb not null default '{}',
    links                text[] not null default '{}',
    occurrence_count     integer not null default 1,
    starts_at            timestamptz,
    ends_at              timestamptz,
    first_fired_at       timestamptz not null default now(),
    last_fired_at        timestamptz not null default now(),
    acknowledged_at      timestamptz,
    acknowledged_by      text,
    resolved_at          timestamptz,
    resolved_by          text,
    matched_incident_id  uuid references incidents (id) on delete set null,
    suggested_solution   text,
    -- What an automated agent reported doing about the alert (generic source).
    agent_metadata       jsonb,
    escalation_policy_id uuid references escalation_policies (id) on delete set null,
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    constraint alerts_status_check check (status in ('firing', 'acknowledged', 'resolved')),
    constraint alerts_severity_check check (severity in ('critical', 'major', 'warning', 'info')),
    constraint alerts_priority_check check (priority in ('P1', 'P2', 'P3', 'P4', 'P5')),
    constraint alerts_occurrence_positive check (occurrence_count > 0)
);

-- One open alert per fingerprint: concurrent duplicates meet here (INSERT ... ON CONFLICT), with or
-- without the Redis fast path.
create unique index alerts_open_fingerprint_key on alerts (fingerprint) where status <> 'resolved';
-- Cursor pagination walks (created_at, id) downwards.
create index alerts_created_idx on alerts (created_at desc, id desc);
create index alerts_open_idx on alerts (severity, created_at desc) where status <> 'resolved';
create index alerts_labels_idx on alerts using gin (labels);
create index alerts_incident_idx on alerts (matched_incident_id) where matched_incident_id is not null;

-- Rosters ----------------------------------------------------------------------------------------------

create table rosters (
    id                    uuid primary key default gen_random_uuid(),
    name                  text not null,
    description           text,
    -- IANA zone; handoffs happen at handoff_time on this zone's wall clock.
    timezone              text not null,
    rotation_type         text not null default 'weekly',
    -- Shift length in days for 'custom' rotations (daily = 1, weekly = 7).
    rotation_length       integer not null default 7,
    handoff_time          time not null default '09:00',
    start_date            date not null,
    end_date              date,
    is_follow_the_sun     boolean not null default false,
    -- Follow-the-sun partner covering the other local window.
    linked_roster_id      uuid references rosters (id) on delete set null,
    escalation_policy_id  uuid references escalation_policies (id) on delete set null,
    created_at            timestamptz not null default now(),
    updated_at            timestamptz not null default now(),
    constraint rosters_name_key unique (name),
    constraint rosters_rotation_type_check check (rotation_type in ('daily', 'weekly', 'custom')),
    constraint rosters_rotation_length_check check (rotation_length between 1 and 366),
    constraint rosters_dates_check check (end_date is null or end_date >= start_date)
);

create table roster_members (
    id         uuid primary key default gen_random_uuid(),
    roster_id  uuid not null references rosters (id) on delete cascade,
    user_id    uuid not null references users (id) on delete restrict,
    -- 0-based rotation order. Deferrable so a reorder can swap positions inside one transaction.
    position   integer not null,
    created_at timestamptz not null default now(),
    constraint roster_members_position_key unique (roster_id, position) deferrable initially deferred,
    constraint roster_members_user_key unique (roster_id, user_id),
    constraint roster_members_position_check check (position >= 0)
);

create table roster_overrides (
    id          uuid primary key default gen_random_uuid(),
    roster_id   uuid not null references rosters (id) on delete cascade,
    user_id     uuid not null references users (id) on delete restrict,
    starts_at   timestamptz not null,
    ends_at     timestamptz not null,
    -- 'override': someone else covers; 'leave': holiday or absence of a member.
    kind        text not null default 'override',
    reason      text,
    created_by  text,
    created_at  timestamptz not null default now(),
    constraint roster_overrides_range_check check (ends_at > starts_at),
    constraint roster_overrides_kind_check check (kind in ('override', 'leave'))
);

create index roster_overrides_roster_idx on roster_overrides (roster_id, starts_at, ends_at);

-- Escalation -------------------------------------------------------------------------------------------

-- Live escalation state of one alert. Workers claim due rows with FOR UPDATE SKIP LOCKED.
create table alert_escalations (
    alert_id      uuid primary key references alerts (id) on delete cascade,
    policy_id     uuid not null references escalation_policies (id) on delete cascade,
    -- Index into the policy's tiers of the tier that fires next.
    next_tier     integer not null default 0,
    -- Completed passes over the policy (compared with repeat_count).
    round         integer not null default 0,
    next_at       timestamptz not null,
    state         text not null default 'active',
    started_at    timestamptz not null,
    updated_at    timestamptz not null default now(),
    constraint alert_escalations_state_check check (state in ('active', 'stopped', 'exhausted'))
);

create index alert_escalations_due_idx on alert_escalations (next_at) where state = 'active';

create table escalation_events (
    id          bigint generated always as identity primary key,
    alert_id    uuid not null references alerts (id) on delete cascade,
    policy_id   uuid references escalation_policies (id) on delete set null,
    tier        integer,
    round       integer,
    -- notified | acknowledged | resolved | exhausted | failed ...
    action      text not null,
    target      text,
    channel     text,
    detail      jsonb not null default '{}',
    created_at  timestamptz not null
);

create index escalation_events_alert_idx on escalation_events (alert_id, created_at, id);

-- Every outgoing notification. Channel plugins deliver; the unique key makes each logical notification
-- exist once however many workers race to create it.
create table notification_outbox (
    id               uuid primary key default gen_random_uuid(),
    idempotency_key  text not null,
    alert_id         uuid references alerts (id) on delete cascade,
    -- alert | handoff_outgoing | handoff_incoming | oncall_changed | ...
    kind             text not null,
    -- Channel plugin id or built-in channel (slack_dm, slack_channel, phone, sms, log).
    channel          text not null,
    target           text not null,
    payload          jsonb not null default '{}',
    status           text not null default 'pending',
    attempts         integer not null default 0,
    next_attempt_at  timestamptz not null,
    -- What the channel answered (e.g. Slack channel + ts, Twilio call SID).
    result           jsonb,
    last_error       text,
    created_at       timestamptz not null,
    sent_at          timestamptz,
    constraint notification_outbox_idempotency_key unique (idempotency_key),
    constraint notification_outbox_status_check check (status in ('pending', 'sending', 'sent', 'failed'))
);

create index notification_outbox_due_idx on notification_outbox (next_attempt_at) where status = 'pending';

create table slack_message_mappings (
    id          uuid primary key default gen_random_uuid(),
    alert_id    uuid references alerts (id) on delete cascade,
    channel_id  text not null,
    message_ts  text not null,
    thread_ts   text,
    created_at  timestamptz not null default now(),
    constraint slack_message_mappings_message_key unique (channel_id, message_ts)
);

create index slack_message_mappings_alert_idx on slack_message_mappings (alert_id);

-- Audit ------------------------------------------------------------------------------------------------

create table audit_log (
    id             bigint generated always as identity primary key,
    -- user | api_key | system | dev
    actor_type     text not null,
    actor_id       text,
    actor_label    text,
    action         text not null,
    resource_type  text not null,
    resource_id    text,
    diff           jsonb,
    ip             text,
    user_agent     text,
    request_id     text,
    created_at     timestamptz not null
);

create index audit_log_created_idx on audit_log (created_at desc, id desc);
create index audit_log_resource_idx on audit_log (resource_type, resource_id);
create index audit_log_actor_idx on audit_log (actor_id, created_at desc);

-- Tenant configuration -----------------------------------------------------------------------------------

create table tenant_config (
    -- Exactly one row.
    id                         boolean primary key default true,
    default_timezone           text not null default 'UTC',
    slack_workspace            text,
    slack_channel              text,
    twilio_account_sid         text,
    twilio_from_number         text,
    -- Days to keep resolved alerts and audit rows.
    retention_days             integer not null default 365,
    -- Secrets: AES-256-GCM ciphertext (nonce || ciphertext || tag) under NIGHTOWL_SECRET_KEY.
    slack_bot_token_enc        bytea,
    slack_signing_secret_enc   bytea,
    twilio_auth_token_enc      bytea,
    updated_at                 timestamptz not null default now(),
    constraint tenant_config_single_row check (id),
    constraint tenant_config_retention_check check (retention_days between 1 and 3650),
    constraint tenant_config_twilio_from_e164 check (twilio_from_number ~ '^\+[1-9][0-9]{1,14}$')
);

insert into tenant_config (id) values (true);
