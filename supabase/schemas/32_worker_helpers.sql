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
