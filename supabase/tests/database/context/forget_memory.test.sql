-- forget_memory: gone wherever it lived, suppressed against old evidence, lifted by a new explicit statement;
-- someone else's or an unknown id changes nothing.
begin;
select plan(14);

select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');
insert into public.customer_preferences (id, user_id, preference_type, preference_key, confidence, reason, source, times_confirmed)
values ('00000000-0000-0000-0000-0000000000a1', tests.get_supabase_uid('alice'), 'favorite', 'milk-whole-gal', 0.80, 'Added to cart 6 times', 'inferred', 6),
       ('00000000-0000-0000-0000-0000000000b1', tests.get_supabase_uid('bob'), 'favorite', 'milk-whole-gal', 0.80, 'Added to cart 6 times', 'inferred', 6);
insert into public.shopping_patterns (id, user_id, pattern_type, pattern_key, confidence)
values ('00000000-0000-0000-0000-0000000000a2', tests.get_supabase_uid('alice'), 'time_of_day', 'evening', 0.85);
insert into public.memory_insights (id, user_id, insight_type, insight_key, insight_value, confidence)
values ('00000000-0000-0000-0000-0000000000a3', tests.get_supabase_uid('alice'), 'persona', 'budget_conscious', 'Chooses store brands', 0.85);
insert into public.interaction_history (id, user_id, interaction_type, interaction_key)
values ('00000000-0000-0000-0000-0000000000a4', tests.get_supabase_uid('alice'), 'cart_add', 'milk-whole-gal');
insert into private.interaction_archive (id, user_id, interaction_type, interaction_key, created_at)
values ('00000000-0000-0000-0000-0000000000a5', tests.get_supabase_uid('alice'), 'checkout', 'order-2025-01',
        now() - interval '13 months');

-- As alice ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select is(
  public.forget_memory('00000000-0000-0000-0000-0000000000a1') - 'id',
  '{"forgotten": true, "memory_kind": "preference", "memory_type": "favorite", "memory_key": "milk-whole-gal", "suppressed": true}',
  'forgetting a preference says what was forgotten');
select is_empty(
  $$select from public.customer_preferences where id = '00000000-0000-0000-0000-0000000000a1'$$,
  'the preference is gone');
select is(
  public.forget_memory('00000000-0000-0000-0000-0000000000a2') ->> 'memory_kind', 'pattern', 'a pattern can be forgotten');
select is(
  public.forget_memory('00000000-0000-0000-0000-0000000000a3') ->> 'memory_kind', 'insight', 'an insight can be forgotten');
select is(
  public.forget_memory('00000000-0000-0000-0000-0000000000a4') - 'id',
  '{"forgotten": true, "memory_kind": "interaction", "memory_type": "cart_add", "memory_key": "milk-whole-gal", "suppressed": false}',
  'a single logged event can be forgotten');
select is(
  public.forget_memory('00000000-0000-0000-0000-0000000000a5') ->> 'memory_key', 'order-2025-01',
  'an archived event can be forgotten too');
select throws_ok(
  $$select public.forget_memory('00000000-0000-0000-0000-0000000000b1')$$, 'PT404', 'No memory with that id.',
  'another shopper''s memory cannot be forgotten, and its existence is not revealed');
select throws_ok(
  $$select public.forget_memory('00000000-0000-0000-0000-0000000000a1')$$, 'PT404', 'No memory with that id.',
  'forgetting twice is an unknown id');
select throws_ok(
  $$select public.forget_memory(null)$$, '22023', 'memory_id is required: pass the id of one of your memories (see my_memories).',
  'a missing id is refused');

-- As postgres: what was recorded -----------------------------------------------------------------------------------
select tests.clear_authentication();
select results_eq(
  $$select memory_kind, memory_type, memory_key from private.memory_suppressions
     where user_id = tests.get_supabase_uid('alice') order by 1$$,
  $$values ('insight', 'persona', 'budget_conscious'), ('pattern', 'time_of_day', 'evening'),
           ('preference', 'favorite', 'milk-whole-gal')$$,
  'each forgotten memory is suppressed, the forgotten event is not');
select ok(
  private.evidence_since(tests.get_supabase_uid('alice'), 'preference', 'favorite', 'milk-whole-gal') = now(),
  'evidence up to the moment it was forgotten no longer counts');
select ok(
  private.evidence_since(tests.get_supabase_uid('bob'), 'preference', 'favorite', 'milk-whole-gal') = '-infinity'
  and exists (select from public.customer_preferences where id = '00000000-0000-0000-0000-0000000000b1'),
  'bob''s same memory is untouched and not suppressed');
-- A new explicit statement lifts the suppression (what remember_preference does) and brings the memory back.
delete from private.memory_suppressions
 where user_id = tests.get_supabase_uid('alice') and memory_kind = 'preference' and memory_key = 'milk-whole-gal';
insert into public.customer_preferences (user_id, preference_type, preference_key, confidence, reason, source)
values (tests.get_supabase_uid('alice'), 'favorite', 'milk-whole-gal', 1.00, 'You told us', 'explicit');
select ok(
  private.evidence_since(tests.get_supabase_uid('alice'), 'preference', 'favorite', 'milk-whole-gal') = '-infinity',
  'after a new explicit statement the evidence counts again');

-- As anon ----------------------------------------------------------------------------------------------------------
select tests.authenticate_as_anon();
select throws_ok(
  $$select public.forget_memory('00000000-0000-0000-0000-0000000000b1')$$, '42501', 'permission denied for function forget_memory',
  'an anonymous caller cannot forget anything');

select * from finish();
rollback;
