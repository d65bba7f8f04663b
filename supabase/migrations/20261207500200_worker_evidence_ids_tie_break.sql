-- The ids an evidence record names, in the same order on every run: where the worker's derivations list them by a
-- timestamp (newest first), events at the same moment (two orders placed at the same minute, an order and a cart
-- add of the same item) are put in order of their id, as explain_memory lists the events it shows. Before, such a
-- tie came out in whatever order the rows were read, so the record, and the first 20 ids explain_memory shows of
-- it, could differ from one derivation to the next. Only the ORDER BY clauses change.

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
           (pg_catalog.array_agg(d.item ->> 'name' order by d.at desc, d.id))[1] as name,
           (pg_catalog.array_agg(left(pg_catalog.lower(pg_catalog.btrim(d.item ->> 'category')), 255)
                                 order by d.at desc, d.id))[1] as category,
           pg_catalog.array_agg(d.id::text order by d.at desc, d.id) as ids
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
  -- last 20); their median (the usual interval) and their 10th and 90th percentiles (the window) shrunk toward the
  -- population's for the SKU, else its category, else all items (private.repeat_intervals: median and quartiles,
  -- read as a log-normal, whose 10th and 90th percentiles are median * (q25/q75)^0.95 and median * (q75/q25)^0.95)
  -- with the weight of one gap. Weight and percentiles are those that put the most next purchases inside the window
  -- at no wider a mean window than the population's quartiles, fitted on the training months (learn < 2017-07-01,
  -- next purchase in Jul-Sep; benchmarks/RESULTS.md, patterns and buy-again).
  sku_gaps as (
    select s.sku, s.day, (s.day - lag(s.day) over (partition by s.sku order by s.day))::numeric as days
      from sku_days as s
     where s.sku in (select f.sku from favorites as f)
  ),
  timing as (
    select g.sku, count(g.days)::integer as n,
           (percentile_cont(0.5) within group (order by g.days))::numeric as median_days,
           (percentile_cont(0.1) within group (order by g.days))::numeric as q10_days,
           (percentile_cont(0.9) within group (order by g.days))::numeric as q90_days,
           (pg_catalog.array_agg(g.days order by g.day desc) filter (where g.days is not null))[1:20] as gaps
      from sku_gaps as g
     group by g.sku
    having count(g.days) >= 2
  ),
  -- (With no population yet, the shopper's own gaps alone.)
  timed as (
    select t.sku, t.gaps, t.n, coalesce(p.median_days, t.median_days) as prior_days,
           (t.n * t.median_days + coalesce(p.median_days, t.median_days)) / (t.n + 1) as usual_days,
           (t.n * t.q10_days + coalesce(p.median_days * pg_catalog.power(p.q25_days / p.q75_days, 0.95), t.q10_days))
             / (t.n + 1) as from_days,
           (t.n * t.q90_days + coalesce(p.median_days * pg_catalog.power(p.q75_days / p.q25_days, 0.95), t.q90_days))
             / (t.n + 1) as until_days
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
  -- The due window (due_from-due_until) and the next purchase (next_due) are as of p_now: not bought by then, a
  -- window whose start has passed starts at p_now, as wide as it was, and next_due moves as much (what is known at
  -- p_now is that the gap is longer than the time since the last purchase).
  favorite_claims as (
    select f.*, sh.days90, round(f.k_all / sh.windows, 2) as per_window, x.x,
           case when t.sku is null then '{}'::jsonb
                else pg_catalog.jsonb_build_object(
                  'usual_interval_days', round(t.usual_days, 1),
                  'due_from', f.last_at + pg_catalog.make_interval(secs => (round(t.from_days + d.late, 1) * 86400)::double precision),
                  'due_until', f.last_at + pg_catalog.make_interval(secs => (round(greatest(t.until_days, t.from_days + 1) + d.late, 1) * 86400)::double precision),
                  'next_due', f.last_at + pg_catalog.make_interval(secs => (round(t.usual_days + d.late, 1) * 86400)::double precision),
                  'gaps', pg_catalog.to_jsonb(t.gaps), 'prior_interval_days', round(t.prior_days, 1)) end as timing
      from favorites as f cross join shopping as sh
      left join timed as t using (sku)
      cross join lateral (select greatest(0, extract(epoch from p_now - f.last_at)::numeric / 86400 - t.from_days) as late) as d
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
           (pg_catalog.array_agg(c.id::text order by c.at desc, c.id))[1] as id
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
           (pg_catalog.array_agg(bc.id order by bc.last_at desc, bc.id))[1:20] as ids
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
           (pg_catalog.array_agg(o.interaction_id::text order by o.placed_at desc, o.interaction_id))[1:20] as ids
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
           coalesce(pg_catalog.jsonb_agg(b.interaction_id order by b.placed_at desc, b.interaction_id)
                      filter (where b.baby), '[]')
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
