-- worker_recompute_user: patterns from checkouts in the shopper's time zone, idempotent, gone with the evidence.
begin;
select plan(6);

select tests.create_supabase_user('alice');
insert into public.interaction_history (user_id, interaction_type, interaction_key, interaction_value, created_at)
select tests.get_supabase_uid('alice'), 'checkout', 'o' || k,
       jsonb_build_object('order_id', 'o' || k, 'placed_at', (timestamptz '2026-11-20 18:30:00-06' - k * interval '7 days')::text,
                          'time_zone', 'America/Chicago', 'item_count', 3, 'total', 12.5,
                          'items', jsonb_build_array(jsonb_build_object('sku', 'milk', 'name', 'Milk', 'category', 'Dairy',
                                                                        'brand', 'Acme', 'price', 2.5, 'quantity', 3, 'tags', '[]'::jsonb))),
       timestamptz '2026-11-20 18:30:00-06' - k * interval '7 days'
  from generate_series(0, 3) as k;

select tests.authenticate_as_service_role();
select public.worker_recompute_user(tests.get_supabase_uid('alice'), '2026-11-21 06:00:00+00');
select tests.clear_authentication();
select results_eq(
  $$ select pattern_key, pattern_value, confidence from public.shopping_patterns
      where user_id = tests.get_supabase_uid('alice') and pattern_type = 'time_of_day' $$,
  $$ values ('evening', '{"range": "17:00-21:00", "orders": 4}'::jsonb, 0.67::numeric(3,2)) $$,
  '18:30 in Chicago is evening (00:30 UTC would be night), with confidence 4 / (4 + 2)');
select results_eq(
  $$ select pattern_key, pattern_value from public.shopping_patterns
      where user_id = tests.get_supabase_uid('alice') and pattern_type = 'frequency' $$,
  $$ values ('weekly', '{"avg_days": 7.0, "orders": 4}'::jsonb) $$,
  'four orders a week apart are weekly');
select results_eq(
  $$ select preference_key, confidence, source from public.customer_preferences
      where user_id = tests.get_supabase_uid('alice') and preference_type = 'favorite' $$,
  $$ values ('milk', 0.70::numeric(3,2), 'pattern') $$,
  'bought in 4 orders: a favourite from purchases at 0.50 + 4 x 0.05');

select tests.authenticate_as_service_role();
select is(public.worker_recompute_user(tests.get_supabase_uid('alice'), '2026-11-21 06:00:00+00'),
  '{"patterns": 5, "preferences": 2, "insights": 1}'::jsonb, 'a second recompute gives the same result');
select tests.clear_authentication();

delete from public.interaction_history where user_id = tests.get_supabase_uid('alice');
select tests.authenticate_as_service_role();
select public.worker_recompute_user(tests.get_supabase_uid('alice'), '2026-11-21 06:00:00+00');
select tests.clear_authentication();
select is((select count(*)::integer from public.shopping_patterns where user_id = tests.get_supabase_uid('alice')), 0,
  'with the evidence gone, the patterns go');
select is((select count(*)::integer from public.customer_preferences where user_id = tests.get_supabase_uid('alice')), 0,
  'and so do the inferred preferences');

select * from finish();
rollback;
