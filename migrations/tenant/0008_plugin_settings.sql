-- Per-tenant settings of plugins, declared by each plugin's manifest ([[settings]]). The host knows no
-- plugin by name: Slack and Twilio are configured here like any third-party channel.
--
-- A setting holds either a plain value or a secret sealed with NIGHTOWL_SECRET_KEY (AES-256-GCM, bound
-- to the tenant and to "<plugin>.<key>" as associated data). Secrets are never read back by the API
-- (only "configured, ends in ...") and never handed to plugin code.
create table plugin_settings (
    plugin_id   text not null,
    key         text not null,
    value       text,
    secret_enc  bytea,
    updated_at  timestamptz not null,
    constraint plugin_settings_pkey primary key (plugin_id, key),
    constraint plugin_settings_one_kind check ((value is null) <> (secret_enc is null))
);

-- The Slack and Twilio fields of tenant_config move here (the Slack workspace name, which nothing
-- used, does not). Sealed values are copied as they are: they
-- stay bound to their old field names (slack_bot_token, ...), which the host still accepts for exactly
-- these three settings and rewrites bound to their new place at the next start-up migration
-- (secrets::reseal_unbound) or the next save.
insert into plugin_settings (plugin_id, key, value, secret_enc, updated_at)
select plugin_id, key, value, secret_enc, c.updated_at
from tenant_config c
cross join lateral (values
    ('slack', 'default_channel', nullif(c.slack_channel, ''), null::bytea),
    ('twilio', 'account_sid', nullif(c.twilio_account_sid, ''), null::bytea),
    ('twilio', 'from_number', nullif(c.twilio_from_number, ''), null::bytea),
    ('slack', 'bot_token', null, c.slack_bot_token_enc),
    ('slack', 'signing_secret', null, c.slack_signing_secret_enc),
    ('twilio', 'auth_token', null, c.twilio_auth_token_enc)
) as moved (plugin_id, key, value, secret_enc)
where moved.value is not null or moved.secret_enc is not null;

alter table tenant_config
    drop column slack_workspace,
    drop column slack_channel,
    drop column twilio_account_sid,
    drop column twilio_from_number,
    drop column slack_bot_token_enc,
    drop column slack_signing_secret_enc,
    drop column twilio_auth_token_enc;

-- Which message a channel sent about an alert: the external id later notices update or thread onto.
-- (slack_message_mappings was created for this before channels were plugins; nothing used it.)
drop table slack_message_mappings;
