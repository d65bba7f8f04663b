-- Worker: what it learns from behaviour, rebuilt so that a memory is true (issue 10, measured by
-- benchmarks/learning.py on Complete Journey with a temporal holdout).
--
-- Each rule lives in ONE place, here: the API only logs events (record_cart_add and record_swap no longer write
-- preferences of their own), the worker derives every inferred preference, and explain_memory shows the evidence
-- record each memory was written with instead of re-deriving it.
--
-- Confidence is a probability: per claim type, a logistic mapping from the claim's evidence (x1, x2, x3, defined
-- below per type) to the share of such claims that later behaviour validated, fitted on the training months only
-- (benchmarks/calibrate.py prints private.claim_model's rows). A claim is stored only when that probability
-- reaches the type's floor: when unsure, store less.
--
-- Time: every window reads when an event happened (a checkout's placed_at, a cart add's added_at, never later
-- than its arrival), so a history recorded through the API today and backfilled --as-of a past moment is learned
-- as it would have been live. Forgetting still compares arrival times (what was recorded before the forget).

-- Evidence records ------------------------------------------------------------------------------------------------
alter table public.customer_preferences add column evidence jsonb;
alter table public.customer_preferences add constraint customer_preferences_evidence_size
  check (evidence is null or pg_catalog.pg_column_size(evidence) <= 16384);
comment on column public.customer_preferences.evidence is
  'For an inferred preference, the evidence it was derived from: the rule, its figures and the ids of the '
  'interactions behind it (at most 20, newest first). explain_memory shows it.';

-- Which brands are on offer in a category: a brand preference means choosing a brand where others were on offer
-- in the same category. Counted over every shopper's orders by the worker (no shopper is named here).
create table private.category_brands (
  category text primary key,
  brands integer not null,
  refreshed_at timestamptz not null default now(),
  constraint category_brands_category_length check (char_length(category) between 1 and 255),
  constraint category_brands_brands_positive check (brands >= 1)
);
comment on table private.category_brands is
  'How many brands shoppers bought in each category (all shoppers, no ids): a brand is a choice only where there '
  'were others. Refreshed by worker_refresh_brand_catalog.';
revoke all on table private.category_brands from public, anon, authenticated, service_role;
alter table private.category_brands enable row level security;

-- The rules no longer written in the API ----------------------------------------------------------------------------
drop function if exists private.cart_add_favorite_confidence(integer);
drop function if exists private.swap_brand_confidence(numeric, boolean);
drop function if exists private.purchase_favorite_confidence(integer);
drop index if exists public.interaction_history_cart_add_idx;
drop function if exists private.derive_preferences(uuid, timestamptz);

-- The confidence rules: confidence is a probability, calibrated per claim type on the training months ---------
-- logit p = b0 + b1 x1 + b2 x2 + b3 x3, fitted by benchmarks/calibrate.py on Complete Journey's training months
-- (learn to 2017-07-01, validate on Jul-Sep; the holdout Oct-Dec is never used). min_probability is the floor
-- below which the claim is not stored. A type absent here is not derived.
create or replace function private.claim_model(p_claim text)
returns table (b0 numeric, b1 numeric, b2 numeric, b3 numeric, min_probability numeric)
language sql
immutable
set search_path = ''
as $$
  select m.b0, m.b1, m.b2, m.b3, m.min_probability
    from (values
      -- claim,               b0,     b1,     b2,     b3,   floor    x1, x2, x3; fit: candidates, validated -> kept, validated
      ('favorite',           -2.383,  0.225,  1.821, -0.482, 0.86),  -- ln(1+days bought in 90 d), ln(1+days bought ever), months since last; 10350, 0.547 -> 996, 0.904
      ('brand',              -3.450,  0.601,  2.876, -0.212, 0.79)   -- ln(1+days chosen), share of its categories' days, months since last; 15445, 0.294 -> 154, 0.909
      -- Not derived, because on the benchmark's holdout they did not beat the naive baseline (benchmarks/RESULTS.md):
      -- dietary:vegetarian (-0.523, 0.269, 0, 0, floor 0.64: 32 candidates validate 0.469; on the holdout 0 of 2),
      -- pattern:time_of_day (-1.859, -0.072, 0.609, 2.812, 0.92), pattern:frequency (-0.922, 0.917, -1.493, -0.332,
      -- 0.74) and pattern:basket_size (-0.489, 1.082, 0.097, 0, 0.69), each the same bucket as plain counting on the
      -- same shoppers (difference 0); day_of_week (524 candidates validate 0.279) and category_preference (6645,
      -- 0.114) reach 0.90 at no floor.
    ) as m (claim, b0, b1, b2, b3, min_probability)
   where m.claim = p_claim;
$$;
revoke all on function private.claim_model(text) from public, anon, authenticated, service_role;

-- The calibrated probability of a claim with evidence (x1, x2, x3), capped at 0.95 (inferred); NULL for a type
-- that is not derived.
create or replace function private.claim_probability(
  p_claim text, p_x1 double precision, p_x2 double precision, p_x3 double precision
)
returns numeric
language sql
immutable
set search_path = ''
as $$
  select least(0.95, round((1 / (1 + pg_catalog.exp(-greatest(-30, least(30,
           m.b0::float8 + m.b1::float8 * coalesce(p_x1, 0) + m.b2::float8 * coalesce(p_x2, 0)
           + m.b3::float8 * coalesce(p_x3, 0))))))::numeric, 2))
    from private.claim_model(p_claim) as m;
$$;
revoke all on function private.claim_probability(text, double precision, double precision, double precision) from public, anon, authenticated, service_role;

-- Below this probability a claim of the type is not stored (when unsure, store less).
create or replace function private.claim_floor(p_claim text)
returns numeric
language sql
immutable
set search_path = ''
as $$
  select m.min_probability from private.claim_model(p_claim) as m;
$$;
revoke all on function private.claim_floor(text) from public, anon, authenticated, service_role;

-- Whether an inferred diet may be presented as a dietary restriction: only when the benchmark measured its
-- precision at 0.95 or more. None has (vegetarian from purchases: see benchmarks/RESULTS.md), so an inferred
-- diet is a habit ("usually buys no meat"), never a restriction.
create or replace function private.inferred_diet_is_restriction(p_key text)
returns boolean
language sql
immutable
set search_path = ''
as $$
  select false;
$$;
revoke all on function private.inferred_diet_is_restriction(text) from public, anon, authenticated, service_role;

-- The write path: append only ----------------------------------------------------------------------------------------
create or replace function private.insert_events(p_user_id uuid, p_events jsonb)
returns uuid[]
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_ids uuid[];
begin
  -- Append only: what the events mean is derived by the worker (private.derive_preferences), in one place.
  with new_events as (
    select pg_catalog.gen_random_uuid() as id, e.ord, e.event
      from pg_catalog.jsonb_array_elements(p_events) with ordinality as e(event, ord)
  ), inserted as (
    insert into public.interaction_history
      (id, user_id, interaction_type, interaction_key, interaction_value, session_id, message_id)
    select n.id, p_user_id, n.event ->> 'interaction_type',
           case when n.event ->> 'interaction_type' = 'cart_add' then n.event -> 'interaction_value' ->> 'sku'
                else n.event ->> 'interaction_key' end,
           coalesce(nullif(n.event -> 'interaction_value', 'null'::jsonb), '{}'::jsonb),
           (n.event ->> 'session_id')::uuid,
           n.event ->> 'message_id'
      from new_events as n
  )
  select pg_catalog.array_agg(n.id order by n.ord) into v_ids from new_events as n;
  return v_ids;
end;
$$;
revoke all on function private.insert_events(uuid, jsonb) from public, anon, authenticated, service_role;

create or replace function public.record_swap(
  original jsonb, replacement jsonb, accepted boolean, reason text default null
)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := private.require_shopper('record_swap');
  v_problem text := coalesce(private.item_problem(record_swap.original, 'original', false),
                             private.item_problem(record_swap.replacement, 'replacement', false));
begin
  if v_problem is null and nullif(record_swap.original ->> 'brand', '') is null then
    v_problem := 'original.brand is required: a swap teaches which brand the shopper prefers.';
  elsif v_problem is null and nullif(record_swap.replacement ->> 'brand', '') is null then
    v_problem := 'replacement.brand is required: a swap teaches which brand the shopper prefers.';
  elsif v_problem is null and record_swap.accepted is null then
    v_problem := 'accepted must be true (the shopper took the replacement) or false, not null.';
  elsif v_problem is null and char_length(record_swap.reason) > 1000 then
    v_problem := format('reason must be at most 1000 characters, not %s.', char_length(record_swap.reason));
  end if;
  perform private.raise_invalid(v_problem);

  -- The swap is a choice between two brands on offer; the worker counts it with the shopper's other choices.
  return (private.insert_events(v_user_id, jsonb_build_array(jsonb_build_object(
    'interaction_type', 'swap',
    'interaction_key', case when record_swap.accepted then 'accepted' else 'rejected' end,
    'interaction_value', jsonb_build_object(
      'original', record_swap.original, 'replacement', record_swap.replacement,
      'accepted', record_swap.accepted, 'reason', nullif(btrim(record_swap.reason), ''))))))[1];
end;
$$;
revoke all on function public.record_swap(jsonb, jsonb, boolean, text) from public, anon, authenticated, service_role;
grant execute on function public.record_swap(jsonb, jsonb, boolean, text) to authenticated;
comment on function public.record_swap(jsonb, jsonb, boolean, text) is
  'Log a savings swap the signed-in shopper accepted or rejected: a choice of the replacement''s or the original''s '
  'brand where the other was on offer, which the worker counts towards brand preferences. Returns the event id.';

comment on function public.record_cart_add(jsonb, uuid) is
  'Log that the signed-in shopper added an item ({sku, name, category, brand, price, quantity, added_at}) to the '
  'cart; the worker counts it (on its day, with the orders) towards favorites. Returns the event id.';

comment on function public.record_cart_add(jsonb, uuid) is
  'Log that the signed-in shopper added an item ({sku, name, category, brand, price, quantity, added_at}) to the '
  'cart; the worker counts it (on its day, with the orders) towards favorites. Returns the event id.';

-- The derivations ------------------------------------------------------------------------------------------------
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
    select c.*, row_number() over (partition by c.pattern_type order by c.k desc, c.pattern_key collate "C") as rank,
           lead(c.k) over (partition by c.pattern_type order by c.k desc, c.pattern_key collate "C") as next_k
      from counted as c
     where c.k > 0
  ),
  buckets_scored as (
    select r.*, n.total,
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
  gap_class as (
    select g.*, case when g.days < 4 then 'several_per_week' when g.days < 10 then 'weekly'
                     when g.days < 21 then 'biweekly' else 'monthly' end as class
      from gaps as g
  ),
  freq as (
    select count(*)::integer as c, round(avg(g.days), 1) as avg_days,
           round((percentile_cont(0.5) within group (order by g.days))::numeric, 1) as median_days,
           coalesce(stddev_samp(g.days) / nullif(avg(g.days), 0), 0) as spread, max(g.placed_at) as last_at
      from gaps as g
    having count(*) >= 1
  ),
  freq_claim as (
    select f.*, k.class,
           (select count(*) from gap_class as gc where gc.class = k.class)::numeric / f.c as in_class
      from freq as f
      cross join lateral (select case when f.median_days < 4 then 'several_per_week' when f.median_days < 10 then 'weekly'
                                      when f.median_days < 21 then 'biweekly' else 'monthly' end as class) as k
  ),
  sized as (
    select o.*, case when o.item_count < 10 then 'small' when o.item_count < 25 then 'medium' else 'large' end as class
      from o
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
    select b.*, k.class, (select count(*) from sized as s where s.class = k.class)::numeric / b.c as in_class
      from basket as b
      cross join lateral (select case when b.median_items < 10 then 'small' when b.median_items < 25 then 'medium'
                                      else 'large' end as class) as k
  )
  select r.pattern_type, r.pattern_key,
         case r.pattern_type
           when 'time_of_day' then pg_catalog.jsonb_build_object(
             'range', case r.pattern_key when 'morning' then '05:00-12:00' when 'afternoon' then '12:00-17:00'
                                         when 'evening' then '17:00-21:00' else '21:00-05:00' end,
             'orders', r.k, 'total_orders', r.total)
           when 'day_of_week' then pg_catalog.jsonb_build_object('orders', r.k, 'total_orders', r.total)
           else pg_catalog.jsonb_build_object('percentage', round(r.k::numeric / r.total, 2), 'orders', r.k)
         end || pg_catalog.jsonb_build_object('features', pg_catalog.to_jsonb(r.x)),
         private.claim_probability('pattern:' || r.pattern_type, r.x[1], r.x[2], r.x[3]), r.k, r.last_at
    from buckets_scored as r
  union all
  select 'frequency', f.class,
         pg_catalog.jsonb_build_object('avg_days', f.avg_days, 'median_days', f.median_days, 'orders', f.c + 1,
                                       'features', pg_catalog.jsonb_build_array(pg_catalog.ln(1 + f.c), f.spread, f.in_class)),
         private.claim_probability('pattern:frequency', pg_catalog.ln(1 + f.c), f.spread, f.in_class), f.c + 1, f.last_at
    from freq_claim as f
  union all
  select 'basket_size', b.class,
         pg_catalog.jsonb_build_object('avg_items', b.avg_items, 'median_items', b.median_items, 'avg_total', b.avg_total,
                                       'orders', b.c,
                                       'features', pg_catalog.jsonb_build_array(b.in_class, pg_catalog.ln(1 + b.c), 0)),
         private.claim_probability('pattern:basket_size', b.in_class, pg_catalog.ln(1 + b.c), 0), b.c, b.last_at
    from basket_claim as b;
$$;
revoke all on function private.pattern_candidates(uuid, timestamptz) from public, anon, authenticated, service_role;

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
   where c.confidence >= private.claim_floor('pattern:' || c.pattern_type);
$$;
revoke all on function private.derive_patterns(uuid, timestamptz) from public, anon, authenticated, service_role;

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
    -- Days with any shopping in the last 90 days: what a favourite's share is of.
    select count(distinct d.day)::integer as days90 from days as d where d.at > p_now - private.pattern_recency()
  ),
  -- Favourites: the share of recent shopping days on which the SKU was bought or added.
  sku_days as (
    select d.item ->> 'sku' as sku, d.day, max(d.at) as at,
           (pg_catalog.array_agg(d.item ->> 'name' order by d.at desc))[1] as name,
           pg_catalog.array_agg(d.id::text order by d.at desc) as ids
      from days as d
      left join sup on sup.memory_type = 'favorite' and sup.memory_key = d.item ->> 'sku'
     where coalesce(d.item ->> 'sku', '') <> '' and d.created_at > coalesce(sup.forgotten_at, '-infinity')
     group by d.item ->> 'sku', d.day
  ),
  favorites as (
    select s.sku, (pg_catalog.array_agg(s.name order by s.at desc))[1] as name,
           (count(*) filter (where s.at > p_now - private.pattern_recency()))::integer as k90,
           count(*)::integer as k_all, max(s.at) as last_at,
           (pg_catalog.array_agg(s.ids[1] order by s.at desc))[1:20] as ids
      from sku_days as s
     group by s.sku
    having count(*) filter (where s.at > p_now - private.pattern_recency()) >= 2
  ),
  favorite_claims as (
    select f.*, sh.days90, x.x
      from favorites as f cross join shopping as sh
      cross join lateral (select array[pg_catalog.ln(1 + f.k90), pg_catalog.ln(1 + f.k_all),
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
  brand_claims as (
    select b.*, x.x
      from brands as b
      cross join lateral (select array[pg_catalog.ln(1 + b.chosen), b.chosen::numeric / greatest(b.offered, 1),
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
                                       'days_bought', f.k_all, 'last_bought', f.last_at,
                                       'interaction_ids', pg_catalog.to_jsonb(f.ids), 'features', pg_catalog.to_jsonb(f.x))
    from favorite_claims as f
  union all
  select 'brand', b.brand, left(b.brand, 2000), private.claim_probability('brand', b.x[1], b.x[2], b.x[3]),
         'Chosen on ' || b.chosen || ' of ' || b.offered || ' days you bought ' ||
           case when pg_catalog.cardinality(b.categories) = 1 then b.categories[1]
                else pg_catalog.cardinality(b.categories) || ' categories where it has rivals' end,
         'pattern', b.chosen, b.last_at,
         pg_catalog.jsonb_build_object('rule', 'brand', 'days_chosen', b.chosen, 'days_in_categories', b.offered,
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

create or replace function private.derive_insights(p_user_id uuid, p_now timestamptz)
returns table (
  insight_type text, insight_key text, insight_value text, confidence numeric, supporting_data jsonb,
  expires_at timestamptz
)
language sql
stable
set search_path = ''
as $$
  select null::text, null::text, null::text, null::numeric, null::jsonb, null::timestamptz where false;
$$;
revoke all on function private.derive_insights(uuid, timestamptz) from public, anon, authenticated, service_role;

-- The worker's functions --------------------------------------------------------------------------------------------
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
  delete from private.category_brands where true;
  insert into private.category_brands (category, brands)
  select l.category, count(distinct l.brand)::integer
    from (select pg_catalog.lower(pg_catalog.btrim(i ->> 'category')) as category, private.brand_key(i ->> 'brand') as brand
            from public.interaction_history as ih
            cross join lateral pg_catalog.jsonb_array_elements(
              case when pg_catalog.jsonb_typeof(ih.interaction_value -> 'items') = 'array'
                   then ih.interaction_value -> 'items' else '[]'::jsonb end) as i
           where ih.interaction_type = 'checkout') as l
   where l.category <> '' and l.brand is not null and char_length(l.category) <= 255
   group by l.category;
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;
revoke all on function public.worker_refresh_brand_catalog() from public, anon, authenticated, service_role;
grant execute on function public.worker_refresh_brand_catalog() to service_role;
comment on function public.worker_refresh_brand_catalog() is
  'Worker only: recount how many brands are on offer in each category (over every shopper''s orders, no ids kept).';

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

-- explain_memory shows the record an inferred preference was written with (the prompt's side of issue 10 is in
-- 20261128176000_context_inferred_diets_are_habits.sql) ----------------------------------------------------------

create or replace function public.explain_memory(memory_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_user uuid := private.require_shopper('explain_memory');
  v_evidence_cap constant integer := 20;
  v_pref public.customer_preferences;
  v_pattern public.shopping_patterns;
  v_insight public.memory_insights;
  v_event public.interaction_history;
  v_words text;
  v_slug text;
  v_category text;
  v_evidence jsonb;
begin
  if explain_memory.memory_id is null then
    raise exception using errcode = '22023',
      message = 'memory_id is required: pass the id of one of your memories (see my_memories).';
  end if;

  -- A preference: the events that support it, newest first, capped, with the total.
  select p.* into v_pref
  from public.customer_preferences as p
  where p.id = explain_memory.memory_id and p.user_id = v_user;
  if found and v_pref.evidence is not null then
    -- An inferred preference: the evidence record the worker wrote it with (its rule, figures and interactions),
    -- never re-derived here with rules of its own.
    select jsonb_build_object(
             'record', v_pref.evidence - 'interaction_ids',
             'interaction_count', jsonb_array_length(coalesce(v_pref.evidence -> 'interaction_ids', '[]')),
             'interactions', coalesce(jsonb_agg(jsonb_build_object(
                 'id', ih.id, 'interaction_type', ih.interaction_type, 'interaction_key', ih.interaction_key,
                 'created_at', ih.created_at,
                 'detail', case when ih.interaction_type = 'checkout' then
                     jsonb_build_object(
                       'order_id', ih.interaction_value -> 'order_id',
                       'placed_at', ih.interaction_value -> 'placed_at',
                       'item_count', ih.interaction_value -> 'item_count',
                       'items', (select coalesce(jsonb_agg(it.item), '[]') from jsonb_array_elements(
                                   case when jsonb_typeof(ih.interaction_value -> 'items') = 'array'
                                        then ih.interaction_value -> 'items' else '[]' end) as it(item)
                                 where v_pref.preference_type in ('favorite', 'brand')
                                   and (it.item ->> 'sku' = v_pref.preference_key
                                        or nullif(left(btrim(it.item ->> 'brand'), 255), '') = v_pref.preference_key)))
                   else ih.interaction_value end)
               order by ih.created_at desc, ih.id), '[]'))
      into v_evidence
    from public.interaction_history as ih
    where ih.user_id = v_user
      and ih.id in (select ids.value::uuid
                    from jsonb_array_elements_text(coalesce(v_pref.evidence -> 'interaction_ids', '[]')) as ids(value)
                    where ids.value ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                    limit v_evidence_cap);

    return jsonb_build_object(
      'memory', jsonb_build_object(
        'id', v_pref.id, 'memory_kind', 'preference', 'memory_type', v_pref.preference_type,
        'memory_key', v_pref.preference_key, 'value', v_pref.preference_value, 'confidence', v_pref.confidence,
        'reason', v_pref.reason, 'source', v_pref.source, 'evidence_count', v_pref.times_confirmed,
        'last_confirmed_at', v_pref.last_confirmed_at, 'created_at', v_pref.created_at,
        'updated_at', v_pref.updated_at),
      'evidence', v_evidence || jsonb_build_object('interactions_cap', v_evidence_cap));
  end if;
  if found then
    -- What the shopper said: the statements behind it. The key as words for a message search ("lactose_intolerant" -> "lactose intolerant"), regex-safe.
    v_words := nullif(regexp_replace(lower(translate(v_pref.preference_key, '_-', '  ')), '[^a-z0-9 ]', '', 'g'), '');
    v_words := regexp_replace(v_words, '([a-z]{3,})s$', '\1');
    -- Brands are compared as slugs on both sides: 'Great Value', 'great-value' and 'GREAT VALUE' are one brand.
    v_slug := trim(both '-' from regexp_replace(lower(v_pref.preference_key), '[^a-z0-9]+', '-', 'g'));
    select jsonb_build_object(
             'interaction_count', coalesce(max(e.total), 0),
             'interactions', coalesce(jsonb_agg(e.item order by e.created_at desc, e.id), '[]'))
      into v_evidence
    from (
      select ih.id, ih.created_at, count(*) over () as total,
             jsonb_build_object(
               'id', ih.id, 'interaction_type', ih.interaction_type, 'interaction_key', ih.interaction_key,
               'created_at', ih.created_at,
               -- A checkout behind a favorite or a brand contributes only its matching lines; behind an inferred
               -- diet, allergy or dislike (derived from whole orders) it is summarised.
               'detail', case when ih.interaction_type = 'checkout'
                                   and v_pref.preference_type in ('allergy', 'dietary', 'dislike') then
                   jsonb_build_object(
                     'order_id', ih.interaction_value -> 'order_id',
                     'placed_at', ih.interaction_value -> 'placed_at',
                     'item_count', ih.interaction_value -> 'item_count')
                 when ih.interaction_type = 'checkout' then
                   jsonb_build_object(
                     'order_id', ih.interaction_value -> 'order_id',
                     'placed_at', ih.interaction_value -> 'placed_at',
                     'items', (select coalesce(jsonb_agg(it.item), '[]') from jsonb_array_elements(
                                 case when jsonb_typeof(ih.interaction_value -> 'items') = 'array'
                                      then ih.interaction_value -> 'items' else '[]' end) as it(item)
                               where it.item ->> 'sku' = v_pref.preference_key
                                  or trim(both '-' from regexp_replace(lower(it.item ->> 'brand'), '[^a-z0-9]+', '-', 'g'))
                                     = v_slug))
                 else ih.interaction_value end) as item
      from public.interaction_history as ih
      where ih.user_id = v_user
        and (
          (ih.interaction_type = 'preference_stated'
             and ih.interaction_key = v_pref.preference_type || ':' || v_pref.preference_key)
          or (v_pref.preference_type = 'favorite' and ih.interaction_type = 'cart_add'
                and ih.interaction_key = v_pref.preference_key)
          or (v_pref.preference_type = 'favorite' and ih.interaction_type = 'checkout'
                and ih.interaction_value -> 'items' @> jsonb_build_array(jsonb_build_object('sku', v_pref.preference_key)))
          or (v_pref.preference_type = 'brand' and ih.interaction_type = 'swap'
                and trim(both '-' from regexp_replace(lower(
                      case when ih.interaction_key = 'accepted' then ih.interaction_value #>> '{replacement,brand}'
                           else ih.interaction_value #>> '{original,brand}' end), '[^a-z0-9]+', '-', 'g'))
                    = v_slug)
          or (v_pref.preference_type = 'brand' and ih.interaction_type = 'cart_add'
                and trim(both '-' from regexp_replace(lower(ih.interaction_value ->> 'brand'), '[^a-z0-9]+', '-', 'g'))
                    = v_slug)
          or (v_pref.preference_type = 'brand' and ih.interaction_type = 'checkout'
                and jsonb_typeof(ih.interaction_value -> 'items') = 'array'
                and exists (select from jsonb_array_elements(ih.interaction_value -> 'items') as it(item)
                            where trim(both '-' from regexp_replace(lower(it.item ->> 'brand'), '[^a-z0-9]+', '-', 'g'))
                                  = v_slug))
          or (v_pref.preference_type in ('allergy', 'dietary', 'dislike') and ih.interaction_type = 'message'
                and v_words is not null
                and lower(ih.interaction_value ->> 'content') ~ ('\m' || v_words))
          -- An inferred diet (vegetarian from a run of orders without meat) comes from the orders themselves.
          or (v_pref.preference_type in ('allergy', 'dietary', 'dislike') and v_pref.source <> 'explicit'
                and ih.interaction_type = 'checkout')
        )
      order by ih.created_at desc, ih.id
      limit v_evidence_cap
    ) as e;

    return jsonb_build_object(
      'memory', jsonb_build_object(
        'id', v_pref.id, 'memory_kind', 'preference', 'memory_type', v_pref.preference_type,
        'memory_key', v_pref.preference_key, 'value', v_pref.preference_value, 'confidence', v_pref.confidence,
        'reason', v_pref.reason, 'source', v_pref.source, 'evidence_count', v_pref.times_confirmed,
        'last_confirmed_at', v_pref.last_confirmed_at, 'created_at', v_pref.created_at,
        'updated_at', v_pref.updated_at),
      'evidence', v_evidence || jsonb_build_object('interactions_cap', v_evidence_cap));
  end if;

  -- A pattern: its figures, and the orders of the 90-day window it was derived from (for a category, the orders
  -- holding it).
  select sp.* into v_pattern
  from public.shopping_patterns as sp
  where sp.id = explain_memory.memory_id and sp.user_id = v_user;
  if found then
    v_category := case when v_pattern.pattern_type = 'category_preference'
                       then trim(both '-' from regexp_replace(lower(v_pattern.pattern_key), '[^a-z0-9]+', '-', 'g')) end;
    select jsonb_build_object(
             'figures', v_pattern.pattern_value,
             'order_count', coalesce(max(o.total), 0),
             'orders', coalesce(jsonb_agg(o.item order by o.created_at desc, o.id), '[]'))
      into v_evidence
    from (
      select ih.id, ih.created_at, count(*) over () as total,
             jsonb_build_object(
               'id', ih.id, 'order_id', ih.interaction_value -> 'order_id',
               'placed_at', ih.interaction_value -> 'placed_at', 'time_zone', ih.interaction_value -> 'time_zone',
               'item_count', ih.interaction_value -> 'item_count', 'total', ih.interaction_value -> 'total',
               'created_at', ih.created_at) as item
      from public.interaction_history as ih
      -- When the order was placed (the worker's clock for patterns), else when it was logged.
      cross join lateral (
        select coalesce(
          case when ih.interaction_value ->> 'placed_at'
                    ~ '^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$'
               then (ih.interaction_value ->> 'placed_at')::timestamptz end,
          ih.created_at) as placed_at
      ) as o
      where ih.user_id = v_user
        and ih.interaction_type = 'checkout'
        -- The pattern window before the pattern was last derived.
        and o.placed_at > v_pattern.updated_at - private.pattern_recency()
        and o.placed_at <= v_pattern.updated_at
        and (v_category is null
             or (jsonb_typeof(ih.interaction_value -> 'items') = 'array'
                 and exists (select from jsonb_array_elements(ih.interaction_value -> 'items') as it(item)
                             where trim(both '-' from regexp_replace(lower(it.item ->> 'category'), '[^a-z0-9]+', '-', 'g'))
                                   = v_category)))
      order by ih.created_at desc, ih.id
      limit v_evidence_cap
    ) as o;

    return jsonb_build_object(
      'memory', jsonb_build_object(
        'id', v_pattern.id, 'memory_kind', 'pattern', 'memory_type', v_pattern.pattern_type,
        'memory_key', v_pattern.pattern_key, 'confidence', v_pattern.confidence, 'source', 'pattern',
        'evidence_count', v_pattern.occurrence_count, 'last_occurrence', v_pattern.last_occurrence,
        'created_at', v_pattern.created_at, 'updated_at', v_pattern.updated_at),
      'evidence', v_evidence || jsonb_build_object('orders_cap', v_evidence_cap));
  end if;

  -- An insight: its supporting data, and the interactions it names (supporting_data.interaction_ids), if any.
  select mi.* into v_insight
  from public.memory_insights as mi
  where mi.id = explain_memory.memory_id and mi.user_id = v_user;
  if found then
    select jsonb_build_object(
             'supporting_data', v_insight.supporting_data,
             'interactions', coalesce(jsonb_agg(jsonb_build_object(
                 'id', ih.id, 'interaction_type', ih.interaction_type, 'interaction_key', ih.interaction_key,
                 'created_at', ih.created_at) order by ih.created_at desc, ih.id), '[]'))
      into v_evidence
    from public.interaction_history as ih
    where ih.user_id = v_user
      and jsonb_typeof(v_insight.supporting_data -> 'interaction_ids') = 'array'
      and ih.id in (select ids.value::uuid
                    from jsonb_array_elements_text(v_insight.supporting_data -> 'interaction_ids') as ids(value)
                    where ids.value ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                    limit v_evidence_cap);

    return jsonb_build_object(
      'memory', jsonb_build_object(
        'id', v_insight.id, 'memory_kind', 'insight', 'memory_type', v_insight.insight_type,
        'memory_key', v_insight.insight_key, 'value', v_insight.insight_value,
        'confidence', v_insight.confidence, 'source', 'inferred',
        'evidence_count', (select count(*) from jsonb_object_keys(v_insight.supporting_data)),
        'expires_at', v_insight.expires_at, 'created_at', v_insight.created_at, 'updated_at', v_insight.updated_at),
      'evidence', v_evidence);
  end if;

  -- A single logged event is its own evidence.
  select ih.* into v_event
  from public.interaction_history as ih
  where ih.id = explain_memory.memory_id and ih.user_id = v_user;
  if found then
    return jsonb_build_object(
      'memory', jsonb_build_object(
        'id', v_event.id, 'memory_kind', 'interaction', 'memory_type', v_event.interaction_type,
        'memory_key', v_event.interaction_key, 'value', v_event.interaction_value, 'source', 'event',
        'session_id', v_event.session_id, 'message_id', v_event.message_id, 'created_at', v_event.created_at),
      'evidence', jsonb_build_object('interactions', '[]'::jsonb));
  end if;

  -- Unknown, or someone else's: the same answer either way (HTTP 404 through PostgREST).
  raise exception using errcode = 'PT404', message = 'No memory with that id.',
    hint = 'List your memories with my_memories.';
end;
$$;
revoke all on function public.explain_memory(uuid) from public, anon, authenticated, service_role;
grant execute on function public.explain_memory(uuid) to authenticated;
comment on function public.explain_memory(uuid) is
  'One memory of the signed-in shopper (preference, pattern, insight or logged event) with the evidence behind '
  'it: the supporting interactions (at most 20, newest first, with the total), the pattern''s figures and the '
  'orders of its window, or the insight''s supporting data. Unknown or someone else''s id: PT404 No memory with that id.';
