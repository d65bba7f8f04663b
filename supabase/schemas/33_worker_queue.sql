-- Worker: the job queue's functions (worker_*; granted to service_role only): claim, extend, complete, fail,
-- release, requeue, the periodic runs and enqueueing. Each starts with private.require_service_role(); they are
-- security definer because the queue lives in the private schema.

-- The queue ------------------------------------------------------------------------------------------------------
create or replace function public.worker_claim_jobs(
  p_worker text, p_limit integer, p_lease_seconds integer, p_worker_pid integer default null,
  p_busy_seconds integer default 10
)
returns table (job_id bigint, user_id uuid, kind text, attempts integer)
language plpgsql
security definer
set search_path = ''
set lock_timeout = '2s'
as $$
declare
  v_ids bigint[] := '{}'::bigint[];
  v_id bigint;
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
  if p_busy_seconds is null or p_busy_seconds < 1 then
    raise exception using errcode = '22023', message = 'The busy shopper bound must be at least one second.';
  end if;
  -- A shopper who never pauses: each of their events locks their pending job until it commits, one after
  -- another, so SKIP LOCKED alone would pass the job by for as long as they go on. A shopper's job pending for
  -- p_busy_seconds is waited for instead (an event holds the lock for milliseconds; lock_timeout bounds the wait):
  -- a busy shopper is recomputed at least every p_busy_seconds plus one recompute.
  for v_id in
    select j.id from private.jobs as j
     where j.status = 'pending' and j.priority = 0 and j.run_after <= now()
       and j.created_at <= now() - pg_catalog.make_interval(secs => p_busy_seconds)
     order by j.priority, j.run_after, j.id
     limit p_limit
  loop
    begin
      select j.id into v_id from private.jobs as j where j.id = v_id and j.status = 'pending' for update;
      if found then
        v_ids := v_ids || v_id;
      end if;
    exception when lock_not_available then
      null;  -- still held: the next claim tries again
    end;
  end loop;
  return query
  with due as (
    select j.id
      from private.jobs as j
     where j.status = 'pending' and j.run_after <= now() and not (j.id = any (v_ids))
     order by j.priority, j.run_after, j.id
     limit p_limit - pg_catalog.cardinality(v_ids)
     for update skip locked
  ),
  picked as (
    select x.id from pg_catalog.unnest(v_ids) as x (id)
    union
    select due.id from due
  )
  update private.jobs as j
     set status = 'running', attempts = j.attempts + 1, locked_by = p_worker, locked_pid = p_worker_pid,
         locked_until = now() + pg_catalog.make_interval(secs => p_lease_seconds), updated_at = now()
    from picked
   where j.id = picked.id
  returning j.id, j.user_id, j.kind, j.attempts;
end;
$$;
revoke all on function public.worker_claim_jobs(text, integer, integer, integer, integer)
  from public, anon, authenticated, service_role;
grant execute on function public.worker_claim_jobs(text, integer, integer, integer, integer) to service_role;
comment on function public.worker_claim_jobs(text, integer, integer, integer, integer) is
  'Worker only: lease up to p_limit due jobs to p_worker for p_lease_seconds, shoppers first (priority), then the '
  'longest due (FOR UPDATE SKIP LOCKED; a shopper''s job pending p_busy_seconds is waited for, so a shopper who '
  'never pauses is still recomputed); p_worker_pid names the backend of the connection the worker keeps open, so a '
  'killed worker''s jobs are reclaimed.';

-- The heartbeat: a worker extends the leases of the jobs it is still running. Returns how many it still holds.
create or replace function public.worker_extend_leases(p_job_ids bigint[], p_worker text, p_lease_seconds integer)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_count integer;
begin
  perform private.require_service_role();
  if p_lease_seconds is null or p_lease_seconds < 1 then
    raise exception using errcode = '22023', message = 'The lease must be at least one second.';
  end if;
  update private.jobs as j
     set locked_until = now() + pg_catalog.make_interval(secs => p_lease_seconds), updated_at = now()
   where j.id = any (p_job_ids) and j.status = 'running' and j.locked_by = p_worker;
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;
revoke all on function public.worker_extend_leases(bigint[], text, integer) from public, anon, authenticated, service_role;
grant execute on function public.worker_extend_leases(bigint[], text, integer) to service_role;
comment on function public.worker_extend_leases(bigint[], text, integer) is
  'Worker only: renew the leases of the jobs p_worker is still running (its heartbeat); returns how many it holds.';

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
     where j.status = 'running'
       and (j.locked_until < now()
            or (j.locked_pid is not null
                and not exists (select from pg_catalog.pg_stat_activity as a where a.pid = j.locked_pid)))
     order by j.id
     for update skip locked
  loop
    if v_job.attempts >= p_max_attempts then
      update private.jobs as j
         set status = 'failed', locked_by = null, locked_until = null, locked_pid = null, finished_at = now(),
             updated_at = now(),
             last_error = coalesce(j.last_error || E'\n', '') || 'The lease ran out or its worker was lost on the last attempt.'
       where j.id = v_job.id;
    else
      perform private.requeue_job(v_job.id, now(), 'The lease ran out or its worker was lost (killed).',
                                  v_job.attempts);
    end if;
    v_count := v_count + 1;
  end loop;
  return v_count;
end;
$$;
revoke all on function public.worker_requeue_expired(integer) from public, anon, authenticated, service_role;
grant execute on function public.worker_requeue_expired(integer) to service_role;
comment on function public.worker_requeue_expired(integer) is
  'Worker only: return jobs whose lease ran out or whose worker is gone to the queue (or park them after the last attempt).';

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
declare
  v_count integer;
begin
  perform private.require_service_role();
  -- Maintenance: behind every shopper's own event (priority 1); a shopper's pending job keeps its place.
  insert into private.jobs (user_id, kind, priority)
  select u.id, 'recompute', 1
    from auth.users as u
   where exists (select from public.interaction_history as ih where ih.user_id = u.id)
   order by u.id
  on conflict (user_id, kind) where status = 'pending' do nothing;
  get diagnostics v_count = row_count;
  if v_count > 0 then
    perform pg_catalog.pg_notify('customer_memory_jobs', 'recompute');
  end if;
  return v_count;
end;
$$;
revoke all on function public.worker_enqueue_all() from public, anon, authenticated, service_role;
grant execute on function public.worker_enqueue_all() to service_role;
comment on function public.worker_enqueue_all() is
  'Worker only: enqueue a recompute for every shopper with events (rebuild), behind every shopper''s own events.';

-- Maintenance as jobs of its own (no shopper, priority 2, at most one pending per kind): retention, expiry and the
-- precomputed documents run when no shopper's job is due, in slices, never before the worker claims. Returns
-- whether a job was enqueued (false: one is pending already).
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
