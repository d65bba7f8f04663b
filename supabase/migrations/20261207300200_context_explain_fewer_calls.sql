-- explain_memory does less work per event. A brand or a category is matched with one regular expression built from
-- the key once per call (private.same_name), where private.slug rewrote each event's name: a function called for
-- every event and every line of an order, never inlined (for its search_path). The lines of an order are read with
-- jsonb_array_elements, not private.order_items, for the same reason. And only the events and orders kept (the
-- newest 20) are built into JSON, not every one counted. What each call returns is unchanged
-- (tests/context/compare_outputs.py: every call alike).

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

-- Preferences ----------------------------------------------------------------------------------------------------
-- An inferred preference: the evidence record the worker wrote it with (its rule and figures) and the interactions
-- the record names; a checkout behind a favorite or a brand with its lines of that SKU or brand (the brand as the
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

-- A preference without an evidence record: its evidence searched for in the event log. What the shopper said (the
-- statements of it, the messages that name it), and by kind: a favorite's cart adds and the orders holding it; a
-- brand's swaps to it (or, declined, from it), cart adds and orders of it, brands compared with private.same_name; an
-- allergy, a diet or a dislike without an explicit source (inferred from whole orders, vegetarian from a run of
-- orders without meat) every order, summarised.
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
               -- A checkout behind a favorite or a brand contributes only its matching lines; behind a diet, an
               -- allergy or a dislike it is summarised.
               'detail', case when e.interaction_type = 'checkout'
                                   and p_pref.preference_type in ('allergy', 'dietary', 'dislike') then
                   private.order_summary(e.interaction_value)
                 when e.interaction_type = 'checkout' then
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
        or (p_pref.preference_type in ('allergy', 'dietary', 'dislike') and p_pref.source <> 'explicit'
              and ih.interaction_type = 'checkout')
      )
    order by ih.created_at desc, ih.id
    limit p_cap
  ) as e;
  return v_evidence;
end;
$$;
revoke all on function private.preference_evidence_searched(uuid, public.customer_preferences, integer)
  from public, anon, authenticated, service_role;

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

drop function private.slug(text);
drop function private.order_items(jsonb);
