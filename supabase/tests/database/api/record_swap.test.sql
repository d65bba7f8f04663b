-- record_swap: it logs a choice between two brands on offer (the worker counts it towards brand preferences).
begin;
select plan(12);

select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');

-- The rule: the API logs the choice; the worker counts it with the shopper's other brand choices -------------------
select tests.authenticate_as('alice');
select public.record_swap(original => '{"sku": "tide-1", "brand": "Tide"}',
  replacement => '{"sku": "gv-det-1", "brand": "Great Value"}', accepted => true);
select results_eq(
  $$ select interaction_type, interaction_key, interaction_value from public.interaction_history $$,
  $$ values ('swap', 'accepted', '{"original": {"sku": "tide-1", "brand": "Tide"}, "replacement": {"sku": "gv-det-1", "brand": "Great Value"}, "accepted": true, "reason": null}'::jsonb) $$,
  'an accepted swap is logged with both sides');
select public.record_swap(original => '{"sku": "heinz-1", "brand": "Heinz"}',
  replacement => '{"sku": "gv-ketchup", "brand": "Great Value"}', accepted => false, reason => 'Tastes different');
select results_eq(
  $$ select interaction_key, interaction_value ->> 'reason' from public.interaction_history where interaction_key = 'rejected' $$,
  $$ values ('rejected', 'Tastes different') $$,
  'a rejected swap is logged with its reason');
select is((select count(*)::int from public.customer_preferences), 0,
  'the API writes no brand of its own: the worker derives brands, in one place');
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
