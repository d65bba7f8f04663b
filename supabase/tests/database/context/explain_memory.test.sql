-- explain_memory: a memory with the evidence behind it (interactions for a preference, figures and orders for a
-- pattern, supporting data for an insight); someone else's id or an unknown id is one and the same 404.
begin;
select plan(17);

select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');

insert into public.customer_preferences (id, user_id, preference_type, preference_key, confidence, reason, source, times_confirmed)
values
  ('00000000-0000-0000-0000-0000000000a1', tests.get_supabase_uid('alice'), 'favorite', 'milk-whole-gal', 0.80, 'Added to cart 6 times', 'inferred', 6),
  ('00000000-0000-0000-0000-0000000000a2', tests.get_supabase_uid('alice'), 'brand', 'great-value', 0.60, 'Accepted savings swap', 'inferred', 1),
  ('00000000-0000-0000-0000-0000000000a3', tests.get_supabase_uid('alice'), 'allergy', 'peanuts', 1.00, 'User said "allergic to peanuts"', 'explicit', 1),
  ('00000000-0000-0000-0000-0000000000a4', tests.get_supabase_uid('alice'), 'dietary', 'vegetarian', 0.70, 'Never orders meat products', 'inferred', 3),
  ('00000000-0000-0000-0000-0000000000b1', tests.get_supabase_uid('bob'), 'favorite', 'milk-whole-gal', 0.80, 'Added to cart 6 times', 'inferred', 6);
-- Alice: 25 adds of the milk, one of eggs, a checkout with milk and one without, an accepted swap to Great Value,
-- a stated allergy and a message. Bob: adds of the same milk, which must never count for alice.
-- Each inferred preference carries the evidence record it was derived from, as the worker writes every one (its
-- rule, figures and the interactions it names; private.preference_candidates): set below, once the events exist.
insert into public.interaction_history (user_id, interaction_type, interaction_key, interaction_value, created_at)
select tests.get_supabase_uid('alice'), 'cart_add', 'milk-whole-gal', '{"sku": "milk-whole-gal", "brand": "Horizon"}', now() - g * interval '1 hour'
from generate_series(1, 25) as g;
insert into public.interaction_history (id, user_id, interaction_type, interaction_key, interaction_value, created_at)
values
  ('00000000-0000-0000-0000-0000000000e1', tests.get_supabase_uid('alice'), 'cart_add', 'gv-eggs', '{"sku": "gv-eggs", "brand": "Great Value"}', now()),
  ('00000000-0000-0000-0000-0000000000e2', tests.get_supabase_uid('alice'), 'checkout', 'order-1',
   '{"order_id": "order-1", "items": [{"sku": "milk-whole-gal", "brand": "Horizon", "category": "dairy"}, {"sku": "bread", "category": "bakery"}]}', now() - interval '2 days'),
  ('00000000-0000-0000-0000-0000000000e3', tests.get_supabase_uid('alice'), 'checkout', 'order-2',
   '{"order_id": "order-2", "items": [{"sku": "apples", "category": "produce"}]}', now() - interval '3 days'),
  ('00000000-0000-0000-0000-0000000000e4', tests.get_supabase_uid('alice'), 'swap', 'accepted',
   '{"original": {"sku": "tide", "brand": "Tide"}, "replacement": {"sku": "gv-detergent", "brand": "Great Value"}, "accepted": true}', now()),
  ('00000000-0000-0000-0000-0000000000e5', tests.get_supabase_uid('alice'), 'preference_stated', 'allergy:peanuts',
   '{"preference_type": "allergy", "preference_key": "peanuts", "source": "settings"}', now()),
  ('00000000-0000-0000-0000-0000000000e6', tests.get_supabase_uid('alice'), 'message', 'user_message',
   '{"content": "I am allergic to peanuts, please remember"}', now()),
  -- Logged today but placed 200 days ago: outside the pattern's 90-day window.
  ('00000000-0000-0000-0000-0000000000e7', tests.get_supabase_uid('alice'), 'checkout', 'order-old',
   jsonb_build_object('order_id', 'order-old', 'placed_at', now() - interval '200 days',
                      'items', '[{"sku": "yogurt", "category": "Dairy"}]'::jsonb), now());
