-- Supabase stand-in: what Supabase's Postgres image (and GoTrue's migrations) give a project, recreated on plain
-- PostgreSQL so the real migrations run unchanged where Docker cannot. Applied only on plain Postgres, never on
-- Supabase, and never from supabase/migrations/.
--
-- Run it as the bootstrap superuser, `supabase_admin` (initdb -U supabase_admin), exactly once per database; the
-- role part is idempotent because roles are cluster-wide and several databases (test templates) share them.
-- Facts and sources: ../shared/design/supabase-platform.md sections 1 to 5.
--
-- Grant regime. Supabase projects differ in the default privileges a new `public` object gets:
--   legacy  (projects before 2026-10-30, CLI `[api] auto_expose_new_tables = true`): ALL to anon, authenticated,
--           service_role on every new table, function and sequence in public;
--   current (the default since 2026-10-30, `auto_expose_new_tables = false`): the CLI revokes those defaults.
-- Choose with `set standin.grant_regime = 'legacy' | 'current'` before running this file (default: current).

-- 1. Roles (image init script 00000000000000-initial-schema.sql, then demote-postgres and the later alters).
do $roles$
begin
  if current_user = 'postgres' or not (select rolsuper from pg_roles where rolname = current_user) then
    raise exception 'run the Supabase stand-in as a superuser other than postgres (supabase_admin): it demotes postgres as Supabase does';
  end if;
  if not exists (select from pg_roles where rolname = 'postgres') then
    create role postgres;
  end if;
  -- On Supabase `postgres` is not a superuser: migrations must not need one.
  alter role postgres nosuperuser createdb createrole login replication bypassrls;

  if not exists (select from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  -- 20230529180330_alter_api_roles_for_inherit.sql
  alter role anon inherit;
  alter role authenticated inherit;
  alter role service_role inherit;

  if not exists (select from pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'supabase_auth_admin') then
    create role supabase_auth_admin noinherit nocreaterole login noreplication;
  end if;
end
$roles$;

grant anon, authenticated, service_role to authenticator;
-- postgres may switch into the API roles (20230201083204; with admin option on 16+, harmless on 15).
grant anon, authenticated, service_role to postgres with admin option;

alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';
alter role authenticator set statement_timeout = '8s';
alter role authenticator set lock_timeout = '8s';
alter role postgres set search_path to "$user", public, extensions;
alter role supabase_auth_admin set search_path = auth;

-- 2. The database itself: postgres creates schemas (private, supabase_migrations) in its migrations.
do $db$
begin
  execute format('grant connect, create, temporary on database %I to postgres', current_database());
  execute format('grant connect on database %I to authenticator, supabase_auth_admin', current_database());
end
$db$;

-- 3. Schemas public and extensions.
grant usage, create on schema public to postgres;
grant usage on schema public to anon, authenticated, service_role;

-- The image's init scripts run as postgres, so postgres owns `extensions` (its extensions are supabase_admin's).
create schema if not exists extensions authorization postgres;
alter schema extensions owner to postgres;
grant usage on schema extensions to postgres, anon, authenticated, service_role;
-- The image installs these into `extensions`; plain builds may lack some contrib modules, so only where present.
do $ext$
declare
  wanted text;
begin
  foreach wanted in array array['uuid-ossp', 'pgcrypto'] loop
    if exists (select from pg_available_extensions where name = wanted) then
      execute format('create extension if not exists %I with schema extensions', wanted);
    end if;
  end loop;
end
$ext$;

-- 4. Default privileges in public, attached to postgres (the role that runs migrations).
alter default privileges for role postgres in schema public grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on sequences to postgres, anon, authenticated, service_role;

do $regime$
declare
  regime text := coalesce(nullif(current_setting('standin.grant_regime', true), ''), 'current');
begin
  if regime not in ('legacy', 'current') then
    raise exception 'standin.grant_regime must be legacy or current, not %', regime;
  end if;
  if regime = 'current' then
    -- What `supabase start` runs when auto_expose_new_tables = false (RevokeDefaultDataApiPrivilegesSql).
    alter default privileges for role postgres in schema public revoke select, insert, update, delete on tables from anon, authenticated, service_role;
    alter default privileges for role postgres in schema public revoke usage, select on sequences from anon, authenticated, service_role;
    alter default privileges for role postgres in schema public revoke execute on functions from anon, authenticated, service_role;
  end if;
end
$regime$;

