-- Baseline of the worker area: the project's first 18 migrations (2026-11-24), squashed before its first release.
-- It equals 30_worker_tables.sql, 31_worker_rls_grants.sql, 32_worker_helpers.sql, 33_worker_functions.sql of supabase/schemas/ as they were when it was written;
-- the drift test holds migrations and schema files to the same database. Never edit it: a change is a new
-- migration plus the same edit in the schema file, in the same commit (README, Conventions).

-- ==== supabase/schemas/30_worker_tables.sql =====================================================================

-- Worker: the job queue in Postgres, and what the worker keeps about messages it has read.
--
-- Recording (or deleting) an event enqueues one 'recompute' job for its shopper, deduplicated while pending, and
-- wakes the workers with NOTIFY. Workers claim due jobs with FOR UPDATE SKIP LOCKED and a lease; a job whose
-- lease runs out (its worker died) is claimed again; a failing job is retried with exponential backoff and parked
-- as 'failed', with its last error, after the maximum number of attempts. Periodic jobs (sweep, expiry, retention)
-- run once per interval across every worker through a last-run row taken under a row lock.
-- The queue is the truth: a missed wake-up only delays work until the next sweep.
-- Grants, RLS and the Realtime publication are in 31_worker_rls_grants.sql.

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

-- The chat messages read for stated preferences: the worker extracts what the shopper states (in Python) and
-- applies it once per message (worker_apply_stated_preferences).
create table private.extracted_messages (
  interaction_id uuid primary key references public.interaction_history (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  extractor text not null,
  statements jsonb not null,
  extracted_at timestamptz not null default now(),
  constraint extracted_messages_extractor_length check (char_length(extractor) between 1 and 100),
  constraint extracted_messages_statements_array check (jsonb_typeof(statements) = 'array')
);
create index extracted_messages_user_idx on private.extracted_messages (user_id);
comment on table private.extracted_messages is
  'Chat messages the worker has read for stated preferences, with what it found; each message is applied once.';

-- ==== supabase/schemas/31_worker_rls_grants.sql =================================================================

-- Worker: who may touch the worker's tables. Only worker_* functions (security definer) read and write them; the
-- one exception is the Realtime wake-up below.

-- Grants ---------------------------------------------------------------------------------------------------------
revoke all on table private.jobs from public, anon, authenticated, service_role;
revoke all on table private.periodic_runs from public, anon, authenticated, service_role;
revoke all on table private.extracted_messages from public, anon, authenticated, service_role;

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

-- ==== supabase/schemas/32_worker_helpers.sql ====================================================================

-- Worker: the private helpers of the worker functions (33_worker_functions.sql): enqueueing (and the triggers
-- that enqueue when evidence changes), requeueing, and the derivations.
--
-- The derivations: what the worker derives from the event log (ARCHITECTURE.md section 5), as set-based SQL run per
-- shopper over the checkouts of the pattern window (private.pattern_recency()). Patterns, inferred preferences and
-- insights are projections of interaction_history: private.derive_* compute what they should be at a given moment
-- `p_now` (a parameter, so tests and the old completejourney data are deterministic), and
-- public.worker_recompute_user writes exactly that, removing what lost its evidence. Running it twice changes
-- nothing the second time; rebuilding from the log gives what incremental runs gave.
--
-- Confidence (numeric(3,2), inferred at most 0.95):
--   bucket patterns and shares: k / (n + 2) for k of n orders (the share, discounted when orders are few);
--   frequency: (n - 1) / (n + 1) for n orders (n - 1 gaps); basket size: n / (n + 2);
--   favorites: min(0.95, 0.5 + 0.05 n) for n purchases (n >= 3 orders of the window) or n cart adds (n > 5, the
--   API's private.cart_add_favorite_confidence); brands: least(0.95, base + 0.10 * accepted + 0.15 * rejected swaps), base 0.50
--   or the brand-share confidence when higher; vegetarian: 0.30 + 0.05 per order in a run of >= 8 with no meat.
-- Every inference counts only evidence created after private.evidence_since(...) (forgotten memories stay
-- forgotten) and never touches an explicit preference.

-- The queue ------------------------------------------------------------------------------------------------------
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


-- Reading event payloads -----------------------------------------------------------------------------------------
-- A brand's preference_key: the brand as the events name it (record_swap keys brand rows the same way), trimmed.
create or replace function private.brand_key(p_brand text)
returns text
language sql
immutable
set search_path = ''
as $$
  select nullif(left(pg_catalog.btrim(p_brand), 255), '');
$$;
revoke all on function private.brand_key(text) from public, anon, authenticated, service_role;

-- Event payloads come from clients: a bad timestamp or time zone must not stop a shopper's recompute.
create or replace function private.try_timestamptz(p_value text)
returns timestamptz
language plpgsql
stable
set search_path = ''
as $$
begin
  return p_value::timestamptz;
exception when others then
  return null;
end;
$$;
revoke all on function private.try_timestamptz(text) from public, anon, authenticated, service_role;

create or replace function private.safe_time_zone(p_zone text)
returns text
language plpgsql
stable
set search_path = ''
as $$
begin
  if p_zone is null or p_zone = '' then
    return 'UTC';
  end if;
  perform pg_catalog.now() at time zone p_zone;
  return p_zone;
exception when others then
  return 'UTC';
end;
$$;
revoke all on function private.safe_time_zone(text) from public, anon, authenticated, service_role;

create or replace function private.json_number(p_value jsonb, p_default numeric)
returns numeric
language sql
immutable
set search_path = ''
as $$
  select case when pg_catalog.jsonb_typeof(p_value) = 'number' then (p_value #>> '{}')::numeric else p_default end;
$$;
revoke all on function private.json_number(jsonb, numeric) from public, anon, authenticated, service_role;

-- A shopper's checkouts up to p_now (one per order id: a retried checkout counts once), with when they were
-- placed in the shopper's own time zone.
create or replace function private.checkouts(p_user_id uuid, p_now timestamptz)
returns table (
  interaction_id uuid, order_id text, created_at timestamptz, placed_at timestamptz, local_at timestamp,
  item_count numeric, total numeric, items jsonb
)
language sql
stable
set search_path = ''
as $$
  select o.id, o.order_id, o.created_at, o.placed_at, o.placed_at at time zone o.tz,
         coalesce(private.json_number(o.v -> 'item_count', null),
                  (select coalesce(sum(private.json_number(i -> 'quantity', 1)), 0)
                     from pg_catalog.jsonb_array_elements(o.items) as i)),
         coalesce(private.json_number(o.v -> 'total', null),
                  (select coalesce(sum(private.json_number(i -> 'price', 0) * private.json_number(i -> 'quantity', 1)), 0)
                     from pg_catalog.jsonb_array_elements(o.items) as i)),
         o.items
    from (
      select distinct on (coalesce(ih.interaction_key, ih.id::text))
             ih.id, coalesce(ih.interaction_key, ih.id::text) as order_id, ih.created_at, ih.interaction_value as v,
             coalesce(private.try_timestamptz(ih.interaction_value ->> 'placed_at'), ih.created_at) as placed_at,
             private.safe_time_zone(ih.interaction_value ->> 'time_zone') as tz,
             case when pg_catalog.jsonb_typeof(ih.interaction_value -> 'items') = 'array'
                  then ih.interaction_value -> 'items' else '[]'::jsonb end as items
        from public.interaction_history as ih
       where ih.user_id = p_user_id and ih.interaction_type = 'checkout'
       order by coalesce(ih.interaction_key, ih.id::text), ih.created_at, ih.id
    ) as o
   where o.placed_at <= p_now;
$$;
revoke all on function private.checkouts(uuid, timestamptz) from public, anon, authenticated, service_role;


-- Derivations ----------------------------------------------------------------------------------------------------
create or replace function private.derive_patterns(p_user_id uuid, p_now timestamptz)
returns table (
  pattern_type text, pattern_key text, pattern_value jsonb, confidence numeric, occurrence_count integer,
  last_occurrence timestamptz
)
language sql
stable
set search_path = ''
as $$
  with o as (
    select c.* from private.checkouts(p_user_id, p_now) as c where c.placed_at > p_now - private.pattern_recency()
  ),
  n as (select count(*)::integer as total from o),
  buckets as (
    select 'time_of_day' as pattern_type,
           case when h.hour between 5 and 11 then 'morning' when h.hour between 12 and 16 then 'afternoon'
                when h.hour between 17 and 20 then 'evening' else 'night' end as pattern_key,
           o.interaction_id, o.created_at, o.placed_at
      from o cross join lateral (select extract(hour from o.local_at)::integer as hour) as h
    union all
    select 'day_of_week', pg_catalog.to_char(o.local_at, 'FMday'), o.interaction_id, o.created_at, o.placed_at
      from o
    union all
    select distinct 'category_preference', left(pg_catalog.lower(pg_catalog.btrim(i ->> 'category')), 255),
           o.interaction_id, o.created_at, o.placed_at
      from o cross join lateral pg_catalog.jsonb_array_elements(o.items) as i
     where pg_catalog.btrim(coalesce(i ->> 'category', '')) <> ''
  ),
  counted as (
    select b.pattern_type, b.pattern_key,
           (count(*) filter (where b.created_at > coalesce(s.forgotten_at, '-infinity')))::integer as k,
           max(b.placed_at) filter (where b.created_at > coalesce(s.forgotten_at, '-infinity')) as last_at
      from buckets as b
      left join private.memory_suppressions as s
        on s.user_id = p_user_id and s.memory_kind = 'pattern'
       and s.memory_type = b.pattern_type and s.memory_key = b.pattern_key
     group by b.pattern_type, b.pattern_key
  ),
  ranked as (
    select c.*, row_number() over (partition by c.pattern_type order by c.k desc, c.pattern_key collate "C") as rank
      from counted as c
     where c.k > 0
  ),
  -- frequency and basket size describe all orders: forgetting one ignores the orders recorded before it.
  typed_since as (
    select s.memory_type, max(s.forgotten_at) as since
      from private.memory_suppressions as s
     where s.user_id = p_user_id and s.memory_kind = 'pattern' and s.memory_type in ('frequency', 'basket_size')
     group by s.memory_type
  ),
  freq as (
    select count(*)::integer as c,
           round((extract(epoch from max(o.placed_at) - min(o.placed_at)) / 86400 / (count(*) - 1))::numeric, 1)
             as avg_days,
           max(o.placed_at) as last_at
      from o
     where o.created_at > coalesce((select t.since from typed_since as t where t.memory_type = 'frequency'), '-infinity')
    having count(*) >= 2
  ),
  basket as (
    select count(*)::integer as c, round(avg(o.item_count), 1) as avg_items, round(avg(o.total), 2) as avg_total,
           max(o.placed_at) as last_at
      from o
     where o.created_at > coalesce((select t.since from typed_since as t where t.memory_type = 'basket_size'), '-infinity')
    having count(*) >= 1
  )
  select r.pattern_type, r.pattern_key,
         case r.pattern_type
           when 'time_of_day' then pg_catalog.jsonb_build_object(
             'range', case r.pattern_key when 'morning' then '05:00-12:00' when 'afternoon' then '12:00-17:00'
                                         when 'evening' then '17:00-21:00' else '21:00-05:00' end,
             'orders', r.k)
           when 'day_of_week' then pg_catalog.jsonb_build_object('orders', r.k, 'total_orders', n.total)
           else pg_catalog.jsonb_build_object('percentage', round(r.k::numeric / n.total, 2), 'orders', r.k)
         end,
         least(0.95, round(r.k::numeric / (n.total + 2), 2)), r.k, r.last_at
    from ranked as r cross join n
   where r.pattern_type <> 'category_preference' or (r.k >= 2 and r.rank <= 20)
  union all
  select 'frequency',
         case when f.avg_days < 4 then 'several_per_week' when f.avg_days < 10 then 'weekly'
              when f.avg_days < 21 then 'biweekly' else 'monthly' end,
         pg_catalog.jsonb_build_object('avg_days', f.avg_days, 'orders', f.c),
         least(0.95, round((f.c - 1)::numeric / (f.c + 1), 2)), f.c, f.last_at
    from freq as f
  union all
  select 'basket_size',
         case when b.avg_items < 10 then 'small' when b.avg_items < 25 then 'medium' else 'large' end,
         pg_catalog.jsonb_build_object('avg_items', b.avg_items, 'avg_total', b.avg_total),
         least(0.95, round(b.c::numeric / (b.c + 2), 2)), b.c, b.last_at
    from basket as b;
$$;
revoke all on function private.derive_patterns(uuid, timestamptz) from public, anon, authenticated, service_role;

create or replace function private.derive_preferences(p_user_id uuid, p_now timestamptz)
returns table (
  preference_type text, preference_key text, preference_value text, confidence numeric, reason text,
  source text, times_confirmed integer, last_confirmed_at timestamptz
)
language sql
stable
set search_path = ''
as $$
  with all_orders as (select c.* from private.checkouts(p_user_id, p_now) as c),
  o as (select a.* from all_orders as a where a.placed_at > p_now - private.pattern_recency()),
  n as (select count(*)::integer as total from o),
  sup as (
    select s.memory_type, s.memory_key, s.forgotten_at
      from private.memory_suppressions as s
     where s.user_id = p_user_id and s.memory_kind = 'preference'
  ),
  lines as (
    select o.interaction_id, o.created_at, o.placed_at, i.value as item
      from o cross join lateral pg_catalog.jsonb_array_elements(o.items) as i
  ),
  -- Favorites: bought in at least 3 orders of the window, or added to the cart more than 5 times (all time).
  purchased as (
    select l.item ->> 'sku' as sku,
           (pg_catalog.array_agg(l.item ->> 'name' order by l.placed_at desc))[1] as name,
           count(distinct l.interaction_id)::integer as times, max(l.placed_at) as last_at
      from lines as l
      left join sup on sup.memory_type = 'favorite' and sup.memory_key = l.item ->> 'sku'
     where coalesce(l.item ->> 'sku', '') <> '' and l.created_at > coalesce(sup.forgotten_at, '-infinity')
     group by l.item ->> 'sku'
    having count(distinct l.interaction_id) >= 3
  ),
  carted as (
    select ih.interaction_key as sku,
           (pg_catalog.array_agg(ih.interaction_value ->> 'name' order by ih.created_at desc))[1] as name,
           count(*)::integer as adds, max(ih.created_at) as last_at
      from public.interaction_history as ih
      left join sup on sup.memory_type = 'favorite' and sup.memory_key = ih.interaction_key
     where ih.user_id = p_user_id and ih.interaction_type = 'cart_add' and ih.created_at <= p_now
       and ih.created_at > coalesce(sup.forgotten_at, '-infinity')
     group by ih.interaction_key
    having count(*) > 5
  ),
  favorites as (
    select coalesce(p.sku, c.sku) as sku,
           -- the stronger evidence wins; on a tie the cart adds (the API writes them first)
           case when c.sku is not null
                 and (p.sku is null or private.cart_add_favorite_confidence(c.adds)
                                       >= private.purchase_favorite_confidence(p.times))
                then 'cart' else 'purchase' end as basis,
           p.name as p_name, p.times, p.last_at as p_last, c.name as c_name, c.adds, c.last_at as c_last
      from purchased as p full join carted as c on c.sku = p.sku
  ),
  top_favorites as (
    select f.* from favorites as f
     order by case f.basis when 'cart' then f.adds else f.times end desc, f.sku
     limit 25
  ),
  -- Brands: share of orders with the brand, and savings swaps.
  brand_orders as (
    select private.brand_key(l.item ->> 'brand') as brand,
           (pg_catalog.array_agg(l.item ->> 'brand' order by l.placed_at desc))[1] as name,
           count(distinct l.interaction_id)::integer as k
      from lines as l
      left join sup on sup.memory_type = 'brand' and sup.memory_key = private.brand_key(l.item ->> 'brand')
     where private.brand_key(l.item ->> 'brand') is not null and l.created_at > coalesce(sup.forgotten_at, '-infinity')
     group by 1
  ),
  brand_share as (
    select b.brand, b.name, b.k, least(0.95, round(b.k::numeric / (n.total + 2), 2)) as share_confidence
      from brand_orders as b cross join n
     where b.k >= 3 and b.k::numeric / n.total >= 0.5
  ),
  swap_events as (
    select case when accepted then private.brand_key(ih.interaction_value #>> '{replacement,brand}')
                else private.brand_key(ih.interaction_value #>> '{original,brand}') end as brand,
           case when accepted then ih.interaction_value #>> '{replacement,brand}'
                else ih.interaction_value #>> '{original,brand}' end as name,
           accepted, ih.created_at
      from public.interaction_history as ih
      cross join lateral (
        select case when ih.interaction_type = 'reject_swap' then false
                    when pg_catalog.jsonb_typeof(ih.interaction_value -> 'accepted') = 'boolean'
                      then (ih.interaction_value ->> 'accepted')::boolean
                    else ih.interaction_key = 'accepted' end as accepted
      ) as a
     where ih.user_id = p_user_id and ih.interaction_type in ('swap', 'reject_swap') and ih.created_at <= p_now
  ),
  swaps as (
    select e.brand, (pg_catalog.array_agg(e.name order by e.created_at desc))[1] as name,
           (count(*) filter (where e.accepted))::integer as accepted,
           (count(*) filter (where not e.accepted))::integer as rejected, max(e.created_at) as last_at
      from swap_events as e
      left join sup on sup.memory_type = 'brand' and sup.memory_key = e.brand
     where e.brand is not null and e.created_at > coalesce(sup.forgotten_at, '-infinity')
     group by e.brand
  ),
  -- Vegetarian: the latest orders (since any suppression), all with tagged items and none tagged meat.
  tagged as (
    select a.interaction_id, a.placed_at,
           exists (select 1 from pg_catalog.jsonb_array_elements(a.items) as i
                    where pg_catalog.jsonb_typeof(i -> 'tags') = 'array' and i -> 'tags' ? 'meat') as has_meat
      from all_orders as a
      left join sup on sup.memory_type = 'dietary' and sup.memory_key = 'vegetarian'
     where a.created_at > coalesce(sup.forgotten_at, '-infinity')
       and exists (select 1 from pg_catalog.jsonb_array_elements(a.items) as i
                    where pg_catalog.jsonb_typeof(i -> 'tags') = 'array')
  ),
  veg as (
    select count(*)::integer as run, max(t.placed_at) as last_at
      from tagged as t
     where t.placed_at > coalesce((select max(m.placed_at) from tagged as m where m.has_meat), '-infinity')
    having count(*) >= 8
  )
  select 'favorite', f.sku,
         left(coalesce(case f.basis when 'cart' then f.c_name else f.p_name end, f.sku), 2000),
         case f.basis when 'cart' then private.cart_add_favorite_confidence(f.adds)
              else private.purchase_favorite_confidence(f.times) end,
         case f.basis when 'cart' then 'Added to cart ' || f.adds || ' times'
              else 'Bought in ' || f.times || ' of the last ' || n.total || ' orders' end,
         case f.basis when 'cart' then 'inferred' else 'pattern' end,
         case f.basis when 'cart' then f.adds else f.times end,
         case f.basis when 'cart' then f.c_last else f.p_last end
    from top_favorites as f cross join n
  union all
  select 'brand', coalesce(s.brand, w.brand), left(coalesce(w.name, s.name), 2000),
         least(0.95, greatest(0.50, coalesce(s.share_confidence, 0)) + 0.10 * coalesce(w.accepted, 0)
                     + 0.15 * coalesce(w.rejected, 0))::numeric(3, 2),
         case when coalesce(w.rejected, 0) > 0 then 'Rejected swap - brand loyalty'
              when coalesce(w.accepted, 0) > 0 then 'Accepted savings swap'
              else 'Chosen in ' || s.k || ' of the last ' || n.total || ' orders' end,
         case when w.brand is null then 'pattern' else 'inferred' end,
         coalesce(s.k, 0) + coalesce(w.accepted, 0) + coalesce(w.rejected, 0),
         w.last_at
    from brand_share as s full join swaps as w on w.brand = s.brand cross join n
  union all
  select 'dietary', 'vegetarian', 'vegetarian', least(0.95, 0.30 + 0.05 * v.run)::numeric(3, 2),
         'No meat in the last ' || v.run || ' orders', 'pattern', v.run, v.last_at
    from veg as v;
$$;
revoke all on function private.derive_preferences(uuid, timestamptz) from public, anon, authenticated, service_role;

create or replace function private.derive_insights(p_user_id uuid, p_now timestamptz)
returns table (
  insight_type text, insight_key text, insight_value text, confidence numeric, supporting_data jsonb,
  expires_at timestamptz
)
language sql
stable
set search_path = ''
as $$
  with sup as (
    select s.memory_type, s.memory_key, s.forgotten_at
      from private.memory_suppressions as s
     where s.user_id = p_user_id and s.memory_kind = 'insight'
  ),
  window_orders as (
    select c.* from private.checkouts(p_user_id, p_now) as c where c.placed_at > p_now - private.pattern_recency()
  ),
  -- Each insight reads the orders recorded after it was last forgotten.
  o as (
    select k.insight_type, k.insight_key, w.*
      from (values ('persona', 'budget_conscious'), ('persona', 'health_focused'), ('goal', 'meal_prep'),
                   ('context', 'family_household'), ('constraint', 'lactose_free')) as k (insight_type, insight_key)
      cross join window_orders as w
      left join sup on sup.memory_type = k.insight_type and sup.memory_key = k.insight_key
     where w.created_at > coalesce(sup.forgotten_at, '-infinity')
  ),
  lines as (
    select o.insight_type, o.insight_key, o.interaction_id, o.placed_at, i.value as item,
           pg_catalog.jsonb_typeof(i.value -> 'tags') = 'array' and i.value -> 'tags' ? 'store_brand' as store_brand,
           pg_catalog.jsonb_typeof(i.value -> 'tags') = 'array' and i.value -> 'tags' ? 'organic' as organic,
           pg_catalog.jsonb_typeof(i.value -> 'tags') = 'array' and i.value -> 'tags' ? 'lactose_free' as lactose_free,
           pg_catalog.lower(coalesce(i.value ->> 'category', '')) = 'dairy' as dairy
      from o cross join lateral pg_catalog.jsonb_array_elements(o.items) as i
  ),
  ids as (
    select o.insight_type, o.insight_key, count(*)::integer as orders, max(o.placed_at) as last_at,
           round(avg(o.item_count), 1) as avg_items,
           pg_catalog.to_jsonb((pg_catalog.array_agg(o.interaction_id::text order by o.placed_at desc))[1:50]) as checkout_ids
      from o group by o.insight_type, o.insight_key
  ),
  budget as (
    select count(*) filter (where l.store_brand) as store_brand_lines, count(*) as all_lines
      from lines as l where l.insight_key = 'budget_conscious'
  ),
  swaps_accepted as (
    select count(*)::integer as accepted,
           pg_catalog.to_jsonb((pg_catalog.array_agg(ih.id::text order by ih.created_at desc))[1:50]) as swap_ids
      from public.interaction_history as ih
      left join sup on sup.memory_type = 'persona' and sup.memory_key = 'budget_conscious'
     where ih.user_id = p_user_id and ih.interaction_type = 'swap' and ih.created_at <= p_now
       and ih.created_at > p_now - private.pattern_recency()
       and ih.created_at > coalesce(sup.forgotten_at, '-infinity')
       and (case when pg_catalog.jsonb_typeof(ih.interaction_value -> 'accepted') = 'boolean'
                 then (ih.interaction_value ->> 'accepted')::boolean else ih.interaction_key = 'accepted' end)
  ),
  health as (
    select count(*) filter (where l.organic) as organic_lines, count(*) as all_lines
      from lines as l where l.insight_key = 'health_focused'
  ),
  large_by_day as (
    select pg_catalog.to_char(o.local_at, 'FMday') as day, count(*)::integer as k, round(avg(o.item_count), 1) as avg_items,
           max(o.placed_at) as last_at,
           pg_catalog.to_jsonb((pg_catalog.array_agg(o.interaction_id::text order by o.placed_at desc))[1:50]) as checkout_ids
      from o where o.insight_key = 'meal_prep' and o.item_count >= 25
     group by 1
  ),
  meal_prep as (
    select d.* from large_by_day as d
     where d.k >= 3 and d.k * 2 >= (select sum(x.k) from large_by_day as x)
     order by d.k desc, d.day limit 1
  ),
  family as (
    select sum(private.json_number(l.item -> 'quantity', 1)) / count(*) as qty_per_line
      from lines as l where l.insight_key = 'family_household'
  ),
  dairy as (
    select count(distinct l.interaction_id)::integer as dairy_orders,
           bool_and(l.lactose_free) as all_lactose_free
      from lines as l where l.insight_key = 'lactose_free' and l.dairy
  )
  select 'persona', 'budget_conscious', 'Consistently chooses store brands and accepts savings swaps',
         least(0.95, round(greatest(b.store_brand_lines::numeric / nullif(b.all_lines, 0) * i.orders / (i.orders + 2),
                                    least(0.90, 0.50 + 0.05 * s.accepted)), 2)),
         pg_catalog.jsonb_build_object(
           'swaps_accepted', s.accepted, 'store_brand_percentage',
           round(b.store_brand_lines::numeric / nullif(b.all_lines, 0), 2), 'orders', i.orders,
           'checkout_ids', i.checkout_ids, 'swap_ids', coalesce(s.swap_ids, '[]'::jsonb)),
         null::timestamptz
    from budget as b cross join swaps_accepted as s
    join ids as i on i.insight_key = 'budget_conscious'
   where (i.orders >= 3 and b.store_brand_lines::numeric / nullif(b.all_lines, 0) >= 0.5) or s.accepted >= 3
  union all
  select 'persona', 'health_focused', 'Prioritizes organic items',
         least(0.95, round(least(1, 0.40 + h.organic_lines::numeric / h.all_lines) * i.orders / (i.orders + 2), 2)),
         pg_catalog.jsonb_build_object(
           'organic_count', h.organic_lines, 'organic_percentage', round(h.organic_lines::numeric / h.all_lines, 2),
           'orders', i.orders, 'checkout_ids', i.checkout_ids),
         null
    from health as h join ids as i on i.insight_key = 'health_focused'
   where i.orders >= 3 and h.organic_lines::numeric / nullif(h.all_lines, 0) >= 0.3
  union all
  select 'goal', 'meal_prep', 'Large orders on ' || initcap(m.day) || 's, likely cooking ahead for the week',
         least(0.95, round(m.k::numeric / (m.k + 2), 2)),
         pg_catalog.jsonb_build_object('day', m.day, 'orders', m.k, 'avg_items', m.avg_items,
                                       'checkout_ids', m.checkout_ids),
         m.last_at + interval '30 days'
    from meal_prep as m
  union all
  select 'context', 'family_household', 'Basket size and quantities suggest a family household',
         least(0.95, round(0.8 * i.orders / (i.orders + 2), 2)),
         pg_catalog.jsonb_build_object('avg_items', i.avg_items, 'avg_quantity_per_item', round(f.qty_per_line, 1),
                                       'orders', i.orders, 'checkout_ids', i.checkout_ids),
         i.last_at + private.pattern_recency()
    from family as f join ids as i on i.insight_key = 'family_household'
   where i.orders >= 3 and (i.avg_items >= 30 or f.qty_per_line >= 2)
  union all
  select 'constraint', 'lactose_free', 'Only buys lactose-free dairy',
         least(0.95, round(d.dairy_orders::numeric / (d.dairy_orders + 2), 2)),
         pg_catalog.jsonb_build_object('lactose_free_percentage', 1.0, 'orders', d.dairy_orders,
                                       'checkout_ids', i.checkout_ids),
         null
    from dairy as d join ids as i on i.insight_key = 'lactose_free'
   where d.dairy_orders >= 3 and d.all_lactose_free;
$$;
revoke all on function private.derive_insights(uuid, timestamptz) from public, anon, authenticated, service_role;

-- ==== supabase/schemas/33_worker_functions.sql ==================================================================

-- Worker: the functions the worker calls, as the service role (worker_*; granted to service_role only). Each starts
-- with private.require_service_role(); they are security definer because the queue and the suppressions live in
-- the private schema.

-- The queue ------------------------------------------------------------------------------------------------------
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
     last_confirmed_at)
  select p_user_id, d.preference_type, d.preference_key, d.preference_value, d.confidence, d.reason, d.source,
         d.times_confirmed, d.last_confirmed_at
    from d
  on conflict (user_id, preference_type, preference_key) do update
     set preference_value = excluded.preference_value, confidence = excluded.confidence, reason = excluded.reason,
         source = excluded.source, times_confirmed = excluded.times_confirmed,
         last_confirmed_at = excluded.last_confirmed_at
   where cp.source <> 'explicit'
     and (cp.preference_value, cp.confidence, cp.reason, cp.source, cp.times_confirmed, cp.last_confirmed_at)
         is distinct from (excluded.preference_value, excluded.confidence, excluded.reason, excluded.source,
                           excluded.times_confirmed, excluded.last_confirmed_at);
  select count(*) into v_preferences from public.customer_preferences as cp
   where cp.user_id = p_user_id and cp.source <> 'explicit';

  with d as (select * from private.derive_insights(p_user_id, p_now) as x where coalesce(x.expires_at > p_now, true)),
  gone as (
    delete from public.memory_insights as mi
     where mi.user_id = p_user_id
       and not exists (select 1 from d where d.insight_type = mi.insight_type and d.insight_key = mi.insight_key)
  )
  insert into public.memory_insights as mi
    (user_id, insight_type, insight_key, insight_value, confidence, supporting_data, expires_at)
  select p_user_id, d.insight_type, d.insight_key, d.insight_value, d.confidence, d.supporting_data, d.expires_at
    from d
  on conflict (user_id, insight_type, insight_key) do update
     set insight_value = excluded.insight_value, confidence = excluded.confidence,
         supporting_data = excluded.supporting_data, expires_at = excluded.expires_at
   where (mi.insight_value, mi.confidence, mi.supporting_data, mi.expires_at)
         is distinct from (excluded.insight_value, excluded.confidence, excluded.supporting_data, excluded.expires_at);
  select count(*) into v_insights from public.memory_insights as mi where mi.user_id = p_user_id;

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

-- Retention: interactions older than p_months move to private.interaction_archive (still their owner's), in
-- batches of p_batch rows so a first run on a large log does not hold locks for long. Returns how many moved.
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

-- p_statements: [{"action": "remember"|"forget", "preference_type", "preference_key", "preference_value",
-- "reason"}]. Returns how many statements were applied (0 when the message was already applied).
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
  v_types text[] := private.preference_types();
begin
  perform private.require_service_role();
  if not exists (select 1 from public.interaction_history as ih
                  where ih.id = p_interaction_id and ih.user_id = p_user_id
                    and ih.interaction_type = 'message' and ih.interaction_key = 'user_message') then
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
  end loop;

  insert into private.extracted_messages (interaction_id, user_id, extractor, statements)
  values (p_interaction_id, p_user_id, p_extractor, p_statements)
  on conflict (interaction_id) do nothing;
  if not found then
    return 0;  -- already applied (a retried job): nothing twice
  end if;

  for v_statement in select s.value from jsonb_array_elements(p_statements) as s loop
    v_type := v_statement ->> 'preference_type';
    v_key := pg_catalog.btrim(v_statement ->> 'preference_key');
    v_value := v_statement ->> 'preference_value';
    v_reason := coalesce(nullif(pg_catalog.btrim(v_statement ->> 'reason'), ''), 'You told us in a chat message');
    if v_statement ->> 'action' = 'remember' then
      perform private.remember_explicit(
        p_user_id, v_type, v_key, v_value, v_reason,
        pg_catalog.jsonb_build_object('source', 'message', 'interaction_id', p_interaction_id),
        (select ih.message_id from public.interaction_history as ih where ih.id = p_interaction_id));
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
  'Worker only: apply what a shopper stated in one of their messages (remember as explicit, or forget and suppress), once.';
