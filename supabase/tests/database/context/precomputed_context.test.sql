-- The precomputed memory_context document: who may touch it, that memory_context hands back the stored copy for
-- the default call only, that every write to the memory drops it, and that the refresh stores what composing
-- gives. (The race between a refresh and a write needs two sessions: tests/context/test_precomputed_context.py.)
begin;
select plan(21);

-- Other shoppers' documents (the seed's, say) are refreshed first, so the sweep below counts only this test's.
select tests.authenticate_as_service_role();
select public.worker_refresh_stale_contexts(1000);
select tests.clear_authentication();

select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');
insert into public.customer_preferences (user_id, preference_type, preference_key, confidence, reason, source)
values (tests.get_supabase_uid('alice'), 'allergy', 'peanuts', 1.00, 'User said so', 'explicit'),
       (tests.get_supabase_uid('alice'), 'favorite', 'sourdough', 0.90, 'Purchased 20 times', 'pattern'),
       (tests.get_supabase_uid('bob'), 'favorite', 'bob-secret-sku', 0.95, 'Purchased 40 times', 'pattern');
insert into public.shopping_patterns (user_id, pattern_type, pattern_key, confidence, last_occurrence)
values (tests.get_supabase_uid('alice'), 'frequency', 'weekly', 0.80, now() - interval '10 days');

-- Who may touch it --------------------------------------------------------------------------------------------------
select ok((select c.relrowsecurity from pg_class as c where c.oid = 'private.memory_context_cache'::regclass),
  'the table is under RLS');
select is(
  (select count(*)::integer from information_schema.role_table_grants
    where table_schema = 'private' and table_name = 'memory_context_cache'
      and grantee in ('anon', 'authenticated', 'service_role', 'PUBLIC')),
  0, 'and no API role holds any privilege on it');
select is(
  (select array_agg(distinct r.rolname::text order by r.rolname::text)
     from pg_proc as p cross join pg_roles as r
    where p.pronamespace = 'public'::regnamespace
      and p.proname in ('worker_refresh_context', 'worker_refresh_stale_contexts')
      and r.rolname in ('anon', 'authenticated', 'service_role', 'postgres')
      and has_function_privilege(r.oid, p.oid, 'execute')),
  array['postgres', 'service_role'], 'the refresh functions are the service role''s (and their owner''s)');

select tests.authenticate_as('alice');
select throws_ok($$ select public.worker_refresh_context(tests.get_supabase_uid('alice')) $$, '42501', null,
  'a shopper cannot refresh');
select throws_ok($$ select * from private.memory_context_cache $$, '42501', null,
  'nor read the stored documents');

-- Every write drops the document --------------------------------------------------------------------------------------
-- The invalidations are deferred to commit; this test never commits, and the refresh below fires the pending ones
-- (as the worker's does) and leaves them immediate for the rest of the transaction.
select tests.authenticate_as_service_role();
select ok(public.worker_refresh_context(tests.get_supabase_uid('alice')), 'the service role stores alice''s document');
select throws_ok($$ select public.worker_refresh_context(null) $$, '22023', 'The user id is required.',
  'a missing user id is refused');
select throws_ok($$ select public.worker_refresh_stale_contexts(0) $$, '22023',
  'p_limit must be a whole number from 1 to 1000.', 'so is a batch size out of range');
select tests.clear_authentication();

select is(
  (select c.document - 'generated_at' from private.memory_context_cache as c
    where c.user_id = tests.get_supabase_uid('alice')),
  private.compose_memory_context(tests.get_supabase_uid('alice'), 0.70, null) - 'generated_at',
  'the stored document is what composing gives');
select is(
  (select c.valid_until from private.memory_context_cache as c where c.user_id = tests.get_supabase_uid('alice')),
  now() + interval '80 days', 'it is valid until the weekly pattern leaves the 90-day window');

-- A marker shows which path answered.
update private.memory_context_cache set document = document || '{"marker": "stored"}'
 where user_id = tests.get_supabase_uid('alice');
select tests.authenticate_as('alice');
select is(public.memory_context() ->> 'marker', 'stored', 'the default call hands back the stored document');
select is(public.memory_context(0.70) ->> 'marker', 'stored', 'so does the default floor, given explicitly');
select is(public.memory_context(0.50) ->> 'marker', null, 'another floor is composed live');
select is(public.memory_context(query => 'bread') ->> 'marker', null, 'so is a query');
select tests.authenticate_as('bob');
select is(public.memory_context() ->> 'marker', null, 'bob never gets alice''s document');
select ok(position('sourdough' in public.memory_context()::text) = 0, 'nor anything of hers');
select tests.clear_authentication();

create temporary table generations as
  select c.generation from private.memory_context_cache as c where c.user_id = tests.get_supabase_uid('alice');
update public.customer_preferences set confidence = 0.92
 where user_id = tests.get_supabase_uid('alice') and preference_key = 'sourdough';
delete from public.shopping_patterns where user_id = tests.get_supabase_uid('alice');
insert into public.memory_insights (user_id, insight_type, insight_key, insight_value, confidence)
values (tests.get_supabase_uid('alice'), 'persona', 'budget_conscious', 'Store brands', 0.80);
select is(
  (select c.generation - g.generation from private.memory_context_cache as c, generations as g
    where c.user_id = tests.get_supabase_uid('alice')),
  1::bigint, 'an update, a delete and an insert move the generation on, once per transaction');
select is(
  (select c.document from private.memory_context_cache as c where c.user_id = tests.get_supabase_uid('alice')),
  null, 'and drop the stored document');
select tests.authenticate_as('alice');
select is(public.memory_context() #>> '{insights,0,key}', 'budget_conscious', 'memory_context composes afresh');

-- The sweep -----------------------------------------------------------------------------------------------------------
select tests.authenticate_as_service_role();
select is(public.worker_refresh_stale_contexts(10), 2, 'the sweep stores the missing documents (alice''s and bob''s)');
select is(public.worker_refresh_stale_contexts(10), 0, 'and then finds nothing to do');

select * from finish();
rollback;
