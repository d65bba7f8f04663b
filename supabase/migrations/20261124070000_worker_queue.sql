-- Worker: the job queue in Postgres.
--
-- Recording (or deleting) an event enqueues one 'recompute' job for its shopper, deduplicated while pending, and
-- wakes the workers with NOTIFY. Workers claim due jobs with FOR UPDATE SKIP LOCKED and a lease; a job whose
-- lease runs out (its worker died) is claimed again; a failing job is retried with exponential backoff and parked
-- as 'failed', with its last error, after the maximum number of attempts. Periodic jobs (sweep, expiry, retention)
-- run once per interval across every worker through a last-run row taken under a row lock.
-- The queue is the truth: a missed wake-up only delays work until the next sweep.

-- Tables ---------------------------------------------------------------------------------------------------------
create table private.jobs (
  id bigint generated always as identity primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  kind text not null default 'recompute',
  status text not null default 'pending',
  attempts integer not null default 0,
  run_after timestamptz not null default now(),
  locked_by text,
  locked_until timestamptz,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz,
  constraint jobs_kind_check check (kind in ('recompute')),
  constraint jobs_status_check check (status in ('pending', 'running', 'done', 'failed')),
  constraint jobs_attempts_nonnegative check (attempts >= 0),
  constraint jobs_running_has_lease check (status <> 'running' or (locked_by is not null and locked_until is not null)),
  constraint jobs_last_error_length check (char_length(last_error) <= 4000),
  constraint jobs_locked_by_length check (char_length(locked_by) <= 255)
);

-- At most one pending job per shopper and kind: a burst of events is one recompute.
create unique index jobs_pending_dedup_idx on private.jobs (user_id, kind) where status = 'pending';
create index jobs_due_idx on private.jobs (run_after, id) where status = 'pending';
create index jobs_lease_idx on private.jobs (locked_until) where status = 'running';
create index jobs_finished_idx on private.jobs (finished_at) where status = 'done';

comment on table private.jobs is
  'Work for the worker: one recompute per shopper with new or deleted evidence; pending, running (leased), done or failed (parked).';

create table private.periodic_runs (
  name text primary key,
  last_run_at timestamptz not null,
  last_run_by text,
  constraint periodic_runs_name_check check (name in ('sweep', 'expiry', 'retention'))
);
comment on table private.periodic_runs is 'When each periodic job last ran, so that it runs once per interval across all workers.';

-- Grants ---------------------------------------------------------------------------------------------------------
revoke all on table private.jobs from public, anon, authenticated, service_role;
revoke all on table private.periodic_runs from public, anon, authenticated, service_role;

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
-- No API role but the service role reaches the private schema; RLS with no policy is the second lock (only worker_* functions, as
-- security definer, touch these tables).
alter table private.jobs enable row level security;
alter table private.periodic_runs enable row level security;

-- Helpers --------------------------------------------------------------------------------------------------------
-- Every worker_* function starts here: they run as security definer (the queue lives in private), so they check
-- that the caller is the service role, as PostgREST or the worker's direct connection sets it.
create or replace function private.require_service_role()
returns void
language plpgsql
stable
set search_path = ''
as $$
begin
  if (select auth.role()) is distinct from 'service_role' then
    raise exception using errcode = '42501',
      message = 'Only the service role may call worker functions.';
  end if;
end;
$$;
revoke all on function private.require_service_role() from public, anon, authenticated, service_role;

-- Enqueue a recompute for each shopper in `p_user_ids` (still existing: a deleted account's cascade must not
-- enqueue), deduplicated against the pending job, and wake the workers.
create or replace function private.enqueue_recompute(p_user_ids uuid[])
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_count integer;
begin
  insert into private.jobs (user_id, kind)
  select u.id, 'recompute'
    from auth.users as u
   where u.id = any (p_user_ids)
   order by u.id
  on conflict (user_id, kind) where status = 'pending' do nothing;
  get diagnostics v_count = row_count;
  if v_count > 0 then
    perform pg_catalog.pg_notify('customer_memory_jobs', 'recompute');
  end if;
  return v_count;
end;
$$;
revoke all on function private.enqueue_recompute(uuid[]) from public, anon, authenticated, service_role;

-- Triggers -------------------------------------------------------------------------------------------------------
-- One function for both triggers: each names its transition table changed_rows (new rows after an insert, old rows
-- after a delete).
create or replace function private.interaction_history_enqueue()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.enqueue_recompute(array(select distinct c.user_id from changed_rows as c));
  return null;
end;
$$;
revoke all on function private.interaction_history_enqueue() from public, anon, authenticated, service_role;

create trigger interaction_history_enqueue_inserted
  after insert on public.interaction_history
  referencing new table as changed_rows
  for each statement execute function private.interaction_history_enqueue();

