-- record_interaction and record_interactions: one event or an atomic, bounded batch.
begin;
select plan(25);

select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');

-- One event ----------------------------------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select isa_ok(public.record_interaction(interaction_type => 'search', interaction_key => 'oat milk',
  interaction_value => '{"results": 12}', session_id => '7d3f8a4e-2b1c-4d5e-8f9a-0b1c2d3e4f5a', message_id => 'm-1'),
  'uuid', 'record_interaction returns the event id');
select results_eq(
  $$ select interaction_type, interaction_key, interaction_value, session_id, message_id, user_id
       from public.interaction_history $$,
  $$ values ('search', 'oat milk', '{"results": 12}'::jsonb, '7d3f8a4e-2b1c-4d5e-8f9a-0b1c2d3e4f5a'::uuid, 'm-1',
             tests.get_supabase_uid('alice')) $$,
  'the event is logged as sent, for the caller');
select public.record_interaction(interaction_type => 'view_item');
select is((select interaction_value from public.interaction_history where interaction_type = 'view_item'), '{}'::jsonb,
  'a missing interaction_value is logged as an empty object');

-- A batch ------------------------------------------------------------------------------------------------------------
select is(public.record_interactions(events => $$[
  {"interaction_type": "view_item", "interaction_key": "milk-1", "interaction_value": {"sku": "milk-1"}},
  {"interaction_type": "cart_add", "interaction_value": {"sku": "milk-1", "quantity": 2}},
  {"interaction_type": "voice_used", "interaction_key": "stt_input", "interaction_value": {"duration_seconds": 8}}
]$$), 3, 'record_interactions returns how many events it logged');
select is((select interaction_key from public.interaction_history where interaction_type = 'cart_add'), 'milk-1',
  'a cart_add in a batch is keyed by its SKU');
select is(public.record_interactions(events => '[]'), 0, 'an empty batch logs nothing');
select public.record_interactions(events => (select jsonb_agg(jsonb_build_object('interaction_type', 'cart_add',
  'interaction_value', jsonb_build_object('sku', 'tea-1'))) from generate_series(1, 6)));
select is((select count(*)::int from public.interaction_history where interaction_key = 'tea-1'), 6,
  'cart adds in a batch are logged as record_cart_add logs them (the worker derives favourites from both alike)');
select is(public.record_interactions(events => (select jsonb_agg('{"interaction_type": "search"}'::jsonb)
  from generate_series(1, 1000))), 1000, 'a batch of 1000 events is accepted');

-- The wrong caller ---------------------------------------------------------------------------------------------------
select tests.authenticate_as('bob');
select is((select count(*)::int from public.interaction_history), 0, 'another shopper sees none of alice''s events');
select tests.authenticate_as_anon();
select throws_ok($$ select public.record_interaction(interaction_type => 'search') $$,
  '42501', 'permission denied for function record_interaction', 'anon cannot record an event');
select throws_ok($$ select public.record_interactions(events => '[]') $$,
  '42501', 'permission denied for function record_interactions', 'anon cannot record a batch');
select set_config('role', 'authenticated', true), set_config('request.jwt.claims', '{"role": "authenticated"}', true);
select throws_ok($$ select public.record_interactions(events => '[]') $$,
  '42501', 'record_interactions needs a signed-in shopper, but the request carries no JWT with a sub claim.',
  'a token without a sub claim is refused by the function itself');

-- Bad inputs ---------------------------------------------------------------------------------------------------------
select tests.clear_authentication();
create temporary table before_bad as select count(*) as n from public.interaction_history;
select tests.authenticate_as('alice');
select throws_ok($$ select public.record_interaction(interaction_type => 'teleport') $$,
  '22023', 'interaction_type must be one of question, search, view_item, voice_used or cart_add, not "teleport".',
  'an unknown interaction type is refused');
select throws_ok($$ select public.record_interaction(interaction_type => 'checkout') $$,
  '22023', 'interaction_type "checkout" is recorded with record_checkout, which validates the order.',
  'a checkout must go through record_checkout');
select throws_ok($$ select public.record_interaction(interaction_type => 'search', interaction_value => '[1, 2]') $$,
  '22023', 'interaction_value must be a JSON object, not array.', 'a value that is not an object is refused');
select throws_ok($$ select public.record_interaction(interaction_type => 'cart_add', interaction_value => '{"sku": "a", "quantity": -1}') $$,
  '22023', 'interaction_value.quantity must be a whole number from 1 to 1000, not -1.', 'a cart_add is validated as an item');
select throws_ok($$ select public.record_interactions(events => '{"interaction_type": "search"}') $$,
  '22023', 'events must be a JSON array of events, not object.', 'a batch must be an array');
select throws_ok($$ select public.record_interactions(events => $j$[{"interaction_type": "search"}, {"interaction_type": "search"},
    {"interaction_type": "search"}, {"interaction_type": "searchh"}]$j$) $$,
  '22023', 'events[3].interaction_type must be one of question, search, view_item, voice_used or cart_add, not "searchh".',
  'a bad event is named by its position (0-based) in the batch');
select throws_ok($$ select public.record_interactions(events => '[{"interaction_type": "search"}, "search"]') $$,
  '22023', 'events[1] must be a JSON object (an event), not string.', 'an element that is not an object is refused');
select throws_ok($$ select public.record_interactions(events => '[{"interaction_type": "search", "user_id": "x"}]') $$,
  '22023', 'events[0].user_id is not a field of an event; an event has interaction_type, interaction_key, interaction_value, session_id and message_id.',
  'an unknown field (such as a user id) is refused');
select throws_ok($$ select public.record_interactions(events => '[{"interaction_type": "cart_add", "interaction_value": {"name": "milk"}}]') $$,
  '22023', 'events[0].interaction_value.sku is required: every item needs its SKU.', 'a cart_add without a SKU is refused');
select throws_ok($$ select public.record_interactions(events => '[{"interaction_type": "search", "session_id": "not-a-uuid"}]') $$,
  '22023', 'events[0].session_id must be a UUID, not "not-a-uuid".', 'a session_id that is not a UUID is refused');
select throws_ok($$ select public.record_interactions(events => (select jsonb_agg('{"interaction_type": "search"}'::jsonb)
    from generate_series(1, 1001))) $$,
  '22023', 'events holds 1001 events, but a batch holds at most 1000; split it into smaller batches.',
  'an oversized batch is refused, stating the bound');
select throws_like($$ select public.record_interactions(events => (select jsonb_agg(jsonb_build_object('interaction_type', 'search',
    'interaction_value', jsonb_build_object('blob', repeat(md5(g::text), 4000)))) from generate_series(1, 80) as g)) $$,
  'events has % bytes, but at most 8388608 (8 MiB) are accepted; split it into smaller batches.',
  'a batch larger than 8 MiB is refused, stating the bound');
select tests.clear_authentication();
select is((select count(*) from public.interaction_history), (select n from before_bad),
  'no bad call wrote anything: a failed batch leaves no partial rows');

select * from finish();
rollback;
