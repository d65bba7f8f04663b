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

-- Everything the two test users own, and everyone else's rows (the seed's shoppers, say), before the delete.
create temporary table ids as
select tests.get_supabase_uid('leaving') as leaving, tests.get_supabase_uid('staying') as staying;
create temporary view memory_rows as
select 'preferences' as store, user_id from public.customer_preferences
union all select 'patterns', user_id from public.shopping_patterns
union all select 'interactions', user_id from public.interaction_history
union all select 'insights', user_id from public.memory_insights
union all select 'archive', user_id from private.interaction_archive
union all select 'suppressions', user_id from private.memory_suppressions;
create temporary table others_before as
select count(*) as n from memory_rows where user_id not in (select leaving from ids union all select staying from ids);

delete from auth.users where id = (select leaving from ids);

select results_eq($$select count(*)::int from memory_rows where store = 'preferences' and user_id = (select leaving from ids)$$,
  array[0], 'the leaver''s preferences are gone');
select results_eq($$select count(*)::int from memory_rows where store = 'patterns' and user_id = (select leaving from ids)$$,
  array[0], 'the leaver''s patterns are gone');
select results_eq($$select count(*)::int from memory_rows where store = 'interactions' and user_id = (select leaving from ids)$$,
  array[0], 'the leaver''s interactions are gone');
select results_eq($$select count(*)::int from memory_rows where store = 'insights' and user_id = (select leaving from ids)$$,
  array[0], 'the leaver''s insights are gone');
select results_eq($$select count(*)::int from memory_rows where store = 'archive' and user_id = (select leaving from ids)$$,
  array[0], 'the leaver''s archived interactions are gone');
select results_eq($$select count(*)::int from memory_rows where store = 'suppressions' and user_id = (select leaving from ids)$$,
  array[0], 'the leaver''s suppressions are gone');
select results_eq(
  $$select (select count(distinct store) from memory_rows where user_id = (select staying from ids)),
           (select count(*) from memory_rows where user_id = (select staying from ids)),
           (select count(*) from memory_rows where user_id <> all (select leaving from ids union all select staying from ids))
             = (select n from others_before)$$,
  $$values (6::bigint, 6::bigint, true)$$,
  'the one who stays keeps one row in each of the six tables, and nobody else loses a row');

select * from finish();
rollback;