-- When evidence is deleted, the memories derived from it are recomputed.
create trigger interaction_history_enqueue_deleted
  after delete on public.interaction_history
  referencing old table as changed_rows
  for each statement execute function private.interaction_history_enqueue();

-- Public RPCs (service role only) --------------------------------------------------------------------------------
create or replace function public.worker_claim_jobs(p_worker text, p_limit integer, p_lease_seconds integer)
returns table (job_id bigint, user_id uuid, kind text, attempts integer)
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.require_service_role();
  if p_worker is null or char_length(p_worker) not between 1 and 255 then
    raise exception using errcode = '22023', message = 'The worker name must be between 1 and 255 characters.';
  end if;
  if p_limit is null or p_limit < 1 or p_limit > 1000 then
    raise exception using errcode = '22023', message = 'The claim limit must be between 1 and 1000.';
  end if;
  if p_lease_seconds is null or p_lease_seconds < 1 then
    raise exception using errcode = '22023', message = 'The lease must be at least one second.';
  end if;
  return query
  with due as (
    select j.id
      from private.jobs as j
     where j.status = 'pending' and j.run_after <= now()
     order by j.run_after, j.id
     limit p_limit
     for update skip locked
  )
  update private.jobs as j
     set status = 'running', attempts = j.attempts + 1, locked_by = p_worker,
         locked_until = now() + pg_catalog.make_interval(secs => p_lease_seconds), updated_at = now()
    from due
   where j.id = due.id
  returning j.id, j.user_id, j.kind, j.attempts;
end;
$$;
revoke all on function public.worker_claim_jobs(text, integer, integer) from public, anon, authenticated, service_role;
grant execute on function public.worker_claim_jobs(text, integer, integer) to service_role;
comment on function public.worker_claim_jobs(text, integer, integer) is
  'Worker only: lease up to p_limit due jobs to p_worker for p_lease_seconds (FOR UPDATE SKIP LOCKED).';

