-- Test helpers for the pgTAP suite, in a `tests` schema (the usebasejump/supabase-test-helpers idiom, written
-- for this project). This file runs first and commits, so every later file can use them; each later file rolls
-- back, and the helpers set identity with transaction-local settings exactly as PostgREST does.
begin;
create extension if not exists pgtap with schema extensions;

create schema if not exists tests;
grant usage on schema tests to anon, authenticated, service_role;

-- A shopper in auth.users, found again by the identifier (an email's local part).
create or replace function tests.create_supabase_user(identifier text)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  new_id uuid := gen_random_uuid();
begin
  insert into auth.users (instance_id, id, aud, role, email, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
  values ('00000000-0000-0000-0000-000000000000', new_id, 'authenticated', 'authenticated',
          identifier || '@test.example', '{"provider": "email"}', jsonb_build_object('test_identifier', identifier),
          now(), now());
  return new_id;
end;
$$;

create or replace function tests.get_supabase_uid(identifier text)
returns uuid
language sql
stable
security definer
set search_path = ''
as $$
  select u.id from auth.users as u where u.email = identifier || '@test.example';
$$;

-- Become that shopper for the rest of the transaction, as PostgREST does for a request with their JWT.
create or replace function tests.authenticate_as(identifier text)
returns void
language plpgsql
set search_path = ''
as $$
declare
  user_id uuid := tests.get_supabase_uid(identifier);
begin
  if user_id is null then
    raise exception 'no test user %', identifier;
  end if;
  perform set_config('role', 'authenticated', true);
  perform set_config('request.jwt.claims',
    jsonb_build_object('sub', user_id, 'role', 'authenticated', 'aud', 'authenticated')::text, true);
end;
$$;

create or replace function tests.authenticate_as_anon()
returns void
language sql
set search_path = ''
as $$
  select set_config('role', 'anon', true), set_config('request.jwt.claims', '{"role": "anon"}', true);
$$;

create or replace function tests.authenticate_as_service_role()
returns void
language sql
set search_path = ''
as $$
  select set_config('role', 'service_role', true), set_config('request.jwt.claims', '{"role": "service_role"}', true);
$$;

-- Back to the test's own role (postgres), with no claims.
create or replace function tests.clear_authentication()
returns void
language sql
set search_path = ''
as $$
  select set_config('role', 'none', true), set_config('request.jwt.claims', '', true);
$$;

grant execute on all functions in schema tests to anon, authenticated, service_role;

select plan(1);
select has_function('tests', 'authenticate_as', array['text'], 'the test helpers are installed');
select * from finish();
commit;