insert into public.interaction_history (user_id, interaction_type, interaction_key, interaction_value)
select tests.get_supabase_uid('bob'), 'cart_add', 'milk-whole-gal', '{"sku": "milk-whole-gal"}' from generate_series(1, 7);
update public.customer_preferences as p
   set evidence = jsonb_build_object('rule', 'favorite', 'days_bought_90', 2, 'interaction_ids', (
         select jsonb_agg(ih.id order by ih.created_at desc, ih.id) from public.interaction_history as ih
          where ih.user_id = p.user_id
            and (ih.interaction_key = 'milk-whole-gal' or ih.interaction_value -> 'items' @> '[{"sku": "milk-whole-gal"}]')))
 where p.id in ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-0000000000b1');
update public.customer_preferences
   set evidence = '{"rule": "brand", "days_chosen": 1, "interaction_ids": ["00000000-0000-0000-0000-0000000000e4", "00000000-0000-0000-0000-0000000000e1"]}'
 where id = '00000000-0000-0000-0000-0000000000a2';
update public.customer_preferences
   set evidence = '{"rule": "no meat in the whole history", "orders": 3, "interaction_ids": ["00000000-0000-0000-0000-0000000000e7", "00000000-0000-0000-0000-0000000000e2", "00000000-0000-0000-0000-0000000000e3"]}'
 where id = '00000000-0000-0000-0000-0000000000a4';
insert into public.shopping_patterns (id, user_id, pattern_type, pattern_key, pattern_value, confidence, occurrence_count, last_occurrence)
values ('00000000-0000-0000-0000-0000000000c1', tests.get_supabase_uid('alice'), 'category_preference', 'dairy',
        '{"percentage": 0.5, "orders": 1}', 0.55, 1, now());
insert into public.memory_insights (id, user_id, insight_type, insight_key, insight_value, confidence, supporting_data)
values ('00000000-0000-0000-0000-0000000000d1', tests.get_supabase_uid('alice'), 'persona', 'budget_conscious',
        'Consistently chooses store brands', 0.70,
        '{"swaps_accepted": 1, "interaction_ids": ["00000000-0000-0000-0000-0000000000e4"]}');

-- As alice ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('alice');

select is(
  public.explain_memory('00000000-0000-0000-0000-0000000000a1') #>> '{memory,memory_kind}', 'preference',
  'a preference is found by its id');
