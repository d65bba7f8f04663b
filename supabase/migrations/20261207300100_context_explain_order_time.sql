-- explain_memory dates the orders of a pattern's window as the worker does (private.event_time): one rule for when
-- an order was placed. The same for every checkout the API accepts (record_checkout takes only an ISO-8601
-- placed_at with an offset, which both rules read alike); a malformed placed_at written around the API no longer
-- makes explain_memory fail.

-- A pattern of the shopper (null when p_id is none): its figures, and the orders of the pattern window before it
-- was last derived (for a category, the orders holding it, categories compared as private.slug).
create or replace function private.explain_pattern(p_user_id uuid, p_id uuid, p_cap integer)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_pattern public.shopping_patterns;
  v_category text;
  v_evidence jsonb;
begin
  select sp.* into v_pattern
  from public.shopping_patterns as sp
  where sp.id = p_id and sp.user_id = p_user_id;
  if not found then
    return null;
  end if;
  v_category := case when v_pattern.pattern_type = 'category_preference' then private.slug(v_pattern.pattern_key) end;
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
    -- When the order was placed, as the worker reads it for patterns: its placed_at, else when it was logged.
    cross join lateral (select private.event_time('checkout', ih.interaction_value, ih.created_at) as placed_at) as o
    where ih.user_id = p_user_id
      and ih.interaction_type = 'checkout'
      -- The pattern window before the pattern was last derived.
      and o.placed_at > v_pattern.updated_at - private.pattern_recency()
      and o.placed_at <= v_pattern.updated_at
      and (v_category is null
           or exists (select from private.order_items(ih.interaction_value) as it(item)
                      where private.slug(it.item ->> 'category') = v_category))
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
