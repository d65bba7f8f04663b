-- record_cart_add: what it logs, its caller, its inputs (the favourite rule is the worker's: private.derive_preferences).
begin;
select plan(20);

select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');

-- The rule: the API logs the add; the worker decides what it means (issue 10: one place for the favourite rule) ----
select tests.authenticate_as('alice');
select public.record_cart_add(item => '{"sku": "milk-1", "name": "Whole milk", "brand": "gv", "price": 3.49, "quantity": 1}')
  from generate_series(1, 12);
select is((select count(*)::int from public.interaction_history where interaction_type = 'cart_add' and interaction_key = 'milk-1'),
  12, 'every add is logged as a cart_add keyed by its SKU');
select is((select interaction_value from public.interaction_history where interaction_key = 'milk-1' limit 1),
  '{"sku": "milk-1", "name": "Whole milk", "brand": "gv", "price": 3.49, "quantity": 1}'::jsonb,
  'the item is logged as sent');
select is((select count(*)::int from public.customer_preferences), 0,
  'the API writes no favourite of its own: the worker derives it, with every other inference');
select public.record_cart_add(item => '{"sku": "tea-1", "added_at": "2026-01-05T09:00:00-05:00"}');
select is((select interaction_value ->> 'added_at' from public.interaction_history where interaction_key = 'tea-1'),
  '2026-01-05T09:00:00-05:00', 'when the item was added is kept as sent (the worker reads event time)');
select is((select count(*)::int from public.interaction_history where interaction_key = 'tea-1'), 1, 'one add, one event');

select public.remember_preference(preference_type => 'favorite', preference_key => 'eggs-12');
select public.record_cart_add(item => '{"sku": "eggs-12"}') from generate_series(1, 7);
select results_eq(
  $$ select confidence, source, reason from public.customer_preferences where preference_key = 'eggs-12' $$,
  $$ values (1.00::numeric(3,2), 'explicit', 'You told us in your settings') $$,
  'cart adds never lower or overwrite a favourite the shopper stated');

-- The wrong caller ---------------------------------------------------------------------------------------------------
select tests.authenticate_as('bob');
select public.record_cart_add(item => '{"sku": "milk-1"}');
select is((select count(*)::int from public.interaction_history), 1, 'another shopper sees only their own add');
select is((select count(*)::int from public.customer_preferences), 0, 'another shopper sees none of alice''s preferences');

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
