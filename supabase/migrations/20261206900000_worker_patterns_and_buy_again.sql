-- Worker: patterns are stored again, each a measurement that states its figures, and favourites bought repeatedly
-- carry their buy-again timing.
--
-- A pattern is the share of the shopper's orders of the last 90 days in a bucket (time of day, weekday, the band of
-- the gaps between orders, the band of the basket size, a category), stored with the orders, the window, the band,
-- the population's share of the same bucket (private.pattern_population, refreshed by
-- worker_refresh_pattern_population) and the lift; only where the lift is at least private.pattern_min_lift() and
-- the calibrated probability that it holds over the next 90 days (private.claim_model) is at or above its type's
-- floor. A favourite bought on three days or more carries its usual interval (its own gaps shrunk toward the
-- population's for the item, private.repeat_intervals) and the window in which it is next due.

-- How shoppers in general shop: for each pattern bucket, the mean over shoppers (with at least three orders in the
-- pattern window) of the share of their orders in it (for frequency, of the gaps between their orders). A
-- shopper's pattern is stored only when its share is well above this (the lift). Refreshed by
-- worker_refresh_pattern_population; no shopper is named here.
create table private.pattern_population (
  pattern_type text not null,
  pattern_key text not null,
  share numeric not null,
  shoppers integer not null,
  refreshed_at timestamptz not null default now(),
  constraint pattern_population_pkey primary key (pattern_type, pattern_key),
  constraint pattern_population_pattern_key_length check (char_length(pattern_key) between 1 and 255),
  constraint pattern_population_share_range check (share >= 0 and share <= 1),
  constraint pattern_population_shoppers_positive check (shoppers >= 1)
);
comment on table private.pattern_population is
  'The mean share of shoppers'' orders in each pattern bucket (all shoppers, no ids): a pattern is stored only '
  'where the shopper''s share is at least private.pattern_min_lift() times this. Refreshed by '
  'worker_refresh_pattern_population.';

-- How long shoppers in general go between buying the same item (days between the days they bought it), per SKU,
-- per category and over everything: the prior of a favourite's buy-again interval when its own gaps are few.
create table private.repeat_intervals (
  scope text not null,
  key text not null,
  median_days numeric not null,
  q25_days numeric not null,
  q75_days numeric not null,
  gaps integer not null,
  refreshed_at timestamptz not null default now(),
  constraint repeat_intervals_pkey primary key (scope, key),
  constraint repeat_intervals_scope_known check (scope in ('sku', 'category', 'all')),
  constraint repeat_intervals_key_length check (char_length(key) between 1 and 255),
  constraint repeat_intervals_days_positive check (q25_days > 0 and median_days >= q25_days and q75_days >= median_days),
  constraint repeat_intervals_gaps_positive check (gaps >= 1)
);
comment on table private.repeat_intervals is
  'Days between the days shoppers bought the same item (all shoppers, no ids): median and quartiles per SKU, per '
  'category and over all items. Refreshed by worker_refresh_pattern_population.';

revoke all on table private.pattern_population from public, anon, authenticated, service_role;
revoke all on table private.repeat_intervals from public, anon, authenticated, service_role;
alter table private.pattern_population enable row level security;
alter table private.repeat_intervals enable row level security;

-- Until the shoppers are a population (worker_refresh_pattern_population replaces these once 200 of them have three
-- orders in the window): Complete Journey's 2,469 households as of 2017-07-01 (their shares per bucket; the median
-- and quartiles of the days between buying the same item again). Categories are named differently in every store,
-- so none is assumed: a category pattern waits for this store's own shoppers.
insert into private.pattern_population (pattern_type, pattern_key, share, shoppers) values
  ('time_of_day', 'morning', 0.029, 425), ('time_of_day', 'afternoon', 0.218, 1600),
  ('time_of_day', 'evening', 0.296, 1807), ('time_of_day', 'night', 0.457, 1881),
  ('day_of_week', 'monday', 0.139, 1518), ('day_of_week', 'tuesday', 0.132, 1495),
  ('day_of_week', 'wednesday', 0.130, 1481), ('day_of_week', 'thursday', 0.135, 1505),
  ('day_of_week', 'friday', 0.139, 1529), ('day_of_week', 'saturday', 0.151, 1547),
  ('day_of_week', 'sunday', 0.174, 1578),
  ('frequency', 'several_per_week', 0.446, 1781), ('frequency', 'weekly', 0.295, 1777),
  ('frequency', 'biweekly', 0.163, 1440), ('frequency', 'monthly', 0.095, 709),
  ('basket_size', 'small', 0.553, 1949), ('basket_size', 'medium', 0.253, 1730),
  ('basket_size', 'large', 0.194, 1431);
