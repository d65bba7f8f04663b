-- my_order_figures: the caller's own orders of the last 90 days as plain counts, by hour and weekday in each
-- order's own time zone and by category (at most 8); a retried order counts once; nobody else's orders; shoppers
-- only.
begin;
select plan(10);

select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');

-- Orders placed at a known local time on a known local day: (day, local time, zone) -> the instant.
create temporary table orders_placed (order_id text, day date, local_time time, zone text, categories text[]);
grant select on orders_placed to authenticated;  -- the expected weekdays are read from it as alice
insert into orders_placed values
  ('a-1', current_date - 3, '18:30', 'America/Chicago', array['Dairy', 'dairy ', 'produce']),
  ('a-2', current_date - 10, '18:05', 'America/Chicago', array['dairy']),
  ('a-3', current_date - 20, '07:15', 'Asia/Tokyo', array['bakery']),
  ('a-old', current_date - 120, '12:00', 'America/Chicago', array['frozen']);
insert into public.interaction_history (user_id, interaction_type, interaction_key, interaction_value)
select tests.get_supabase_uid('alice'), 'checkout', o.order_id,
       jsonb_build_object('order_id', o.order_id, 'placed_at', (o.day + o.local_time) at time zone o.zone,
                          'time_zone', o.zone,
                          'items', (select jsonb_agg(jsonb_build_object('sku', o.order_id || '-' || n, 'category', c))
                                      from unnest(o.categories) with ordinality as u(c, n)))
  from orders_placed as o;
-- The same order sent twice (a retried request) counts once.
insert into public.interaction_history (user_id, interaction_type, interaction_key, interaction_value)
select ih.user_id, ih.interaction_type, ih.interaction_key, ih.interaction_value
  from public.interaction_history as ih where ih.interaction_key = 'a-1';
insert into public.interaction_history (user_id, interaction_type, interaction_key, interaction_value)
values (tests.get_supabase_uid('bob'), 'checkout', 'b-1',
        jsonb_build_object('order_id', 'b-1', 'placed_at', now() - interval '1 day', 'time_zone', 'UTC',
                           'items', '[{"sku": "x", "category": "meat"}]'::jsonb));

select ok(
  has_function_privilege('authenticated', 'public.my_order_figures()', 'execute')
  and not has_function_privilege('anon', 'public.my_order_figures()', 'execute')
  and not has_function_privilege('service_role', 'public.my_order_figures()', 'execute'),
  'only signed-in shoppers may call it');

-- As alice ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select is((public.my_order_figures() ->> 'orders')::integer, 3,
  'the orders of the last 90 days, a retried one once, an older one not at all');
select is((public.my_order_figures() ->> 'window_days')::integer, 90, 'the window is the pattern window');
select is(
  public.my_order_figures() -> 'by_hour',
  (select jsonb_agg(case h when 18 then 2 when 7 then 1 else 0 end order by h) from generate_series(0, 23) as h),
  'hours are counted in each order''s own time zone (18:30 and 18:05 in Chicago, 07:15 in Tokyo)');
select is(
  public.my_order_figures() -> 'by_weekday',
  (select jsonb_agg((select count(*) from orders_placed as o
                      where o.order_id <> 'a-old' and extract(isodow from o.day) = d) order by d)
     from generate_series(1, 7) as d),
  'weekdays are counted on the local day, Monday first');
select is(
  public.my_order_figures() -> 'categories',
  '[{"category": "dairy", "orders": 2}, {"category": "bakery", "orders": 1}, {"category": "produce", "orders": 1}]'::jsonb,
  'a category counts the orders it appears in, written any way, the most orders first');

-- Bounded: at most 8 categories, whatever an order holds.
select tests.authenticate_as_service_role();
insert into public.interaction_history (user_id, interaction_type, interaction_key, interaction_value)
values (tests.get_supabase_uid('alice'), 'checkout', 'a-many',
        jsonb_build_object('order_id', 'a-many', 'placed_at', now() - interval '1 hour', 'time_zone', 'UTC',
                           'items', (select jsonb_agg(jsonb_build_object('sku', 's' || n, 'category', 'c' || n))
                                       from generate_series(1, 30) as n)));
select tests.authenticate_as('alice');
select is(jsonb_array_length(public.my_order_figures() -> 'categories'), 8, 'at most 8 categories');

-- As bob -----------------------------------------------------------------------------------------------------------
select tests.authenticate_as('bob');
select is(
  public.my_order_figures() - 'since' - 'by_hour' - 'by_weekday',
  '{"window_days": 90, "orders": 1, "categories": [{"category": "meat", "orders": 1}]}'::jsonb,
  'bob counts only his own order');

-- Not a shopper -----------------------------------------------------------------------------------------------------
select tests.authenticate_as_anon();
select throws_ok($$select public.my_order_figures()$$, '42501', 'permission denied for function my_order_figures',
  'an anonymous caller cannot read any figures');
select tests.authenticate_as_service_role();
select throws_ok($$select public.my_order_figures()$$, '42501', 'permission denied for function my_order_figures',
  'the service role is not a shopper');

select * from finish();
rollback;
