-- Row-level security of the memory tables, actor by actor: the owner, another shopper, anon, the service role.
begin;
select plan(20);

select tests.create_supabase_user('owner');
select tests.create_supabase_user('stranger');

insert into public.customer_preferences (user_id, preference_type, preference_key)
values (tests.get_supabase_uid('owner'), 'favorite', 'milk-whole-gal');
insert into public.shopping_patterns (user_id, pattern_type, pattern_key)
values (tests.get_supabase_uid('owner'), 'frequency', 'weekly');
insert into public.interaction_history (user_id, interaction_type, interaction_key)
values (tests.get_supabase_uid('owner'), 'search', 'oat milk');
insert into public.memory_insights (user_id, insight_type, insight_key, insight_value)
values (tests.get_supabase_uid('owner'), 'persona', 'budget_conscious', 'Consistently chooses store brands');

-- The owner
select tests.authenticate_as('owner');
select results_eq('select count(*)::int from public.customer_preferences', array[1], 'the owner sees their preference');
select results_eq('select count(*)::int from public.shopping_patterns', array[1], 'the owner sees their pattern');
select results_eq('select count(*)::int from public.interaction_history', array[1], 'the owner sees their interaction');
select results_eq('select count(*)::int from public.memory_insights', array[1], 'the owner sees their insight');
select throws_ok(
  $$insert into public.customer_preferences (user_id, preference_type, preference_key)
    values ((select auth.uid()), 'allergy', 'peanuts')$$,
  '42501', 'permission denied for table customer_preferences',
  'the owner cannot insert a preference directly (only through the API functions)');
select throws_ok($$update public.memory_insights set confidence = 0.95$$,
  '42501', 'permission denied for table memory_insights', 'the owner cannot rewrite what was inferred about them');
select throws_ok(
  $$insert into public.shopping_patterns (user_id, pattern_type, pattern_key)
    values ((select auth.uid()), 'basket_size', 'large')$$,
  '42501', 'permission denied for table shopping_patterns', 'the owner cannot forge a pattern');

-- Another shopper
select tests.authenticate_as('stranger');
select is_empty('select * from public.customer_preferences', 'a stranger sees none of the owner''s preferences');
select is_empty('select * from public.interaction_history', 'a stranger sees none of the owner''s interactions');
select results_eq('with gone as (delete from public.memory_insights returning 1) select count(*)::int from gone',
  array[0], 'a stranger deletes none of the owner''s insights');
select throws_ok($$update public.customer_preferences set confidence = 0.10$$,
  '42501', 'permission denied for table customer_preferences', 'a stranger cannot update anything');

-- Anonymous
select tests.authenticate_as_anon();
select throws_ok('select * from public.customer_preferences', '42501',
  'permission denied for table customer_preferences', 'anon cannot read preferences');
select throws_ok('select * from public.interaction_history', '42501',
  'permission denied for table interaction_history', 'anon cannot read interactions');
select throws_ok('delete from public.memory_insights', '42501',
  'permission denied for table memory_insights', 'anon cannot delete insights');

-- The owner deletes their own
select tests.authenticate_as('owner');
select results_eq('with gone as (delete from public.customer_preferences returning 1) select count(*)::int from gone',
  array[1], 'the owner deletes their preference');
select results_eq('with gone as (delete from public.interaction_history returning 1) select count(*)::int from gone',
  array[1], 'the owner deletes their interaction');

-- The service role (the worker) writes what was inferred
select tests.authenticate_as_service_role();
select lives_ok(
  $$insert into public.memory_insights (user_id, insight_type, insight_key, insight_value, confidence)
    values (tests.get_supabase_uid('stranger'), 'goal', 'meal_prep', 'Large orders on Sundays', 0.80)$$,
  'the service role writes insights');
select results_eq(
  $$select count(*)::int from public.memory_insights
     where user_id in (tests.get_supabase_uid('owner'), tests.get_supabase_uid('stranger'))$$,
  array[2], 'the service role sees every shopper');
select lives_ok($$update public.shopping_patterns set confidence = 0.70 where user_id = tests.get_supabase_uid('owner')$$,
  'the service role updates patterns');
select tests.clear_authentication();
select results_eq(
  $$select confidence from public.shopping_patterns where user_id = tests.get_supabase_uid('owner')$$,
  array[0.70::numeric(3, 2)], 'the service role''s update landed');

select * from finish();
rollback;
