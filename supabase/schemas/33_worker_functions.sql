-- Worker: the functions the worker calls, as the service role (worker_*; granted to service_role only). Each starts
-- with private.require_service_role(); they are security definer because the queue and the suppressions live in
-- the private schema.

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


-- Derivations, expiry and retention ------------------------------------------------------------------------------
-- Recompute one shopper's patterns, inferred preferences and insights as of p_now, writing only differences.
-- Serialised per shopper (two workers on the same shopper wait for each other instead of racing).
create or replace function public.worker_recompute_user(p_user_id uuid, p_now timestamptz default now())
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_patterns integer;
  v_preferences integer;
  v_insights integer;
begin
  perform private.require_service_role();
  if p_user_id is null then
    raise exception using errcode = '22023', message = 'The user id is required.';
  end if;
  if p_now is null or not pg_catalog.isfinite(p_now) then
    raise exception using errcode = '22023', message = 'The moment to recompute at must be a finite timestamp.';
  end if;
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('customer_memory.recompute:' || p_user_id, 0));

  with d as (select * from private.derive_patterns(p_user_id, p_now)),
  gone as (
    delete from public.shopping_patterns as sp
     where sp.user_id = p_user_id
       and not exists (select 1 from d where d.pattern_type = sp.pattern_type and d.pattern_key = sp.pattern_key)
  )
  insert into public.shopping_patterns as sp
    (user_id, pattern_type, pattern_key, pattern_value, confidence, occurrence_count, last_occurrence)
  select p_user_id, d.pattern_type, d.pattern_key, d.pattern_value, d.confidence, d.occurrence_count, d.last_occurrence
    from d
  on conflict (user_id, pattern_type, pattern_key) do update
     set pattern_value = excluded.pattern_value, confidence = excluded.confidence,
         occurrence_count = excluded.occurrence_count, last_occurrence = excluded.last_occurrence
   where (sp.pattern_value, sp.confidence, sp.occurrence_count, sp.last_occurrence)
         is distinct from (excluded.pattern_value, excluded.confidence, excluded.occurrence_count, excluded.last_occurrence);
  select count(*) into v_patterns from public.shopping_patterns as sp where sp.user_id = p_user_id;

  -- Inferred preferences the worker owns: non-explicit favorites and brands, and inferred vegetarian.
  with d as (select * from private.derive_preferences(p_user_id, p_now)),
  gone as (
    delete from public.customer_preferences as cp
     where cp.user_id = p_user_id and cp.source <> 'explicit'
       and (cp.preference_type in ('favorite', 'brand')
            or (cp.preference_type = 'dietary' and cp.preference_key = 'vegetarian'))
       and not exists (select 1 from d where d.preference_type = cp.preference_type
                                          and d.preference_key = cp.preference_key)
  )
  insert into public.customer_preferences as cp
    (user_id, preference_type, preference_key, preference_value, confidence, reason, source, times_confirmed,
     last_confirmed_at, evidence)
  select p_user_id, d.preference_type, d.preference_key, d.preference_value, d.confidence, d.reason, d.source,
         d.times_confirmed, d.last_confirmed_at, d.evidence
    from d
  on conflict (user_id, preference_type, preference_key) do update
     set preference_value = excluded.preference_value, confidence = excluded.confidence, reason = excluded.reason,
         source = excluded.source, times_confirmed = excluded.times_confirmed,
         last_confirmed_at = excluded.last_confirmed_at, evidence = excluded.evidence
   where cp.source <> 'explicit'
     and (cp.preference_value, cp.confidence, cp.reason, cp.source, cp.times_confirmed, cp.last_confirmed_at,
          cp.evidence)
         is distinct from (excluded.preference_value, excluded.confidence, excluded.reason, excluded.source,
                           excluded.times_confirmed, excluded.last_confirmed_at, excluded.evidence);
  select count(*) into v_preferences from public.customer_preferences as cp
   where cp.user_id = p_user_id and cp.source <> 'explicit';

  -- Inferred insights and questions the worker owns: what the shopper stated or confirmed, and what they said no
  -- longer holds (ended), are theirs and never touched here.
  with d as (select * from private.derive_insights(p_user_id, p_now) as x where coalesce(x.expires_at > p_now, true)),
  gone as (
    delete from public.memory_insights as mi
     where mi.user_id = p_user_id and mi.source = 'inferred' and mi.status <> 'ended'
       and not exists (select 1 from d where d.insight_type = mi.insight_type and d.insight_key = mi.insight_key)
  )
  insert into public.memory_insights as mi
    (user_id, insight_type, insight_key, insight_value, confidence, supporting_data, expires_at, source, status)
  select p_user_id, d.insight_type, d.insight_key, d.insight_value, d.confidence, d.supporting_data, d.expires_at,
         'inferred', d.status
    from d
  on conflict (user_id, insight_type, insight_key) do update
     set insight_value = excluded.insight_value, confidence = excluded.confidence,
         supporting_data = excluded.supporting_data, expires_at = excluded.expires_at, status = excluded.status
   where mi.source = 'inferred' and mi.status <> 'ended'
     and (mi.insight_value, mi.confidence, mi.supporting_data, mi.expires_at, mi.status)
         is distinct from (excluded.insight_value, excluded.confidence, excluded.supporting_data, excluded.expires_at,
                           excluded.status);
  select count(*) into v_insights from public.memory_insights as mi
   where mi.user_id = p_user_id and mi.source = 'inferred';

  return pg_catalog.jsonb_build_object('patterns', v_patterns, 'preferences', v_preferences, 'insights', v_insights);
