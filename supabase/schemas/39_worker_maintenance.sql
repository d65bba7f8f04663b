-- Worker: maintenance jobs (worker_*; granted to service_role only), run at a lower priority than any shopper's
-- job (private.maintenance_kinds()): expiry, retention, the brand catalog's rebuild and the population's figures.
-- Each starts with private.require_service_role(); they are security definer because what they read and write lives
-- in the private schema.

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

-- Retention: interactions older than p_months move to private.interaction_archive (still their owner's), a month
-- at a time, in three steps, one per call, so that the moment the log is locked whole (to drop a partition) holds
-- nothing a shopper's call waits for: (1) a month wholly past the window is copied to the archive, the messages
-- read in it are forgotten and its shoppers noted in private.retention_moves; (2) the next call drops its
-- partition (the log shrinks at once; a busy log, lock_timeout, waits for the next pass); (3) the next calls
-- recompute its shoppers behind every shopper's own events and lower their volume, at most 1,000 at a time.
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
    -- (2) A month copied to the archive but still in the log: drop it, holding nothing else. The months noted are
    -- read one index probe each (not one row per shopper: a month holds every shopper who shopped in it).
    with recursive months (month) as (
      (select r.month from private.retention_moves as r order by r.month limit 1)
      union all
      select (select r.month from private.retention_moves as r where r.month > m.month order by r.month limit 1)
        from months as m
       where m.month is not null
    )
    select m.month into v_month from months as m
     where m.month is not null and pg_catalog.to_regclass('private.' || m.month) is not null
     order by m.month limit 1;
    if found then
      execute pg_catalog.format('drop table private.%I', v_month);
      return 1;
    end if;
    -- (3) A dropped month's shoppers: their recompute (jobs before volume, as the log's triggers take them), at
    -- most 1,000 a call: a shopper's own call waits for this transaction if it needs their job or volume row.
    select m.month into v_month from private.retention_moves as m order by m.month limit 1;
    if found then
      select pg_catalog.array_agg(m.user_id order by m.user_id) into v_users
        from (select r.user_id from private.retention_moves as r where r.month = v_month
               order by r.user_id limit least(p_batch, 1000)) as m;
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

-- Rebuild the brand catalog from the live log (every shopper's orders, no shopper kept): a full scan, for a
-- rebuild on demand (an import, a benchmark); the catalog is otherwise kept current by private.brand_catalog_add.
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
  delete from private.brand_catalog where true;
  insert into private.brand_catalog (category, brand)
  select distinct l.category, l.brand
    from (select pg_catalog.lower(pg_catalog.btrim(i ->> 'category')) as category, private.brand_key(i ->> 'brand') as brand
            from public.interaction_history as ih
            cross join lateral pg_catalog.jsonb_array_elements(
              case when pg_catalog.jsonb_typeof(ih.interaction_value -> 'items') = 'array'
                   then ih.interaction_value -> 'items' else '[]'::jsonb end) as i
           where ih.interaction_type = 'checkout') as l
   where l.category <> '' and l.brand is not null and char_length(l.category) <= 255;
  delete from private.category_brands where true;
  insert into private.category_brands (category, brands)
  select bc.category, count(*)::integer from private.brand_catalog as bc group by bc.category;
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;
revoke all on function public.worker_refresh_brand_catalog() from public, anon, authenticated, service_role;
grant execute on function public.worker_refresh_brand_catalog() to service_role;
comment on function public.worker_refresh_brand_catalog() is
  'Worker only: rebuild the brands on offer in each category from every shopper''s orders (no ids kept); the '
  'catalog is otherwise kept current as checkouts arrive.';

-- Recount how shoppers in general shop (private.pattern_population) and how long they go between buying the same
-- item (private.repeat_intervals), from every shopper's checkouts up to p_now: the pattern window for the buckets,
-- the last year for the intervals. Nothing is replaced while fewer than p_min_shoppers shoppers have three orders in
-- the window (a handful of shoppers is no population): returns 0 then, else how many rows it wrote. A plain
-- maintenance job: it reads every checkout of the window and writes two small tables, no shopper named.
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
