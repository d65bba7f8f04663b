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
-- Confidence (numeric(3,2), inferred at most 0.95) is the calibrated probability that later behaviour bears the
-- claim out (private.claim_model, fitted by benchmarks/calibrate.py); a claim below its type's floor is not stored.
-- Time is when an event happened (private.event_time), never its arrival.
-- Every inference counts only evidence created after private.evidence_since(...) (forgotten memories stay
-- forgotten) and never touches an explicit preference.

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

-- When an event happened: a checkout's placed_at; a cart add's added_at, never later than its arrival (a client
-- clock cannot push evidence into the future); otherwise its arrival.
create or replace function private.event_time(p_type text, p_value jsonb, p_created_at timestamptz)
returns timestamptz
language sql
stable
set search_path = ''
as $$
  select case p_type
           when 'checkout' then coalesce(private.try_timestamptz(p_value ->> 'placed_at'), p_created_at)
           when 'cart_add' then least(p_created_at, coalesce(private.try_timestamptz(p_value ->> 'added_at'), p_created_at))
           else p_created_at end;
$$;
revoke all on function private.event_time(text, jsonb, timestamptz) from public, anon, authenticated, service_role;

-- Whether an item is meat or fish, from the product taxonomy it carries (department, category) or a client's tag.
create or replace function private.is_meat(p_item jsonb)
returns boolean
language sql
immutable
set search_path = ''
as $$
  select (pg_catalog.jsonb_typeof(p_item -> 'tags') = 'array' and p_item -> 'tags' ? 'meat')
      or pg_catalog.lower(concat_ws(' ', p_item ->> 'department', p_item ->> 'category'))
         ~ '\m(meats?|beef|pork|poultry|chicken|turkey|seafood|fish|sausages?|bacon|ham|lamb|veal|hot dogs?|lunchmeat|jerky|salmon|tuna|shrimp|shellfish)\M';
$$;
revoke all on function private.is_meat(jsonb) from public, anon, authenticated, service_role;

-- Whether an item says what it is (a department or a category): only such items can show that an order had no meat.
create or replace function private.has_taxonomy(p_item jsonb)
returns boolean
language sql
immutable
set search_path = ''
as $$
  select pg_catalog.btrim(coalesce(p_item ->> 'department', p_item ->> 'category', '')) <> '';
$$;
revoke all on function private.has_taxonomy(jsonb) from public, anon, authenticated, service_role;

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


-- Pattern buckets ------------------------------------------------------------------------------------------------
-- The buckets and bands a pattern claims, in one place: the shopper's patterns (private.pattern_candidates) and the
-- population's shares of the same buckets (public.worker_refresh_pattern_population) use these.
create or replace function private.time_of_day(p_local_at timestamp)
returns text
language sql
immutable
set search_path = ''
as $$
  select case when h.hour between 5 and 11 then 'morning' when h.hour between 12 and 16 then 'afternoon'
              when h.hour between 17 and 20 then 'evening' else 'night' end
    from (select extract(hour from p_local_at)::integer as hour) as h;
$$;
revoke all on function private.time_of_day(timestamp) from public, anon, authenticated, service_role;

create or replace function private.time_of_day_range(p_key text)
returns text
language sql
immutable
set search_path = ''
as $$
  select case p_key when 'morning' then '05:00-12:00' when 'afternoon' then '12:00-17:00'
                    when 'evening' then '17:00-21:00' else '21:00-05:00' end;
$$;
revoke all on function private.time_of_day_range(text) from public, anon, authenticated, service_role;

-- The band of a gap between orders, in days: [min_days, max_days).
create or replace function private.frequency_band(p_days numeric)
returns table (band text, min_days integer, max_days integer)
language sql
immutable
set search_path = ''
as $$
  select case when p_days < 4 then 'several_per_week' when p_days < 10 then 'weekly'
              when p_days < 21 then 'biweekly' else 'monthly' end,
         case when p_days < 4 then 0 when p_days < 10 then 4 when p_days < 21 then 10 else 21 end,
         case when p_days < 4 then 4 when p_days < 10 then 10 when p_days < 21 then 21 else 91 end;
$$;
revoke all on function private.frequency_band(numeric) from public, anon, authenticated, service_role;

