-- interaction_history partitioned by month of created_at (issue 19): retention moves whole months to the archive
-- instead of scanning the log, and the log shrinks when it does. The events move into the new table as they are
-- (no trigger fires: nothing is recorded or deleted); the monthly partitions span the oldest event to three months
-- ahead, each in the private schema with RLS, the log's two policies and no grant. private.extracted_messages loses
-- its foreign key (a partitioned table's key is (id, created_at)): a trigger deletes its rows with their message.

-- The log as it was, set aside (index names are relation names: they move out of the way too).
alter table public.interaction_history rename to interaction_history_unpartitioned;
do $$
declare
  v_name text;
begin
  -- Constraint names too (the key, the checks, the foreign key, and on PostgreSQL 18 the named NOT NULLs), so the
  -- new table's own get the names they have in a fresh install.
  for v_name in
    select c.conname from pg_catalog.pg_constraint as c
     where c.conrelid = 'public.interaction_history_unpartitioned'::regclass
  loop
    execute pg_catalog.format('alter table public.interaction_history_unpartitioned rename constraint %I to %I',
                              v_name, pg_catalog.replace(v_name, 'interaction_history_', 'interaction_history_old_'));
  end loop;
end;
$$;
alter index public.interaction_history_user_created_idx rename to interaction_history_unpartitioned_user_created_idx;
alter index public.interaction_history_user_type_idx rename to interaction_history_unpartitioned_user_type_idx;
alter index public.interaction_history_session_idx rename to interaction_history_unpartitioned_session_idx;
alter table private.extracted_messages drop constraint extracted_messages_interaction_id_fkey;
comment on column private.extracted_messages.interaction_id is null;

-- The log's CHECK calls it, and the planner evaluates a partition's CHECK when a shopper reads the log (00_constants.sql).
grant execute on function private.interaction_types() to authenticated, service_role;

-- The partitioned log (10_memory_tables.sql, 11_memory_rls_grants.sql).
create table public.interaction_history (
  id uuid not null default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  interaction_type text not null,
  interaction_key text,
  interaction_value jsonb not null default '{}'::jsonb,
  session_id uuid,
  message_id text,
  created_at timestamptz not null default now(),
  constraint interaction_history_pkey primary key (id, created_at),
  constraint interaction_history_interaction_type_check check (interaction_type = any (private.interaction_types())),
  constraint interaction_history_interaction_key_length check (char_length(interaction_key) between 1 and 255),
  constraint interaction_history_interaction_value_object check (jsonb_typeof(interaction_value) = 'object'),
  constraint interaction_history_interaction_value_size check (pg_column_size(interaction_value) <= 262144),
  constraint interaction_history_message_id_length check (char_length(message_id) between 1 and 255)
) partition by range (created_at);
create table private.interaction_history_default partition of public.interaction_history default;

create index interaction_history_user_created_idx on public.interaction_history (user_id, created_at desc);
create index interaction_history_user_type_idx on public.interaction_history (user_id, interaction_type);
create index interaction_history_session_idx on public.interaction_history (session_id) where session_id is not null;

comment on table public.interaction_history is
  'Append-only log of what a shopper did (cart adds, checkouts, swaps, messages); every memory is derived from it.';
comment on column public.interaction_history.interaction_type is
  'question, search, view_item, cart_add, checkout, swap, reject_swap, message, preference_stated or voice_used.';
comment on column public.interaction_history.interaction_key is 'What it was about: recipe_request, a SKU, accepted.';
comment on column public.interaction_history.interaction_value is 'The full event as a JSON object (at most 256 KiB).';
comment on table private.interaction_history_default is
  'Events of a month without a partition of its own (private.ensure_interaction_partitions moves them when it makes one).';

revoke all on table public.interaction_history from public, anon, authenticated, service_role;
grant select, delete on table public.interaction_history to authenticated;
grant select, insert, update, delete on table public.interaction_history to service_role;
revoke all on table private.interaction_history_default from public, anon, authenticated, service_role;

alter table public.interaction_history enable row level security;

create policy "Shoppers can view their own interactions"
  on public.interaction_history for select to authenticated
  using ((select auth.uid()) = user_id);

create policy "Shoppers can delete their own interactions"
  on public.interaction_history for delete to authenticated
  using ((select auth.uid()) = user_id);

-- Every partition of the log (the default one here; the monthly ones as private.ensure_interaction_partitions makes
-- them) has RLS and the log's two policies, and no grant: a client reaches the log through the parent only.
alter table private.interaction_history_default enable row level security;

create policy "Shoppers can view their own interactions"
  on private.interaction_history_default for select to authenticated
  using ((select auth.uid()) = user_id);

create policy "Shoppers can delete their own interactions"
  on private.interaction_history_default for delete to authenticated
  using ((select auth.uid()) = user_id);

create or replace function private.ensure_interaction_partitions(p_from timestamptz, p_to timestamptz)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_month date;
  v_name text;
  v_start timestamptz;
  v_end timestamptz;
  v_count integer := 0;
begin
  if p_from is null or p_to is null or p_to < p_from or p_to > p_from + interval '10 years' then
    raise exception using errcode = '22023', message = 'The partitions must span from a moment to a later one within ten years.';
  end if;
  v_month := pg_catalog.date_trunc('month', p_from at time zone 'UTC')::date;
  while v_month <= pg_catalog.date_trunc('month', p_to at time zone 'UTC')::date loop
    v_name := 'interaction_history_p' || pg_catalog.to_char(v_month, 'YYYY_MM');
    v_start := v_month::timestamp at time zone 'UTC';
    v_end := (v_month + interval '1 month')::timestamp at time zone 'UTC';
    if pg_catalog.to_regclass('private.' || v_name) is null then
      if exists (select from private.interaction_history_default as d
                  where d.created_at >= v_start and d.created_at < v_end) then
        -- The month's rows wait in the default partition: a table of the log's shape takes them, then joins the log.
        execute pg_catalog.format(
          'create table private.%I (like public.interaction_history including defaults including constraints)', v_name);
        execute pg_catalog.format(
          'with moved as (delete from private.interaction_history_default as d where d.created_at >= %L '
          'and d.created_at < %L returning d.*) insert into private.%I select * from moved', v_start, v_end, v_name);
        execute pg_catalog.format(
          'alter table public.interaction_history attach partition private.%I for values from (%L) to (%L)',
          v_name, v_start, v_end);
      else
        execute pg_catalog.format(
          'create table private.%I partition of public.interaction_history for values from (%L) to (%L)',
          v_name, v_start, v_end);
      end if;
      execute pg_catalog.format('revoke all on table private.%I from public, anon, authenticated, service_role', v_name);
      execute pg_catalog.format('alter table private.%I enable row level security', v_name);
      execute pg_catalog.format('create policy "Shoppers can view their own interactions" on private.%I for select '
                                'to authenticated using ((select auth.uid()) = user_id)', v_name);
      execute pg_catalog.format('create policy "Shoppers can delete their own interactions" on private.%I for delete '
                                'to authenticated using ((select auth.uid()) = user_id)', v_name);
      execute pg_catalog.format('comment on table private.%I is %L', v_name,
                                'The events of one month (UTC) of interaction_history; retention moves it whole.');
      v_count := v_count + 1;
    end if;
    v_month := v_month + interval '1 month';
  end loop;
  return v_count;
end;
$$;
revoke all on function private.ensure_interaction_partitions(timestamptz, timestamptz)
  from public, anon, authenticated, service_role;

-- Months from the oldest event (or 13 months back) to three ahead; then the events, as they are.
select private.ensure_interaction_partitions(
  least(now() - interval '13 months',
        coalesce((select min(u.created_at) from public.interaction_history_unpartitioned as u), now())),
  now() + interval '3 months');
insert into public.interaction_history
  (id, user_id, interaction_type, interaction_key, interaction_value, session_id, message_id, created_at)
select u.id, u.user_id, u.interaction_type, u.interaction_key, u.interaction_value, u.session_id, u.message_id,
       u.created_at
  from public.interaction_history_unpartitioned as u;
drop table public.interaction_history_unpartitioned;

-- The log's triggers, on the new table (12_memory_helpers.sql, 32_worker_helpers.sql).
create trigger interaction_history_volume_inserted
  after insert on public.interaction_history
  referencing new table as changed_rows
  for each statement execute function private.interaction_history_count();

create trigger interaction_history_volume_deleted
  after delete on public.interaction_history
  referencing old table as changed_rows
  for each statement execute function private.interaction_history_count();

create trigger interaction_history_enqueue_inserted
  after insert on public.interaction_history
  referencing new table as changed_rows
  for each statement execute function private.interaction_history_enqueue();

create trigger interaction_history_enqueue_deleted
  after delete on public.interaction_history
  referencing old table as changed_rows
  for each statement execute function private.interaction_history_enqueue();

create trigger interaction_history_brand_catalog
  after insert on public.interaction_history
  referencing new table as changed_rows
  for each statement execute function private.brand_catalog_add();

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

-- Retention by month (10_memory_tables.sql, 11_memory_rls_grants.sql, 33_worker_functions.sql).
create table private.retention_moves (
  month text not null,
  user_id uuid not null,
  events bigint not null,
  event_bytes bigint not null,
  constraint retention_moves_pkey primary key (month, user_id),
  constraint retention_moves_month_length check (char_length(month) between 1 and 63)
);
comment on table private.retention_moves is
  'Shoppers of a month retention copied to the archive, until its partition is dropped and they are caught up.';
revoke all on table private.retention_moves from public, anon, authenticated, service_role;
alter table private.retention_moves enable row level security;

-- Retention: interactions older than p_months move to private.interaction_archive (still their owner's), a month
-- at a time, in three steps, one per call, so that the moment the log is locked whole (to drop a partition) holds
-- nothing a shopper's call waits for: (1) a month wholly past the window is copied to the archive, the messages
-- read in it are forgotten and its shoppers noted in private.retention_moves; (2) the next call drops its
-- partition (the log shrinks at once; a busy log, lock_timeout, waits for the next pass); (3) the next calls
-- recompute its shoppers behind every shopper's own events and lower their volume, p_batch shoppers at a time.
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
    -- (2) A month copied to the archive but still in the log: drop it, holding nothing else.
    select m.month into v_month from private.retention_moves as m
     where pg_catalog.to_regclass('private.' || m.month) is not null
     order by m.month limit 1;
    if found then
      execute pg_catalog.format('drop table private.%I', v_month);
      return 1;
    end if;
    -- (3) A dropped month's shoppers: their recompute (jobs before volume, as the log's triggers take them).
    select m.month into v_month from private.retention_moves as m order by m.month limit 1;
    if found then
      select pg_catalog.array_agg(m.user_id order by m.user_id) into v_users
        from (select r.user_id from private.retention_moves as r where r.month = v_month
               order by r.user_id limit p_batch) as m;
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

-- The claim's empty list typed as such (plpgsql_check: no text-to-array cast at run time).
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