end;
$$;
revoke all on function public.worker_recompute_user(uuid, timestamptz) from public, anon, authenticated, service_role;
grant execute on function public.worker_recompute_user(uuid, timestamptz) to service_role;
comment on function public.worker_recompute_user(uuid, timestamptz) is
  'Worker only: recompute a shopper''s patterns, inferred preferences and insights from their events as of p_now.';

-- Expiry: time-bound insights past expires_at are removed. Returns how many.
create or replace function public.worker_expire_insights(p_now timestamptz default now())
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_count integer;
begin
  perform private.require_service_role();
  delete from public.memory_insights as mi where mi.expires_at <= p_now;
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;
revoke all on function public.worker_expire_insights(timestamptz) from public, anon, authenticated, service_role;
grant execute on function public.worker_expire_insights(timestamptz) to service_role;
comment on function public.worker_expire_insights(timestamptz) is 'Worker only: delete insights whose expires_at has passed.';

-- Retention: interactions older than p_months move to private.interaction_archive (still their owner's), a month
-- at a time, in three steps, one per call, so that the moment the log is locked whole (to drop a partition) holds
-- nothing a shopper's call waits for: (1) a month wholly past the window is copied to the archive, the messages
-- read in it are forgotten and its shoppers noted in private.retention_moves; (2) the next call drops its
-- partition (the log shrinks at once; a busy log, lock_timeout, waits for the next pass); (3) the next calls
-- recompute its shoppers behind every shopper's own events and lower their volume, at most 1,000 at a time.
-- Empty months are dropped on the way; rows no month holds (the default partition) move p_batch at a time. It
-- also makes the partitions of the next three months. Returns the work done (rows copied or moved, a partition
-- dropped, shoppers caught up); 0 when nothing is left.
create or replace function public.worker_archive_interactions(
  p_months integer, p_now timestamptz default now(), p_batch integer default 10000
)
returns integer
language plpgsql
security definer
set search_path = ''
set lock_timeout = '500ms'
as $$
declare
  v_cutoff timestamptz;
  v_month text;
  v_users uuid[];
  v_count integer;
begin
  perform private.require_service_role();
  if p_months is null or p_months < 1 then
    raise exception using errcode = '22023', message = 'The retention period must be at least one month.';
  end if;
  if p_batch is null or p_batch < 1 then
    raise exception using errcode = '22023', message = 'The batch size must be at least 1.';
  end if;
  v_cutoff := p_now - pg_catalog.make_interval(months => p_months);
  -- The recomputes these moves enqueue are maintenance: behind every shopper's own events.
  perform pg_catalog.set_config('customer_memory.maintenance', 'on', true);
  begin
    -- (2) A month copied to the archive but still in the log: drop it, holding nothing else. The months noted are
    -- read one index probe each (not one row per shopper: a month holds every shopper who shopped in it).
    with recursive months (month) as (
      (select r.month from private.retention_moves as r order by r.month limit 1)
      union all
      select (select r.month from private.retention_moves as r where r.month > m.month order by r.month limit 1)
        from months as m
       where m.month is not null
    )
    select m.month into v_month from months as m
     where m.month is not null and pg_catalog.to_regclass('private.' || m.month) is not null
     order by m.month limit 1;
    if found then
      execute pg_catalog.format('drop table private.%I', v_month);
      return 1;
    end if;
    -- (3) A dropped month's shoppers: their recompute (jobs before volume, as the log's triggers take them), at
    -- most 1,000 a call: a shopper's own call waits for this transaction if it needs their job or volume row.
    select m.month into v_month from private.retention_moves as m order by m.month limit 1;
    if found then
      select pg_catalog.array_agg(m.user_id order by m.user_id) into v_users
        from (select r.user_id from private.retention_moves as r where r.month = v_month
               order by r.user_id limit least(p_batch, 1000)) as m;
      perform private.enqueue_recompute(v_users);
      with gone as (
        delete from private.retention_moves as r where r.month = v_month and r.user_id = any (v_users)
        returning r.user_id, r.events, r.event_bytes
      )
      update private.shopper_volume as v
         set events = greatest(v.events - g.events, 0), event_bytes = greatest(v.event_bytes - g.event_bytes, 0)
        from gone as g
       where v.user_id = g.user_id;
      return pg_catalog.cardinality(v_users);
    end if;
    -- Making a partition locks the log for a moment too.
    perform private.ensure_interaction_partitions(now(), now() + interval '3 months');
    -- (1) The oldest month wholly past the window.
    for v_month in
      select c.relname
        from pg_catalog.pg_inherits as i
        join pg_catalog.pg_class as c on c.oid = i.inhrelid
       where i.inhparent = 'public.interaction_history'::regclass
         and c.relname ~ '^interaction_history_p[0-9]{4}_[0-9]{2}$'
         and (pg_catalog.to_date(substr(c.relname, 22), 'YYYY_MM') + interval '1 month')::timestamp at time zone 'UTC'
             <= v_cutoff
       order by c.relname
    loop
      -- No shopper writes into a month this old; a shopper's delete of their own rows waits until it is copied.
      execute pg_catalog.format('lock table private.%I in exclusive mode', v_month);
      execute pg_catalog.format(
        'insert into private.interaction_archive (id, user_id, interaction_type, interaction_key, interaction_value, '
        'session_id, message_id, created_at, archived_at) '
        'select m.id, m.user_id, m.interaction_type, m.interaction_key, m.interaction_value, m.session_id, '
        'm.message_id, m.created_at, $1 from private.%I as m', v_month) using p_now;
      get diagnostics v_count = row_count;
      if v_count = 0 then
        execute pg_catalog.format('drop table private.%I', v_month);  -- an empty month goes, and the next is looked at
        continue;
      end if;
      execute pg_catalog.format(
        'delete from private.extracted_messages as e using private.%I as m '
        'where e.interaction_id = m.id and m.interaction_type = %L', v_month, 'message');
      execute pg_catalog.format(
        'insert into private.retention_moves (month, user_id, events, event_bytes) '
        'select %L, m.user_id, count(*), coalesce(sum(pg_catalog.pg_column_size(m.interaction_value)), 0) '
        'from private.%I as m group by m.user_id', v_month, v_month);
      return v_count;
    end loop;
  exception when lock_not_available then
    return 0;
  end;

  -- What no month holds (an import older than the partitions, a moment with no month yet), row by row.
  with old as (
    select d.id, d.created_at from private.interaction_history_default as d
     where d.created_at < v_cutoff
     order by d.created_at
     limit p_batch
     for update skip locked
  ),
  moved as (
    delete from public.interaction_history as ih using old where ih.id = old.id and ih.created_at = old.created_at
    returning ih.id, ih.user_id, ih.interaction_type, ih.interaction_key, ih.interaction_value, ih.session_id,
              ih.message_id, ih.created_at
  )
  insert into private.interaction_archive
    (id, user_id, interaction_type, interaction_key, interaction_value, session_id, message_id, created_at, archived_at)
  select m.id, m.user_id, m.interaction_type, m.interaction_key, m.interaction_value, m.session_id, m.message_id,
         m.created_at, p_now
    from moved as m;
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;
revoke all on function public.worker_archive_interactions(integer, timestamptz, integer)
  from public, anon, authenticated, service_role;
