-- Memory API: record_checkout accepts orders as real shops send them.
--
-- - `total` is what the shopper paid (tax, fees, coupons included), so it may differ from the sum of the items: both
--   are stored (`total` as sent, `items_total` computed), and `total` is held only to sanity bounds.
-- - `quantity: 2.0` is the whole number 2 (many JSON encoders write whole numbers that way).
-- - An order too large to store is refused with a 22023 sentence, not a constraint violation.
-- - Without `time_zone`, the shopper's profile time zone (auth.users.raw_user_meta_data.time_zone, as GoTrue stores
--   the sign-up metadata) is used; a checkout is refused only when neither names one.

-- Helpers --------------------------------------------------------------------------------------------------------
-- The shopper's profile time zone, when it is a valid IANA name; otherwise null.
create or replace function private.profile_time_zone(p_user_id uuid)
returns text
language plpgsql
stable
set search_path = ''
as $$
declare
  v_zone text;
begin
  select u.raw_user_meta_data ->> 'time_zone' into v_zone from auth.users as u where u.id = p_user_id;
  if v_zone is null or v_zone !~ '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$' then
    return null;
  end if;
  perform now() at time zone v_zone;
  return v_zone;
exception when invalid_parameter_value then
  return null;
end;
$$;
revoke all on function private.profile_time_zone(uuid) from public, anon, authenticated, service_role;

-- Public RPCs ------------------------------------------------------------------------------------------------------
create or replace function public.record_checkout(checkout jsonb)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := private.require_shopper('record_checkout');
  v_max_total constant numeric := 1000000;
  v_max_bytes constant integer := 262144;  -- interaction_history_interaction_value_size
  v_checkout jsonb := record_checkout.checkout;
  v_zone text;
  v_order_id text;
  v_item_count integer;
  v_items_total numeric;
  v_total jsonb;
  v_value jsonb;
  v_existing record;
begin
  -- No time zone in the checkout: the one in the shopper's profile, if any.
  if jsonb_typeof(v_checkout) = 'object' and nullif(v_checkout -> 'time_zone', 'null'::jsonb) is null then
    v_zone := private.profile_time_zone(v_user_id);
    if v_zone is not null then
      v_checkout := v_checkout || jsonb_build_object('time_zone', v_zone);
    end if;
  end if;
  perform private.raise_invalid(private.checkout_problem(v_checkout));
  v_order_id := v_checkout ->> 'order_id';
  -- Quantities are whole numbers (checked), possibly written 2.0: read them as numeric.
  select sum((i.item ->> 'quantity')::numeric)::integer,
         round(sum((i.item ->> 'price')::numeric * (i.item ->> 'quantity')::numeric), 2)
    into v_item_count, v_items_total
    from jsonb_array_elements(v_checkout -> 'items') as i(item);
  if nullif(v_checkout -> 'item_count', 'null'::jsonb) is not null
     and (jsonb_typeof(v_checkout -> 'item_count') <> 'number'
          or (v_checkout ->> 'item_count')::numeric <> v_item_count) then
    raise exception using errcode = '22023',
      message = format('checkout.item_count is %s, but the items add up to %s.',
                       private.json_excerpt(v_checkout -> 'item_count'), v_item_count);
  end if;
  -- The total paid may differ from the items (tax, fees, coupons): only its sanity is checked.
  v_total := nullif(v_checkout -> 'total', 'null'::jsonb);
  if v_total is not null and (jsonb_typeof(v_total) <> 'number' or (v_total #>> '{}')::numeric < 0
                              or (v_total #>> '{}')::numeric > v_max_total) then
    raise exception using errcode = '22023',
      message = format('checkout.total must be the amount paid, a number from 0 to %s, not %s.', v_max_total,
                       private.json_excerpt(v_total));
  end if;
  v_value := v_checkout || jsonb_build_object(
    'item_count', v_item_count,
    'items_total', v_items_total,
    'total', coalesce(round((v_total #>> '{}')::numeric, 2), v_items_total));
  if pg_catalog.pg_column_size(v_value) > v_max_bytes then
    raise exception using errcode = '22023',
      message = format('checkout takes %s bytes, but an order is stored in at most %s (256 KiB); shorten its names '
                       'and tags or send fewer items.', pg_catalog.pg_column_size(v_value), v_max_bytes);
  end if;

  -- An order is recorded once: a retry of the same checkout returns the first event, a different one conflicts.
  perform private.lock_memory(v_user_id, 'checkout:' || v_order_id);
  select ih.id, ih.interaction_value into v_existing
    from public.interaction_history as ih
   where ih.user_id = v_user_id and ih.interaction_type = 'checkout' and ih.interaction_key = v_order_id
   limit 1;
  if found then
    if v_existing.interaction_value = v_value then
      return v_existing.id;
    end if;
    raise exception using errcode = '23505',
      message = format('checkout.order_id %s was already recorded with different contents; an order is recorded once.',
                       private.json_excerpt(to_jsonb(v_order_id)));
  end if;
  return (private.insert_events(v_user_id, jsonb_build_array(jsonb_build_object(
    'interaction_type', 'checkout', 'interaction_key', v_order_id, 'interaction_value', v_value))))[1];
end;
$$;
revoke execute on function public.record_checkout(jsonb) from public, anon, authenticated, service_role;
grant execute on function public.record_checkout(jsonb) to authenticated;
comment on function public.record_checkout(jsonb) is
  'Log the signed-in shopper''s order ({order_id, placed_at, time_zone (default: the profile''s), items: [{sku, '
  'name, category, brand, price, quantity, tags}], total (paid: tax, fees and coupons included)}) with its '
  'item_count and items_total, once per order_id; the worker derives patterns from it.';
