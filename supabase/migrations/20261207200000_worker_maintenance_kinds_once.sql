-- The worker's maintenance kinds and periodic run names are written once (private.maintenance_kinds(),
-- private.periodic_run_names()): the queue's CHECKs and the functions that take a kind or a name read them.

create or replace function private.maintenance_kinds()
returns text[]
language sql
immutable
set search_path = ''
as $$
  select array['retention', 'expiry', 'contexts'];
$$;
revoke all on function private.maintenance_kinds() from public, anon, authenticated, service_role;
grant execute on function private.maintenance_kinds() to service_role;

create or replace function private.periodic_run_names()
returns text[]
language sql
immutable
set search_path = ''
as $$
  select array['sweep', 'expiry', 'retention'];
$$;
revoke all on function private.periodic_run_names() from public, anon, authenticated, service_role;
grant execute on function private.periodic_run_names() to service_role;

alter table private.jobs drop constraint jobs_kind_check;
alter table private.jobs add constraint jobs_kind_check check (kind = 'recompute' or kind = any (private.maintenance_kinds()));
alter table private.periodic_runs drop constraint periodic_runs_name_check;
alter table private.periodic_runs add constraint periodic_runs_name_check check (name = any (private.periodic_run_names()));

create or replace function public.worker_try_periodic(p_name text, p_interval_seconds numeric, p_worker text)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_ran boolean;
begin
  perform private.require_service_role();
  if p_name is null or not (p_name = any (private.periodic_run_names())) then
    raise exception using errcode = '22023',
      message = 'The periodic job must be ' || private.in_words(private.periodic_run_names()) || '.';
  end if;
  if p_interval_seconds is null or p_interval_seconds <= 0 then
    raise exception using errcode = '22023', message = 'The interval must be a positive number of seconds.';
  end if;
  insert into private.periodic_runs as r (name, last_run_at, last_run_by)
  values (p_name, now(), p_worker)
  on conflict (name) do update set last_run_at = now(), last_run_by = p_worker
   where r.last_run_at <= now() - pg_catalog.make_interval(secs => p_interval_seconds::double precision)
  returning true into v_ran;
  return coalesce(v_ran, false);
end;
$$;
revoke all on function public.worker_try_periodic(text, numeric, text) from public, anon, authenticated, service_role;
grant execute on function public.worker_try_periodic(text, numeric, text) to service_role;
comment on function public.worker_try_periodic(text, numeric, text) is
  'Worker only: whether this caller should run the periodic job now (once per interval across all workers).';

create or replace function public.worker_enqueue_maintenance(p_kind text)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.require_service_role();
  if p_kind is null or not (p_kind = any (private.maintenance_kinds())) then
    raise exception using errcode = '22023',
      message = 'The maintenance job must be ' || private.in_words(private.maintenance_kinds()) || '.';
  end if;
  insert into private.jobs (user_id, kind, priority) values (null, p_kind, 2)
  on conflict (kind) where status = 'pending' and user_id is null do nothing;
  if found then
    perform pg_catalog.pg_notify('customer_memory_jobs', p_kind);
  end if;
  return found;
end;
$$;
revoke all on function public.worker_enqueue_maintenance(text) from public, anon, authenticated, service_role;
grant execute on function public.worker_enqueue_maintenance(text) to service_role;
comment on function public.worker_enqueue_maintenance(text) is
  'Worker only: enqueue a maintenance job (a kind of private.maintenance_kinds()) behind every shopper''s job, once.';
