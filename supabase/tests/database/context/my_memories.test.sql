-- my_memories: every memory of the caller, one row each, and nobody else's; closed to anon under either regime.
begin;
select plan(6);

select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');
insert into public.customer_preferences (user_id, preference_type, preference_key, confidence, reason, source)
values (tests.get_supabase_uid('alice'), 'allergy', 'peanuts', 1.00, 'User said "allergic to peanuts"', 'explicit'),
       (tests.get_supabase_uid('alice'), 'brand', 'chobani', 0.85, 'Strong preference for Chobani yogurt', 'pattern'),
       (tests.get_supabase_uid('bob'), 'brand', 'heinz', 0.90, 'Rejected swap - brand loyalty', 'inferred');
insert into public.shopping_patterns (user_id, pattern_type, pattern_key, pattern_value, confidence, occurrence_count)
values (tests.get_supabase_uid('alice'), 'frequency', 'weekly', '{"avg_days": 7.2, "orders": 30}', 0.75, 30);
insert into public.memory_insights (user_id, insight_type, insight_key, insight_value, confidence, supporting_data)
values (tests.get_supabase_uid('alice'), 'goal', 'meal_prep', 'Large orders on Sundays', 0.80, '{"sunday_orders": 8}');
insert into public.interaction_history (user_id, interaction_type, interaction_key)
values (tests.get_supabase_uid('alice'), 'cart_add', 'milk-whole-gal');

select is(
  (select c.reloptions from pg_class as c where c.oid = 'public.my_memories'::regclass), array['security_invoker=true'],
  'the view runs under the caller''s RLS');
select ok(
  not has_table_privilege('anon', 'public.my_memories', 'select')
  and not has_table_privilege('service_role', 'public.my_memories', 'select')
  and has_table_privilege('authenticated', 'public.my_memories', 'select'),
  'only signed-in shoppers may select from it');

-- As alice ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select results_eq(
  $$select memory_kind, memory_type, memory_key from public.my_memories order by 1, 2, 3$$,
  $$values ('insight', 'goal', 'meal_prep'), ('pattern', 'frequency', 'weekly'),
           ('preference', 'allergy', 'peanuts'), ('preference', 'brand', 'chobani')$$,
  'alice sees each of her memories once, and no interaction rows');
select is(
  (select reason from public.my_memories where memory_key = 'chobani'), 'Strong preference for Chobani yogurt',
  'a memory carries its reason');

-- As bob -----------------------------------------------------------------------------------------------------------
select tests.authenticate_as('bob');
select results_eq(
  $$select memory_key from public.my_memories$$, $$values ('heinz')$$,
  'bob sees only his own memory');

-- As anon ----------------------------------------------------------------------------------------------------------
select tests.authenticate_as_anon();
select throws_ok(
  $$select * from public.my_memories$$, '42501', 'permission denied for view my_memories',
  'an anonymous caller cannot list memories');

select * from finish();
rollback;
