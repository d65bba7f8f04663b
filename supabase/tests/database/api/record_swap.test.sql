-- record_swap: accepted raises the replacement's brand by 0.10, rejected the original's by 0.15.
begin;
select plan(15);

select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');

-- The rule ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select public.record_swap(original => '{"sku": "tide-1", "brand": "Tide"}',
  replacement => '{"sku": "gv-det-1", "brand": "Great Value"}', accepted => true);
select results_eq(
  $$ select confidence, reason, source, times_confirmed from public.customer_preferences
      where preference_type = 'brand' and preference_key = 'Great Value' $$,
  $$ values (0.60::numeric(3,2), 'Accepted savings swap', 'inferred', 1) $$,
  'an accepted swap creates the replacement''s brand at 0.50 + 0.10');
select results_eq(
  $$ select interaction_type, interaction_key, interaction_value from public.interaction_history $$,
  $$ values ('swap', 'accepted', '{"original": {"sku": "tide-1", "brand": "Tide"}, "replacement": {"sku": "gv-det-1", "brand": "Great Value"}, "accepted": true, "reason": null}'::jsonb) $$,
  'the swap is logged in the contract''s shape');
select public.record_swap(original => '{"sku": "tide-1", "brand": "Tide"}',
  replacement => '{"sku": "gv-det-1", "brand": "Great Value"}', accepted => true) from generate_series(1, 2);
select is((select confidence from public.customer_preferences where preference_key = 'Great Value'), 0.80::numeric(3,2),
  'each accepted swap adds 0.10 to the current value');
select public.record_swap(original => '{"sku": "heinz-1", "brand": "Heinz"}',
  replacement => '{"sku": "gv-ketchup", "brand": "Great Value"}', accepted => false, reason => 'Tastes different');
select results_eq(
  $$ select confidence, reason from public.customer_preferences where preference_key = 'Heinz' $$,
  $$ values (0.65::numeric(3,2), 'Rejected swap - brand loyalty') $$,
  'a rejected swap raises the original''s brand by 0.15');
select is((select interaction_value ->> 'reason' from public.interaction_history where interaction_key = 'rejected'),
  'Tastes different', 'the shopper''s reason is logged');
select public.record_swap(original => '{"sku": "heinz-1", "brand": "Heinz"}',
  replacement => '{"sku": "gv-ketchup", "brand": "Great Value"}', accepted => false) from generate_series(1, 5);
select results_eq(
  $$ select confidence, times_confirmed from public.customer_preferences where preference_key = 'Heinz' $$,
  $$ values (0.95::numeric(3,2), 6) $$,
  'an inferred brand stops at 0.95');
select public.remember_preference(preference_type => 'brand', preference_key => 'Tide');
select public.record_swap(original => '{"sku": "tide-1", "brand": "Tide"}',
  replacement => '{"sku": "gv-det-1", "brand": "Great Value"}', accepted => false);
select results_eq(
  $$ select confidence, source from public.customer_preferences where preference_key = 'Tide' $$,
  $$ values (1.00::numeric(3,2), 'explicit') $$,
  'a swap never changes a brand the shopper stated');

-- The wrong caller ---------------------------------------------------------------------------------------------------
select tests.authenticate_as('bob');
select is((select count(*)::int from public.customer_preferences), 0, 'another shopper sees none of alice''s brands');
select tests.authenticate_as_anon();
select throws_ok($$ select public.record_swap(original => '{"sku": "a", "brand": "A"}', replacement => '{"sku": "b", "brand": "B"}', accepted => true) $$,
  '42501', 'permission denied for function record_swap', 'anon cannot record a swap');

-- Bad inputs ---------------------------------------------------------------------------------------------------------
select tests.clear_authentication();
create temporary table before_bad as select (select count(*) from public.interaction_history) as n,
  (select string_agg(preference_key || confidence, ',' order by preference_key) from public.customer_preferences) as prefs;
select tests.authenticate_as('alice');
select throws_ok($$ select public.record_swap(original => '{"brand": "Tide"}', replacement => '{"sku": "b", "brand": "B"}', accepted => true) $$,
  '22023', 'original.sku is required: every item needs its SKU.', 'a side without a SKU is refused');
select throws_ok($$ select public.record_swap(original => '{"sku": "a", "brand": "A"}', replacement => '{"sku": "b"}', accepted => true) $$,
  '22023', 'replacement.brand is required: a swap teaches which brand the shopper prefers.', 'a side without a brand is refused');
select throws_ok($$ select public.record_swap(original => '{"sku": "a", "brand": "A"}', replacement => '{"sku": "b", "brand": "B"}', accepted => null) $$,
  '22023', 'accepted must be true (the shopper took the replacement) or false, not null.', 'accepted must be known');
select throws_ok($$ select public.record_swap(original => '"tide"', replacement => '{"sku": "b", "brand": "B"}', accepted => true) $$,
  '22023', 'original must be a JSON object describing the item, not string.', 'a side that is not an object is refused');
select tests.clear_authentication();
select is((select count(*) from public.interaction_history), (select n from before_bad), 'no bad call logged anything');
select is((select string_agg(preference_key || confidence, ',' order by preference_key) from public.customer_preferences),
  (select prefs from before_bad), 'no bad call changed a brand');

select * from finish();
rollback;
