-- Worker: insights: those inferred from the event log (what a derivation is: 34_worker_read_events.sql), and those
-- the shopper stated, confirmed or ended.

-- Inferred insights, and the questions inference may ask (status 'question': shown on the page, never in the
-- prompt, until the shopper answers Yes). Each rule is kept only where benchmarks/learning.py measured it against
-- what happened later (docs/learning.md, "What validated means"; benchmarks/RESULTS.md):
-- - persona store-label, a share claim: the store label's share of the items of the last 90 days' orders (at
--   least 50 items), claimed as "at least" 0.6 of that share rounded down to 5%, only when that is 20% or more.
--   Out of time it held for 0.970 of the households claimed (learned to 2017-07-01, checked on Jul-Sep; 0.957 a
--   quarter earlier) and 0.955 on the holdout, against 0.85-0.86 for the naive "at least 20%"
--   (benchmarks/insight_rules.py): confidence 0.95, the cap for an inference.
-- - context children, a question only (children are never stated on inference alone): baby food, formula or
--   diapers in at least 3 of the last 10 orders (at least 5 orders). Against Complete Journey's demographics
--   0.54-0.68 of the households asked have children (base rate 0.36): a good question, not a fact.
-- Not derived: household size from basket size (at most 0.66 precision for "3 or more people" at the largest
-- baskets), organic share (the median shopper buys none: no claim reaches 0.90 with enough shoppers), coupon use
-- (checkouts do not carry coupons), and every rule the older benchmark rejected (family household 41% against 36%
-- for the largest baskets, budget-conscious 50% against 42%, meal prep with no defensible check). Evidence from
-- before a forget (or a No) never counts (private.evidence_since). What the shopper stated or confirmed is never
-- touched by a recompute (worker_recompute_user).
create or replace function private.derive_insights(p_user_id uuid, p_now timestamptz)
returns table (
  insight_type text, insight_key text, insight_value text, confidence numeric, supporting_data jsonb,
  expires_at timestamptz, status text
)
language sql
stable
set search_path = ''
as $$
  with o as materialized (
    select c.interaction_id, c.placed_at, c.items from private.checkouts(p_user_id, p_now) as c
  ),
  label as (
    select count(*) as items,
           count(*) filter (where pg_catalog.jsonb_typeof(i.value -> 'tags') = 'array'
                              and i.value -> 'tags' ? 'store_brand') as store_items,
           count(distinct o.interaction_id) as orders
      from o cross join lateral pg_catalog.jsonb_array_elements(o.items) as i
     where o.placed_at > p_now - private.pattern_recency()
       and o.placed_at > private.evidence_since(p_user_id, 'insight', 'persona', 'store-label')
  ),
  label_claim as (
    select l.items, l.store_items, l.orders,
           pg_catalog.floor(0.6 * l.store_items / l.items * 20) / 20 as at_least
      from label as l
     where l.items >= 50
  ),
  last_orders as (
    select o.interaction_id, o.placed_at,
           exists (select from pg_catalog.jsonb_array_elements(o.items) as i
                    where pg_catalog.lower(i.value ->> 'category') ~ '(baby|infant|diaper)') as baby
      from o
     where o.placed_at > private.evidence_since(p_user_id, 'insight', 'context', 'children')
     order by o.placed_at desc, o.interaction_id
     limit 10
  ),
  baby as (
    select count(*) filter (where b.baby) as baby_orders, count(*) as orders,
           coalesce(pg_catalog.jsonb_agg(b.interaction_id order by b.placed_at desc, b.interaction_id)
                      filter (where b.baby), '[]')
             as ids
      from last_orders as b
  )
  select 'persona', 'store-label',
         format('Often chooses the store label (at least %s%% of items)', (c.at_least * 100)::integer),
         0.95,
         pg_catalog.jsonb_build_object(
           'summary', format('the store label on %s of the %s items you bought in the last 90 days',
                             c.store_items, c.items),
           'items', c.items, 'store_label_items', c.store_items, 'orders', c.orders, 'at_least', c.at_least,
           'window_days', 90, 'measured_precision', 0.97),
         null::timestamptz, 'active'
    from label_claim as c
   where c.at_least >= 0.20
  union all
  select 'context', 'children', 'Shopping for young children', 0.63,
         pg_catalog.jsonb_build_object(
           'question', 'Are you shopping for young children?',
           'because', format('We noticed baby food, formula or diapers in %s of your last %s orders',
                             b.baby_orders, b.orders),
           'orders', b.baby_orders, 'of_orders', b.orders, 'interaction_ids', b.ids, 'measured_precision', 0.63),
         null::timestamptz, 'question'
    from baby as b
   where b.orders >= 5 and b.baby_orders >= 3;
