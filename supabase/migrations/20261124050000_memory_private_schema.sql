-- Memory system: the private schema and the helpers every memory table shares.
--
-- `public` holds only what clients may see (the four memory tables under RLS, and later the API functions);
-- internals (archive, job queue, suppressions, helper functions) live in `private`, which PostgREST does not
-- expose and no API role may use.

-- Schema ---------------------------------------------------------------------------------------------------------
create schema if not exists private;
revoke all on schema private from public;
comment on schema private is 'Internals of the customer memory system; not exposed through the Data API.';

-- Helpers --------------------------------------------------------------------------------------------------------
-- Keeps updated_at honest whatever the writer (API function, worker, dashboard). Only real changes count: an
-- upsert that rewrites the same values leaves updated_at alone.
create or replace function private.set_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end;
$$;
revoke all on function private.set_updated_at() from public, anon, authenticated, service_role;
comment on function private.set_updated_at() is 'Trigger: sets updated_at to the transaction time on every real change of a row.';