select is(
  (public.explain_memory('00000000-0000-0000-0000-0000000000a1') #>> '{evidence,interaction_count}')::integer, 26,
  'an inferred preference is explained by the interactions its record names: the 25 cart adds and the checkout');
select is(
  jsonb_array_length(public.explain_memory('00000000-0000-0000-0000-0000000000a1') #> '{evidence,interactions}'), 20,
  'the evidence listed is capped at 20');
select is(
  jsonb_path_query_array(public.explain_memory('00000000-0000-0000-0000-0000000000a2') #> '{evidence,interactions}', '$[*].id'),
  '["00000000-0000-0000-0000-0000000000e1", "00000000-0000-0000-0000-0000000000e4"]',
  'a brand is explained by the swap to it and the cart add of that brand, as its record names them');
select is(
  jsonb_path_query_array(public.explain_memory('00000000-0000-0000-0000-0000000000a3') #> '{evidence,interactions}', '$[*].interaction_type'),
  '["preference_stated", "message"]',
  'an explicit allergy is explained by the statement and the message that mention it');
select is(
  jsonb_path_query_array(public.explain_memory('00000000-0000-0000-0000-0000000000a4') #> '{evidence,interactions}', '$[*].detail.order_id'),
  '["order-old", "order-1", "order-2"]',
  'an inferred diet is explained by the orders its record names, summarised');
select is(
  public.explain_memory('00000000-0000-0000-0000-0000000000c1') #> '{evidence}',
  jsonb_build_object('figures', '{"percentage": 0.5, "orders": 1}'::jsonb, 'order_count', 1, 'orders_cap', 20)
    || jsonb_build_object('orders', public.explain_memory('00000000-0000-0000-0000-0000000000c1') #> '{evidence,orders}'),
  'a pattern is explained by its figures and counts only the orders placed in its window');
select is(
  public.explain_memory('00000000-0000-0000-0000-0000000000c1') #>> '{evidence,orders,0,order_id}', 'order-1',
  'and by the orders of its window that hold the category');
select is(
  public.explain_memory('00000000-0000-0000-0000-0000000000d1') #>> '{evidence,interactions,0,id}', '00000000-0000-0000-0000-0000000000e4',
  'an insight is explained by its supporting data and the interactions it names');
select is(
  public.explain_memory('00000000-0000-0000-0000-0000000000e6') #>> '{memory,value,content}',
  'I am allergic to peanuts, please remember',
  'a single logged event is shown as itself');
select throws_ok(
  $$select public.explain_memory('00000000-0000-0000-0000-0000000000b1')$$, 'PT404', 'No memory with that id.',
  'another shopper''s memory is not found');
select throws_ok(
  $$select public.explain_memory(null)$$, '22023', 'memory_id is required: pass the id of one of your memories (see my_memories).',
  'a missing id is refused');

-- As anon ----------------------------------------------------------------------------------------------------------
select tests.authenticate_as_anon();
select throws_ok(
  $$select public.explain_memory('00000000-0000-0000-0000-0000000000a1')$$, '42501', 'permission denied for function explain_memory',
  'an anonymous caller cannot explain anything');

-- An order written around the API with a placed_at that is no date (the API takes only valid ISO-8601): dated when
-- it was logged, as the worker dates it, and the pattern is still explained.
select tests.clear_authentication();
insert into public.interaction_history (id, user_id, interaction_type, interaction_key, interaction_value, created_at)
values ('00000000-0000-0000-0000-0000000000e8', tests.get_supabase_uid('alice'), 'checkout', 'order-bad-date',
        '{"order_id": "order-bad-date", "placed_at": "2026-02-30T10:00:00Z", "items": []}', now() - interval '1 day');
insert into public.shopping_patterns (id, user_id, pattern_type, pattern_key, pattern_value, confidence, occurrence_count, last_occurrence)
values ('00000000-0000-0000-0000-0000000000c2', tests.get_supabase_uid('alice'), 'frequency', 'weekly',
        '{"orders": 3}', 0.55, 3, now());
select tests.authenticate_as('alice');
select is(
  jsonb_path_query_array(public.explain_memory('00000000-0000-0000-0000-0000000000c2') #> '{evidence,orders}', '$[*].order_id'),
  '["order-bad-date", "order-1", "order-2"]',
  'an order with a placed_at that is no date counts from when it was logged, as the worker counts it');

-- Stated and inferred: what the shopper said is explained by their words, even holding an inference record (one
-- stated before remember_explicit dropped the record); an inferred one by its record only, never by a search (the
-- worker writes every inferred preference with its record).
select tests.clear_authentication();
update public.customer_preferences set evidence = '{"rule": "an old inference", "interaction_ids": []}'
 where id = '00000000-0000-0000-0000-0000000000a3';
insert into public.customer_preferences (id, user_id, preference_type, preference_key, confidence, reason, source)
values ('00000000-0000-0000-0000-0000000000a6', tests.get_supabase_uid('alice'), 'dietary', 'gluten_free', 0.70,
        'Written without a record', 'inferred');
select tests.authenticate_as('alice');
select is(
  jsonb_path_query_array(public.explain_memory('00000000-0000-0000-0000-0000000000a3') #> '{evidence,interactions}', '$[*].interaction_type'),
  '["preference_stated", "message"]',
  'a stated preference is explained by what the shopper said, whatever record it holds');
select is(
  public.explain_memory('00000000-0000-0000-0000-0000000000a6') #> '{evidence}',
  '{"record": null, "interaction_count": 0, "interactions": [], "interactions_cap": 20}',
  'an inferred preference without a record shows none, not the shopper''s orders');

-- One brand (or category) whatever its case, spacing and punctuation; other words are another.
select tests.clear_authentication();
select is(
  array(select b from unnest(array['Great Value', 'great-value', ' GREAT  VALUE!', 'greatvalue', 'Great Value 2',
                                   'Great', null]) as b
         where lower(b) ~ private.same_name('great-value')),
  array['Great Value', 'great-value', ' GREAT  VALUE!'],
  'names are the same brand when their words are');

select * from finish();
rollback;
