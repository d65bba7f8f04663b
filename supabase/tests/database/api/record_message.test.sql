-- record_message: the shopper's words, and a recipe or meal request as a question.
begin;
select plan(10);

select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');

-- The rule ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select public.record_message(content => 'I''m allergic to peanuts', message_id => 'msg-1') as message_event \gset
select is(:'message_event'::uuid, (select id from public.interaction_history where interaction_type = 'message'),
  'record_message returns the message event''s id');
select results_eq(
  $$ select interaction_type, interaction_key, interaction_value, message_id from public.interaction_history $$,
  $$ values ('message', 'user_message', '{"content": "I''m allergic to peanuts"}'::jsonb, 'msg-1') $$,
  'a message is logged with its words and message id, and nothing else for a non-recipe message');
select public.record_message(content => 'Any easy Meal ideas for tonight?', session_id => '0d6a2c1e-8b4f-4e3a-9c2d-1f0e9d8c7b6a', message_id => 'msg-2');
select results_eq(
  $$ select interaction_key, interaction_value, message_id, session_id from public.interaction_history
      where interaction_type = 'question' $$,
  $$ values ('recipe_request', '{"query": "Any easy Meal ideas for tonight?"}'::jsonb, 'msg-2',
             '0d6a2c1e-8b4f-4e3a-9c2d-1f0e9d8c7b6a'::uuid) $$,
  'a meal request is also logged as a question/recipe_request with the same message');
select public.record_message(content => 'Recipes with chicken please');
select public.record_message(content => 'I need oatmeal');
select is((select count(*)::int from public.interaction_history where interaction_type = 'question'), 2,
  'recipes count as a request; oatmeal is not a meal request');

-- The wrong caller ---------------------------------------------------------------------------------------------------
select tests.authenticate_as('bob');
select is((select count(*)::int from public.interaction_history), 0, 'another shopper sees none of alice''s messages');
select tests.authenticate_as_anon();
select throws_ok($$ select public.record_message(content => 'hello') $$,
  '42501', 'permission denied for function record_message', 'anon cannot record a message');

-- Bad inputs ---------------------------------------------------------------------------------------------------------
select tests.clear_authentication();
create temporary table before_bad as select count(*) as n from public.interaction_history;
select tests.authenticate_as('alice');
select throws_ok($$ select public.record_message(content => '   ') $$,
  '22023', 'content is required: the shopper''s message, not an empty one.', 'an empty message is refused');
select throws_ok($$ select public.record_message(content => repeat('a', 10001)) $$,
  '22023', 'content has 10001 characters, but at most 10000 are accepted; split it into shorter messages.',
  'an overlong message is refused, naming the limit');
select throws_ok($$ select public.record_message(content => 'hi', message_id => '') $$,
  '22023', 'message_id must be a non-empty string of at most 255 characters.', 'an empty message id is refused');
select tests.clear_authentication();
select is((select count(*) from public.interaction_history), (select n from before_bad), 'no bad call wrote anything');

select * from finish();
rollback;
