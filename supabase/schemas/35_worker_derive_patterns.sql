-- Worker: the pattern derivation: the buckets and bands a pattern claims, every candidate pattern of a shopper, and
-- those stored (what a derivation is: 34_worker_read_events.sql).

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



-- How far a measurement is from changing its answer over the next 90 days, in standard errors (z, within +-8): the
-- evidence a pattern's probability rests on (x3). The next 90 days are assumed to hold as many orders as the last
-- 90, so the error of the past and of the future count alike (hence the 2). A share or a lead alone cannot tell 9 of
-- 10 orders from 90 of 100; this can.
-- The most common bucket (k orders) stays the most common against the next (next_k) of n orders.
create or replace function private.lead_z(p_k numeric, p_next_k numeric, p_n numeric)
returns numeric
language sql
immutable
set search_path = ''
as $$
  -- the variance of the difference of two multinomial counts, plus one order so that a single bucket is finite
  select greatest(-8, least(8, (p_k - p_next_k)
         / sqrt(2 * (p_k + p_next_k - (p_k - p_next_k) ^ 2 / p_n) + 1)));
$$;
revoke all on function private.lead_z(numeric, numeric, numeric) from public, anon, authenticated, service_role;

-- More than half of the orders stay in the band (k of n): the median stays in it.
create or replace function private.majority_z(p_k numeric, p_n numeric)
returns numeric
language sql
immutable
set search_path = ''
as $$
  select greatest(-8, least(8, (s.share - 0.5) / sqrt(s.share * (1 - s.share) * 2 / p_n)))
    from (select (p_k + 0.5) / (p_n + 1) as share) as s;
$$;
revoke all on function private.majority_z(numeric, numeric) from public, anon, authenticated, service_role;

-- The mean gap (of n gaps, sd its spread) stays inside its band [min, max): its distance to the nearer edge that can
-- be crossed (a band from 0 has no lower edge; one that ends past the pattern window, the last, no upper one: no
-- mean gap that long is seen in 90 days). One gap: its spread taken as its mean.
create or replace function private.mean_in_band_z(
  p_mean numeric, p_sd numeric, p_n numeric, p_min numeric, p_max numeric
)
returns numeric
language sql
immutable
set search_path = ''
as $$
  select greatest(-8, least(8, least(case when p_min > 0 then p_mean - p_min else 'infinity' end,
                                     case when p_max <= extract(day from private.pattern_recency())
                                          then p_max - p_mean else 'infinity' end)
         / (greatest(coalesce(p_sd, p_mean), 1) * sqrt(2 / p_n))));
$$;
revoke all on function private.mean_in_band_z(numeric, numeric, numeric, numeric, numeric)
  from public, anon, authenticated, service_role;

-- Every candidate pattern of the pattern window (private.pattern_recency()), one per type (a category: one per
-- category of at least two orders, the 20 most frequent), each a measurement that states its figures: the share of
-- the shopper's orders (or, for frequency, of the gaps between them) in the bucket, the orders, the window, the
-- band, the population's share of the same bucket (private.pattern_population) and the lift (share / population
-- share), with its calibrated probability of holding over the next 90 days and the evidence the probability rests
-- on (x1..x3 in pattern_value.features). private.derive_patterns keeps those with a lift of at least
-- private.pattern_min_lift() at or above their type's floor. Time of day and weekday: the most common bucket, scored
-- by its share, the orders and its lead over the next (z); frequency: the band of the median gap between orders,
-- scored by the gaps, their spread and the mean gap's distance to the band's edge (z); basket size: the band of the
-- median basket, scored by its share, the orders and that share's distance to half (z); a category: the share of
-- orders with an item of it, the orders and the months since its last.
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
                           private.lead_z(r.k, coalesce(r.next_k, 0), n.total)] end as x
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
           coalesce(stddev_samp(g.days) / nullif(avg(g.days), 0), 0) as spread, avg(g.days) as mean_days,
           stddev_samp(g.days) as sd_days, max(g.placed_at) as last_at
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
           array[pg_catalog.ln(1 + f.c), f.spread, private.mean_in_band_z(f.mean_days, f.sd_days, f.c, f.min_days,
                                                                        f.max_days)], f.last_at,
           pg_catalog.jsonb_build_object('min_days', f.min_days, 'max_days', f.max_days, 'avg_days', f.avg_days,
                                         'median_days', f.median_days, 'gaps', f.c)
      from freq_claim as f
    union all
    select 'basket_size', b.band, b.share, round(b.share * b.c)::integer, b.c,
           array[b.share, pg_catalog.ln(1 + b.c), private.majority_z(round(b.share * b.c), b.c)],
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