grant execute on function public.worker_archive_interactions(integer, timestamptz, integer) to service_role;
comment on function public.worker_archive_interactions(integer, timestamptz, integer) is
  'Worker only: move interactions older than p_months to the archive, a month at a time (copy, drop, catch its '
  'shoppers up: one step per call), or at most p_batch rows no month holds; 0 when nothing is left.';


-- Stated preferences from chat messages --------------------------------------------------------------------------
create or replace function public.worker_pending_messages(p_user_id uuid, p_limit integer default 50)
returns table (interaction_id uuid, content text, created_at timestamptz)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform private.require_service_role();
  if p_limit is null or p_limit < 1 or p_limit > 1000 then
    raise exception using errcode = '22023', message = 'The message limit must be between 1 and 1000.';
  end if;
  return query
  select ih.id, ih.interaction_value ->> 'content', ih.created_at
    from public.interaction_history as ih
   where ih.user_id = p_user_id and ih.interaction_type = 'message' and ih.interaction_key = 'user_message'
     and not exists (select 1 from private.extracted_messages as e where e.interaction_id = ih.id)
   order by ih.created_at, ih.id
   limit p_limit;
end;
$$;
revoke all on function public.worker_pending_messages(uuid, integer) from public, anon, authenticated, service_role;
grant execute on function public.worker_pending_messages(uuid, integer) to service_role;
comment on function public.worker_pending_messages(uuid, integer) is
  'Worker only: the shopper''s own chat messages not yet read for stated preferences, oldest first.';

