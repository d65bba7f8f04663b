-- Explaining a memory (docs/architecture.md, DESIGN-DOCUMENT.md "Memory Explainability"): explain_memory,
-- one memory of the signed-in shopper with the evidence behind it, and its helpers, one per kind of memory.
--
-- explain_memory is security definer, as the other shopper-facing functions: it takes the shopper from the JWT
-- only (private.require_shopper), never from an argument. The private helpers are given that shopper, and every
-- statement is restricted to their rows. Each lists at most 20 interactions or orders, newest first, with the total.
--
-- Where the evidence comes from:
-- - an inferred preference: the evidence record it was written with (its rule, figures and the interactions it
--   names; the worker writes every inferred preference with one), and those interactions;
-- - a preference the shopper stated (remember_explicit keeps no record): what they said, searched for in the event
--   log with the rules of private.preference_evidence_searched, the one place where explain_memory works evidence
--   out;
-- - a pattern: its stored figures, and the orders of the pattern window before it was last derived;
-- - an insight: its supporting data, and the interactions it names;
-- - a logged event: itself.

-- Reading events -------------------------------------------------------------------------------------------------
-- When an event names the same brand or category as a key: the same words, whatever the case, spacing and
-- punctuation ('Great Value', 'great-value' and 'GREAT VALUE' are one brand; 'Dairy' and 'dairy' one category).
-- A regular expression built from the key, which a lower-cased name matches when it is the same: lower(name) ~
-- private.same_name(key). Built once per call, so that each event costs one match (a function per row would not
-- be inlined, for its search_path).
create or replace function private.same_name(p_key text)
returns text
language sql
immutable
set search_path = ''
as $$
  select '^[^a-z0-9]*'
         || array_to_string(array(select w[1] from regexp_matches(lower(p_key), '[a-z0-9]+', 'g') as w), '[^a-z0-9]+')
         || '[^a-z0-9]*$';
$$;
revoke all on function private.same_name(text) from public, anon, authenticated, service_role;

-- An order summarised: which order, when it was placed, how many items.
create or replace function private.order_summary(p_order jsonb)
returns jsonb
language sql
immutable
set search_path = ''
as $$
  select jsonb_build_object('order_id', p_order -> 'order_id', 'placed_at', p_order -> 'placed_at',
                            'item_count', p_order -> 'item_count');
$$;
revoke all on function private.order_summary(jsonb) from public, anon, authenticated, service_role;

-- The ids an evidence record names (its interaction_ids), the first p_cap of them; anything else is skipped.
create or replace function private.named_interactions(p_ids jsonb, p_cap integer)
returns setof uuid
language sql
immutable
set search_path = ''
as $$
  select ids.value::uuid
    from jsonb_array_elements_text(p_ids) as ids(value)
   where ids.value ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
   limit p_cap;
$$;
revoke all on function private.named_interactions(jsonb, integer) from public, anon, authenticated, service_role;


-- Preferences ----------------------------------------------------------------------------------------------------
-- An inferred preference: the evidence record it was written with (its rule and figures) and the interactions the
-- record names; a checkout behind a favorite or a brand with its lines of that SKU or brand (the brand as the
-- worker keys it, private.brand_key), behind a diet with none.
create or replace function private.preference_evidence_recorded(
  p_user_id uuid, p_pref public.customer_preferences, p_cap integer
)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
           'record', p_pref.evidence - 'interaction_ids',
           'interaction_count', jsonb_array_length(coalesce(p_pref.evidence -> 'interaction_ids', '[]')),
           'interactions', coalesce(jsonb_agg(jsonb_build_object(
               'id', ih.id, 'interaction_type', ih.interaction_type, 'interaction_key', ih.interaction_key,
               'created_at', ih.created_at,
               'detail', case when ih.interaction_type = 'checkout' then
                   private.order_summary(ih.interaction_value)
                   || jsonb_build_object(
                        'items', (select coalesce(jsonb_agg(it.item), '[]')
                                    from jsonb_array_elements(
                                           case when jsonb_typeof(ih.interaction_value -> 'items') = 'array'
                                                then ih.interaction_value -> 'items' else '[]' end) as it(item)
                                   where p_pref.preference_type in ('favorite', 'brand')
                                     and (it.item ->> 'sku' = p_pref.preference_key
                                          or private.brand_key(it.item ->> 'brand') = p_pref.preference_key)))
                 else ih.interaction_value end)
             order by ih.created_at desc, ih.id), '[]'))
    from public.interaction_history as ih
   where ih.user_id = p_user_id
     and ih.id in (select private.named_interactions(coalesce(p_pref.evidence -> 'interaction_ids', '[]'), p_cap));
