-- Global (public schema) tables: who the tenants are and how machines and browsers authenticate.
-- Every domain table lives in the tenant's own schema (migrations/tenant); nothing here holds tenant data
-- beyond identity.

create table tenants (
    id          uuid primary key default gen_random_uuid(),
    -- Also the schema name suffix (tenant_<slug>); validated by the host before any SQL sees it.
    slug        text not null,
    name        text not null,
    created_at  timestamptz not null default now(),
    constraint tenants_slug_key unique (slug),
    constraint tenants_slug_format check (slug ~ '^[a-z][a-z0-9_]{1,30}$')
);

create table api_keys (
    id            uuid primary key default gen_random_uuid(),
    tenant_id     uuid not null references tenants (id) on delete cascade,
    name          text not null,
    -- SHA-256 of the raw key. The raw key is shown once at creation and never stored.
    key_hash      bytea not null,
    -- First characters of the raw key, enough for a human to tell keys apart in a list.
    prefix        text not null,
    role          text not null,
    -- Narrowing of what the role allows; empty means the role's full rights. 'read' allows only reads.
    scopes        text[] not null default '{}',
    expires_at    timestamptz,
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    created_by    text,
    created_at    timestamptz not null default now(),
    constraint api_keys_key_hash_key unique (key_hash),
    constraint api_keys_role_check check (role in ('admin', 'manager', 'engineer', 'readonly'))
);

create index api_keys_tenant_idx on api_keys (tenant_id, created_at desc, id desc);

-- Browser sessions from the local (password) login.
create table sessions (
    -- SHA-256 of the cookie value.
    token_hash  bytea primary key,
    tenant_id   uuid not null references tenants (id) on delete cascade,
    -- A row of tenant_<slug>.users; no foreign key can cross into a schema chosen at run time.
    user_id     uuid not null,
    created_at  timestamptz not null default now(),
    expires_at  timestamptz not null
);

create index sessions_expires_idx on sessions (expires_at);
