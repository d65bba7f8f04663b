-- Worker: the queue made safe against what real clients and real failures bring.
--
-- 1. No lost wake-up. An event's transaction used to meet a pending job with ON CONFLICT DO NOTHING: if a worker
--    claimed that job before the event committed, the recompute ran without the event and nothing was left to run
--    after it. Now the event's transaction takes the pending job's row lock (ON CONFLICT DO UPDATE) and holds it
--    until it commits; a claim skips locked rows, so the job is claimed only after every event that merged into
--    it is visible.
-- 2. One message, one recompute. The preference_stated events the worker writes while it applies a message are
--    part of the job that is running (its recompute follows in the same job), so they enqueue nothing.
-- 3. Unreadable messages. A message the extractor cannot read is recorded as unreadable (with why) and skipped,
--    so it never blocks the shopper's later messages and jobs.
-- 4. Leases that follow their worker. A worker renews the leases of the jobs it runs (a heartbeat), and records
--    the backend of a connection it keeps open for its whole life: when that backend is gone (the process was
--    killed), its jobs are reclaimed at the next sweep instead of when the lease runs out.

-- Tables ---------------------------------------------------------------------------------------------------------
alter table private.jobs add column locked_pid integer;
comment on column private.jobs.locked_pid is
  'The backend pid of the connection the leasing worker keeps open while it lives; gone means the worker is gone.';

alter table private.extracted_messages
  add column outcome text not null default 'applied',
  add column problem text,
  add constraint extracted_messages_outcome_check check (outcome in ('applied', 'unreadable')),
  add constraint extracted_messages_problem_length check (char_length(problem) <= 1000),
  add constraint extracted_messages_unreadable_has_problem check (outcome = 'applied' or problem is not null);
comment on column private.extracted_messages.outcome is
  'applied: its statements were applied; unreadable: the extractor could not read it (see problem), nothing stored.';

-- Helpers --------------------------------------------------------------------------------------------------------
create or replace function private.enqueue_recompute(p_user_ids uuid[])
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_count integer;
begin
  -- DO UPDATE, not DO NOTHING: the row lock it takes keeps a worker from claiming the pending job until this
  -- transaction ends, so the recompute always sees this transaction's events (users in id order: no deadlock).
  insert into private.jobs (user_id, kind)
  select u.id, 'recompute'
    from auth.users as u
   where u.id = any (p_user_ids)
   order by u.id
  on conflict (user_id, kind) where status = 'pending' do update set updated_at = excluded.updated_at;
  get diagnostics v_count = row_count;
  if v_count > 0 then
    perform pg_catalog.pg_notify('customer_memory_jobs', 'recompute');
  end if;
  return v_count;
end;
$$;
revoke all on function private.enqueue_recompute(uuid[]) from public, anon, authenticated, service_role;

-- Triggers -------------------------------------------------------------------------------------------------------
create or replace function private.interaction_history_enqueue()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- What the worker stores while applying a message (source 'message') belongs to the job already running.
  perform private.enqueue_recompute(array(
    select distinct c.user_id from changed_rows as c
     where not (c.interaction_type = 'preference_stated' and c.interaction_value ->> 'source' = 'message')));
  return null;
end;
$$;
revoke all on function private.interaction_history_enqueue() from public, anon, authenticated, service_role;

-- Public RPCs (service role only) --------------------------------------------------------------------------------
-- The claim, now with the backend pid of the worker's lifetime connection (null: the lease alone decides).
drop function public.worker_claim_jobs(text, integer, integer);
create or replace function public.worker_claim_jobs(
  p_worker text, p_limit integer, p_lease_seconds integer, p_worker_pid integer default null
)
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
     set status = 'running', attempts = j.attempts + 1, locked_by = p_worker, locked_pid = p_worker_pid,
         locked_until = now() + pg_catalog.make_interval(secs => p_lease_seconds), updated_at = now()
    from due
   where j.id = due.id
  returning j.id, j.user_id, j.kind, j.attempts;
end;
$$;
revoke all on function public.worker_claim_jobs(text, integer, integer, integer)
  from public, anon, authenticated, service_role;
grant execute on function public.worker_claim_jobs(text, integer, integer, integer) to service_role;
comment on function public.worker_claim_jobs(text, integer, integer, integer) is
  'Worker only: lease up to p_limit due jobs to p_worker for p_lease_seconds (FOR UPDATE SKIP LOCKED); '
  'p_worker_pid names the backend of the connection the worker keeps open, so a killed worker''s jobs are reclaimed.';

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

-- Crash recovery: running jobs whose lease ran out, or whose worker's lifetime connection is gone (the worker was
-- killed), go back to pending, or are parked when they have used every attempt.
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

-- A message the extractor could not read (its output failed validation, it raised, it timed out): recorded with
-- why, nothing applied, and never offered again. Returns false when the message was already read.
create or replace function public.worker_skip_message(
  p_user_id uuid, p_interaction_id uuid, p_extractor text, p_problem text
)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.require_service_role();
  if not exists (select 1 from public.interaction_history as ih
                  where ih.id = p_interaction_id and ih.user_id = p_user_id
                    and ih.interaction_type = 'message' and ih.interaction_key = 'user_message') then
    raise exception using errcode = '22023',
      message = 'The interaction is not a message this shopper wrote; only the shopper''s own words are read.';
  end if;
  if p_extractor is null or char_length(p_extractor) not between 1 and 100 then
    raise exception using errcode = '22023', message = 'The extractor name must be between 1 and 100 characters.';
  end if;
  insert into private.extracted_messages (interaction_id, user_id, extractor, statements, outcome, problem)
  values (p_interaction_id, p_user_id, p_extractor, '[]', 'unreadable',
          left(coalesce(nullif(btrim(p_problem), ''), 'The extractor could not read this message.'), 1000))
  on conflict (interaction_id) do nothing;
  return found;
end;
$$;
revoke all on function public.worker_skip_message(uuid, uuid, text, text) from public, anon, authenticated, service_role;
grant execute on function public.worker_skip_message(uuid, uuid, text, text) to service_role;
comment on function public.worker_skip_message(uuid, uuid, text, text) is
  'Worker only: record a message the extractor could not read as unreadable (with why), so it is skipped, once.';

-- Backfill and rebuild: a shopper whose job is already pending needs nothing more (a rebuild brings no new
-- evidence), so this joins no pending job and never waits on a shopper's open transaction. Returns how many
-- jobs it added.
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
  insert into private.jobs (user_id, kind)
  select u.id, 'recompute'
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