$$;
revoke all on function private.preference_evidence_recorded(uuid, public.customer_preferences, integer)
  from public, anon, authenticated, service_role;

-- A preference the shopper stated: its evidence searched for in the event log. What the shopper said (the statements
-- of it, the messages that name it), and by kind: a favorite's cart adds and the orders holding it; a brand's swaps
-- to it (or, declined, from it), cart adds and orders of it, brands compared with private.same_name.
create or replace function private.preference_evidence_searched(
  p_user_id uuid, p_pref public.customer_preferences, p_cap integer
)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  -- The key as words for a message search ("lactose_intolerant" -> "lactose intolerant"), regex-safe.
  v_words text := regexp_replace(nullif(regexp_replace(lower(translate(p_pref.preference_key, '_-', '  ')),
                                                       '[^a-z0-9 ]', '', 'g'), ''),
                                 '([a-z]{3,})s$', '\1');
  v_same_name text := private.same_name(p_pref.preference_key);
  v_evidence jsonb;
begin
  -- The events first (all of them counted, the newest p_cap kept), then what is shown of those kept.
  select jsonb_build_object(
           'interaction_count', coalesce(max(e.total), 0),
           'interactions', coalesce(jsonb_agg(jsonb_build_object(
               'id', e.id, 'interaction_type', e.interaction_type, 'interaction_key', e.interaction_key,
               'created_at', e.created_at,
               -- A checkout (behind a favorite or a brand) contributes only its matching lines.
               'detail', case when e.interaction_type = 'checkout' then
                   jsonb_build_object(
                     'order_id', e.interaction_value -> 'order_id',
                     'placed_at', e.interaction_value -> 'placed_at',
                     'items', (select coalesce(jsonb_agg(it.item), '[]') from jsonb_array_elements(e.items) as it(item)
                                where it.item ->> 'sku' = p_pref.preference_key
                                   or lower(it.item ->> 'brand') ~ v_same_name))
                 else e.interaction_value end)
             order by e.created_at desc, e.id), '[]'))
    into v_evidence
  from (
    select ih.id, ih.created_at, ih.interaction_type, ih.interaction_key, ih.interaction_value, o.items,
           count(*) over () as total
    from public.interaction_history as ih
    -- An order's lines (none when it has no list of items).
    cross join lateral (
      select case when jsonb_typeof(ih.interaction_value -> 'items') = 'array'
                  then ih.interaction_value -> 'items' else '[]' end as items
    ) as o
    where ih.user_id = p_user_id
      and (
        (ih.interaction_type = 'preference_stated'
           and ih.interaction_key = p_pref.preference_type || ':' || p_pref.preference_key)
        or (p_pref.preference_type = 'favorite' and ih.interaction_type = 'cart_add'
              and ih.interaction_key = p_pref.preference_key)
        or (p_pref.preference_type = 'favorite' and ih.interaction_type = 'checkout'
              and ih.interaction_value -> 'items' @> jsonb_build_array(jsonb_build_object('sku', p_pref.preference_key)))
        or (p_pref.preference_type = 'brand' and ih.interaction_type = 'swap'
              and lower(case when ih.interaction_key = 'accepted' then ih.interaction_value #>> '{replacement,brand}'
                             else ih.interaction_value #>> '{original,brand}' end) ~ v_same_name)
        or (p_pref.preference_type = 'brand' and ih.interaction_type = 'cart_add'
              and lower(ih.interaction_value ->> 'brand') ~ v_same_name)
        or (p_pref.preference_type = 'brand' and ih.interaction_type = 'checkout'
              and exists (select from jsonb_array_elements(o.items) as it(item)
                          where lower(it.item ->> 'brand') ~ v_same_name))
        or (p_pref.preference_type in ('allergy', 'dietary', 'dislike') and ih.interaction_type = 'message'
              and v_words is not null
              and lower(ih.interaction_value ->> 'content') ~ ('\m' || v_words))
      )
    order by ih.created_at desc, ih.id
    limit p_cap
  ) as e;
  return v_evidence;
end;
$$;
revoke all on function private.preference_evidence_searched(uuid, public.customer_preferences, integer)
  from public, anon, authenticated, service_role;

-- A preference of the shopper (null when p_id is none): itself, and its evidence.
create or replace function private.explain_preference(p_user_id uuid, p_id uuid, p_cap integer)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_pref public.customer_preferences;
begin
  select p.* into v_pref
  from public.customer_preferences as p
  where p.id = p_id and p.user_id = p_user_id;
  if not found then
    return null;
  end if;
  return jsonb_build_object(
    'memory', jsonb_build_object(
      'id', v_pref.id, 'memory_kind', 'preference', 'memory_type', v_pref.preference_type,
      'memory_key', v_pref.preference_key, 'value', v_pref.preference_value, 'confidence', v_pref.confidence,
      'reason', v_pref.reason, 'source', v_pref.source, 'evidence_count', v_pref.times_confirmed,
      'last_confirmed_at', v_pref.last_confirmed_at, 'created_at', v_pref.created_at,
      'updated_at', v_pref.updated_at),
    'evidence', case when v_pref.source = 'explicit'
                     then private.preference_evidence_searched(p_user_id, v_pref, p_cap)
                     else private.preference_evidence_recorded(p_user_id, v_pref, p_cap) end
                || jsonb_build_object('interactions_cap', p_cap));
end;
$$;
revoke all on function private.explain_preference(uuid, uuid, integer) from public, anon, authenticated, service_role;


-- Patterns, insights, events -------------------------------------------------------------------------------------
-- A pattern of the shopper (null when p_id is none): its figures, and the orders of the pattern window before it
-- was last derived (for a category, the orders holding it, categories compared with private.same_name).
create or replace function private.explain_pattern(p_user_id uuid, p_id uuid, p_cap integer)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_pattern public.shopping_patterns;
  v_same_category text;
  v_evidence jsonb;
begin
  select sp.* into v_pattern
  from public.shopping_patterns as sp
  where sp.id = p_id and sp.user_id = p_user_id;
  if not found then
    return null;
  end if;
  v_same_category := case when v_pattern.pattern_type = 'category_preference'
                          then private.same_name(v_pattern.pattern_key) end;
  -- The orders first (all of them counted, the newest p_cap kept), then what is shown of those kept.
  select jsonb_build_object(
           'figures', v_pattern.pattern_value,
           'order_count', coalesce(max(o.total), 0),
           'orders', coalesce(jsonb_agg(jsonb_build_object(
               'id', o.id, 'order_id', o.interaction_value -> 'order_id',
               'placed_at', o.interaction_value -> 'placed_at', 'time_zone', o.interaction_value -> 'time_zone',
               'item_count', o.interaction_value -> 'item_count', 'total', o.interaction_value -> 'total',
               'created_at', o.created_at)
             order by o.created_at desc, o.id), '[]'))
    into v_evidence
  from (
    select ih.id, ih.created_at, ih.interaction_value, count(*) over () as total
    from public.interaction_history as ih
    -- When the order was placed, as the worker reads it for patterns: its placed_at, else when it was logged.
    cross join lateral (select private.event_time('checkout', ih.interaction_value, ih.created_at) as placed_at) as w
    where ih.user_id = p_user_id
      and ih.interaction_type = 'checkout'
      -- The pattern window before the pattern was last derived.
      and w.placed_at > v_pattern.updated_at - private.pattern_recency()
      and w.placed_at <= v_pattern.updated_at
      and (v_same_category is null
           or exists (select from jsonb_array_elements(
                                    case when jsonb_typeof(ih.interaction_value -> 'items') = 'array'
                                         then ih.interaction_value -> 'items' else '[]' end) as it(item)
                      where lower(it.item ->> 'category') ~ v_same_category))
    order by ih.created_at desc, ih.id
    limit p_cap
  ) as o;

  return jsonb_build_object(
    'memory', jsonb_build_object(
      'id', v_pattern.id, 'memory_kind', 'pattern', 'memory_type', v_pattern.pattern_type,
      'memory_key', v_pattern.pattern_key, 'confidence', v_pattern.confidence, 'source', 'pattern',
      'evidence_count', v_pattern.occurrence_count, 'last_occurrence', v_pattern.last_occurrence,
      'created_at', v_pattern.created_at, 'updated_at', v_pattern.updated_at),
    'evidence', v_evidence || jsonb_build_object('orders_cap', p_cap));
end;
$$;
revoke all on function private.explain_pattern(uuid, uuid, integer) from public, anon, authenticated, service_role;

-- An insight of the shopper (null when p_id is none): its supporting data, and the interactions it names
-- (supporting_data.interaction_ids), if any: the message it was said in, or the orders that suggested it
-- (summarised).
create or replace function private.explain_insight(p_user_id uuid, p_id uuid, p_cap integer)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_insight public.memory_insights;
  v_evidence jsonb;
begin
  select mi.* into v_insight
  from public.memory_insights as mi
  where mi.id = p_id and mi.user_id = p_user_id;
  if not found then
    return null;
  end if;
  select jsonb_build_object(
           'supporting_data', v_insight.supporting_data,
           'interactions', coalesce(jsonb_agg(jsonb_build_object(
               'id', ih.id, 'interaction_type', ih.interaction_type, 'interaction_key', ih.interaction_key,
               'created_at', ih.created_at,
               'detail', case when ih.interaction_type = 'checkout' then private.order_summary(ih.interaction_value)
                              else ih.interaction_value end) order by ih.created_at desc, ih.id), '[]'))
    into v_evidence
  from public.interaction_history as ih
  where ih.user_id = p_user_id
    and jsonb_typeof(v_insight.supporting_data -> 'interaction_ids') = 'array'
    and ih.id in (select private.named_interactions(v_insight.supporting_data -> 'interaction_ids', p_cap));

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
end;
$$;
revoke all on function private.explain_insight(uuid, uuid, integer) from public, anon, authenticated, service_role;

-- A single logged event of the shopper (null when p_id is none): its own evidence.
create or replace function private.explain_event(p_user_id uuid, p_id uuid)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'memory', jsonb_build_object(
      'id', ih.id, 'memory_kind', 'interaction', 'memory_type', ih.interaction_type,
      'memory_key', ih.interaction_key, 'value', ih.interaction_value, 'source', 'event',
      'session_id', ih.session_id, 'message_id', ih.message_id, 'created_at', ih.created_at),
    'evidence', jsonb_build_object('interactions', '[]'::jsonb))
  from public.interaction_history as ih
  where ih.id = p_id and ih.user_id = p_user_id;
$$;
revoke all on function private.explain_event(uuid, uuid) from public, anon, authenticated, service_role;


-- The shopper's functions ----------------------------------------------------------------------------------------
-- The answer to an id that is none of the shopper's memories, unknown or someone else's: the same either way, so
-- that an id reveals nothing (PT404, HTTP 404 through PostgREST). explain_memory and forget_memory end with it
-- (`return private.no_memory_with_that_id()`); it raises, and returns nothing.
create or replace function private.no_memory_with_that_id()
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  raise exception using errcode = 'PT404', message = 'No memory with that id.',
    hint = 'List your memories with my_memories.';
end;
$$;
revoke all on function private.no_memory_with_that_id() from public, anon, authenticated, service_role;

-- A call without an id names what it needs (22023), in explain_memory and forget_memory alike.
create or replace function private.require_memory_id(p_memory_id uuid)
returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_memory_id is null then
    raise exception using errcode = '22023',
      message = 'memory_id is required: pass the id of one of your memories (see my_memories).';
  end if;
end;
$$;
revoke all on function private.require_memory_id(uuid) from public, anon, authenticated, service_role;

create or replace function public.explain_memory(memory_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_user uuid := private.require_shopper('explain_memory');
  -- How many interactions or orders an explanation lists at most.
  c_cap constant integer := 20;
begin
  perform private.require_memory_id(explain_memory.memory_id);
  -- The first kind, in this order, that holds this id; none: no memory with that id.
  return coalesce(private.explain_preference(v_user, explain_memory.memory_id, c_cap),
                  private.explain_pattern(v_user, explain_memory.memory_id, c_cap),
                  private.explain_insight(v_user, explain_memory.memory_id, c_cap),
                  private.explain_event(v_user, explain_memory.memory_id),
                  private.no_memory_with_that_id());
end;
$$;
revoke all on function public.explain_memory(uuid) from public, anon, authenticated, service_role;
grant execute on function public.explain_memory(uuid) to authenticated;
comment on function public.explain_memory(uuid) is
  'One memory of the signed-in shopper (preference, pattern, insight or logged event) with the evidence behind '
  'it: the supporting interactions (at most 20, newest first, with the total), the pattern''s figures and the '
  'orders of its window, or the insight''s supporting data. Unknown or someone else''s id: PT404 No memory with that id.';