-- 5. The auth schema as GoTrue leaves it: auth.users and auth.identities (the columns GoTrue's migrations add up to
--    2024) and the claim helpers in their current definition (20220224000811, 20220531120530). The image creates
--    the schema as supabase_admin (init-scripts/00000000000001-auth-schema.sql) and hands GoTrue's role the
--    tables, not the schema: `supabase db reset --db-url` skips schemas owned by supabase_admin and would try to
--    drop any other. postgres may use the schema but not create in it (20250421084701).
create schema if not exists auth authorization supabase_admin;
alter schema auth owner to supabase_admin;
grant all on schema auth to supabase_auth_admin;
grant usage on schema auth to anon, authenticated, service_role, postgres;

create table if not exists auth.users (
  instance_id uuid,
  id uuid not null,
  aud varchar(255),
  role varchar(255),
  email varchar(255),
  encrypted_password varchar(255),
  email_confirmed_at timestamptz,
  invited_at timestamptz,
  confirmation_token varchar(255),
  confirmation_sent_at timestamptz,
  recovery_token varchar(255),
  recovery_sent_at timestamptz,
  email_change_token_new varchar(255),
  email_change varchar(255),
  email_change_sent_at timestamptz,
  last_sign_in_at timestamptz,
  raw_app_meta_data jsonb,
  raw_user_meta_data jsonb,
  is_super_admin boolean,
  created_at timestamptz,
  updated_at timestamptz,
  phone text default null,
  phone_confirmed_at timestamptz,
  phone_change text default '',
  phone_change_token varchar(255) default '',
  phone_change_sent_at timestamptz,
  confirmed_at timestamptz generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
  email_change_token_current varchar(255) default '',
  email_change_confirm_status smallint default 0,
  banned_until timestamptz,
  reauthentication_token varchar(255) default '',
  reauthentication_sent_at timestamptz,
  is_sso_user boolean not null default false,
  deleted_at timestamptz,
  is_anonymous boolean not null default false,
  constraint users_pkey primary key (id),
  constraint users_phone_key unique (phone),
  constraint users_email_change_confirm_status_check check (email_change_confirm_status >= 0 and email_change_confirm_status <= 2)
);
create unique index if not exists users_email_partial_key on auth.users (email) where (is_sso_user = false);
create index if not exists users_instance_id_idx on auth.users (instance_id);
alter table auth.users owner to supabase_auth_admin;
alter table auth.users enable row level security;
grant all on table auth.users to postgres;
grant select on table auth.users to postgres with grant option;

-- One row per way a user signs in (20210909172000, 20221215195800 email, 20231117164230 id and provider_id). GoTrue
-- signs a user in by email only through their `email` identity, so a user without one cannot sign in.
create table if not exists auth.identities (
  provider_id text not null,
  user_id uuid not null,
  identity_data jsonb not null,
  provider text not null,
  last_sign_in_at timestamptz,
  created_at timestamptz,
  updated_at timestamptz,
  email text generated always as (lower(identity_data ->> 'email')) stored,
  id uuid not null default gen_random_uuid(),
  constraint identities_pkey primary key (id),
  constraint identities_provider_id_provider_unique unique (provider_id, provider),
  constraint identities_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade
);
create index if not exists identities_user_id_idx on auth.identities (user_id);
create index if not exists identities_email_idx on auth.identities (email text_pattern_ops);
alter table auth.identities owner to supabase_auth_admin;
alter table auth.identities enable row level security;
grant all on table auth.identities to postgres;
grant select on table auth.identities to postgres with grant option;

create or replace function auth.uid() returns uuid
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

create or replace function auth.role() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

create or replace function auth.email() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$$;

create or replace function auth.jwt() returns jsonb
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

comment on function auth.uid() is 'Deprecated. Use auth.jwt() -> ''sub'' instead.';
comment on function auth.role() is 'Deprecated. Use auth.jwt() -> ''role'' instead.';
comment on function auth.email() is 'Deprecated. Use auth.jwt() -> ''email'' instead.';

alter function auth.uid() owner to supabase_auth_admin;
alter function auth.role() owner to supabase_auth_admin;
alter function auth.email() owner to supabase_auth_admin;
alter function auth.jwt() owner to supabase_auth_admin;
grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt() to postgres, anon, authenticated, service_role;

-- 6. Realtime: the (initially empty) publication that the dashboard toggles tables into. It was created by
--    postgres in the image's init script, so postgres owns it and may add its own tables.
do $pub$
begin
  if not exists (select from pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
end
$pub$;
alter publication supabase_realtime owner to postgres;
