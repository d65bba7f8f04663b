-- record_checkout: the whole order as one event, once per order_id.
begin;
select plan(17);

select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');

create temporary table checkout as select $$ {
  "order_id": "A-1001", "placed_at": "2026-11-21T18:42:00-06:00", "time_zone": "America/Chicago",
  "items": [
    {"sku": "milk-1", "name": "Organic milk", "category": "dairy", "brand": "Horizon", "price": 4.99, "quantity": 2,
     "tags": ["organic"]},
    {"sku": "pb-1", "name": "Peanut butter", "category": "pantry", "brand": "Great Value", "price": 2.5, "quantity": 1,
     "tags": ["store_brand", "contains:peanuts"]}
  ]} $$::jsonb as payload;
grant select on checkout to authenticated;

-- The rule ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select isa_ok(public.record_checkout(checkout => (select payload from checkout)), 'uuid', 'record_checkout returns the event id');
select results_eq(
  $$ select interaction_type, interaction_key, interaction_value from public.interaction_history $$,
  $$ select 'checkout', 'A-1001', payload || '{"item_count": 3, "items_total": 12.48, "total": 12.48}' from checkout $$,
  'the order is logged as sent, keyed by order_id, with its item_count, items_total and total');
select is(public.record_checkout(checkout => (select payload from checkout)),
  (select id from public.interaction_history where interaction_key = 'A-1001'),
  'recording the same order again (a retry) returns the first event');
select is((select count(*)::int from public.interaction_history), 1, 'a retry logs nothing new');
select throws_ok($$ select public.record_checkout(checkout => (select jsonb_set(payload, '{time_zone}', '"America/Denver"') from checkout)) $$,
  '23505', 'checkout.order_id "A-1001" was already recorded with different contents; an order is recorded once.',
  'the same order_id with other contents is a conflict');
select lives_ok($$ select public.record_checkout(checkout => (select payload || '{"item_count": 3, "total": 12.48}' from checkout)) $$,
  'an item_count and total that agree with the items are accepted');

-- The wrong caller ---------------------------------------------------------------------------------------------------
select tests.authenticate_as('bob');
select is((select count(*)::int from public.interaction_history), 0, 'another shopper sees none of alice''s orders');
select tests.authenticate_as_anon();
select throws_ok($$ select public.record_checkout(checkout => '{}') $$,
  '42501', 'permission denied for function record_checkout', 'anon cannot record a checkout');

-- Bad inputs ---------------------------------------------------------------------------------------------------------
select tests.clear_authentication();
create temporary table before_bad as select count(*) as n from public.interaction_history;
select tests.authenticate_as('alice');
select throws_ok($$ select public.record_checkout(checkout => (select payload - 'order_id' from checkout)) $$,
  '22023', 'checkout.order_id is required: the order''s id in the shop.', 'a missing order_id is refused');
select throws_ok($$ select public.record_checkout(checkout => (select jsonb_set(payload, '{placed_at}', '"2026-11-21 18:42"') from checkout)) $$,
  '22023', 'checkout.placed_at must be an ISO-8601 timestamp with an offset (2026-11-24T18:30:00-05:00), not "2026-11-21 18:42".',
  'a time without an offset is refused');
select throws_ok($$ select public.record_checkout(checkout => (select jsonb_set(payload, '{time_zone}', '"Mars/Olympus"') from checkout)) $$,
  '22023', 'checkout.time_zone must be an IANA time zone name such as America/Chicago, not "Mars/Olympus".',
  'an unknown time zone is refused');
select throws_ok($$ select public.record_checkout(checkout => (select jsonb_set(payload, '{items}', '[]') from checkout)) $$,
  '22023', 'checkout.items must be an array of 1 to 500 items, not [].', 'an order without items is refused');
select throws_ok($$ select public.record_checkout(checkout => (select payload #- '{items,1,sku}' from checkout)) $$,
  '22023', 'checkout.items[1].sku is required: every item needs its SKU.', 'a line without a SKU is named by position');
select throws_ok($$ select public.record_checkout(checkout => (select jsonb_set(payload, '{items,0,quantity}', '-1') from checkout)) $$,
  '22023', 'checkout.items[0].quantity must be a whole number from 1 to 1000, not -1.', 'a negative quantity is refused');
select throws_ok($$ select public.record_checkout(checkout => (select payload #- '{items,0,price}' from checkout)) $$,
  '22023', 'checkout.items[0].price is required: the price paid for one unit.', 'a checkout line needs a price');
select throws_ok($$ select public.record_checkout(checkout => (select payload || '{"total": -1}' from checkout)) $$,
  '22023', 'checkout.total must be the amount paid, a number from 0 to 1000000, not -1.', 'a negative total is refused');
select tests.clear_authentication();
select is((select count(*) from public.interaction_history), (select n from before_bad), 'no bad call wrote anything');

select * from finish();
rollback;
