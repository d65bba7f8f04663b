-- worker_recompute_user: candidates in the shopper's time zone, a calibrated favourite, idempotent, gone with the evidence.
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
  from generate_series(0, 7) as k;

select tests.authenticate_as_service_role();
select public.worker_recompute_user(tests.get_supabase_uid('alice'), '2026-11-21 06:00:00+00');
select tests.clear_authentication();
select results_eq(
  $$ select pattern_key, pattern_value ->> 'range', pattern_value -> 'orders', pattern_value -> 'total_orders',
            pattern_value -> 'share'
       from private.pattern_candidates(tests.get_supabase_uid('alice'), '2026-11-21 06:00:00+00')
      where pattern_type = 'time_of_day' $$,
  $$ values ('evening', '17:00-21:00', '8'::jsonb, '8'::jsonb, '1.00'::jsonb) $$,
  '18:30 in Chicago is evening (00:30 UTC would be night)');
select results_eq(
  $$ select pattern_key, pattern_value -> 'avg_days', pattern_value -> 'median_days', pattern_value -> 'orders',
            pattern_value -> 'min_days', pattern_value -> 'max_days', pattern_value -> 'share'
       from private.pattern_candidates(tests.get_supabase_uid('alice'), '2026-11-21 06:00:00+00')
      where pattern_type = 'frequency' $$,
  $$ values ('weekly', '7.0'::jsonb, '7.0'::jsonb, '8'::jsonb, '4'::jsonb, '10'::jsonb, '1.00'::jsonb) $$,
  'eight orders a week apart are weekly');
select results_eq(
  $$ select preference_key, confidence, source, times_confirmed from public.customer_preferences
      where user_id = tests.get_supabase_uid('alice') and preference_type = 'favorite' $$,
  $$ values ('milk', private.claim_probability('favorite', ln(9), ln(9), 0), 'pattern', 8) $$,
  'bought on 8 days: a favourite at the calibrated probability of its evidence');

select count(*) as expected_patterns
  from private.derive_patterns(tests.get_supabase_uid('alice'), '2026-11-21 06:00:00+00') \gset
select tests.authenticate_as_service_role();
select is(public.worker_recompute_user(tests.get_supabase_uid('alice'), '2026-11-21 06:00:00+00'),
  jsonb_build_object('patterns', :expected_patterns, 'preferences', 1, 'insights', 0),
  'a second recompute gives the same result: what derive_patterns and derive_preferences propose');
select tests.clear_authentication();

delete from public.interaction_history where user_id = tests.get_supabase_uid('alice');
select tests.authenticate_as_service_role();
select public.worker_recompute_user(tests.get_supabase_uid('alice'), '2026-11-21 06:00:00+00');
select tests.clear_authentication();
select is((select count(*)::integer from private.pattern_candidates(tests.get_supabase_uid('alice'), '2026-11-21 06:00:00+00')), 0, 'with the evidence gone, no pattern is proposed');
select is((select count(*)::integer from public.customer_preferences where user_id = tests.get_supabase_uid('alice')), 0,
  'and so do the inferred preferences');

select * from finish();
rollback;
