-- The page's charts of when, on which day and what a shopper orders drew stored patterns, which the worker no
-- longer stores: my_order_figures gives the same pictures from the shopper's own orders, as plain counts.
-- my_order_figures: the signed-in shopper's own orders of the pattern window (private.pattern_recency()) as plain
-- counts, for the page's charts: by hour and by weekday in each order's own time zone, and the categories found in
-- the most orders. Figures, not beliefs: the worker stores no time or category pattern since none beat counting,
-- so the page draws what the orders say rather than what the assistant would claim. A forgotten pattern suppresses
-- a claim, not the orders; forgetting an order (forget_memory on its event) takes it out of these counts.
-- Bounded whatever the history: 24 hours, 7 days, at most 8 categories of at most 255 characters.
create or replace function public.my_order_figures()
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := private.require_shopper('my_order_figures');
  v_since timestamptz := now() - private.pattern_recency();
begin
  return (
    with o as materialized (
      select c.interaction_id, c.local_at, c.items
        from private.checkouts(v_user_id, now()) as c
       where c.placed_at > v_since
    ),
    categories as (
      select g.category, g.orders
        from (select left(pg_catalog.lower(pg_catalog.btrim(i ->> 'category')), 255) as category,
                     count(distinct o.interaction_id)::integer as orders
                from o cross join lateral pg_catalog.jsonb_array_elements(o.items) as i
               where pg_catalog.btrim(coalesce(i ->> 'category', '')) <> ''
               group by 1) as g
       order by g.orders desc, g.category collate "C"
       limit 8
    )
    select pg_catalog.jsonb_build_object(
      'window_days', extract(day from private.pattern_recency())::integer,
      'since', v_since,
      'orders', (select count(*) from o),
      'by_hour', (select pg_catalog.jsonb_agg(coalesce(n.orders, 0) order by h.hour)
                    from pg_catalog.generate_series(0, 23) as h(hour)
                    left join (select extract(hour from o.local_at)::integer as hour, count(*)::integer as orders
                                 from o group by 1) as n on n.hour = h.hour),
      'by_weekday', (select pg_catalog.jsonb_agg(coalesce(n.orders, 0) order by d.day)
                       from pg_catalog.generate_series(1, 7) as d(day)
                       left join (select extract(isodow from o.local_at)::integer as day, count(*)::integer as orders
                                    from o group by 1) as n on n.day = d.day),
      'categories', coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                                       'category', c.category, 'orders', c.orders) order by c.orders desc,
                                       c.category collate "C")
                                from categories as c), '[]'::jsonb))
  );
end;
$$;
revoke all on function public.my_order_figures() from public, anon, authenticated, service_role;
grant execute on function public.my_order_figures() to authenticated;
comment on function public.my_order_figures() is
  'The signed-in shopper''s orders of the last 90 days as plain counts, for charts: {window_days, since, orders, '
  'by_hour: 24 counts (0-23, each order''s own time zone), by_weekday: 7 counts (Monday first), categories: at '
  'most 8 {category, orders}, the most orders first}. Figures from the orders, not memories.';