-- p_statements: an array of at most 20 statements, each either a preference
--   {"action": "remember"|"forget", "preference_type", "preference_key", "preference_value", "reason",
--    "household_member"}
-- or an insight (dispatched on "insight_type"; docs/learning.md, "Insights")
--   {"action": "remember"|"forget", "insight_type": persona|goal|context|constraint, "insight_key": a canonical
--    lowercase key ("children", "pet-dog", "budget"), "insight_value": short text in words, "details": an optional
--    object of figures ({"count": 2, "ages": [4, 7]}), "expires_at": an ISO-8601 timestamp or null}.
-- Returns how many statements were applied (0 when the message was already applied). The one place where what any
-- extractor read (the rules or Claude) changes memory: chat never removes an allergy or a diet on its own; a
-- request to forget one becomes a pending removal the shopper confirms or rejects (confirm_pending_change,
-- reject_pending_change), and the memory stays until then. An insight is remembered as explicit with the message
-- as its evidence (a later statement with the same key updates it); a "forget" ends it (out of the prompt, kept on
-- the page with what ended it) and never deletes it on a message's word (private.end_insight).
create or replace function public.worker_apply_stated_preferences(
  p_user_id uuid, p_interaction_id uuid, p_statements jsonb, p_extractor text
)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_statement jsonb;
  v_index integer := 0;
  v_type text;
  v_key text;
  v_value text;
  v_reason text;
  v_member text;
  v_message text;
  v_message_id text;
  v_said_at timestamptz;
  v_expires_at timestamptz;
  v_types text[] := private.preference_types();
  v_insight_types text[] := private.insight_types();
