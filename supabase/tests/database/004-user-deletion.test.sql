-- Deleting a user (GoTrue's hard delete) removes all their memory rows, and nobody else's.
begin;
select plan(7);

select tests.create_supabase_user('leaving');
select tests.create_supabase_user('staying');

insert into public.customer_preferences (user_id, preference_type, preference_key)
select tests.get_supabase_uid(who), 'favorite', 'milk' from unnest(array['leaving', 'staying']) as who;
insert into public.shopping_patterns (user_id, pattern_type, pattern_key)
select tests.get_supabase_uid(who), 'frequency', 'weekly' from unnest(array['leaving', 'staying']) as who;
insert into public.interaction_history (user_id, interaction_type)
select tests.get_supabase_uid(who), 'search' from unnest(array['leaving', 'staying']) as who;
insert into public.memory_insights (user_id, insight_type, insight_key, insight_value)
select tests.get_supabase_uid(who), 'goal', 'meal_prep', 'Sunday prep' from unnest(array['leaving', 'staying']) as who;
insert into private.interaction_archive (id, user_id, interaction_type)
select gen_random_uuid(), tests.get_supabase_uid(who), 'search' from unnest(array['leaving', 'staying']) as who;
select private.suppress_memory(tests.get_supabase_uid(who), 'preference', 'dislike', 'avocado')
  from unnest(array['leaving', 'staying']) as who;

create temporary table staying as select tests.get_supabase_uid('staying') as id;
delete from auth.users where id = tests.get_supabase_uid('leaving');

select results_eq('select count(*)::int from public.customer_preferences where user_id <> (select id from staying)',
  array[0], 'the leaver''s preferences are gone');
select results_eq('select count(*)::int from public.shopping_patterns where user_id <> (select id from staying)',
  array[0], 'the leaver''s patterns are gone');
select results_eq('select count(*)::int from public.interaction_history where user_id <> (select id from staying)',
  array[0], 'the leaver''s interactions are gone');
select results_eq('select count(*)::int from public.memory_insights where user_id <> (select id from staying)',
  array[0], 'the leaver''s insights are gone');
select results_eq('select count(*)::int from private.interaction_archive where user_id <> (select id from staying)',
  array[0], 'the leaver''s archived interactions are gone');
select results_eq('select count(*)::int from private.memory_suppressions where user_id <> (select id from staying)',
  array[0], 'the leaver''s suppressions are gone');
select results_eq(
  $$select (select count(*) from public.customer_preferences) + (select count(*) from public.shopping_patterns)
         + (select count(*) from public.interaction_history) + (select count(*) from public.memory_insights)
         + (select count(*) from private.interaction_archive) + (select count(*) from private.memory_suppressions)$$,
  array[6::bigint], 'the one who stays keeps one row in each of the six tables');

select * from finish();
rollback;
