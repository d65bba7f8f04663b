-- Worker: who may touch the worker's tables. Only worker_* functions (security definer) read and write them; the
-- one exception is the Realtime wake-up below.

-- Grants ---------------------------------------------------------------------------------------------------------
revoke all on table private.jobs from public, anon, authenticated, service_role;
revoke all on table private.periodic_runs from public, anon, authenticated, service_role;
revoke all on table private.extracted_messages from public, anon, authenticated, service_role;
revoke all on table private.category_brands from public, anon, authenticated, service_role;
revoke all on table private.brand_catalog from public, anon, authenticated, service_role;
revoke all on table private.pattern_population from public, anon, authenticated, service_role;
revoke all on table private.repeat_intervals from public, anon, authenticated, service_role;

-- Realtime wake-up: a worker configured with the project's URL and service-role key subscribes to postgres_changes
-- INSERTs on private.jobs. Realtime delivers a change only to a role that may select the row, so the service role
-- (and only it) may read this table; a job row holds ids and states, no shopper data.
grant usage on schema private to service_role;
grant select on table private.jobs to service_role;
do $$
begin
  if exists (select 1 from pg_catalog.pg_publication where pubname = 'supabase_realtime') then
    alter publication supabase_realtime add table private.jobs;
  end if;
end;
$$;

-- RLS ------------------------------------------------------------------------------------------------------------
-- No API role but the service role reaches the private schema; RLS with no policy is the second lock.
alter table private.jobs enable row level security;
alter table private.periodic_runs enable row level security;
alter table private.extracted_messages enable row level security;
alter table private.category_brands enable row level security;
alter table private.brand_catalog enable row level security;
alter table private.pattern_population enable row level security;
alter table private.repeat_intervals enable row level security;