begin
  perform private.require_service_role();
  select left(ih.interaction_value ->> 'content', 500), ih.message_id, ih.created_at
    into v_message, v_message_id, v_said_at
    from public.interaction_history as ih
   where ih.id = p_interaction_id and ih.user_id = p_user_id
     and ih.interaction_type = 'message' and ih.interaction_key = 'user_message';
  if not found then
    raise exception using errcode = '22023',
      message = 'The interaction is not a message this shopper wrote; only the shopper''s own words are read.';
  end if;
  if p_statements is null or jsonb_typeof(p_statements) <> 'array' or jsonb_array_length(p_statements) > 20 then
    raise exception using errcode = '22023', message = 'The statements must be an array of at most 20 objects.';
  end if;
  if p_extractor is null or char_length(p_extractor) not between 1 and 100 then
    raise exception using errcode = '22023', message = 'The extractor name must be between 1 and 100 characters.';
  end if;
  -- Validate everything before changing anything.
  for v_statement in select s.value from jsonb_array_elements(p_statements) as s loop
    v_index := v_index + 1;
    if jsonb_typeof(v_statement) <> 'object' or coalesce(v_statement ->> 'action', '') not in ('remember', 'forget') then
      raise exception using errcode = '22023',
        message = format('Statement %s must be an object whose action is remember or forget.', v_index);
    end if;
    if v_statement ? 'insight_type' then
      if v_statement ? 'preference_type' or v_statement ? 'preference_key' then
        raise exception using errcode = '22023',
          message = format('Statement %s names both an insight and a preference; a statement is one or the other.',
                           v_index);
      end if;
      if not coalesce(v_statement ->> 'insight_type', '') = any (v_insight_types) then
        raise exception using errcode = '22023',
          message = format('Statement %s: insight_type must be %s.', v_index, private.in_words(v_insight_types));
      end if;
      if coalesce(v_statement ->> 'insight_key', '') !~ '^[a-z0-9]+(-[a-z0-9]+)*$'
         or char_length(v_statement ->> 'insight_key') > 64 then
        raise exception using errcode = '22023',
          message = format('Statement %s: insight_key must be a canonical lowercase key of at most 64 characters '
                           '(letters and digits joined by hyphens, such as pet-dog), not %s.',
                           v_index, private.json_excerpt(v_statement -> 'insight_key'));
      end if;
      if v_statement ->> 'action' = 'remember'
         and char_length(pg_catalog.btrim(coalesce(v_statement ->> 'insight_value', ''))) not between 1 and 200 then
        raise exception using errcode = '22023',
          message = format('Statement %s: insight_value must say the insight in words, in 1 to 200 characters.',
                           v_index);
      end if;
      if coalesce(jsonb_typeof(v_statement -> 'details'), 'null') not in ('null', 'object')
         or char_length((v_statement -> 'details')::text) > 1000 then
        raise exception using errcode = '22023',
          message = format('Statement %s: details must be an object of figures of at most 1000 characters, or null.',
                           v_index);
      end if;
      if coalesce(jsonb_typeof(v_statement -> 'expires_at'), 'null') not in ('null', 'string')
         or (jsonb_typeof(v_statement -> 'expires_at') = 'string'
             and (v_statement ->> 'expires_at' !~ '^\d{4}-\d{2}-\d{2}'
                  or not coalesce(pg_catalog.isfinite(private.try_timestamptz(v_statement ->> 'expires_at')), false)))
      then
        raise exception using errcode = '22023',
          message = format('Statement %s: expires_at must be an ISO-8601 timestamp or null, not %s.',
                           v_index, private.json_excerpt(v_statement -> 'expires_at'));
      end if;
      continue;
    end if;
    if not coalesce(v_statement ->> 'preference_type', '') = any (v_types) then
      raise exception using errcode = '22023',
        message = format('Statement %s: preference_type must be %s.', v_index, private.in_words(v_types));
    end if;
    if char_length(pg_catalog.btrim(coalesce(v_statement ->> 'preference_key', ''))) not between 1 and 255 then
      raise exception using errcode = '22023',
        message = format('Statement %s: preference_key must be a non-empty text of at most 255 characters.', v_index);
    end if;
    if char_length(v_statement ->> 'preference_value') > 2000 or char_length(v_statement ->> 'reason') > 1000 then
      raise exception using errcode = '22023',
        message = format('Statement %s: preference_value is at most 2000 and reason at most 1000 characters.', v_index);
    end if;
    if char_length(v_statement ->> 'household_member') > 40 then
      raise exception using errcode = '22023',
        message = format('Statement %s: household_member is at most 40 characters.', v_index);
    end if;
  end loop;

  insert into private.extracted_messages (interaction_id, user_id, extractor, statements)
  values (p_interaction_id, p_user_id, p_extractor, p_statements)
  on conflict (interaction_id) do nothing;
  if not found then
    return 0;  -- already applied (a retried job): nothing twice
  end if;

  for v_statement in select s.value from jsonb_array_elements(p_statements) as s loop
    if v_statement ? 'insight_type' then
      v_type := v_statement ->> 'insight_type';
      v_key := v_statement ->> 'insight_key';
      if v_statement ->> 'action' = 'remember' then
        v_expires_at := private.try_timestamptz(v_statement ->> 'expires_at');
        perform private.remember_insight(
          p_user_id, v_type, v_key, pg_catalog.btrim(v_statement ->> 'insight_value'), 'explicit',
          pg_catalog.jsonb_build_object(
            'source', 'message', 'interaction_ids', pg_catalog.jsonb_build_array(p_interaction_id),
            'message', v_message, 'message_id', v_message_id, 'said_at', v_said_at, 'extractor', p_extractor)
            || case when jsonb_typeof(v_statement -> 'details') = 'object'
                    then pg_catalog.jsonb_build_object('details', v_statement -> 'details') else '{}'::jsonb end,
          v_expires_at);
      else
        perform private.end_insight(p_user_id, v_type, v_key, pg_catalog.jsonb_build_object(
          'ended_at', now(), 'interaction_id', p_interaction_id, 'message', v_message, 'extractor', p_extractor));
      end if;
      continue;
    end if;
    v_type := v_statement ->> 'preference_type';
    v_key := pg_catalog.btrim(v_statement ->> 'preference_key');
    v_value := v_statement ->> 'preference_value';
    v_member := nullif(pg_catalog.btrim(v_statement ->> 'household_member'), '');
    v_reason := coalesce(nullif(pg_catalog.btrim(v_statement ->> 'reason'), ''), 'You told us in a chat message');
    if v_statement ->> 'action' = 'remember' then
      perform private.remember_explicit(
        p_user_id, v_type, v_key, v_value, v_reason,
        pg_catalog.jsonb_build_object('source', 'message', 'interaction_id', p_interaction_id)
          || case when v_member is null then '{}'::jsonb
                  else pg_catalog.jsonb_build_object('household_member', v_member) end,
        v_message_id);
      -- Stating it again answers a pending removal: it stays.
      update public.customer_preferences as cp set pending_removal = null
       where cp.user_id = p_user_id and cp.preference_type = v_type and cp.preference_key = v_key
         and cp.pending_removal is not null;
    elsif v_type in ('allergy', 'dietary') then
      -- Safety: never removed or lowered on a message's word; the shopper confirms or rejects.
      update public.customer_preferences as cp
         set pending_removal = pg_catalog.jsonb_build_object(
               'requested_at', now(), 'interaction_id', p_interaction_id, 'message', v_message,
               'extractor', p_extractor)
       where cp.user_id = p_user_id and cp.preference_type = v_type and cp.preference_key = v_key;
    else
      delete from public.customer_preferences as cp
       where cp.user_id = p_user_id and cp.preference_type = v_type and cp.preference_key = v_key;
      perform private.suppress_memory(p_user_id, 'preference', v_type, v_key);
    end if;
  end loop;
  return jsonb_array_length(p_statements);
