-- worker_apply_stated_preferences: explicit with evidence, once per message; a request to forget an allergy waits
-- for the shopper's confirmation (pending_removals.test.sql has the rest).
begin;
select plan(6);

select tests.create_supabase_user('alice');
insert into public.interaction_history (id, user_id, interaction_type, interaction_key, interaction_value)
values ('00000000-0000-4000-8000-00000000000a', tests.get_supabase_uid('alice'), 'message', 'user_message',
        '{"content": "My son is allergic to peanuts"}'),
       ('00000000-0000-4000-8000-00000000000b', tests.get_supabase_uid('alice'), 'message', 'user_message',
        '{"content": "Forget the peanuts"}');

select tests.authenticate_as_service_role();
select is(public.worker_apply_stated_preferences(tests.get_supabase_uid('alice'), '00000000-0000-4000-8000-00000000000a',
  '[{"action": "remember", "preference_type": "allergy", "preference_key": "peanuts", "preference_value": "peanuts",
     "reason": "Your son is allergic to peanuts"}]', 'rules'), 1, 'one statement applied');
select is(public.worker_apply_stated_preferences(tests.get_supabase_uid('alice'), '00000000-0000-4000-8000-00000000000a',
  '[{"action": "remember", "preference_type": "allergy", "preference_key": "peanuts"}]', 'rules'), 0,
  'a message is applied once');
select tests.clear_authentication();
select results_eq(
  $$ select confidence, source, times_confirmed from public.customer_preferences
      where user_id = tests.get_supabase_uid('alice') and preference_key = 'peanuts' $$,
  $$ values (1.00::numeric(3,2), 'explicit', 1) $$, 'a stated allergy is explicit');
select is((select interaction_value ->> 'source' from public.interaction_history
   where user_id = tests.get_supabase_uid('alice') and interaction_type = 'preference_stated'),
  'message', 'with a preference_stated event as its evidence');

select tests.authenticate_as_service_role();
select public.worker_apply_stated_preferences(tests.get_supabase_uid('alice'), '00000000-0000-4000-8000-00000000000b',
  '[{"action": "forget", "preference_type": "allergy", "preference_key": "peanuts"}]', 'rules');
select tests.clear_authentication();
select is((select count(*)::integer from public.customer_preferences
            where user_id = tests.get_supabase_uid('alice') and pending_removal is not null), 1,
  'forgetting an allergy in chat leaves it, pending the shopper''s confirmation');
select is((select count(*)::integer from private.memory_suppressions
   where user_id = tests.get_supabase_uid('alice') and memory_key = 'peanuts'), 0,
  'and suppresses nothing');

select * from finish();
rollback;
