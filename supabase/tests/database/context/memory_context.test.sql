-- memory_context: safety first whatever the floor or query, the floor, relevance to a query, the size budget,
-- one shopper only, and clear errors for the wrong caller or bad input.
begin;
select plan(18);

select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');

insert into public.customer_preferences (id, user_id, preference_type, preference_key, confidence, reason, source, times_confirmed)
values
  ('00000000-0000-0000-0000-0000000000a1', tests.get_supabase_uid('alice'), 'allergy', 'peanuts', 1.00, 'User said "allergic to peanuts"', 'explicit', 1),
  ('00000000-0000-0000-0000-0000000000a2', tests.get_supabase_uid('alice'), 'dietary', 'vegetarian', 0.55, 'Never orders meat products', 'inferred', 9),
  ('00000000-0000-0000-0000-0000000000a6', tests.get_supabase_uid('alice'), 'dietary', 'pescatarian', 1.00, 'User said "I am pescatarian"', 'explicit', 1),
  ('00000000-0000-0000-0000-0000000000a3', tests.get_supabase_uid('alice'), 'favorite', 'milk-whole-gal', 0.80, 'Purchased 15 times', 'pattern', 15),
  ('00000000-0000-0000-0000-0000000000a4', tests.get_supabase_uid('alice'), 'favorite', 'sourdough-bread', 0.90, 'Purchased 20 times', 'pattern', 20),
  ('00000000-0000-0000-0000-0000000000a5', tests.get_supabase_uid('alice'), 'favorite', 'gummy-bears', 0.60, 'Added to cart 2 times', 'inferred', 2),
  ('00000000-0000-0000-0000-0000000000b1', tests.get_supabase_uid('bob'), 'favorite', 'bob-secret-sku', 0.95, 'Purchased 40 times', 'pattern', 40);
-- 12 more favorites, to meet the caps.
insert into public.customer_preferences (user_id, preference_type, preference_key, confidence, reason, source, times_confirmed)
select tests.get_supabase_uid('alice'), 'favorite', 'item-' || g, 0.85, 'Purchased ' || g || ' times', 'pattern', g
from generate_series(1, 12) as g;
insert into public.shopping_patterns (user_id, pattern_type, pattern_key, pattern_value, confidence, occurrence_count, last_occurrence)
values
  (tests.get_supabase_uid('alice'), 'category_preference', 'dairy', '{"percentage": 0.35, "orders": 28}', 0.75, 28, now()),
  (tests.get_supabase_uid('alice'), 'time_of_day', 'evening', '{"orders": 24}', 0.90, 24, now() - interval '120 days');
insert into public.memory_insights (user_id, insight_type, insight_key, insight_value, confidence, supporting_data, expires_at)
values
  (tests.get_supabase_uid('alice'), 'persona', 'budget_conscious', 'Consistently chooses store brands', 0.85, '{"swaps_accepted": 12}', null),
  (tests.get_supabase_uid('alice'), 'goal', 'holiday_baking', 'Baking for the holidays', 0.90, '{}', now() - interval '1 day'),
  (tests.get_supabase_uid('alice'), 'context', 'family_of_four', 'Basket size and quantities suggest family', 0.65, '{"bulk_deals": 18}', null);

-- As alice ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('alice');

select is(
  (select jsonb_path_query_array(public.memory_context() -> 'allergies', '$[*].key')), '["peanuts"]',
  'an allergy is included');
select is(
  (select jsonb_path_query_array(public.memory_context() -> 'dietary', '$[*].key')), '["pescatarian"]',
  'a stated diet is a restriction; an inferred one (measured precision < 0.95) never is');
select is(
  (select jsonb_path_query_array(public.memory_context(1.00, 'chocolate cake') -> 'dietary', '$[*].key')), '["pescatarian"]',
  'a stated diet is included whatever the floor and the query (safety first)');
select is(
  (select jsonb_path_query_array(public.memory_context(0.50) -> 'habits', '$[*].key')), '["vegetarian"]',
  'an inferred diet at or above the floor is a habit');
select ok(
  not (public.memory_context() -> 'favorites') @> '[{"key": "gummy-bears"}]',
  'a favorite below the floor is left out');
select ok(
  (public.memory_context(0.90) -> 'insights') @> '[{"key": "family_of_four"}]',
  'the floor is for preferences: an unexpired insight below it is still in, as in the design document''s example');
select ok(
  (public.memory_context(0.50) -> 'favorites') @> '[{"key": "gummy-bears"}]' or
  (public.memory_context(0.50) -> 'omitted') ? 'favorites',
  'a lower floor admits it (or the cap counts it as omitted)');
select is(
  public.memory_context() #>> '{favorites,0,key}', 'sourdough-bread',
  'without a query favorites are ranked by confidence');
select is(
  public.memory_context(query => 'what milk should I get') #>> '{favorites,0,key}', 'milk-whole-gal',
  'with a query the relevant favorite comes first');
select is(
  public.memory_context(query => 'what milk should I get') #>> '{patterns,0,key}', 'dairy',
  'a milk question brings the dairy pattern');
select is(
  jsonb_array_length(public.memory_context() -> 'favorites'), 5,
  'a section is capped at five favorites');
select is(
  (public.memory_context() #>> '{omitted,favorites}')::integer, 9,
  'what the cap left out is counted');
select ok(
  not (public.memory_context() -> 'patterns') @> '[{"key": "evening"}]',
  'a pattern last seen more than 90 days ago is left out');
select ok(
  not (public.memory_context() -> 'insights') @> '[{"key": "holiday_baking"}]'
  and (public.memory_context() -> 'insights') @> '[{"key": "budget_conscious", "evidence_count": 1}]',
  'an expired insight is left out, an unexpired one is in with its evidence count');
select ok(
  (public.memory_context() -> 'favorites') @> '[{"id": "00000000-0000-0000-0000-0000000000a4", "confidence": 0.90, "reason": "Purchased 20 times", "source": "pattern", "evidence_count": 20}]',
  'each item carries its id, confidence, reason, source and evidence count');
select ok(
  position('bob-secret-sku' in public.memory_context(0, 'secret')::text) = 0,
  'another shopper''s memories never appear');
select throws_ok(
  $$select public.memory_context(1.5)$$, '22023', 'min_confidence must be a number between 0 and 1 (default 0.70).',
  'a floor outside 0..1 is refused');

-- As anon ----------------------------------------------------------------------------------------------------------
select tests.authenticate_as_anon();
select throws_ok(
  $$select public.memory_context()$$, '42501', 'permission denied for function memory_context',
  'an anonymous caller cannot read any memory');

select * from finish();
rollback;
