-- Worker: reading the event log, for the derivations (35_worker_derive_patterns.sql,
-- 36_worker_derive_preferences.sql, 37_worker_derive_insights.sql), the worker functions and the context.
--
-- The derivations: what the worker derives from the event log (docs/learning.md; each rule's home: docs/architecture.md), as set-based SQL run per
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
-- placed in the shopper's own time zone. `rows 100` tells the planner what a shopper's history is like: a function
-- with a search_path is never inlined, and the default guess of 1,000 rows, times the items of each, priced
-- private.preference_candidates above jit_above_cost, so every call spent about a second compiling (JIT) a plan that
-- runs in 0.2 s.
create or replace function private.checkouts(p_user_id uuid, p_now timestamptz)
returns table (
  interaction_id uuid, order_id text, created_at timestamptz, placed_at timestamptz, local_at timestamp,
  item_count numeric, total numeric, items jsonb
)
language sql
stable
rows 100
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