-- Done: only by the worker that holds the lease (a worker whose lease ran out and was taken over must not
-- complete someone else's claim). Returns whether the job was still ours.
create or replace function public.worker_complete_job(p_job_id bigint, p_worker text)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.require_service_role();
  update private.jobs as j
     set status = 'done', locked_by = null, locked_until = null, finished_at = now(), updated_at = now()
   where j.id = p_job_id and j.status = 'running' and j.locked_by = p_worker;
  return found;
end;
$$;
revoke all on function public.worker_complete_job(bigint, text) from public, anon, authenticated, service_role;
grant execute on function public.worker_complete_job(bigint, text) to service_role;
comment on function public.worker_complete_job(bigint, text) is 'Worker only: mark a job this worker holds as done.';

-- Put a running job back to pending at p_run_after. If a newer pending job for the same shopper and kind exists
-- (an event arrived while this one ran), the two merge: the pending one keeps the higher attempt count, the later
-- run_after and the error, and this row is deleted, so the dedup index holds and nothing is done twice.
create or replace function private.requeue_job(
  p_job_id bigint, p_run_after timestamptz, p_error text, p_attempts integer
)
returns void
language plpgsql
set search_path = ''
as $$
declare
  v_job private.jobs;
  v_pending_id bigint;
begin
  select * into v_job from private.jobs as j where j.id = p_job_id for update;
  select j.id into v_pending_id
    from private.jobs as j
   where j.user_id = v_job.user_id and j.kind = v_job.kind and j.status = 'pending'
   for update;
  if v_pending_id is null then
    update private.jobs as j
       set status = 'pending', run_after = p_run_after, attempts = p_attempts, last_error = p_error,
           locked_by = null, locked_until = null, updated_at = now()
     where j.id = p_job_id;
  else
    update private.jobs as j
       set attempts = greatest(j.attempts, p_attempts), run_after = greatest(j.run_after, p_run_after),
           last_error = coalesce(p_error, j.last_error), updated_at = now()
     where j.id = v_pending_id;
    delete from private.jobs as j where j.id = p_job_id;
  end if;
end;
$$;
revoke all on function private.requeue_job(bigint, timestamptz, text, integer)
  from public, anon, authenticated, service_role;

-- Failed attempt: retry after p_base_seconds * 2^(attempts-1) (capped at an hour), or park as 'failed' with the
-- error once p_max_attempts attempts were made. Returns the job's new status ('pending' or 'failed'), or null
-- when this worker no longer holds the job.
create or replace function public.worker_fail_job(
  p_job_id bigint, p_worker text, p_error text, p_max_attempts integer, p_base_seconds numeric default 1
)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_job private.jobs;
  v_error text := left(coalesce(nullif(p_error, ''), 'unknown error'), 4000);
begin
  perform private.require_service_role();
  if p_max_attempts is null or p_max_attempts < 1 then
    raise exception using errcode = '22023', message = 'The maximum number of attempts must be at least 1.';
  end if;
  if p_base_seconds is null or p_base_seconds < 0 then
    raise exception using errcode = '22023', message = 'The backoff base must not be negative.';
  end if;
  select * into v_job from private.jobs as j
   where j.id = p_job_id and j.status = 'running' and j.locked_by = p_worker
   for update;
  if not found then
    return null;
  end if;
  if v_job.attempts >= p_max_attempts then
    update private.jobs as j
       set status = 'failed', last_error = v_error, locked_by = null, locked_until = null,
           finished_at = now(), updated_at = now()
     where j.id = p_job_id;
    return 'failed';
  end if;
  perform private.requeue_job(
    p_job_id,
    now() + pg_catalog.make_interval(secs => least(3600, p_base_seconds * 2 ^ (v_job.attempts - 1))::double precision),
    v_error, v_job.attempts);
  return 'pending';
end;
$$;
revoke all on function public.worker_fail_job(bigint, text, text, integer, numeric)
  from public, anon, authenticated, service_role;
grant execute on function public.worker_fail_job(bigint, text, text, integer, numeric) to service_role;
comment on function public.worker_fail_job(bigint, text, text, integer, numeric) is
  'Worker only: record a failed attempt; retry with exponential backoff, or park as failed after p_max_attempts.';

-- Graceful shutdown: hand back a job this worker holds but did not start or could not finish in time. The
-- attempt does not count.
create or replace function public.worker_release_job(p_job_id bigint, p_worker text)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_attempts integer;
begin
  perform private.require_service_role();
  select j.attempts into v_attempts from private.jobs as j
   where j.id = p_job_id and j.status = 'running' and j.locked_by = p_worker
   for update;
  if not found then
    return false;
  end if;
  perform private.requeue_job(p_job_id, now(), null, greatest(v_attempts - 1, 0));
  return true;
end;
$$;
revoke all on function public.worker_release_job(bigint, text) from public, anon, authenticated, service_role;
grant execute on function public.worker_release_job(bigint, text) to service_role;
comment on function public.worker_release_job(bigint, text) is
  'Worker only: give back a job this worker holds, uncounted, for another worker to take.';

-- Crash recovery: running jobs whose lease has run out (their worker died or hung) go back to pending, or are
-- parked when they have used every attempt. Returns how many were requeued or parked.
create or replace function public.worker_requeue_expired(p_max_attempts integer)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_job record;
  v_count integer := 0;
begin
  perform private.require_service_role();
  for v_job in
    select j.id, j.attempts from private.jobs as j
     where j.status = 'running' and j.locked_until < now()
     order by j.id
     for update skip locked
  loop
    if v_job.attempts >= p_max_attempts then
      update private.jobs as j
         set status = 'failed', locked_by = null, locked_until = null, finished_at = now(), updated_at = now(),
             last_error = coalesce(j.last_error || E'\n', '') || 'The lease ran out (worker lost) on the last attempt.'
       where j.id = v_job.id;
    else
      perform private.requeue_job(v_job.id, now(), 'The lease ran out (worker lost).', v_job.attempts);
    end if;
    v_count := v_count + 1;
  end loop;
  return v_count;
end;
$$;
revoke all on function public.worker_requeue_expired(integer) from public, anon, authenticated, service_role;
grant execute on function public.worker_requeue_expired(integer) to service_role;
comment on function public.worker_requeue_expired(integer) is
  'Worker only: return jobs whose lease ran out to the queue (or park them after the last attempt).';

-- Periodic jobs: true for exactly one caller per interval (the row lock on the last-run row serialises callers).
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
  if p_name is null or p_name not in ('sweep', 'expiry', 'retention') then
    raise exception using errcode = '22023', message = 'The periodic job must be sweep, expiry or retention.';
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

-- Finished jobs are kept a day for inspection, then purged; parked ('failed') jobs stay until a person acts.
create or replace function public.worker_purge_finished(p_keep_seconds numeric default 86400)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_count integer;
begin
  perform private.require_service_role();
  delete from private.jobs as j
   where j.status = 'done' and j.finished_at < now() - pg_catalog.make_interval(secs => p_keep_seconds::double precision);
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;
revoke all on function public.worker_purge_finished(numeric) from public, anon, authenticated, service_role;
grant execute on function public.worker_purge_finished(numeric) to service_role;
comment on function public.worker_purge_finished(numeric) is 'Worker only: delete done jobs older than p_keep_seconds.';

-- Backfill and rebuild: enqueue a recompute for every shopper with events (or for the given ones).
create or replace function public.worker_enqueue_all()
returns integer
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.require_service_role();
  return private.enqueue_recompute(array(select distinct ih.user_id from public.interaction_history as ih));
end;
$$;
revoke all on function public.worker_enqueue_all() from public, anon, authenticated, service_role;
grant execute on function public.worker_enqueue_all() to service_role;
comment on function public.worker_enqueue_all() is 'Worker only: enqueue a recompute for every shopper with events (rebuild).';
