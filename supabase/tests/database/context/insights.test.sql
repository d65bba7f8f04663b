-- Insights: a question suggested from orders never reaches the prompt; only its shopper answers it (Yes: theirs,
-- confirmed, in the prompt; No: dismissed and suppressed); anon, another shopper and the service role cannot.
begin;
select plan(16);

select tests.create_supabase_user('pat');
select tests.create_supabase_user('quinn');
insert into public.memory_insights (id, user_id, insight_type, insight_key, insight_value, confidence,
                                    supporting_data, source, status)
values ('00000000-0000-4000-8000-000000000021', tests.get_supabase_uid('pat'), 'context', 'children',
        'Shopping for young children', 0.60,
        '{"question": "Are you shopping for young children?", "because": "We noticed baby food or diapers in 6 of your last 10 orders", "orders": 6, "of_orders": 10}',
        'inferred', 'question'),
       ('00000000-0000-4000-8000-000000000022', tests.get_supabase_uid('pat'), 'context', 'pet-dog',
        'Has a dog', 0.60, '{"question": "Do you have a dog?"}', 'inferred', 'question');

select tests.authenticate_as('pat');
select is((public.memory_context() -> 'insights'), '[]'::jsonb, 'a question never reaches the prompt');
select is((select status from public.my_memories where memory_key = 'children'), 'question',
  'my_memories shows it as a question');
select is((select reason from public.my_memories where memory_key = 'children'),
  'We noticed baby food or diapers in 6 of your last 10 orders', 'with what suggested it');
select throws_ok($$select public.answer_insight_question('00000000-0000-4000-8000-000000000021', null)$$, '22023',
  null, 'an answer is required');
select tests.clear_authentication();

select tests.authenticate_as('quinn');
select throws_ok($$select public.answer_insight_question('00000000-0000-4000-8000-000000000021', true)$$, 'PT404',
  'No question with that id.', 'another shopper cannot answer it');
select tests.clear_authentication();

select tests.authenticate_as_anon();
select throws_ok($$select public.answer_insight_question('00000000-0000-4000-8000-000000000021', true)$$, '42501',
  null, 'an anonymous caller cannot answer it');
select tests.clear_authentication();

select tests.authenticate_as_service_role();
select throws_ok($$select public.answer_insight_question('00000000-0000-4000-8000-000000000021', true)$$, '42501',
  null, 'the service role cannot answer for a shopper');
select tests.clear_authentication();

select is((select status from public.memory_insights where id = '00000000-0000-4000-8000-000000000021'), 'question',
  'nothing changed');

select tests.authenticate_as('pat');
select is(public.answer_insight_question('00000000-0000-4000-8000-000000000021', true) ->> 'status', 'active',
  'Yes makes it the shopper''s');
select is((select source || ' ' || status || ' ' || confidence from public.memory_insights
            where id = '00000000-0000-4000-8000-000000000021'), 'confirmed active 1.00',
  'confirmed, at 1.00');
select ok((public.memory_context() -> 'insights') @> '[{"key": "children", "source": "confirmed", "reason": "You confirmed it"}]',
  'and in the prompt, saying the shopper confirmed it');
select throws_ok($$select public.answer_insight_question('00000000-0000-4000-8000-000000000021', false)$$, 'PT404',
  'No question with that id.', 'an answered question is no longer one');
select is(public.answer_insight_question('00000000-0000-4000-8000-000000000022', false) ->> 'status', 'dismissed',
  'No dismisses it');
select is((select count(*)::integer from public.my_memories where memory_key = 'pet-dog'), 0, 'it is gone');
select throws_ok($$update public.memory_insights set status = 'active'$$, '42501', null,
  'a shopper cannot write an insight directly');
select tests.clear_authentication();

select is((select count(*)::integer from private.memory_suppressions
            where user_id = tests.get_supabase_uid('pat') and memory_kind = 'insight' and memory_key = 'pet-dog'), 1,
  'and suppressed: older evidence never suggests it again');

select * from finish();
rollback;
