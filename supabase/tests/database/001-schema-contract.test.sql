-- The schema contract: the four tables of the design document, their keys, cascades, RLS and policies.
begin;
select plan(35);

select has_table('public', 'customer_preferences', 'customer_preferences exists');
select has_table('public', 'shopping_patterns', 'shopping_patterns exists');
select has_table('public', 'interaction_history', 'interaction_history exists');
select has_table('public', 'memory_insights', 'memory_insights exists');
select has_table('private', 'interaction_archive', 'the interaction archive is private');

select columns_are('public', 'customer_preferences',
  array['id', 'user_id', 'preference_type', 'preference_key', 'preference_value', 'confidence', 'reason', 'source',
        'created_at', 'updated_at', 'last_confirmed_at', 'times_confirmed', 'evidence', 'pending_removal'],
  'customer_preferences has the design document''s columns, the evidence an inference was written with and the '
  'removal a shopper asked for in chat');
select columns_are('public', 'shopping_patterns',
  array['id', 'user_id', 'pattern_type', 'pattern_key', 'pattern_value', 'confidence', 'occurrence_count',
        'last_occurrence', 'created_at', 'updated_at'],
  'shopping_patterns has the design document''s columns');
select columns_are('public', 'interaction_history',
  array['id', 'user_id', 'interaction_type', 'interaction_key', 'interaction_value', 'session_id', 'message_id',
        'created_at'],
  'interaction_history has the design document''s columns');
select columns_are('public', 'memory_insights',
  array['id', 'user_id', 'insight_type', 'insight_key', 'insight_value', 'confidence', 'supporting_data',
        'created_at', 'updated_at', 'expires_at', 'source', 'status', 'ended'],
  'memory_insights has the design document''s columns, where it comes from (source), whether it is in use, a '
  'question or ended (status), and what ended it');

select col_type_is('public', 'customer_preferences', 'confidence', 'numeric(3,2)', 'confidence is numeric(3,2)');
select col_type_is('public', 'shopping_patterns', 'pattern_value', 'jsonb', 'pattern_value is jsonb');
select col_type_is('public', 'interaction_history', 'created_at', 'timestamp with time zone', 'times are timestamptz');

select col_is_unique('public', 'customer_preferences', array['user_id', 'preference_type', 'preference_key'],
  'one preference per user, type and key');
select col_is_unique('public', 'shopping_patterns', array['user_id', 'pattern_type', 'pattern_key'],
  'one pattern per user, type and key');
select col_is_unique('public', 'memory_insights', array['user_id', 'insight_type', 'insight_key'],
  'one insight per user, type and key');

select fk_ok('public', 'customer_preferences', 'user_id', 'auth', 'users', 'id', 'preferences belong to a user');
select fk_ok('public', 'shopping_patterns', 'user_id', 'auth', 'users', 'id', 'patterns belong to a user');
select fk_ok('public', 'interaction_history', 'user_id', 'auth', 'users', 'id', 'interactions belong to a user');
select fk_ok('public', 'memory_insights', 'user_id', 'auth', 'users', 'id', 'insights belong to a user');

select is(
  (select array_agg(distinct confdeltype::text) from pg_constraint
    where contype = 'f' and confrelid = 'auth.users'::regclass
      and connamespace in ('public'::regnamespace, 'private'::regnamespace)),
  array['c'],
  'every reference to auth.users cascades on delete');

select has_index('public', 'interaction_history', 'interaction_history_user_created_idx',
  array['user_id', 'created_at'], 'recent interactions of a user are indexed');
select has_index('public', 'interaction_history', 'interaction_history_user_type_idx',
  array['user_id', 'interaction_type'], 'interactions by user and type are indexed');
select has_index('public', 'interaction_history', 'interaction_history_session_idx', array['session_id'],
  'interactions by session are indexed');
select has_index('public', 'memory_insights', 'memory_insights_expires_idx', array['expires_at'],
  'expiring insights are indexed');

select is(
  (select count(*)::int from pg_class c
    where c.relnamespace in ('public'::regnamespace, 'private'::regnamespace) and c.relkind in ('r', 'p')
      and not c.relrowsecurity),
  0, 'every table in public and private has RLS enabled');

select policies_are('public', 'customer_preferences',
  array['Shoppers can view their own preferences', 'Shoppers can delete their own preferences'],
  'preferences have exactly a select and a delete policy');
select policies_are('public', 'shopping_patterns',
  array['Shoppers can view their own patterns', 'Shoppers can delete their own patterns'],
  'patterns have exactly a select and a delete policy');
select policies_are('public', 'interaction_history',
  array['Shoppers can view their own interactions', 'Shoppers can delete their own interactions'],
  'interactions have exactly a select and a delete policy');
select policies_are('public', 'memory_insights',
  array['Shoppers can view their own insights', 'Shoppers can delete their own insights'],
  'insights have exactly a select and a delete policy');
select policy_roles_are('public', 'customer_preferences', 'Shoppers can view their own preferences',
  array['authenticated'], 'policies apply to authenticated only');

select is(
  (select count(*)::int from pg_policies
    where schemaname = 'public' and (qual not like '%( SELECT auth.uid() AS uid)%' or roles <> '{authenticated}')),
  0, 'every policy is to authenticated and wraps auth.uid() in a select');

select is(
  (select count(*)::int from pg_proc p
    where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)
      and not coalesce(p.proconfig @> array['search_path=""'], false)),
  0, 'every function in public and private pins search_path to empty');

select is(
  (select count(*)::int from pg_proc p
    where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)
      and (has_function_privilege('anon', p.oid, 'execute') or
           exists (select from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a where a.grantee = 0))),
  0, 'no function in public or private is executable by anon or by PUBLIC');

select ok(not has_schema_privilege('authenticated', 'private', 'usage'), 'shoppers cannot use the private schema');
select ok(not has_schema_privilege('anon', 'private', 'usage'), 'anon cannot use the private schema');

select * from finish();
rollback;
