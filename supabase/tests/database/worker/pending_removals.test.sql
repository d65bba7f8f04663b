-- Chat never removes an allergy or a diet on its own: worker_apply_stated_preferences turns a request to forget
-- one into a pending removal; the shopper confirms (forgotten) or rejects (kept); nobody else can.
begin;
select plan(9);

select tests.create_supabase_user('pat');
select tests.create_supabase_user('quinn');
insert into public.interaction_history (id, user_id, interaction_type, interaction_key, interaction_value)
values ('00000000-0000-4000-8000-000000000011', tests.get_supabase_uid('pat'), 'message', 'user_message',
        '{"content": "I am allergic to peanuts and I hate olives"}'),
       ('00000000-0000-4000-8000-000000000012', tests.get_supabase_uid('pat'), 'message', 'user_message',
        '{"content": "forget that I am allergic to peanuts, and the olives"}');

select tests.authenticate_as_service_role();
select public.worker_apply_stated_preferences(tests.get_supabase_uid('pat'),
  '00000000-0000-4000-8000-000000000011',
  '[{"action": "remember", "preference_type": "allergy", "preference_key": "peanuts"},
    {"action": "remember", "preference_type": "dislike", "preference_key": "olive"}]', 'rules');
select is(public.worker_apply_stated_preferences(tests.get_supabase_uid('pat'),
  '00000000-0000-4000-8000-000000000012',
  '[{"action": "forget", "preference_type": "allergy", "preference_key": "peanuts"},
    {"action": "forget", "preference_type": "dislike", "preference_key": "olive"}]', 'claude'), 2,
  'both statements are applied');
select tests.clear_authentication();

select is((select count(*)::integer from public.customer_preferences
            where user_id = tests.get_supabase_uid('pat') and preference_key = 'peanuts'), 1,
  'the allergy stays');
select is((select pending_removal ->> 'message' from public.customer_preferences
            where user_id = tests.get_supabase_uid('pat') and preference_key = 'peanuts'),
  'forget that I am allergic to peanuts, and the olives', 'with a pending removal that quotes the shopper');
select is((select count(*)::integer from public.customer_preferences
            where user_id = tests.get_supabase_uid('pat') and preference_key = 'olive'), 0,
  'the dislike is removed');

select tests.authenticate_as('quinn');
select throws_ok(format('select public.confirm_pending_change(%L)',
  (select id from public.customer_preferences
    where user_id = tests.get_supabase_uid('pat') and preference_key = 'peanuts')), 'PT404',
  'No pending change with that id.', 'another shopper cannot confirm it');
select tests.clear_authentication();

select tests.authenticate_as('pat');
select is((select pending_change ->> 'extractor' from public.my_memories where memory_key = 'peanuts'), 'claude',
  'my_memories shows the pending change');
select is((public.reject_pending_change((select id from public.my_memories where memory_key = 'peanuts')) ->> 'rejected'),
  'true', 'the shopper rejects it');
select is((select pending_change from public.my_memories where memory_key = 'peanuts'), null,
  'and it is pending no more');
select tests.clear_authentication();

select tests.authenticate_as_anon();
select throws_ok($$select public.confirm_pending_change(gen_random_uuid())$$, '42501', null,
  'anonymous callers cannot answer one');
select tests.clear_authentication();

select * from finish();
rollback;