end;
$$;
revoke all on function public.worker_apply_stated_preferences(uuid, uuid, jsonb, text)
  from public, anon, authenticated, service_role;
grant execute on function public.worker_apply_stated_preferences(uuid, uuid, jsonb, text) to service_role;
comment on function public.worker_apply_stated_preferences(uuid, uuid, jsonb, text) is
  'Worker only: apply what a shopper stated in one of their messages, once: remember as explicit; forget a '
  'dislike, favourite or brand (deleted and suppressed); for an allergy or a diet, a pending removal that the '
  'shopper confirms or rejects; for an insight (statements with insight_type), remember it as explicit with the '
  'message as evidence, or end it (kept on the page with what ended it, out of the prompt).';

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

-- Rebuild the brand catalog from the live log (every shopper's orders, no shopper kept): a full scan, for a
-- rebuild on demand (an import, a benchmark); the catalog is otherwise kept current by private.brand_catalog_add.
create or replace function public.worker_refresh_brand_catalog()
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_count integer;
begin
  perform private.require_service_role();
  delete from private.brand_catalog where true;
  insert into private.brand_catalog (category, brand)
  select distinct l.category, l.brand
    from (select pg_catalog.lower(pg_catalog.btrim(i ->> 'category')) as category, private.brand_key(i ->> 'brand') as brand
            from public.interaction_history as ih
            cross join lateral pg_catalog.jsonb_array_elements(
              case when pg_catalog.jsonb_typeof(ih.interaction_value -> 'items') = 'array'
                   then ih.interaction_value -> 'items' else '[]'::jsonb end) as i
           where ih.interaction_type = 'checkout') as l
   where l.category <> '' and l.brand is not null and char_length(l.category) <= 255;
  delete from private.category_brands where true;
  insert into private.category_brands (category, brands)
  select bc.category, count(*)::integer from private.brand_catalog as bc group by bc.category;
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;
revoke all on function public.worker_refresh_brand_catalog() from public, anon, authenticated, service_role;
grant execute on function public.worker_refresh_brand_catalog() to service_role;
comment on function public.worker_refresh_brand_catalog() is
  'Worker only: rebuild the brands on offer in each category from every shopper''s orders (no ids kept); the '
  'catalog is otherwise kept current as checkouts arrive.';

-- Recount how shoppers in general shop (private.pattern_population) and how long they go between buying the same
-- item (private.repeat_intervals), from every shopper's checkouts up to p_now: the pattern window for the buckets,
-- the last year for the intervals. Nothing is replaced while fewer than p_min_shoppers shoppers have three orders in
-- the window (a handful of shoppers is no population): returns 0 then, else how many rows it wrote. A plain
-- maintenance job: it reads every checkout of the window and writes two small tables, no shopper named.
create or replace function public.worker_refresh_pattern_population(
  p_now timestamptz default now(), p_min_shoppers integer default 200
)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_shoppers integer;
  v_count integer;
  v_intervals integer;
begin
  perform private.require_service_role();
  if p_now is null or not pg_catalog.isfinite(p_now) then
    raise exception using errcode = '22023', message = 'The moment to refresh at must be a finite timestamp.';
  end if;
  if p_min_shoppers is null or p_min_shoppers < 1 then
    raise exception using errcode = '22023', message = 'The minimum number of shoppers must be at least 1.';
  end if;
  select count(*)::integer into v_shoppers
    from (select ih.user_id
            from public.interaction_history as ih
           where ih.interaction_type = 'checkout'
             and coalesce(private.try_timestamptz(ih.interaction_value ->> 'placed_at'), ih.created_at)
                 between p_now - private.pattern_recency() and p_now
           group by ih.user_id
          having count(distinct coalesce(ih.interaction_key, ih.id::text)) >= 3) as s;
  if v_shoppers < p_min_shoppers then
    return 0;
  end if;

  delete from private.pattern_population where true;
  insert into private.pattern_population (pattern_type, pattern_key, share, shoppers)
  with shoppers as (
    select distinct ih.user_id
      from public.interaction_history as ih
     where ih.interaction_type = 'checkout'
       and coalesce(private.try_timestamptz(ih.interaction_value ->> 'placed_at'), ih.created_at)
           between p_now - private.pattern_recency() and p_now
  ),
  o as (
    select s.user_id, c.*
      from shoppers as s
      cross join lateral private.checkouts(s.user_id, p_now) as c
     where c.placed_at > p_now - private.pattern_recency()
  ),
  counted as (
    select o.user_id, count(*)::integer as total from o group by o.user_id having count(*) >= 3
  ),
  buckets as (
    select o.user_id, 'time_of_day' as pattern_type, private.time_of_day(o.local_at) as pattern_key from o
    union all
    select o.user_id, 'day_of_week', pg_catalog.to_char(o.local_at, 'FMday') from o
    union all
    select o.user_id, 'basket_size', b.band from o cross join lateral private.basket_band(o.item_count) as b
    union all
    select c.user_id, 'category_preference', c.category
      from (select distinct o.user_id, o.interaction_id,
                   left(pg_catalog.lower(pg_catalog.btrim(i ->> 'category')), 255) as category
              from o cross join lateral pg_catalog.jsonb_array_elements(o.items) as i
             where pg_catalog.btrim(coalesce(i ->> 'category', '')) <> '') as c
  ),
  gaps as (
    select g.user_id, f.band
      from (select o.user_id,
                   extract(epoch from o.placed_at - lag(o.placed_at) over (partition by o.user_id order by o.placed_at))::numeric
                     / 86400 as days
              from o) as g
      cross join lateral private.frequency_band(g.days) as f
     where g.days is not null
  ),
  shares as (
    select b.user_id, b.pattern_type, b.pattern_key, count(*)::numeric / c.total as share
      from buckets as b join counted as c using (user_id)
     group by b.user_id, b.pattern_type, b.pattern_key, c.total
    union all
    select g.user_id, 'frequency', g.band, count(*)::numeric / (c.total - 1)
      from gaps as g join counted as c using (user_id)
     group by g.user_id, g.band, c.total
  )
  select s.pattern_type, s.pattern_key, least(1, sum(s.share) / n.shoppers), count(*)::integer
    from shares as s cross join (select count(*) as shoppers from counted) as n
   group by s.pattern_type, s.pattern_key, n.shoppers;
  get diagnostics v_count = row_count;

  delete from private.repeat_intervals where true;
  insert into private.repeat_intervals (scope, key, median_days, q25_days, q75_days, gaps)
  with lines as (
    select distinct ih.user_id, i ->> 'sku' as sku,
           left(pg_catalog.lower(pg_catalog.btrim(coalesce(i ->> 'category', ''))), 255) as category,
           (coalesce(private.try_timestamptz(ih.interaction_value ->> 'placed_at'), ih.created_at)
              at time zone 'UTC')::date as day
      from public.interaction_history as ih
      cross join lateral pg_catalog.jsonb_array_elements(
        case when pg_catalog.jsonb_typeof(ih.interaction_value -> 'items') = 'array'
             then ih.interaction_value -> 'items' else '[]'::jsonb end) as i
     where ih.interaction_type = 'checkout'
       and coalesce(private.try_timestamptz(ih.interaction_value ->> 'placed_at'), ih.created_at)
           between p_now - interval '1 year' and p_now
       and char_length(coalesce(i ->> 'sku', '')) between 1 and 255
  ),
  gaps as (
    select l.sku, l.category, (l.day - lag(l.day) over (partition by l.user_id, l.sku order by l.day))::numeric as days
      from lines as l
  ),
  scoped as (
    select 'sku' as scope, g.sku as key, g.days from gaps as g where g.days is not null
    union all
    select 'category', g.category, g.days from gaps as g where g.days is not null and g.category <> ''
    union all
    select 'all', 'all', g.days from gaps as g where g.days is not null
  )
  select s.scope, s.key,
         (percentile_cont(0.5) within group (order by s.days))::numeric,
         (percentile_cont(0.25) within group (order by s.days))::numeric,
         (percentile_cont(0.75) within group (order by s.days))::numeric,
         count(*)::integer
    from scoped as s
   group by s.scope, s.key
  having count(*) >= 20;
  get diagnostics v_intervals = row_count;
  return v_count + v_intervals;
end;
$$;
revoke all on function public.worker_refresh_pattern_population(timestamptz, integer)
  from public, anon, authenticated, service_role;
grant execute on function public.worker_refresh_pattern_population(timestamptz, integer) to service_role;
comment on function public.worker_refresh_pattern_population(timestamptz, integer) is
  'Worker only: recount how shoppers in general shop (the share of their orders per pattern bucket) and how long they '
  'go between buying the same item, from every shopper''s checkouts up to p_now (no ids kept); nothing changes while '
  'fewer than p_min_shoppers shoppers have three orders in the pattern window.';
