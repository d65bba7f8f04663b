-- Worker: a pattern's probability rests on how far its measurement is from changing its answer (x3, in standard
-- errors: private.lead_z, private.majority_z, private.mean_in_band_z) instead of a share or a lead alone, which could
-- not tell 9 of 10 orders from 90 of 100. The claim model is refitted on these features (its own migration).

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

create or replace function private.mean_in_band_z(
  p_mean numeric, p_sd numeric, p_n numeric, p_min numeric, p_max numeric
)
returns numeric
language sql
immutable
set search_path = ''
as $$
  select greatest(-8, least(8, least(case when p_min > 0 then p_mean - p_min else 'infinity' end,
                                     case when p_max < 91 then p_max - p_mean else 'infinity' end)
         / (greatest(coalesce(p_sd, p_mean), 1) * sqrt(2 / p_n))));
$$;
revoke all on function private.mean_in_band_z(numeric, numeric, numeric, numeric, numeric)
  from public, anon, authenticated, service_role;

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
