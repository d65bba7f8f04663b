-- clear_memories and export_memories: everything of the caller, the archive and forget records included, and
-- nothing of anyone else.
begin;
select plan(10);
-- The precomputed document's invalidations run at commit; this test never commits, so they run per statement.
select private.invalidate_memory_context_now();

select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');
insert into public.customer_preferences (user_id, preference_type, preference_key, confidence, reason, source)
select u, 'favorite', 'sku-' || g, 0.80, 'Purchased', 'pattern'
from (values (tests.get_supabase_uid('alice')), (tests.get_supabase_uid('bob'))) as users(u), generate_series(1, 3) as g;
insert into public.shopping_patterns (user_id, pattern_type, pattern_key, confidence)
select u, 'frequency', 'weekly', 0.75
from (values (tests.get_supabase_uid('alice')), (tests.get_supabase_uid('bob'))) as users(u);
insert into public.memory_insights (user_id, insight_type, insight_key, insight_value, confidence)
values (tests.get_supabase_uid('alice'), 'goal', 'meal_prep', 'Large orders on Sundays', 0.80),
       (tests.get_supabase_uid('alice'), 'persona', 'budget_conscious', 'Store brands', 0.80);
insert into public.interaction_history (user_id, interaction_type, interaction_key)
select u, 'cart_add', 'sku-' || g
from (values (tests.get_supabase_uid('alice')), (tests.get_supabase_uid('bob'))) as users(u), generate_series(1, 4) as g;
insert into private.interaction_archive (user_id, interaction_type, interaction_key, created_at)
values (tests.get_supabase_uid('alice'), 'cart_add', 'old-sku', now() - interval '13 months'),
       (tests.get_supabase_uid('bob'), 'cart_add', 'old-sku', now() - interval '13 months');
select private.suppress_memory(tests.get_supabase_uid('alice'), 'preference', 'brand', 'heinz');
select private.suppress_memory(tests.get_supabase_uid('bob'), 'preference', 'brand', 'heinz');

-- As alice ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select is(
  public.export_memories() - 'exported_at' - 'preferences' - 'patterns' - 'insights' - 'interactions'
    - 'archived_interactions' - 'suppressions' - 'precomputed_contexts',
  jsonb_build_object('format', 'customer-memory-export', 'version', 1, 'user_id', tests.get_supabase_uid('alice')),
  'the export is one versioned document about alice');
select is(
  (select array[jsonb_array_length(e -> 'preferences'), jsonb_array_length(e -> 'patterns'),
                jsonb_array_length(e -> 'insights'), jsonb_array_length(e -> 'interactions'),
                jsonb_array_length(e -> 'archived_interactions'), jsonb_array_length(e -> 'suppressions'),
                jsonb_array_length(e -> 'precomputed_contexts')]
     from public.export_memories() as e),
  array[3, 1, 2, 4, 1, 1, 1],
  'it holds every row stored about her, the archive, forget records and the precomputed context included');
select ok(
  position(tests.get_supabase_uid('bob')::text in public.export_memories()::text) = 0,
  'and nothing of bob''s');
select is(
  public.clear_memories(),
  '{"preferences": 3, "patterns": 1, "insights": 2, "interactions": 4, "archived_interactions": 1, "suppressions": 1,
    "precomputed_contexts": 1}',
  'clearing returns the counts of what was deleted');
select is(
  (select array[jsonb_array_length(e -> 'preferences'), jsonb_array_length(e -> 'patterns'),
                jsonb_array_length(e -> 'insights'), jsonb_array_length(e -> 'interactions'),
                jsonb_array_length(e -> 'archived_interactions'), jsonb_array_length(e -> 'suppressions'),
                jsonb_array_length(e -> 'precomputed_contexts')]
     from public.export_memories() as e),
  array[0, 0, 0, 0, 0, 0, 0],
  'after clearing nothing is left about her');
select is(
  public.clear_memories(),
  '{"preferences": 0, "patterns": 0, "insights": 0, "interactions": 0, "archived_interactions": 0, "suppressions": 0,
    "precomputed_contexts": 0}',
  'clearing again deletes nothing');

-- As postgres: bob untouched --------------------------------------------------------------------------------------
select tests.clear_authentication();
select is(
  (select array[(select count(*) from public.customer_preferences where user_id = u),
                (select count(*) from public.shopping_patterns where user_id = u),
                (select count(*) from public.interaction_history where user_id = u),
                (select count(*) from private.interaction_archive where user_id = u),
                (select count(*) from private.memory_suppressions where user_id = u),
                (select count(*) from private.memory_context_cache where user_id = u)]
     from tests.get_supabase_uid('bob') as u),
  array[3::bigint, 1, 4, 1, 1, 1],
  'bob''s rows are untouched');

-- As anon ----------------------------------------------------------------------------------------------------------
select tests.authenticate_as_anon();
select throws_ok($$select public.clear_memories()$$, '42501', 'permission denied for function clear_memories',
  'an anonymous caller cannot clear anything');
select throws_ok($$select public.export_memories()$$, '42501', 'permission denied for function export_memories',
  'an anonymous caller cannot export anything');

-- As service_role: these are shopper functions ---------------------------------------------------------------------
select tests.authenticate_as_service_role();
select throws_ok($$select public.export_memories()$$, '42501', 'permission denied for function export_memories',
  'the service role is not a shopper and cannot call them');

select * from finish();
rollback;
