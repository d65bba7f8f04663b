-- Memory API: the four passive-learning hooks of the design document (add to cart, checkout, savings swap, user
-- message), each a function that validates what the app sends, logs it in the CONTRACTS.md event shape and,
-- where the contract says so, learns from it at once.

-- Helpers --------------------------------------------------------------------------------------------------------
-- A checkout: {"order_id", "placed_at" (ISO-8601 with an offset), "time_zone" (IANA), "items": [item, ...],
-- optionally "item_count" and "total", which must then agree with the items}. Returns NULL or the problem.
create or replace function private.checkout_problem(p_checkout jsonb)
returns text
language plpgsql
stable
set search_path = ''
as $$
declare
  v_value jsonb;
  v_item record;
  v_problem text;
begin
  if jsonb_typeof(p_checkout) is distinct from 'object' then
    return format('checkout must be a JSON object with order_id, placed_at, time_zone and items, not %s.',
                  coalesce(jsonb_typeof(p_checkout), 'missing'));
  end if;

  v_value := nullif(p_checkout -> 'order_id', 'null'::jsonb);
  if v_value is null then
    return 'checkout.order_id is required: the order''s id in the shop.';
  end if;
  if jsonb_typeof(v_value) <> 'string' or btrim(v_value #>> '{}') = '' or char_length(v_value #>> '{}') > 255 then
    return format('checkout.order_id must be a non-empty string of at most 255 characters, not %s.',
                  private.json_excerpt(v_value));
  end if;

  v_value := nullif(p_checkout -> 'placed_at', 'null'::jsonb);
  if v_value is null then
    return 'checkout.placed_at is required: when the order was placed, in ISO-8601 with an offset.';
  end if;
  if jsonb_typeof(v_value) <> 'string' or (v_value #>> '{}') !~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$'
  then
    return format('checkout.placed_at must be an ISO-8601 timestamp with an offset (2026-11-24T18:30:00-05:00), not %s.',
                  private.json_excerpt(v_value));
  end if;
  begin
    perform (v_value #>> '{}')::timestamptz;
  exception when others then
    return format('checkout.placed_at is not a valid timestamp: %s.', private.json_excerpt(v_value));
  end;

  v_value := nullif(p_checkout -> 'time_zone', 'null'::jsonb);
  if v_value is null then
    return 'checkout.time_zone is required: the shopper''s IANA time zone, e.g. America/Chicago.';
  end if;
  if jsonb_typeof(v_value) <> 'string' or (v_value #>> '{}') !~ '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$' then
    return format('checkout.time_zone must be an IANA time zone name such as America/Chicago, not %s.',
                  private.json_excerpt(v_value));
  end if;
  begin
    perform now() at time zone (v_value #>> '{}');
  exception when invalid_parameter_value then
    return format('checkout.time_zone must be an IANA time zone name such as America/Chicago, not %s.',
                  private.json_excerpt(v_value));
  end;

  v_value := nullif(p_checkout -> 'items', 'null'::jsonb);
  if v_value is null then
    return 'checkout.items is required: the lines of the order.';
  end if;
  if jsonb_typeof(v_value) <> 'array' or jsonb_array_length(v_value) not between 1 and 500 then
    return format('checkout.items must be an array of 1 to 500 items, not %s.', private.json_excerpt(v_value));
  end if;
  for v_item in select e.item, e.ord from jsonb_array_elements(v_value) with ordinality as e(item, ord) loop
    v_problem := private.item_problem(v_item.item, format('checkout.items[%s]', v_item.ord - 1), true);
    if v_problem is not null then
      return v_problem;
    end if;
  end loop;
  return null;
end;
$$;
revoke all on function private.checkout_problem(jsonb) from public, anon, authenticated, service_role;

-- Whether a shopper's message asks for recipes or meals (the design document's rule, on word starts so that
-- "oatmeal" is not a meal request).
create or replace function private.is_recipe_request(p_content text)
returns boolean
language sql
immutable
set search_path = ''
as $$
  select p_content ~* '\m(recipe|meal)';
$$;
revoke all on function private.is_recipe_request(text) from public, anon, authenticated, service_role;

-- Public RPCs ------------------------------------------------------------------------------------------------------
create or replace function public.record_cart_add(item jsonb, session_id uuid default null)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := private.require_shopper('record_cart_add');
  v_problem text := private.item_problem(record_cart_add.item, 'item', false);
begin
  perform private.raise_invalid(v_problem);
  return (private.insert_events(v_user_id, jsonb_build_array(jsonb_build_object(
    'interaction_type', 'cart_add',
    'interaction_value', record_cart_add.item,
    'session_id', record_cart_add.session_id))))[1];
end;
$$;
revoke execute on function public.record_cart_add(jsonb, uuid) from public, anon, authenticated, service_role;
grant execute on function public.record_cart_add(jsonb, uuid) to authenticated;
comment on function public.record_cart_add(jsonb, uuid) is
  'Log that the signed-in shopper added an item ({sku, name, category, brand, price, quantity}) to the cart; after '
  'more than 5 adds of a SKU it is a favorite with confidence min(0.95, 0.5 + adds * 0.05). Returns the event id.';

create or replace function public.record_checkout(checkout jsonb)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := private.require_shopper('record_checkout');
  v_problem text := private.checkout_problem(record_checkout.checkout);
  v_order_id text;
  v_item_count integer;
  v_total numeric;
  v_value jsonb;
  v_existing record;
begin
  perform private.raise_invalid(v_problem);
  v_order_id := record_checkout.checkout ->> 'order_id';
  select sum((i.item ->> 'quantity')::integer), round(sum((i.item ->> 'price')::numeric * (i.item ->> 'quantity')::integer), 2)
    into v_item_count, v_total
    from jsonb_array_elements(record_checkout.checkout -> 'items') as i(item);
  if nullif(record_checkout.checkout -> 'item_count', 'null'::jsonb) is not null
     and (record_checkout.checkout -> 'item_count') is distinct from to_jsonb(v_item_count) then
    raise exception using errcode = '22023',
      message = format('checkout.item_count is %s, but the items add up to %s.',
                       private.json_excerpt(record_checkout.checkout -> 'item_count'), v_item_count);
  end if;
  if nullif(record_checkout.checkout -> 'total', 'null'::jsonb) is not null
     and (jsonb_typeof(record_checkout.checkout -> 'total') <> 'number'
          or round((record_checkout.checkout ->> 'total')::numeric, 2) <> v_total) then
    raise exception using errcode = '22023',
      message = format('checkout.total is %s, but the items add up to %s.',
                       private.json_excerpt(record_checkout.checkout -> 'total'), v_total);
  end if;
  v_value := record_checkout.checkout
             || jsonb_build_object('item_count', v_item_count, 'total', v_total);

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
  'Log the signed-in shopper''s order ({order_id, placed_at, time_zone, items: [{sku, name, category, brand, price, '
  'quantity, tags}]}) with its item_count and total, once per order_id; the worker derives patterns from it.';

create or replace function public.record_swap(
  original jsonb, replacement jsonb, accepted boolean, reason text default null
)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := private.require_shopper('record_swap');
  v_problem text := coalesce(private.item_problem(record_swap.original, 'original', false),
                             private.item_problem(record_swap.replacement, 'replacement', false));
  v_brand text;
  v_id uuid;
begin
  if v_problem is null and nullif(record_swap.original ->> 'brand', '') is null then
    v_problem := 'original.brand is required: a swap teaches which brand the shopper prefers.';
  elsif v_problem is null and nullif(record_swap.replacement ->> 'brand', '') is null then
    v_problem := 'replacement.brand is required: a swap teaches which brand the shopper prefers.';
  elsif v_problem is null and record_swap.accepted is null then
    v_problem := 'accepted must be true (the shopper took the replacement) or false, not null.';
  elsif v_problem is null and char_length(record_swap.reason) > 1000 then
    v_problem := format('reason must be at most 1000 characters, not %s.', char_length(record_swap.reason));
  end if;
  perform private.raise_invalid(v_problem);

  v_id := (private.insert_events(v_user_id, jsonb_build_array(jsonb_build_object(
    'interaction_type', 'swap',
    'interaction_key', case when record_swap.accepted then 'accepted' else 'rejected' end,
    'interaction_value', jsonb_build_object(
      'original', record_swap.original, 'replacement', record_swap.replacement,
      'accepted', record_swap.accepted, 'reason', nullif(btrim(record_swap.reason), ''))))))[1];

  -- Accepted: the shopper is happy with the replacement's brand; rejected: loyal to the original's.
  v_brand := case when record_swap.accepted then record_swap.replacement ->> 'brand'
                  else record_swap.original ->> 'brand' end;
  insert into public.customer_preferences as cp
    (user_id, preference_type, preference_key, confidence, reason, source, times_confirmed, last_confirmed_at)
  values (v_user_id, 'brand', v_brand, private.swap_brand_confidence(null, record_swap.accepted),
          case when record_swap.accepted then 'Accepted savings swap' else 'Rejected swap - brand loyalty' end,
          'inferred', 1, now())
  on conflict on constraint customer_preferences_user_type_key_key do update
    -- The increment applies to the row as it is now (ON CONFLICT re-reads it under a row lock): never lost.
    set confidence = private.swap_brand_confidence(cp.confidence, record_swap.accepted),
        reason = excluded.reason,
        times_confirmed = cp.times_confirmed + 1,
        last_confirmed_at = excluded.last_confirmed_at
    where cp.source <> 'explicit';
  return v_id;
end;
$$;
revoke execute on function public.record_swap(jsonb, jsonb, boolean, text) from public, anon, authenticated, service_role;
grant execute on function public.record_swap(jsonb, jsonb, boolean, text) to authenticated;
comment on function public.record_swap(jsonb, jsonb, boolean, text) is
  'Log a savings swap the signed-in shopper accepted or rejected; accepted raises the replacement''s brand by 0.10, '
  'rejected the original''s by 0.15 (from 0.50, at most 0.95; a stated brand is left alone). Returns the event id.';

create or replace function public.record_message(content text, session_id uuid default null, message_id text default null)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := private.require_shopper('record_message');
  v_events jsonb;
begin
  if nullif(btrim(record_message.content), '') is null then
    raise exception using errcode = '22023', message = 'content is required: the shopper''s message, not an empty one.';
  end if;
  if char_length(record_message.content) > 10000 then
    raise exception using errcode = '22023',
      message = format('content must be at most 10000 characters, not %s.', char_length(record_message.content));
  end if;
  if record_message.message_id is not null and char_length(record_message.message_id) not between 1 and 255 then
    raise exception using errcode = '22023',
      message = 'message_id must be a non-empty string of at most 255 characters.';
  end if;

  v_events := jsonb_build_array(jsonb_build_object(
    'interaction_type', 'message', 'interaction_key', 'user_message',
    'interaction_value', jsonb_build_object('content', record_message.content),
    'session_id', record_message.session_id, 'message_id', record_message.message_id));
  if private.is_recipe_request(record_message.content) then
    v_events := v_events || jsonb_build_object(
      'interaction_type', 'question', 'interaction_key', 'recipe_request',
      'interaction_value', jsonb_build_object('query', record_message.content),
      'session_id', record_message.session_id, 'message_id', record_message.message_id);
  end if;
  return (private.insert_events(v_user_id, v_events))[1];
end;
$$;
revoke execute on function public.record_message(text, uuid, text) from public, anon, authenticated, service_role;
grant execute on function public.record_message(text, uuid, text) to authenticated;
comment on function public.record_message(text, uuid, text) is
  'Log a message the signed-in shopper wrote (and a question/recipe_request when it asks for recipes or meals); '
  'the worker extracts stated preferences from it. Returns the message event id.';
