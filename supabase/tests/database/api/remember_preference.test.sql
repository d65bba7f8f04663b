-- remember_preference: explicit, confidence 1.00, logged, and lifting a suppression.
begin;
select plan(12);

select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');

-- The rule ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select public.remember_preference(preference_type => 'allergy', preference_key => 'peanuts',
  reason => 'Severe allergy') as preference \gset
select is(:'preference'::uuid, (select id from public.customer_preferences where preference_key = 'peanuts'),
  'remember_preference returns the preference id');
select results_eq(
  $$ select preference_type, confidence, source, reason, times_confirmed from public.customer_preferences $$,
  $$ values ('allergy', 1.00::numeric(3,2), 'explicit', 'Severe allergy', 1) $$,
  'a stated preference is explicit with confidence 1.00');
select results_eq(
  $$ select interaction_type, interaction_key, interaction_value from public.interaction_history $$,
  $$ values ('preference_stated', 'allergy:peanuts', '{"preference_type": "allergy", "preference_key": "peanuts",
             "preference_value": null, "reason": "Severe allergy", "source": "settings"}'::jsonb) $$,
  'the statement is logged as evidence');

-- An inferred favourite becomes explicit; saying it again confirms it.
select tests.clear_authentication();
insert into public.customer_preferences (user_id, preference_type, preference_key, confidence, reason, source, times_confirmed)
values (tests.get_supabase_uid('alice'), 'favorite', 'milk-1', 0.90, 'Bought on 6 of your 8 shopping days in the last 90 days',
        'pattern', 6);  -- as the worker writes an inferred favourite
select tests.authenticate_as('alice');
select public.remember_preference(preference_type => 'favorite', preference_key => 'milk-1', preference_value => 'the 2% one');
select results_eq(
  $$ select confidence, source, preference_value, times_confirmed from public.customer_preferences where preference_key = 'milk-1' $$,
  $$ values (1.00::numeric(3,2), 'explicit', 'the 2% one', 7) $$,
  'stating an inferred preference makes it explicit');

-- Saying it after forgetting it lifts the suppression.
select tests.clear_authentication();
select private.suppress_memory(tests.get_supabase_uid('alice'), 'preference', 'dietary', 'vegetarian');
select tests.authenticate_as('alice');
select public.remember_preference(preference_type => 'dietary', preference_key => 'vegetarian');
select tests.clear_authentication();
select is((select count(*)::int from private.memory_suppressions), 0, 'a new statement lifts the suppression of that preference');

-- The wrong caller ---------------------------------------------------------------------------------------------------
select tests.authenticate_as('bob');
select is((select count(*)::int from public.customer_preferences), 0, 'another shopper sees none of alice''s preferences');
select tests.authenticate_as_anon();
select throws_ok($$ select public.remember_preference(preference_type => 'allergy', preference_key => 'peanuts') $$,
  '42501', 'permission denied for function remember_preference', 'anon cannot state a preference');
select set_config('role', 'authenticated', true), set_config('request.jwt.claims', '{"role": "authenticated"}', true);
select throws_ok($$ select public.remember_preference(preference_type => 'allergy', preference_key => 'peanuts') $$,
  '42501', 'remember_preference needs a signed-in shopper, but the request carries no JWT with a sub claim.',
  'a token without a sub claim is refused by the function itself');

-- Bad inputs ---------------------------------------------------------------------------------------------------------
select tests.clear_authentication();
create temporary table before_bad as select count(*) as n from public.customer_preferences;
select tests.authenticate_as('alice');
select throws_ok($$ select public.remember_preference(preference_type => 'mood', preference_key => 'happy') $$,
  '22023', 'preference_type must be one of dietary, allergy, dislike, favorite or brand, not ''mood''.',
  'an unknown preference type is refused');
select throws_ok($$ select public.remember_preference(preference_type => 'dislike', preference_key => '  ') $$,
  '22023', 'preference_key must be a non-empty text of at most 255 characters: what the preference is about.',
  'an empty key is refused');
select throws_ok($$ select public.remember_preference(preference_type => 'dislike', preference_key => 'avocado', reason => repeat('x', 1001)) $$,
  '22023', 'reason must be at most 1000 characters.', 'an overlong reason is refused');
select tests.clear_authentication();
select is((select count(*) from public.customer_preferences), (select n from before_bad), 'no bad call wrote anything');

select * from finish();
rollback;
