-- Bad input is refused by the tables themselves, with an error that names the rule, whoever writes.
begin;
select plan(10);

select tests.create_supabase_user('shopper');
select tests.authenticate_as_service_role();

select throws_ok(
  $$insert into public.customer_preferences (user_id, preference_type, preference_key, confidence)
    values (tests.get_supabase_uid('shopper'), 'favorite', 'milk', 1.5)$$,
  '23514', 'new row for relation "customer_preferences" violates check constraint "customer_preferences_confidence_range"',
  'a confidence of 1.5 is refused by name');
select throws_ok(
  $$insert into public.customer_preferences (user_id, preference_type, preference_key)
    values (tests.get_supabase_uid('shopper'), 'horoscope', 'leo')$$,
  '23514', 'new row for relation "customer_preferences" violates check constraint "customer_preferences_preference_type_check"',
  'an unknown preference type is refused by name');
select throws_ok(
  $$insert into public.customer_preferences (user_id, preference_type, preference_key)
    values (tests.get_supabase_uid('shopper'), 'favorite', repeat('k', 10000))$$,
  '23514', 'new row for relation "customer_preferences" violates check constraint "customer_preferences_preference_key_length"',
  'a key of 10,000 characters is refused by name');
select throws_ok(
  $$insert into public.customer_preferences (user_id, preference_type, preference_key, confidence, source)
    values (tests.get_supabase_uid('shopper'), 'favorite', 'milk', 1.00, 'inferred')$$,
  '23514', 'new row for relation "customer_preferences" violates check constraint "customer_preferences_inferred_confidence_cap"',
  'inference cannot claim the certainty reserved for what the shopper said');
select throws_ok(
  $$insert into public.shopping_patterns (user_id, pattern_type, pattern_key, pattern_value)
    values (tests.get_supabase_uid('shopper'), 'frequency', 'weekly', '[]')$$,
  '23514', 'new row for relation "shopping_patterns" violates check constraint "shopping_patterns_pattern_value_object"',
  'a pattern value must be an object');
select throws_like(  -- the row is refused by the month's partition, under the log's constraint
  $$insert into public.interaction_history (user_id, interaction_type) values (tests.get_supabase_uid('shopper'), 'telepathy')$$,
  'new row for relation "interaction_history_p%" violates check constraint "interaction_history_interaction_type_check"',
  'an unknown interaction type is refused by name');
select throws_ok(
  $$insert into public.memory_insights (user_id, insight_type, insight_key, insight_value)
    values (tests.get_supabase_uid('shopper'), 'persona', 'budget_conscious', '')$$,
  '23514', 'new row for relation "memory_insights" violates check constraint "memory_insights_insight_value_length"',
  'an empty insight is refused by name');
select throws_ok(
  $$insert into public.customer_preferences (user_id, preference_type, preference_key)
    values (gen_random_uuid(), 'favorite', 'milk')$$,
  '23503', null, 'a memory of a user who does not exist is refused');

select tests.clear_authentication();
select is((select count(*)::int from public.customer_preferences where user_id = tests.get_supabase_uid('shopper')), 0,
  'nothing was written by the refused inserts');
select is((select count(*)::int from public.interaction_history where user_id = tests.get_supabase_uid('shopper')), 0,
  'no interaction was written either');

select * from finish();
rollback;
