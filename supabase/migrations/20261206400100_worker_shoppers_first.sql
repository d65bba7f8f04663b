-- Shoppers first: jobs carry a priority (0: a shopper's own event, 1: a recompute maintenance asked for, 2:
-- maintenance itself), claims take them in that order, and maintenance (retention, expiry, the precomputed
-- documents) is a job of its own with no shopper, never run inline before the worker claims. A shopper's job
-- pending p_busy_seconds is waited for at claim, so a shopper who never pauses is still recomputed.

alter table private.jobs alter column user_id drop not null;
alter table private.jobs add column priority smallint not null default 0;
alter table private.jobs drop constraint jobs_kind_check;
alter table private.jobs add constraint jobs_kind_check check (kind in ('recompute', 'retention', 'expiry', 'contexts'));
alter table private.jobs add constraint jobs_recompute_has_shopper check ((kind = 'recompute') = (user_id is not null));
alter table private.jobs add constraint jobs_priority_range check (priority between 0 and 2);
create unique index jobs_pending_maintenance_idx on private.jobs (kind) where status = 'pending' and user_id is null;
drop index private.jobs_due_idx;
create index jobs_due_idx on private.jobs (priority, run_after, id) where status = 'pending';
comment on table private.jobs is
  'Work for the worker: one recompute per shopper with new or deleted evidence, and maintenance (no shopper); '
  'pending, running (leased), done or failed (parked).';
comment on column private.jobs.priority is
  '0: a shopper''s own event; 1: a recompute maintenance asked for (backfill, retention); 2: maintenance. Lower runs first.';

drop function public.worker_claim_jobs(text, integer, integer, integer);

create or replace function private.enqueue_recompute(p_user_ids uuid[])
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_count integer;
  v_priority smallint := case when pg_catalog.current_setting('customer_memory.maintenance', true) = 'on' then 1
                              else 0 end;
begin
  -- DO UPDATE, not DO NOTHING: the row lock it takes keeps a worker from claiming the pending job until this
  -- transaction ends, so the recompute always sees this transaction's events (users in id order: no deadlock).
  insert into private.jobs as j (user_id, kind, priority)
  select u.id, 'recompute', v_priority
    from auth.users as u
   where u.id = any (p_user_ids)
   order by u.id
  on conflict (user_id, kind) where status = 'pending'
  do update set updated_at = excluded.updated_at, priority = least(j.priority, excluded.priority);
  get diagnostics v_count = row_count;
  if v_count > 0 then
    perform pg_catalog.pg_notify('customer_memory_jobs', 'recompute');
  end if;
  return v_count;
end;
$$;
revoke all on function private.enqueue_recompute(uuid[]) from public, anon, authenticated, service_role;

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
   where j.user_id is not distinct from v_job.user_id and j.kind = v_job.kind and j.status = 'pending'
   for update;
  if v_pending_id is null then
    update private.jobs as j
       set status = 'pending', run_after = p_run_after, attempts = p_attempts, last_error = p_error,
           locked_by = null, locked_until = null, updated_at = now()
     where j.id = p_job_id;
  else
    update private.jobs as j
       set attempts = greatest(j.attempts, p_attempts), run_after = greatest(j.run_after, p_run_after),
           last_error = coalesce(p_error, j.last_error), priority = least(j.priority, v_job.priority),
           updated_at = now()
     where j.id = v_pending_id;
    delete from private.jobs as j where j.id = p_job_id;
  end if;
end;
$$;
revoke all on function private.requeue_job(bigint, timestamptz, text, integer)
  from public, anon, authenticated, service_role;

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
  v_ids bigint[] := '{}';
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

create or replace function public.worker_enqueue_maintenance(p_kind text)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.require_service_role();
  if p_kind is null or p_kind not in ('retention', 'expiry', 'contexts') then
    raise exception using errcode = '22023', message = 'The maintenance job must be retention, expiry or contexts.';
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
  'Worker only: enqueue a maintenance job (retention, expiry or contexts) behind every shopper''s job, once.';

create or replace function public.worker_archive_interactions(
  p_months integer, p_now timestamptz default now(), p_batch integer default 10000
)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_count integer;
begin
  perform private.require_service_role();
  if p_months is null or p_months < 1 then
    raise exception using errcode = '22023', message = 'The retention period must be at least one month.';
  end if;
  if p_batch is null or p_batch < 1 then
    raise exception using errcode = '22023', message = 'The batch size must be at least 1.';
  end if;
  -- The recomputes these moves enqueue are maintenance: behind every shopper's own events.
  perform pg_catalog.set_config('customer_memory.maintenance', 'on', true);
  with old as (
    select ih.id from public.interaction_history as ih
     where ih.created_at < p_now - pg_catalog.make_interval(months => p_months)
     order by ih.created_at
     limit p_batch
     for update skip locked
  ),
  moved as (
    delete from public.interaction_history as ih using old where ih.id = old.id
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
  'Worker only: move interactions older than p_months to the archive, at most p_batch per call.';

