-- Explaining a memory (ARCHITECTURE.md section 6, DESIGN-DOCUMENT.md "Memory Explainability"): explain_memory,
-- one memory of the signed-in shopper with the evidence behind it.
--
-- Security definer, as the other shopper-facing functions: it takes the shopper from the JWT only
-- (private.require_shopper), never from an argument, and every statement is restricted to that user's rows.

-- Explainability -------------------------------------------------------------------------------------------------
create or replace function public.explain_memory(memory_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_user uuid := private.require_shopper('explain_memory');
  v_evidence_cap constant integer := 20;
  v_pref public.customer_preferences;
  v_pattern public.shopping_patterns;
  v_insight public.memory_insights;
  v_event public.interaction_history;
  v_words text;
  v_slug text;
  v_category text;
  v_evidence jsonb;
begin
  if explain_memory.memory_id is null then
    raise exception using errcode = '22023',
      message = 'memory_id is required: pass the id of one of your memories (see my_memories).';
  end if;

  -- A preference: the events that support it, newest first, capped, with the total.
  select p.* into v_pref
  from public.customer_preferences as p
  where p.id = explain_memory.memory_id and p.user_id = v_user;
  if found and v_pref.evidence is not null then
    -- An inferred preference: the evidence record the worker wrote it with (its rule, figures and interactions),
    -- never re-derived here with rules of its own.
    select jsonb_build_object(
             'record', v_pref.evidence - 'interaction_ids',
             'interaction_count', jsonb_array_length(coalesce(v_pref.evidence -> 'interaction_ids', '[]')),
             'interactions', coalesce(jsonb_agg(jsonb_build_object(
                 'id', ih.id, 'interaction_type', ih.interaction_type, 'interaction_key', ih.interaction_key,
                 'created_at', ih.created_at,
                 'detail', case when ih.interaction_type = 'checkout' then
                     jsonb_build_object(
                       'order_id', ih.interaction_value -> 'order_id',
                       'placed_at', ih.interaction_value -> 'placed_at',
                       'item_count', ih.interaction_value -> 'item_count',
                       'items', (select coalesce(jsonb_agg(it.item), '[]') from jsonb_array_elements(
                                   case when jsonb_typeof(ih.interaction_value -> 'items') = 'array'
                                        then ih.interaction_value -> 'items' else '[]' end) as it(item)
                                 where v_pref.preference_type in ('favorite', 'brand')
                                   and (it.item ->> 'sku' = v_pref.preference_key
                                        or nullif(left(btrim(it.item ->> 'brand'), 255), '') = v_pref.preference_key)))
                   else ih.interaction_value end)
               order by ih.created_at desc, ih.id), '[]'))
      into v_evidence
    from public.interaction_history as ih
    where ih.user_id = v_user
      and ih.id in (select ids.value::uuid
                    from jsonb_array_elements_text(coalesce(v_pref.evidence -> 'interaction_ids', '[]')) as ids(value)
                    where ids.value ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                    limit v_evidence_cap);

    return jsonb_build_object(
      'memory', jsonb_build_object(
        'id', v_pref.id, 'memory_kind', 'preference', 'memory_type', v_pref.preference_type,
        'memory_key', v_pref.preference_key, 'value', v_pref.preference_value, 'confidence', v_pref.confidence,
        'reason', v_pref.reason, 'source', v_pref.source, 'evidence_count', v_pref.times_confirmed,
        'last_confirmed_at', v_pref.last_confirmed_at, 'created_at', v_pref.created_at,
        'updated_at', v_pref.updated_at),
      'evidence', v_evidence || jsonb_build_object('interactions_cap', v_evidence_cap));
  end if;
  if found then
    -- What the shopper said: the statements behind it. The key as words for a message search ("lactose_intolerant" -> "lactose intolerant"), regex-safe.
    v_words := nullif(regexp_replace(lower(translate(v_pref.preference_key, '_-', '  ')), '[^a-z0-9 ]', '', 'g'), '');
    v_words := regexp_replace(v_words, '([a-z]{3,})s$', '\1');
    -- Brands are compared as slugs on both sides: 'Great Value', 'great-value' and 'GREAT VALUE' are one brand.
    v_slug := trim(both '-' from regexp_replace(lower(v_pref.preference_key), '[^a-z0-9]+', '-', 'g'));
    select jsonb_build_object(
             'interaction_count', coalesce(max(e.total), 0),
             'interactions', coalesce(jsonb_agg(e.item order by e.created_at desc, e.id), '[]'))
      into v_evidence
    from (
      select ih.id, ih.created_at, count(*) over () as total,
             jsonb_build_object(
               'id', ih.id, 'interaction_type', ih.interaction_type, 'interaction_key', ih.interaction_key,
               'created_at', ih.created_at,
               -- A checkout behind a favorite or a brand contributes only its matching lines; behind an inferred
               -- diet, allergy or dislike (derived from whole orders) it is summarised.
               'detail', case when ih.interaction_type = 'checkout'
                                   and v_pref.preference_type in ('allergy', 'dietary', 'dislike') then
                   jsonb_build_object(
                     'order_id', ih.interaction_value -> 'order_id',
                     'placed_at', ih.interaction_value -> 'placed_at',
                     'item_count', ih.interaction_value -> 'item_count')
                 when ih.interaction_type = 'checkout' then
                   jsonb_build_object(
                     'order_id', ih.interaction_value -> 'order_id',
                     'placed_at', ih.interaction_value -> 'placed_at',
                     'items', (select coalesce(jsonb_agg(it.item), '[]') from jsonb_array_elements(
                                 case when jsonb_typeof(ih.interaction_value -> 'items') = 'array'
                                      then ih.interaction_value -> 'items' else '[]' end) as it(item)
                               where it.item ->> 'sku' = v_pref.preference_key
                                  or trim(both '-' from regexp_replace(lower(it.item ->> 'brand'), '[^a-z0-9]+', '-', 'g'))
                                     = v_slug))
                 else ih.interaction_value end) as item
      from public.interaction_history as ih
      where ih.user_id = v_user
        and (
          (ih.interaction_type = 'preference_stated'
             and ih.interaction_key = v_pref.preference_type || ':' || v_pref.preference_key)
          or (v_pref.preference_type = 'favorite' and ih.interaction_type = 'cart_add'
                and ih.interaction_key = v_pref.preference_key)
          or (v_pref.preference_type = 'favorite' and ih.interaction_type = 'checkout'
                and ih.interaction_value -> 'items' @> jsonb_build_array(jsonb_build_object('sku', v_pref.preference_key)))
          or (v_pref.preference_type = 'brand' and ih.interaction_type = 'swap'
                and trim(both '-' from regexp_replace(lower(
                      case when ih.interaction_key = 'accepted' then ih.interaction_value #>> '{replacement,brand}'
                           else ih.interaction_value #>> '{original,brand}' end), '[^a-z0-9]+', '-', 'g'))
                    = v_slug)
          or (v_pref.preference_type = 'brand' and ih.interaction_type = 'cart_add'
                and trim(both '-' from regexp_replace(lower(ih.interaction_value ->> 'brand'), '[^a-z0-9]+', '-', 'g'))
                    = v_slug)
          or (v_pref.preference_type = 'brand' and ih.interaction_type = 'checkout'
                and jsonb_typeof(ih.interaction_value -> 'items') = 'array'
                and exists (select from jsonb_array_elements(ih.interaction_value -> 'items') as it(item)
                            where trim(both '-' from regexp_replace(lower(it.item ->> 'brand'), '[^a-z0-9]+', '-', 'g'))
                                  = v_slug))
          or (v_pref.preference_type in ('allergy', 'dietary', 'dislike') and ih.interaction_type = 'message'
                and v_words is not null
                and lower(ih.interaction_value ->> 'content') ~ ('\m' || v_words))
          -- An inferred diet (vegetarian from a run of orders without meat) comes from the orders themselves.
          or (v_pref.preference_type in ('allergy', 'dietary', 'dislike') and v_pref.source <> 'explicit'
                and ih.interaction_type = 'checkout')
        )
      order by ih.created_at desc, ih.id
      limit v_evidence_cap
    ) as e;

    return jsonb_build_object(
      'memory', jsonb_build_object(
        'id', v_pref.id, 'memory_kind', 'preference', 'memory_type', v_pref.preference_type,
        'memory_key', v_pref.preference_key, 'value', v_pref.preference_value, 'confidence', v_pref.confidence,
        'reason', v_pref.reason, 'source', v_pref.source, 'evidence_count', v_pref.times_confirmed,
        'last_confirmed_at', v_pref.last_confirmed_at, 'created_at', v_pref.created_at,
        'updated_at', v_pref.updated_at),
      'evidence', v_evidence || jsonb_build_object('interactions_cap', v_evidence_cap));
  end if;

  -- A pattern: its figures, and the orders of the 90-day window it was derived from (for a category, the orders
  -- holding it).
  select sp.* into v_pattern
  from public.shopping_patterns as sp
  where sp.id = explain_memory.memory_id and sp.user_id = v_user;
  if found then
    v_category := case when v_pattern.pattern_type = 'category_preference'
                       then trim(both '-' from regexp_replace(lower(v_pattern.pattern_key), '[^a-z0-9]+', '-', 'g')) end;
    select jsonb_build_object(
             'figures', v_pattern.pattern_value,
             'order_count', coalesce(max(o.total), 0),
             'orders', coalesce(jsonb_agg(o.item order by o.created_at desc, o.id), '[]'))
      into v_evidence
    from (
      select ih.id, ih.created_at, count(*) over () as total,
             jsonb_build_object(
               'id', ih.id, 'order_id', ih.interaction_value -> 'order_id',
               'placed_at', ih.interaction_value -> 'placed_at', 'time_zone', ih.interaction_value -> 'time_zone',
               'item_count', ih.interaction_value -> 'item_count', 'total', ih.interaction_value -> 'total',
               'created_at', ih.created_at) as item
      from public.interaction_history as ih
      -- When the order was placed (the worker's clock for patterns), else when it was logged.
      cross join lateral (
        select coalesce(
          case when ih.interaction_value ->> 'placed_at'
                    ~ '^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$'
               then (ih.interaction_value ->> 'placed_at')::timestamptz end,
          ih.created_at) as placed_at
      ) as o
      where ih.user_id = v_user
        and ih.interaction_type = 'checkout'
        -- The pattern window before the pattern was last derived.
        and o.placed_at > v_pattern.updated_at - private.pattern_recency()
        and o.placed_at <= v_pattern.updated_at
        and (v_category is null
             or (jsonb_typeof(ih.interaction_value -> 'items') = 'array'
                 and exists (select from jsonb_array_elements(ih.interaction_value -> 'items') as it(item)
                             where trim(both '-' from regexp_replace(lower(it.item ->> 'category'), '[^a-z0-9]+', '-', 'g'))
                                   = v_category)))
      order by ih.created_at desc, ih.id
      limit v_evidence_cap
    ) as o;

    return jsonb_build_object(
      'memory', jsonb_build_object(
        'id', v_pattern.id, 'memory_kind', 'pattern', 'memory_type', v_pattern.pattern_type,
        'memory_key', v_pattern.pattern_key, 'confidence', v_pattern.confidence, 'source', 'pattern',
        'evidence_count', v_pattern.occurrence_count, 'last_occurrence', v_pattern.last_occurrence,
        'created_at', v_pattern.created_at, 'updated_at', v_pattern.updated_at),
      'evidence', v_evidence || jsonb_build_object('orders_cap', v_evidence_cap));
  end if;

  -- An insight: its supporting data, and the interactions it names (supporting_data.interaction_ids), if any: the
  -- message it was said in, or the orders that suggested it (summarised).
  select mi.* into v_insight
  from public.memory_insights as mi
  where mi.id = explain_memory.memory_id and mi.user_id = v_user;
  if found then
    select jsonb_build_object(
             'supporting_data', v_insight.supporting_data,
             'interactions', coalesce(jsonb_agg(jsonb_build_object(
                 'id', ih.id, 'interaction_type', ih.interaction_type, 'interaction_key', ih.interaction_key,
                 'created_at', ih.created_at,
                 'detail', case when ih.interaction_type = 'checkout' then
                     jsonb_build_object(
                       'order_id', ih.interaction_value -> 'order_id',
                       'placed_at', ih.interaction_value -> 'placed_at',
                       'item_count', ih.interaction_value -> 'item_count')
                   else ih.interaction_value end) order by ih.created_at desc, ih.id), '[]'))
      into v_evidence
    from public.interaction_history as ih
    where ih.user_id = v_user
      and jsonb_typeof(v_insight.supporting_data -> 'interaction_ids') = 'array'
      and ih.id in (select ids.value::uuid
                    from jsonb_array_elements_text(v_insight.supporting_data -> 'interaction_ids') as ids(value)
                    where ids.value ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                    limit v_evidence_cap);

    return jsonb_build_object(
      'memory', jsonb_build_object(
        'id', v_insight.id, 'memory_kind', 'insight', 'memory_type', v_insight.insight_type,
        'memory_key', v_insight.insight_key, 'value', v_insight.insight_value,
        'confidence', v_insight.confidence, 'source', v_insight.source, 'status', v_insight.status,
        'ended', v_insight.ended,
        -- Why, in the words my_memories uses (the view reads the caller's own rows, as this function does).
        'reason', (select m.reason from public.my_memories as m where m.id = v_insight.id),
        'evidence_count', (select count(*) from jsonb_object_keys(v_insight.supporting_data)),
        'expires_at', v_insight.expires_at, 'created_at', v_insight.created_at, 'updated_at', v_insight.updated_at),
      'evidence', v_evidence);
  end if;

  -- A single logged event is its own evidence.
  select ih.* into v_event
  from public.interaction_history as ih
  where ih.id = explain_memory.memory_id and ih.user_id = v_user;
  if found then
    return jsonb_build_object(
      'memory', jsonb_build_object(
        'id', v_event.id, 'memory_kind', 'interaction', 'memory_type', v_event.interaction_type,
        'memory_key', v_event.interaction_key, 'value', v_event.interaction_value, 'source', 'event',
        'session_id', v_event.session_id, 'message_id', v_event.message_id, 'created_at', v_event.created_at),
      'evidence', jsonb_build_object('interactions', '[]'::jsonb));
  end if;

  -- Unknown, or someone else's: the same answer either way (HTTP 404 through PostgREST).
  raise exception using errcode = 'PT404', message = 'No memory with that id.',
    hint = 'List your memories with my_memories.';
end;
$$;
revoke all on function public.explain_memory(uuid) from public, anon, authenticated, service_role;
grant execute on function public.explain_memory(uuid) to authenticated;
comment on function public.explain_memory(uuid) is
  'One memory of the signed-in shopper (preference, pattern, insight or logged event) with the evidence behind '
  'it: the supporting interactions (at most 20, newest first, with the total), the pattern''s figures and the '
  'orders of its window, or the insight''s supporting data. Unknown or someone else''s id: PT404 No memory with that id.';
