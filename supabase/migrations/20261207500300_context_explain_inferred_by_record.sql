-- explain_memory explains an inferred preference by its evidence record only, and a stated one by what the shopper
-- said. The search for an inferred preference written without a record (every order behind an allergy, a diet or a
-- dislike inferred from whole orders) is gone: every writer of an inferred preference writes its record (the
-- worker's recompute, from private.derive_preferences), and only the tests' fixtures wrote one without, now with
-- records. A preference stated while it held an inference record is explained by the statement, as remember_explicit
-- intends by dropping the record.

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