insert into private.repeat_intervals (scope, key, median_days, q25_days, q75_days, gaps) values
  ('all', 'all', 20, 9, 42, 234963);

create or replace function private.pattern_min_lift()
returns numeric
language sql
immutable
set search_path = ''
as $$
  select 1.2;
$$;
revoke all on function private.pattern_min_lift() from public, anon, authenticated, service_role;

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

create or replace function private.claim_model(p_claim text)
returns table (b0 numeric, b1 numeric, b2 numeric, b3 numeric, min_probability numeric)
language sql
immutable
set search_path = ''
as $$
  select m.b0, m.b1, m.b2, m.b3, m.min_probability
    from (values
      -- claim,               b0,     b1,     b2,     b3,   floor    x1, x2, x3; fit: candidates, validated -> kept, validated
      ('favorite',           -1.690,  0.118,  2.079, -0.527, 0.85),  -- ln(1+days bought in 90 d), ln(1+days bought per 90 d of history), months since last; 45925, 0.538 -> 4218, 0.904
      ('brand',              -4.103,  0.773,  3.536, -0.251, 0.86),  -- ln(1+days chosen per 90 d of history), share of its categories' days, months since last; 107521, 0.320 -> 654, 0.907
      ('pattern:time_of_day', -4.698, 5.084,  0.819,  0.180, 0.86),  -- share of orders in the bucket, ln(1+orders), lead over the next bucket; 886, 0.626 -> 88, 0.909
      ('pattern:day_of_week', -2.685, 2.643,  0.361, -0.991, 0.95),  -- the same; 1038, 0.288 -> 0 (none reaches 0.90)
      ('pattern:frequency',   -1.600, 1.010, -1.201,  0.131, 0.75),  -- ln(1+gaps), spread of the gaps (sd / mean), share of gaps in the band; 814, 0.511 -> 84, 0.917
      ('pattern:basket_size', -4.344, 4.083,  1.053,  0.000, 0.79),  -- share of orders in the band, ln(1+orders); 754, 0.698 -> 272, 0.904
      ('pattern:category_preference', -6.939, 7.669, 0.599, -0.218, 0.88)  -- share of orders with it, ln(1+orders), months since last; 11860, 0.081 -> 12, 1.000
      -- Favourites: fitted on all 2,469 households (learn < 2017-07-01, validate on Jul-Sep). The same fit one
      -- quarter earlier, applied to these claims, validates 0.921 (ECE 0.027): the floor holds out of time.
      -- Brands: the windows Jan-Mar -> Apr-Jun and Jan-Jun -> Jul-Sep pooled, then refitted (Platt) on the
      -- candidates it gives >= 0.3, where claims are decided: fitted on every candidate the logit was
      -- under-confident at the top (kept claims at 0.83 validated 0.88-0.90). The same method on windows validated
      -- before July, applied to the Jul-Sep claims, keeps 153 that validate 0.915 at a mean probability of 0.915.
      -- Patterns: fitted on 1,200 of the households (learn < 2017-07-01, hold on Jul-Sep as the README defines it),
      -- on the candidates with a lift of at least 1.2 (those that could be stored); floors where the kept claims
      -- validate >= 0.90. Out of time (the same fit on Jan-Mar -> Apr-Jun, applied to Jul-Sep) the kept claims
      -- validate 0.92, 0.88, 0.93 (time of day, frequency, basket size) at mean probabilities 0.85, 0.80, 0.86:
      -- under-confident, never over (benchmarks/RESULTS.md, "Patterns and buy-again").
      -- Not derived, because on the benchmark's holdout it did not beat the naive baseline (benchmarks/RESULTS.md):
      -- dietary:vegetarian (no floor reaches 0.90: 119 candidates validate 0.563; on the holdout 0 of 2).
    ) as m (claim, b0, b1, b2, b3, min_probability)
   where m.claim = p_claim;
