-- record_cart_add: the favourite rule, its caller, its inputs.
begin;
select plan(22);

select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');

-- The rule ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select public.record_cart_add(item => '{"sku": "milk-1", "name": "Whole milk", "brand": "gv", "price": 3.49, "quantity": 1}')
  from generate_series(1, 5);
select is((select count(*)::int from public.customer_preferences), 0, 'five adds of a SKU are not a favourite yet');
select is((select count(*)::int from public.interaction_history where interaction_type = 'cart_add' and interaction_key = 'milk-1'),
  5, 'every add is logged as a cart_add keyed by its SKU');
select is((select interaction_value from public.interaction_history where interaction_key = 'milk-1' limit 1),
  '{"sku": "milk-1", "name": "Whole milk", "brand": "gv", "price": 3.49, "quantity": 1}'::jsonb,
  'the item is logged as sent');

select public.record_cart_add(item => '{"sku": "milk-1"}');
select results_eq(
  $$ select confidence, times_confirmed, reason, source from public.customer_preferences
      where preference_type = 'favorite' and preference_key = 'milk-1' $$,
  $$ values (0.80::numeric(3,2), 6, 'Added to cart 6 times', 'inferred') $$,
  'the sixth add makes a favourite with confidence 0.5 + 6 * 0.05 and times_confirmed 6');

select public.record_cart_add(item => '{"sku": "milk-1"}') from generate_series(1, 6);
select results_eq(
  $$ select confidence, times_confirmed, reason from public.customer_preferences where preference_key = 'milk-1' $$,
  $$ values (0.95::numeric(3,2), 12, 'Added to cart 12 times') $$,
  'inferred confidence stops at 0.95 while times_confirmed keeps counting');

select public.remember_preference(preference_type => 'favorite', preference_key => 'eggs-12');
select public.record_cart_add(item => '{"sku": "eggs-12"}') from generate_series(1, 7);
select results_eq(
  $$ select confidence, source, reason from public.customer_preferences where preference_key = 'eggs-12' $$,
  $$ values (1.00::numeric(3,2), 'explicit', 'You told us in your settings') $$,
  'cart adds never lower or overwrite a favourite the shopper stated');

-- A forgotten favourite counts only adds made after it was forgotten.
select tests.clear_authentication();
insert into public.interaction_history (user_id, interaction_type, interaction_key, interaction_value, created_at)
select tests.get_supabase_uid('alice'), 'cart_add', 'bread-1', '{"sku": "bread-1"}', now() - interval '2 days'
  from generate_series(1, 9);
insert into private.memory_suppressions (user_id, memory_kind, memory_type, memory_key, forgotten_at)
values (tests.get_supabase_uid('alice'), 'preference', 'favorite', 'bread-1', now() - interval '1 day');
select tests.authenticate_as('alice');
select public.record_cart_add(item => '{"sku": "bread-1"}') from generate_series(1, 5);
select is((select count(*)::int from public.customer_preferences where preference_key = 'bread-1'), 0,
  'adds from before a favourite was forgotten do not bring it back');
select public.record_cart_add(item => '{"sku": "bread-1"}');
select results_eq(
  $$ select times_confirmed, confidence from public.customer_preferences where preference_key = 'bread-1' $$,
  $$ values (6, 0.80::numeric(3,2)) $$,
  'six adds after the forgetting make it a favourite again, counting only those six');

-- The wrong caller ---------------------------------------------------------------------------------------------------
select tests.authenticate_as('bob');
select public.record_cart_add(item => '{"sku": "milk-1"}');
select is((select count(*)::int from public.interaction_history), 1, 'another shopper sees only their own add');
select is((select count(*)::int from public.customer_preferences), 0, 'another shopper''s adds do not count toward alice''s favourite, nor alice''s toward theirs');

select tests.authenticate_as_anon();
select throws_ok($$ select public.record_cart_add(item => '{"sku": "milk-1"}') $$,
  '42501', 'permission denied for function record_cart_add', 'anon cannot record a cart add');

select tests.authenticate_as_service_role();
select throws_ok($$ select public.record_cart_add(item => '{"sku": "milk-1"}') $$,
  '42501', 'permission denied for function record_cart_add', 'the service role is not a shopper');

select set_config('role', 'authenticated', true), set_config('request.jwt.claims', '{"role": "authenticated"}', true);
select throws_ok($$ select public.record_cart_add(item => '{"sku": "milk-1"}') $$,
  '42501', 'record_cart_add needs a signed-in shopper, but the request carries no JWT with a sub claim.',
  'a token without a sub claim is refused by the function itself');

-- Bad inputs: a clear 22023 naming the field, nothing written --------------------------------------------------------
select tests.clear_authentication();
create temporary table before_bad as select count(*) as n from public.interaction_history;
select tests.authenticate_as('alice');
select throws_ok($$ select public.record_cart_add(item => '{"name": "Whole milk"}') $$,
  '22023', 'item.sku is required: every item needs its SKU.', 'a missing SKU is refused');
select throws_ok($$ select public.record_cart_add(item => '{"sku": ""}') $$,
  '22023', 'item.sku must be a non-empty string of at most 255 characters, not "".', 'an empty SKU is refused');
select throws_ok($$ select public.record_cart_add(item => '{"sku": "milk-1", "quantity": -2}') $$,
  '22023', 'item.quantity must be a whole number from 1 to 1000, not -2.', 'a negative quantity is refused');
select throws_ok($$ select public.record_cart_add(item => '{"sku": "milk-1", "quantity": 1.5}') $$,
  '22023', 'item.quantity must be a whole number from 1 to 1000, not 1.5.', 'a fractional quantity is refused');
select throws_ok($$ select public.record_cart_add(item => '{"sku": "milk-1", "price": "3.49"}') $$,
  '22023', 'item.price must be a number, not "3.49".', 'a price that is not a number is refused');
select throws_ok($$ select public.record_cart_add(item => '{"sku": "milk-1", "tags": "organic"}') $$,
  '22023', 'item.tags must be an array of at most 50 strings, not "organic".', 'tags that are not an array are refused');
select throws_ok($$ select public.record_cart_add(item => '["milk-1"]') $$,
  '22023', 'item must be a JSON object describing the item, not array.', 'an item that is not an object is refused');
select throws_ok($$ select public.record_cart_add(item => null) $$,
  '22023', 'item must be a JSON object describing the item, not missing.', 'a missing item is refused');
select tests.clear_authentication();
select is((select count(*) from public.interaction_history), (select n from before_bad), 'no bad call wrote anything');

select * from finish();
rollback;