-- The band of a basket's items: [min_items, max_items), max_items null for "or more".
create or replace function private.basket_band(p_items numeric)
returns table (band text, min_items integer, max_items integer)
language sql
immutable
set search_path = ''
as $$
  select case when p_items < 10 then 'small' when p_items < 25 then 'medium' else 'large' end,
         case when p_items < 10 then 0 when p_items < 25 then 10 else 25 end,
         case when p_items < 10 then 10 when p_items < 25 then 25 end;
$$;
revoke all on function private.basket_band(numeric) from public, anon, authenticated, service_role;


-- Derivations ----------------------------------------------------------------------------------------------------
-- Every candidate pattern of the pattern window (private.pattern_recency()), one per type (a category: one per
-- category of at least two orders, the 20 most frequent), each a measurement that states its figures: the share of
-- the shopper's orders (or, for frequency, of the gaps between them) in the bucket, the orders, the window, the
-- band, the population's share of the same bucket (private.pattern_population) and the lift (share / population
-- share), with its calibrated probability of holding over the next 90 days and the evidence the probability rests
-- on (x1..x3 in pattern_value.features). private.derive_patterns keeps those with a lift of at least
-- private.pattern_min_lift() at or above their type's floor. Time of day and weekday: the most common bucket, scored
-- by its share, the orders and its lead over the next; frequency: the band of the median gap between orders;
-- basket size: the band of the median basket; a category: the share of orders with an item of it.
create or replace function private.pattern_candidates(p_user_id uuid, p_now timestamptz)
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
    select 'time_of_day' as pattern_type, private.time_of_day(o.local_at) as pattern_key,
           o.interaction_id, o.created_at, o.placed_at
      from o
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
    select c.*, row_number() over (partition by c.pattern_type order by c.k desc, c.pattern_key collate "C") as rank,
           lead(c.k) over (partition by c.pattern_type order by c.k desc, c.pattern_key collate "C") as next_k
      from counted as c
     where c.k > 0
  ),
  buckets_scored as (
    select r.*, n.total, r.k::numeric / n.total as share,
           case when r.pattern_type = 'category_preference'
                then array[r.k::numeric / n.total, pg_catalog.ln(1 + n.total),
                           extract(epoch from p_now - r.last_at)::numeric / (30 * 86400)]
                else array[r.k::numeric / n.total, pg_catalog.ln(1 + n.total),
                           (r.k - coalesce(r.next_k, 0))::numeric / n.total] end as x
      from ranked as r cross join n
     where (r.pattern_type <> 'category_preference' and r.rank = 1)
        or (r.pattern_type = 'category_preference' and r.k >= 2 and r.rank <= 20)
  ),
  -- frequency and basket size describe all orders: forgetting one ignores the orders recorded before it.
  typed_since as (
    select s.memory_type, max(s.forgotten_at) as since
      from private.memory_suppressions as s
     where s.user_id = p_user_id and s.memory_kind = 'pattern' and s.memory_type in ('frequency', 'basket_size')
     group by s.memory_type
  ),
  gaps as (
    select extract(epoch from g.placed_at - g.previous)::numeric / 86400 as days, g.placed_at
      from (select o.placed_at, lag(o.placed_at) over (order by o.placed_at) as previous
              from o
             where o.created_at > coalesce((select t.since from typed_since as t where t.memory_type = 'frequency'),
                                           '-infinity')) as g
     where g.previous is not null
  ),
  freq as (
    select count(*)::integer as c, round(avg(g.days), 1) as avg_days,
           round((percentile_cont(0.5) within group (order by g.days))::numeric, 1) as median_days,
           coalesce(stddev_samp(g.days) / nullif(avg(g.days), 0), 0) as spread, max(g.placed_at) as last_at
      from gaps as g
    having count(*) >= 1
  ),
  freq_claim as (
    select f.*, k.band, k.min_days, k.max_days,
           (select count(*) from gaps as g where g.days >= k.min_days and g.days < k.max_days)::numeric / f.c as share
      from freq as f
      cross join lateral private.frequency_band(f.median_days) as k
  ),
  sized as (
    select o.* from o
     where o.created_at > coalesce((select t.since from typed_since as t where t.memory_type = 'basket_size'),
                                   '-infinity')
  ),
  basket as (
    select count(*)::integer as c, round(avg(s.item_count), 1) as avg_items, round(avg(s.total), 2) as avg_total,
           round((percentile_cont(0.5) within group (order by s.item_count))::numeric, 1) as median_items,
           max(s.placed_at) as last_at
      from sized as s
    having count(*) >= 1
  ),
  basket_claim as (
    select b.*, k.band, k.min_items, k.max_items,
           (select count(*) from sized as s
             where s.item_count >= k.min_items and s.item_count < coalesce(k.max_items::numeric, 'infinity'))::numeric / b.c
             as share
      from basket as b
      cross join lateral private.basket_band(b.median_items) as k
  ),
  claims as (
    select r.pattern_type, r.pattern_key, r.share, r.k as orders, r.total, r.x, r.last_at,
           case r.pattern_type
             when 'time_of_day' then pg_catalog.jsonb_build_object('range', private.time_of_day_range(r.pattern_key))
             else '{}'::jsonb end as band
      from buckets_scored as r
    union all
    select 'frequency', f.band, f.share, f.c + 1, f.c + 1,
           array[pg_catalog.ln(1 + f.c), f.spread, f.share], f.last_at,
           pg_catalog.jsonb_build_object('min_days', f.min_days, 'max_days', f.max_days, 'avg_days', f.avg_days,
                                         'median_days', f.median_days, 'gaps', f.c)
      from freq_claim as f
    union all
    select 'basket_size', b.band, b.share, round(b.share * b.c)::integer, b.c, array[b.share, pg_catalog.ln(1 + b.c), 0],
           b.last_at,
           pg_catalog.jsonb_build_object('min_items', b.min_items, 'max_items', b.max_items, 'avg_items', b.avg_items,
                                         'median_items', b.median_items, 'avg_total', b.avg_total)
      from basket_claim as b
  )
  select c.pattern_type, c.pattern_key,
         c.band || pg_catalog.jsonb_build_object(
           'share', round(c.share, 2), 'orders', c.orders, 'total_orders', c.total,
           'window_days', extract(day from private.pattern_recency())::integer,
           'population_share', round(pp.share, 3),
           'lift', round(c.share / nullif(pp.share, 0), 2),
           'features', pg_catalog.to_jsonb(c.x)),
         private.claim_probability('pattern:' || c.pattern_type, c.x[1], c.x[2], c.x[3]),
         case when c.pattern_type = 'frequency' then c.total else c.orders end, c.last_at
    from claims as c
    left join private.pattern_population as pp
      on pp.pattern_type = c.pattern_type and pp.pattern_key = c.pattern_key;