$$;
revoke all on function private.derive_insights(uuid, timestamptz) from public, anon, authenticated, service_role;

-- Insights the shopper stated or confirmed ------------------------------------------------------------------------
-- Remember an insight the shopper said (source explicit, from a chat message) or confirmed (source confirmed, their
-- Yes to a question): active at 1.00. What was stored under the same type and key (a question, an ended insight,
-- an earlier statement) is updated in place, its earlier value kept in supporting_data.previous when it changes
-- ("two kids" after "one kid"), and any earlier "forget this" is lifted. The callers have validated the input and
-- checked who is asking. Returns the insight's id.
create or replace function private.remember_insight(
  p_user_id uuid, p_type text, p_key text, p_value text, p_source text, p_supporting_data jsonb,
  p_expires_at timestamptz
)
returns uuid
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_id uuid;
  v_stated bigint;
begin
  if not exists (select from public.memory_insights as mi
                  where mi.user_id = p_user_id and mi.insight_type = p_type and mi.insight_key = p_key
                    and mi.source <> 'inferred') then
    perform private.lock_memory(p_user_id, 'stated-insights');
    select count(*) into v_stated from public.memory_insights as mi
     where mi.user_id = p_user_id and mi.source <> 'inferred';
    if v_stated >= private.volume_limit('stated_insights') then
      raise exception using errcode = '22023',
        message = format('This shopper has %s stated insights, the most kept; forget one before adding another.',
                         v_stated);
    end if;
  end if;

  insert into public.memory_insights as mi
    (user_id, insight_type, insight_key, insight_value, confidence, supporting_data, expires_at, source, status, ended)
  values (p_user_id, p_type, p_key, p_value, 1.00, p_supporting_data, p_expires_at, p_source, 'active', null)
  on conflict on constraint memory_insights_user_type_key_key do update
    set insight_value = excluded.insight_value, confidence = 1.00,
        supporting_data = excluded.supporting_data
          || case when mi.status = 'question' or mi.insight_value = excluded.insight_value then '{}'::jsonb
                  else pg_catalog.jsonb_build_object('previous', pg_catalog.jsonb_build_object(
                         'value', mi.insight_value, 'source', mi.source, 'status', mi.status,
                         'until', now())) end,
        expires_at = excluded.expires_at, source = excluded.source, status = 'active', ended = null
  returning mi.id into v_id;

  delete from private.memory_suppressions as s
   where s.user_id = p_user_id and s.memory_kind = 'insight' and s.memory_type = p_type and s.memory_key = p_key;
  return v_id;
end;
$$;
revoke all on function private.remember_insight(uuid, text, text, text, text, jsonb, timestamptz)
  from public, anon, authenticated, service_role;

-- The shopper says an insight no longer holds ("the dog died", "the kids moved out"). Nothing is deleted on a
-- message's word: an active insight becomes ended (out of the prompt at once, kept on the page with what ended
-- it, where the shopper can delete it or say it still holds); an unanswered question is dismissed (deleted). Either
-- way older evidence never suggests it again (a suppression, lifted by a later statement). Returns 'ended',
-- 'dismissed' or 'none' (nothing was stored under that key).
create or replace function private.end_insight(p_user_id uuid, p_type text, p_key text, p_ended jsonb)
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_outcome text := 'none';
begin
  update public.memory_insights as mi set status = 'ended', ended = p_ended
   where mi.user_id = p_user_id and mi.insight_type = p_type and mi.insight_key = p_key and mi.status = 'active';
  if found then
    v_outcome := 'ended';
  else
    delete from public.memory_insights as mi
     where mi.user_id = p_user_id and mi.insight_type = p_type and mi.insight_key = p_key and mi.status = 'question';
    if found then
      v_outcome := 'dismissed';
    end if;
  end if;
  perform private.suppress_memory(p_user_id, 'insight', p_type, p_key);
  return v_outcome;
end;
$$;
revoke all on function private.end_insight(uuid, text, text, jsonb) from public, anon, authenticated, service_role;