$$;
revoke all on function private.claim_model(text) from public, anon, authenticated, service_role;

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

create or replace function private.compose_memory_context(p_user_id uuid, p_min_confidence numeric, p_query text)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_terms text[] := '{}'::text[];
  v_pattern text;
  v_substrings text[];
  v_result jsonb;
begin
  if p_query is not null then
    v_terms := private.memory_query_terms(p_query);
    if cardinality(v_terms) > 0 then
      -- Word-prefix match (`\m` + term): "egg" finds "eggs", "organic" finds "organic-milk".
      v_pattern := '\m(' || array_to_string(v_terms, '|') || ')';
      v_substrings := array(select '%' || t.term || '%' from unnest(v_terms) as t(term));
    end if;
  end if;

  with candidates as (
    -- section_no: 1 allergies, 2 dietary, 3 dislikes, 4 favorites, 5 brands, 6 patterns, 7 insights, 8 habits;
    -- words: what a query is matched against (only with a query). A diet is a restriction only when the shopper
    -- said it, or when its inference has measured precision >= 0.95; otherwise it is a habit, under the floor.
    select case when p.preference_type = 'dietary' and p.source <> 'explicit'
                     and not private.inferred_diet_is_restriction(p.preference_key) then 8
                else case p.preference_type when 'allergy' then 1 when 'dietary' then 2 when 'dislike' then 3
                                            when 'favorite' then 4 else 5 end end as section_no,
           p.id, p.preference_type as memory_type, p.preference_key as memory_key,
           p.preference_value as memory_value, p.confidence, p.reason, p.source,
           p.times_confirmed as evidence_count, coalesce(p.last_confirmed_at, p.updated_at) as seen_at,
           p.updated_at,
           -- A favourite bought repeatedly: its buy-again timing ("about every 7 days, last bought 6 days ago").
           case when p.preference_type = 'favorite' and p.evidence ? 'usual_interval_days'
                then jsonb_build_object('usual_interval_days', p.evidence -> 'usual_interval_days',
                                        'due_from', p.evidence -> 'due_from', 'due_until', p.evidence -> 'due_until',
                                        'last_bought', p.evidence -> 'last_bought') end as figures,
           null::timestamptz as expires_at,
           case when v_pattern is not null
                then lower(concat_ws(' ', p.preference_key, p.preference_value, p.reason)) end as words
    from public.customer_preferences as p
    where p.user_id = p_user_id
      and ((p.preference_type = 'allergy' or (p.preference_type = 'dietary'
                                              and (p.source = 'explicit'
                                                   or private.inferred_diet_is_restriction(p.preference_key))))
           or p.confidence >= p_min_confidence)
    union all
    select 6, sp.id, sp.pattern_type, sp.pattern_key, null, sp.confidence, null, 'pattern',
           sp.occurrence_count, sp.last_occurrence, sp.updated_at, sp.pattern_value, null,
           case when v_pattern is not null then lower(sp.pattern_type || ' ' || sp.pattern_key) end
    from public.shopping_patterns as sp
    where sp.user_id = p_user_id
      and sp.last_occurrence >= now() - private.pattern_recency()
    union all
    -- Insights: only active ones (a question waits for the shopper's Yes, an ended one no longer holds); the
    -- reason says where it comes from in words, the measured figure for an inferred one.
    select 7, mi.id, mi.insight_type, mi.insight_key, mi.insight_value, mi.confidence,
           case mi.source when 'explicit' then 'You told us'
                          when 'confirmed' then 'You confirmed it'
                          else coalesce(mi.supporting_data ->> 'summary', 'Inferred from your orders') end,
           mi.source, null, mi.updated_at, mi.updated_at,
           case when mi.source = 'inferred' then mi.supporting_data else mi.supporting_data -> 'details' end,
           mi.expires_at,
           case when v_pattern is not null
                then lower(concat_ws(' ', mi.insight_type, mi.insight_key, mi.insight_value)) end
    from public.memory_insights as mi
    where mi.user_id = p_user_id and mi.status = 'active'
      and (mi.expires_at is null or mi.expires_at > now())
  ),
  scored as (
    -- relevance: how many times the query's terms start a word of the item (0 without a query). The substring
    -- test first, because the regular expression costs about 2 us a row and most rows match no term.
    select c.*,
           case when c.words is null or not c.words like any (v_substrings) then 0
                else regexp_count(translate(c.words, '_-:', '   '), v_pattern) end as relevance
    from candidates as c
  ),
  ranked as (
    select c.*,
           row_number() over by_rank as section_rank,
           count(*) over (partition by c.section_no) as section_total
    from scored as c
    window by_rank as (partition by c.section_no
                       order by c.relevance desc, c.confidence desc, c.seen_at desc,
                                c.evidence_count desc nulls last, c.id)
  ),
  within_caps as (
    -- The size budget, first per section: 25 allergies, 10 dietary restrictions, 5 dislikes, 5 favorites,
    -- 4 brands, 4 patterns, 5 insights, 3 habits.
    select r.*
    from ranked as r
    where r.section_rank <= (array[25, 10, 5, 5, 4, 4, 5, 3])[r.section_no]
  ),
  chosen as (
    -- ... then overall: at most 16 non-safety items, the most relevant, confident and recent.
    select w.*
    from (select w.*,
                 row_number() over (partition by w.section_no <= 2
                                    order by w.relevance desc, w.confidence desc, w.seen_at desc,
                                             w.evidence_count desc nulls last, w.id) as overall_rank
          from within_caps as w) as w
    where w.section_no <= 2 or w.overall_rank <= 16
  ),
  sections as (
    select c.section_no, max(c.section_total) - count(*) as left_out,
           jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
             'id', c.id, 'type', c.memory_type, 'key', c.memory_key, 'value', private.clip_text(c.memory_value),
             'confidence', c.confidence,
             -- A pattern's or an insight's reason is its figures, in words: "orders: 24, range: 18:00-21:00".
             'reason', private.clip_text(coalesce(c.reason,
                            (select string_agg(f.key || ': ' || f.value, ', ' order by f.key)
                               from jsonb_each_text(c.figures) as f
                              where jsonb_typeof(c.figures -> f.key) not in ('object', 'array')))),
             'source', c.source,
             'evidence_count', coalesce(c.evidence_count,
                                        (select count(*)::integer from jsonb_object_keys(c.figures))),
             'updated_at', c.updated_at, 'last_seen_at', c.seen_at,
             'relevance', c.relevance, 'figures', c.figures, 'expires_at', c.expires_at))
             order by c.section_rank) as items
    from chosen as c
    group by c.section_no
  ),
  -- Sections the overall cap emptied still count what they left out.
  emptied as (
    select r.section_no, max(r.section_total) as left_out
    from within_caps as r
    where not exists (select 1 from sections as s where s.section_no = r.section_no)
    group by r.section_no
  ),
  named as (
    select (array['allergies', 'dietary', 'dislikes', 'favorites', 'brands', 'patterns', 'insights',
                  'habits'])[s.section_no]
             as section, s.items, s.left_out
    from (select s.section_no, s.items, s.left_out from sections as s
          union all
          select e.section_no, null, e.left_out from emptied as e) as s
  )
  select
    jsonb_build_object(
      'generated_at', now(), 'min_confidence', p_min_confidence, 'query', p_query,
      'query_terms', to_jsonb(v_terms),
      'allergies', '[]'::jsonb, 'dietary', '[]'::jsonb, 'dislikes', '[]'::jsonb, 'favorites', '[]'::jsonb,
      'brands', '[]'::jsonb, 'patterns', '[]'::jsonb, 'insights', '[]'::jsonb, 'habits', '[]'::jsonb)
    || coalesce(jsonb_object_agg(n.section, n.items) filter (where n.items is not null), '{}')
    || jsonb_build_object('omitted',
                          coalesce(jsonb_object_agg(n.section, n.left_out) filter (where n.left_out > 0), '{}'))
    into v_result
  from named as n;

  return v_result;
end;
$$;
revoke all on function private.compose_memory_context(uuid, numeric, text) from public, anon, authenticated, service_role;