$$;
revoke all on function private.pattern_candidates(uuid, timestamptz) from public, anon, authenticated, service_role;

-- What is stored: a bucket that holds for this shopper more than for shoppers in general (lift) and whose
-- calibrated probability of holding is at or above its type's floor.
create or replace function private.derive_patterns(p_user_id uuid, p_now timestamptz)
returns table (
  pattern_type text, pattern_key text, pattern_value jsonb, confidence numeric, occurrence_count integer,
  last_occurrence timestamptz
)
language sql
stable
set search_path = ''
as $$
  select c.* from private.pattern_candidates(p_user_id, p_now) as c
   where c.confidence >= private.claim_floor('pattern:' || c.pattern_type)
     and (c.pattern_value ->> 'lift')::numeric >= private.pattern_min_lift();
$$;
revoke all on function private.derive_patterns(uuid, timestamptz) from public, anon, authenticated, service_role;

-- Every candidate with its evidence and calibrated probability (benchmarks/calibrate.py fits on these);
-- private.derive_preferences keeps those at or above their type's floor.
create or replace function private.preference_candidates(p_user_id uuid, p_now timestamptz)
returns table (
  preference_type text, preference_key text, preference_value text, confidence numeric, reason text,
  source text, times_confirmed integer, last_confirmed_at timestamptz, evidence jsonb
)
language sql
stable
set search_path = ''
as $$
  with sup as (
    select s.memory_type, s.memory_key, s.forgotten_at
      from private.memory_suppressions as s
     where s.user_id = p_user_id and s.memory_kind = 'preference'
  ),
  orders as (select c.* from private.checkouts(p_user_id, p_now) as c),
  adds as (
    select ih.id, ih.created_at, ih.interaction_value as item,
           private.event_time('cart_add', ih.interaction_value, ih.created_at) as at
      from public.interaction_history as ih
     where ih.user_id = p_user_id and ih.interaction_type = 'cart_add'
  ),
  -- Purchase lines and cart adds, each on its day: an add and the order it went into are one occasion.
  events as (
    select o.interaction_id as id, o.created_at, o.placed_at as at, i.value as item
      from orders as o cross join lateral pg_catalog.jsonb_array_elements(o.items) as i
    union all
    select a.id, a.created_at, a.at, a.item from adds as a where a.at <= p_now
  ),
  days as (
    select e.*, (e.at at time zone 'UTC')::date as day from events as e
  ),
  shopping as (
    -- Days with any shopping in the last 90 days (what a favourite's share is of), and how long the history is, in
    -- 90-day windows (at least one): a rate per window stays comparable whether the history is 3 months or 3 years.
    select (count(distinct d.day) filter (where d.at > p_now - private.pattern_recency()))::integer as days90,
           greatest(1, extract(epoch from p_now - min(d.at))::numeric
                       / extract(epoch from private.pattern_recency())::numeric) as windows
      from days as d
  ),
  -- Favourites: the share of recent shopping days on which the SKU was bought or added.
  sku_days as (
    select d.item ->> 'sku' as sku, d.day, max(d.at) as at,
           (pg_catalog.array_agg(d.item ->> 'name' order by d.at desc))[1] as name,
           (pg_catalog.array_agg(left(pg_catalog.lower(pg_catalog.btrim(d.item ->> 'category')), 255)
                                 order by d.at desc))[1] as category,
           pg_catalog.array_agg(d.id::text order by d.at desc) as ids
      from days as d
      left join sup on sup.memory_type = 'favorite' and sup.memory_key = d.item ->> 'sku'
     where coalesce(d.item ->> 'sku', '') <> '' and d.created_at > coalesce(sup.forgotten_at, '-infinity')
     group by d.item ->> 'sku', d.day
  ),
  favorites as (
    select s.sku, (pg_catalog.array_agg(s.name order by s.at desc))[1] as name,
           (pg_catalog.array_agg(s.category order by s.at desc))[1] as category,
           (count(*) filter (where s.at > p_now - private.pattern_recency()))::integer as k90,
           count(*)::integer as k_all, max(s.at) as last_at,
           (pg_catalog.array_agg(s.ids[1] order by s.at desc))[1:20] as ids
      from sku_days as s
     group by s.sku
    having count(*) filter (where s.at > p_now - private.pattern_recency()) >= 2
  ),
  -- Buy-again timing of a favourite bought on three days or more: the days between the days it was bought (the
  -- last 20), their median and quartiles shrunk toward the population's for the SKU, else its category, else all
  -- items (private.repeat_intervals) with the weight of three gaps, so that two gaps say little and twenty a lot.
  sku_gaps as (
    select s.sku, s.day, (s.day - lag(s.day) over (partition by s.sku order by s.day))::numeric as days
      from sku_days as s
     where s.sku in (select f.sku from favorites as f)
  ),
  timing as (
    select g.sku, count(g.days)::integer as n,
           (percentile_cont(0.5) within group (order by g.days))::numeric as median_days,
           (percentile_cont(0.25) within group (order by g.days))::numeric as q25_days,
           (percentile_cont(0.75) within group (order by g.days))::numeric as q75_days,
           (pg_catalog.array_agg(g.days order by g.day desc) filter (where g.days is not null))[1:20] as gaps
      from sku_gaps as g
     group by g.sku
    having count(g.days) >= 2
  ),
  -- (With no population yet, the shopper's own gaps alone.)
  timed as (
    select t.sku, t.gaps, t.n, coalesce(p.median_days, t.median_days) as prior_days,
           (t.n * t.median_days + 3 * coalesce(p.median_days, t.median_days)) / (t.n + 3) as usual_days,
           (t.n * t.q25_days + 3 * coalesce(p.q25_days, t.q25_days)) / (t.n + 3) as from_days,
           (t.n * t.q75_days + 3 * coalesce(p.q75_days, t.q75_days)) / (t.n + 3) as until_days
      from timing as t
      join favorites as f using (sku)
      left join lateral (
        select ri.median_days, ri.q25_days, ri.q75_days
          from private.repeat_intervals as ri
         where (ri.scope = 'sku' and ri.key = t.sku) or (ri.scope = 'category' and ri.key = f.category)
            or ri.scope = 'all'
         order by case ri.scope when 'sku' then 1 when 'category' then 2 else 3 end
         limit 1
      ) as p on true
  ),
  -- Evidence: days bought in the last 90 days, days bought per 90 days over the whole history (a count over the
  -- whole history grows with its length, and the mapping fitted on six months would overrate nine), months since.
  favorite_claims as (
    select f.*, sh.days90, round(f.k_all / sh.windows, 2) as per_window, x.x,
           case when t.sku is null then '{}'::jsonb
                else pg_catalog.jsonb_build_object(
                  'usual_interval_days', round(t.usual_days, 1),
                  'due_from', f.last_at + pg_catalog.make_interval(secs => (round(t.from_days, 1) * 86400)::double precision),
                  'due_until', f.last_at + pg_catalog.make_interval(secs => (round(greatest(t.until_days, t.from_days + 1), 1) * 86400)::double precision),
                  'gaps', pg_catalog.to_jsonb(t.gaps), 'prior_interval_days', round(t.prior_days, 1)) end as timing
      from favorites as f cross join shopping as sh
      left join timed as t using (sku)
      cross join lateral (select array[pg_catalog.ln(1 + f.k90), pg_catalog.ln(1 + f.k_all / sh.windows),
                                       extract(epoch from p_now - f.last_at)::numeric / (30 * 86400)] as x) as x
  ),
  -- Brands: days the shopper chose the brand in a category where another was on offer (the catalog, their own
  -- purchases or a swap show it), against all their days in those categories. Swaps are choices too.
  swap_choices as (
    select ih.id, ih.created_at, ih.created_at as at,
           case when a.accepted then ih.interaction_value -> 'replacement' else ih.interaction_value -> 'original' end as item,
           true as contested
      from public.interaction_history as ih
      cross join lateral (
        select case when ih.interaction_type = 'reject_swap' then false
                    when pg_catalog.jsonb_typeof(ih.interaction_value -> 'accepted') = 'boolean'
                      then (ih.interaction_value ->> 'accepted')::boolean
                    else ih.interaction_key = 'accepted' end as accepted
      ) as a
     where ih.user_id = p_user_id and ih.interaction_type in ('swap', 'reject_swap') and ih.created_at <= p_now
  ),
  choices as (
    select c.id, c.created_at, c.at, private.brand_key(c.item ->> 'brand') as brand,
           coalesce(pg_catalog.lower(pg_catalog.btrim(c.item ->> 'category')), '') as category, c.contested
      from (select d.id, d.created_at, d.at, d.item, false as contested from days as d
            union all
            select s.id, s.created_at, s.at, s.item, s.contested from swap_choices as s) as c
  ),
  brand_days as (
    select c.brand, c.category, (c.at at time zone 'UTC')::date as day, max(c.at) as at, bool_or(c.contested) as contested,
           (pg_catalog.array_agg(c.id::text order by c.at desc))[1] as id
      from choices as c
      left join sup on sup.memory_type = 'brand' and sup.memory_key = c.brand
     where c.brand is not null and c.category <> '' and c.created_at > coalesce(sup.forgotten_at, '-infinity')
     group by 1, 2, 3
  ),
  on_offer as (
    select b.category
      from brand_days as b
      left join private.category_brands as cb on cb.category = b.category
     group by b.category, cb.brands
    having coalesce(cb.brands, 0) >= 2 or count(distinct b.brand) >= 2 or bool_or(b.contested)
  ),
  category_days as (
    select b.category, count(distinct b.day)::integer as days
      from brand_days as b join on_offer using (category) group by b.category
  ),
  brand_categories as (
    select b.brand, b.category, count(distinct b.day)::integer as chosen, max(b.at) as last_at,
           (pg_catalog.array_agg(b.id order by b.at desc))[1] as id
      from brand_days as b join on_offer using (category)
     group by b.brand, b.category
  ),
  brands as (
    select bc.brand, sum(bc.chosen)::integer as chosen, sum(cd.days)::integer as offered, max(bc.last_at) as last_at,
           pg_catalog.array_agg(bc.category order by bc.chosen desc, bc.category) as categories,
           (pg_catalog.array_agg(bc.id order by bc.last_at desc))[1:20] as ids
      from brand_categories as bc join category_days as cd using (category)
     group by bc.brand
    having sum(bc.chosen) >= 2
  ),
  -- Evidence: days chosen per 90 days of history (as for favourites), share of its categories' days, months since.
  brand_claims as (
    select b.*, round(b.chosen / sh.windows, 2) as per_window, x.x
      from brands as b cross join shopping as sh
      cross join lateral (select array[pg_catalog.ln(1 + b.chosen / sh.windows), b.chosen::numeric / greatest(b.offered, 1),
                                       extract(epoch from p_now - b.last_at)::numeric / (30 * 86400)] as x) as x
  ),
  -- No meat: the shopper's whole history (since any forget) of orders whose items say what they are.
  meatless as (
    select count(*)::integer as orders, max(o.placed_at) as last_at, min(o.placed_at) as first_at,
           (pg_catalog.array_agg(o.interaction_id::text order by o.placed_at desc))[1:20] as ids
      from orders as o
      left join sup on sup.memory_type = 'dietary' and sup.memory_key = 'vegetarian'
     where o.created_at > coalesce(sup.forgotten_at, '-infinity')
       and exists (select 1 from pg_catalog.jsonb_array_elements(o.items) as i where private.has_taxonomy(i))
    having count(*) >= 1
       and not bool_or(exists (select 1 from pg_catalog.jsonb_array_elements(o.items) as i where private.is_meat(i)))
  )
  select 'favorite', f.sku, left(coalesce(f.name, f.sku), 2000), private.claim_probability('favorite', f.x[1], f.x[2], f.x[3]),
         'Bought on ' || f.k90 || ' of your ' || f.days90 || ' shopping days in the last 90 days', 'pattern',
         f.k90, f.last_at,
         pg_catalog.jsonb_build_object('rule', 'favorite', 'days_bought_90', f.k90, 'shopping_days_90', f.days90,
                                       'days_bought', f.k_all, 'days_bought_per_90_days', f.per_window,
                                       'last_bought', f.last_at,
                                       'interaction_ids', pg_catalog.to_jsonb(f.ids), 'features', pg_catalog.to_jsonb(f.x))
           || f.timing
    from favorite_claims as f
  union all
  select 'brand', b.brand, left(b.brand, 2000), private.claim_probability('brand', b.x[1], b.x[2], b.x[3]),
         'Chosen on ' || b.chosen || ' of ' || b.offered || ' days you bought ' ||
           case when pg_catalog.cardinality(b.categories) = 1 then b.categories[1]
                else pg_catalog.cardinality(b.categories) || ' categories where it has rivals' end,
         'pattern', b.chosen, b.last_at,
         pg_catalog.jsonb_build_object('rule', 'brand', 'days_chosen', b.chosen, 'days_chosen_per_90_days', b.per_window,
                                       'days_in_categories', b.offered,
                                       'categories', pg_catalog.to_jsonb(b.categories[1:20]), 'last_chosen', b.last_at,
                                       'interaction_ids', pg_catalog.to_jsonb(b.ids), 'features', pg_catalog.to_jsonb(b.x))
    from brand_claims as b
  union all
  select 'dietary', 'vegetarian', 'usually buys no meat',
         private.claim_probability('dietary:vegetarian', pg_catalog.ln(1 + m.orders), 0, 0),
         'No meat or fish in any of ' || m.orders || ' orders since ' || pg_catalog.to_char(m.first_at, 'YYYY-MM-DD'),
         'pattern', m.orders, m.last_at,
         pg_catalog.jsonb_build_object('rule', 'no meat in the whole history', 'orders', m.orders,
                                       'first_order', m.first_at, 'last_order', m.last_at,
                                       'interaction_ids', pg_catalog.to_jsonb(m.ids),
                                       'features', pg_catalog.jsonb_build_array(pg_catalog.ln(1 + m.orders), 0, 0))
    from meatless as m;
$$;
revoke all on function private.preference_candidates(uuid, timestamptz) from public, anon, authenticated, service_role;

create or replace function private.derive_preferences(p_user_id uuid, p_now timestamptz)
returns table (
  preference_type text, preference_key text, preference_value text, confidence numeric, reason text,
  source text, times_confirmed integer, last_confirmed_at timestamptz, evidence jsonb
)
language sql
stable
set search_path = ''
as $$
  select c.preference_type, c.preference_key, c.preference_value, c.confidence, c.reason, c.source,
         c.times_confirmed, c.last_confirmed_at, c.evidence
    from (select c.*, row_number() over (partition by c.preference_type
                                         order by c.confidence desc, c.times_confirmed desc, c.preference_key) as rank
            from private.preference_candidates(p_user_id, p_now) as c) as c
   where c.confidence >= private.claim_floor(case c.preference_type when 'dietary' then 'dietary:' || c.preference_key
                                                                    else c.preference_type end)
     and c.rank <= case c.preference_type when 'favorite' then 25 else 10 end;
$$;
revoke all on function private.derive_preferences(uuid, timestamptz) from public, anon, authenticated, service_role;

-- Inferred insights, and the questions inference may ask (status 'question': shown on the page, never in the
-- prompt, until the shopper answers Yes). Each rule is kept only where benchmarks/learning.py measured it against
-- what happened later (README, "Learning benchmark"; benchmarks/RESULTS.md):
-- - persona store-label, a share claim: the store label's share of the items of the last 90 days' orders (at
--   least 50 items), claimed as "at least" 0.6 of that share rounded down to 5%, only when that is 20% or more.
--   Out of time it held for 0.970 of the households claimed (learned to 2017-07-01, checked on Jul-Sep; 0.957 a
--   quarter earlier) and 0.955 on the holdout, against 0.85-0.86 for the naive "at least 20%"
--   (benchmarks/insight_rules.py): confidence 0.95, the cap for an inference.
-- - context children, a question only (children are never stated on inference alone): baby food, formula or
--   diapers in at least 3 of the last 10 orders (at least 5 orders). Against Complete Journey's demographics
--   0.54-0.68 of the households asked have children (base rate 0.36): a good question, not a fact.
-- Not derived: household size from basket size (at most 0.66 precision for "3 or more people" at the largest
-- baskets), organic share (the median shopper buys none: no claim reaches 0.90 with enough shoppers), coupon use
-- (checkouts do not carry coupons), and every rule the older benchmark rejected (family household 41% against 36%
-- for the largest baskets, budget-conscious 50% against 42%, meal prep with no defensible check). Evidence from
-- before a forget (or a No) never counts (private.evidence_since). What the shopper stated or confirmed is never
-- touched by a recompute (worker_recompute_user).
create or replace function private.derive_insights(p_user_id uuid, p_now timestamptz)
returns table (
  insight_type text, insight_key text, insight_value text, confidence numeric, supporting_data jsonb,
  expires_at timestamptz, status text
)
language sql
stable
set search_path = ''
as $$
  with o as materialized (
    select c.interaction_id, c.placed_at, c.items from private.checkouts(p_user_id, p_now) as c
  ),
  label as (
    select count(*) as items,
           count(*) filter (where pg_catalog.jsonb_typeof(i.value -> 'tags') = 'array'
                              and i.value -> 'tags' ? 'store_brand') as store_items,
           count(distinct o.interaction_id) as orders
      from o cross join lateral pg_catalog.jsonb_array_elements(o.items) as i
     where o.placed_at > p_now - private.pattern_recency()
       and o.placed_at > private.evidence_since(p_user_id, 'insight', 'persona', 'store-label')
  ),
  label_claim as (
    select l.items, l.store_items, l.orders,
           pg_catalog.floor(0.6 * l.store_items / l.items * 20) / 20 as at_least
      from label as l
     where l.items >= 50
  ),
  last_orders as (
    select o.interaction_id, o.placed_at,
           exists (select from pg_catalog.jsonb_array_elements(o.items) as i
                    where pg_catalog.lower(i.value ->> 'category') ~ '(baby|infant|diaper)') as baby
      from o
     where o.placed_at > private.evidence_since(p_user_id, 'insight', 'context', 'children')
     order by o.placed_at desc, o.interaction_id
     limit 10
  ),
  baby as (
    select count(*) filter (where b.baby) as baby_orders, count(*) as orders,
           coalesce(pg_catalog.jsonb_agg(b.interaction_id order by b.placed_at desc) filter (where b.baby), '[]')
             as ids
      from last_orders as b
  )
  select 'persona', 'store-label',
         format('Often chooses the store label (at least %s%% of items)', (c.at_least * 100)::integer),
         0.95,
         pg_catalog.jsonb_build_object(
           'summary', format('the store label on %s of the %s items you bought in the last 90 days',
                             c.store_items, c.items),
           'items', c.items, 'store_label_items', c.store_items, 'orders', c.orders, 'at_least', c.at_least,
           'window_days', 90, 'measured_precision', 0.97),
         null::timestamptz, 'active'
    from label_claim as c
   where c.at_least >= 0.20
  union all
  select 'context', 'children', 'Shopping for young children', 0.63,
         pg_catalog.jsonb_build_object(
           'question', 'Are you shopping for young children?',
           'because', format('We noticed baby food, formula or diapers in %s of your last %s orders',
                             b.baby_orders, b.orders),
           'orders', b.baby_orders, 'of_orders', b.orders, 'interaction_ids', b.ids, 'measured_precision', 0.63),
         null::timestamptz, 'question'
    from baby as b
   where b.orders >= 5 and b.baby_orders >= 3;
$$;
revoke all on function private.derive_insights(uuid, timestamptz) from public, anon, authenticated, service_role;

-- Insights the shopper stated or confirmed ------------------------------------------------------------------------
-- Remember an insight the shopper said (source explicit, from a chat message) or confirmed (source confirmed, their
-- Yes to a question): active at 1.00. What was stored under the same type and key (a question, an ended insight,
-- an earlier statement) is updated in place, its earlier value kept in supporting_data.previous when it changes
-- ("two kids" after "one kid"), and any earlier "forget this" is lifted. The callers have validated the input and
-- checked who is asking. Returns the insight's id.
create or replace function private.remember_insight(
  p_user_id uuid, p_type text, p_key text, p_value text, p_source text, p_supporting_data jsonb,
  p_expires_at timestamptz
)
returns uuid
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_id uuid;
  v_stated bigint;
begin
  if not exists (select from public.memory_insights as mi
                  where mi.user_id = p_user_id and mi.insight_type = p_type and mi.insight_key = p_key
                    and mi.source <> 'inferred') then
    perform private.lock_memory(p_user_id, 'stated-insights');
    select count(*) into v_stated from public.memory_insights as mi
     where mi.user_id = p_user_id and mi.source <> 'inferred';
    if v_stated >= private.volume_limit('stated_insights') then
      raise exception using errcode = '22023',
        message = format('This shopper has %s stated insights, the most kept; forget one before adding another.',
                         v_stated);
    end if;
  end if;

  insert into public.memory_insights as mi
    (user_id, insight_type, insight_key, insight_value, confidence, supporting_data, expires_at, source, status, ended)
  values (p_user_id, p_type, p_key, p_value, 1.00, p_supporting_data, p_expires_at, p_source, 'active', null)
  on conflict on constraint memory_insights_user_type_key_key do update
    set insight_value = excluded.insight_value, confidence = 1.00,
        supporting_data = excluded.supporting_data
          || case when mi.status = 'question' or mi.insight_value = excluded.insight_value then '{}'::jsonb
                  else pg_catalog.jsonb_build_object('previous', pg_catalog.jsonb_build_object(
                         'value', mi.insight_value, 'source', mi.source, 'status', mi.status,
                         'until', now())) end,
        expires_at = excluded.expires_at, source = excluded.source, status = 'active', ended = null
  returning mi.id into v_id;

  delete from private.memory_suppressions as s
   where s.user_id = p_user_id and s.memory_kind = 'insight' and s.memory_type = p_type and s.memory_key = p_key;
  return v_id;
end;
$$;
revoke all on function private.remember_insight(uuid, text, text, text, text, jsonb, timestamptz)
  from public, anon, authenticated, service_role;

-- The shopper says an insight no longer holds ("the dog died", "the kids moved out"). Nothing is deleted on a
-- message's word: an active insight becomes ended (out of the prompt at once, kept on the page with what ended
-- it, where the shopper can delete it or say it still holds); an unanswered question is dismissed (deleted). Either
-- way older evidence never suggests it again (a suppression, lifted by a later statement). Returns 'ended',
-- 'dismissed' or 'none' (nothing was stored under that key).
create or replace function private.end_insight(p_user_id uuid, p_type text, p_key text, p_ended jsonb)
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_outcome text := 'none';
begin
  update public.memory_insights as mi set status = 'ended', ended = p_ended
   where mi.user_id = p_user_id and mi.insight_type = p_type and mi.insight_key = p_key and mi.status = 'active';
  if found then
    v_outcome := 'ended';
  else
    delete from public.memory_insights as mi
     where mi.user_id = p_user_id and mi.insight_type = p_type and mi.insight_key = p_key and mi.status = 'question';
    if found then
      v_outcome := 'dismissed';
    end if;
  end if;
  perform private.suppress_memory(p_user_id, 'insight', p_type, p_key);
  return v_outcome;
end;
$$;
revoke all on function private.end_insight(uuid, text, text, jsonb) from public, anon, authenticated, service_role;
