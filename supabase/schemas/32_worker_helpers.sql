-- Worker: the queue's private helpers, used by the worker functions (33_worker_queue.sql, 38-39) and the triggers on
-- interaction_history: enqueueing (and the triggers that enqueue when evidence changes), requeueing, and the brand
-- catalog kept from the checkouts that name new brands.

-- The queue ------------------------------------------------------------------------------------------------------
-- Enqueue a recompute for each shopper in `p_user_ids` (still existing: a deleted account's cascade must not
-- enqueue), deduplicated against the pending job, and wake the workers. A shopper's own change comes first
-- (priority 0); a transaction that maintenance runs (retention) says so with the setting customer_memory.maintenance,
-- and its recomputes wait behind every shopper's (priority 1). A shopper's event lifts a pending maintenance
-- recompute to their priority.
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

-- One function for both triggers: each names its transition table changed_rows (new rows after an insert, old rows
-- after a delete).
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

create trigger interaction_history_enqueue_inserted
  after insert on public.interaction_history
  referencing new table as changed_rows
  for each statement execute function private.interaction_history_enqueue();

-- When evidence is deleted, the memories derived from it are recomputed.
create trigger interaction_history_enqueue_deleted
  after delete on public.interaction_history
  referencing old table as changed_rows
  for each statement execute function private.interaction_history_enqueue();


-- A deleted message takes what the worker read from it with it (private.extracted_messages has no foreign key to the
-- partitioned log).
create or replace function private.interaction_history_forget_extracted()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  delete from private.extracted_messages as e
   using changed_rows as c
   where e.interaction_id = c.id and c.interaction_type = 'message';
  return null;
end;
$$;
revoke all on function private.interaction_history_forget_extracted() from public, anon, authenticated, service_role;

create trigger interaction_history_extracted_deleted
  after delete on public.interaction_history
  referencing old table as changed_rows
  for each statement execute function private.interaction_history_forget_extracted();


-- The brand catalog, kept from the events that change it: the (category, brand) pairs a new checkout names that
-- were not seen before are added, and counted in private.category_brands. Pairs already known cost one index
-- probe each and write nothing; pairs are taken in order, so concurrent checkouts never deadlock.
create or replace function private.brand_catalog_add()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  with pairs as (
    select distinct pg_catalog.lower(pg_catalog.btrim(i ->> 'category')) as category, private.brand_key(i ->> 'brand') as brand
      from changed_rows as c
      cross join lateral pg_catalog.jsonb_array_elements(
        case when pg_catalog.jsonb_typeof(c.interaction_value -> 'items') = 'array'
             then c.interaction_value -> 'items' else '[]'::jsonb end) as i
     where c.interaction_type = 'checkout'
  ),
  fresh as (
    insert into private.brand_catalog (category, brand)
    select p.category, p.brand from pairs as p
     where p.category <> '' and p.brand is not null and char_length(p.category) <= 255
     order by p.category, p.brand
    on conflict (category, brand) do nothing
    returning category
  )
  insert into private.category_brands as cb (category, brands)
  select f.category, count(*)::integer from fresh as f group by f.category order by f.category
  on conflict (category) do update set brands = cb.brands + excluded.brands, refreshed_at = now();
  return null;
end;
$$;
revoke all on function private.brand_catalog_add() from public, anon, authenticated, service_role;

create trigger interaction_history_brand_catalog
  after insert on public.interaction_history
  referencing new table as changed_rows
  for each statement execute function private.brand_catalog_add();
