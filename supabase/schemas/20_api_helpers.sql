-- Memory API: the private helpers of the recording functions (21_api_functions.sql): what is wrong with an item,
-- an event or a checkout, and the two write paths every recording function goes through.
--
-- Conventions: private helpers take `p_` parameters. Every validation helper returns NULL for a good value or a
-- full sentence naming the field; the caller raises it (private.raise_invalid, SQLSTATE 22023) before writing.

-- Validation -----------------------------------------------------------------------------------------------------
-- The one size check of every recording function: NULL when `p_size` is within `p_limit`, else the sentence that
-- names the field, its size and the limit (in KiB or MiB too, for bytes), and what to do. Each record_* function
-- checks its argument with it before it reads or writes anything more, so an oversize call always answers 22023.
create or replace function private.size_problem(
  p_path text, p_size bigint, p_limit bigint, p_unit text, p_advice text
)
returns text
language sql
immutable
set search_path = ''
as $$
  select case
    when p_size is null or p_size <= p_limit then null
    else format('%s has %s %s, but at most %s%s are accepted; %s.', p_path, p_size, p_unit, p_limit,
                case when p_unit <> 'bytes' then ''
                     when p_limit % 1048576 = 0 then format(' (%s MiB)', p_limit / 1048576)
                     when p_limit % 1024 = 0 then format(' (%s KiB)', p_limit / 1024)
                     else '' end,
                p_advice)
  end;
$$;
revoke all on function private.size_problem(text, bigint, bigint, text, text) from public, anon, authenticated, service_role;

-- An item (a cart add, a checkout line, a side of a swap): {"sku", "name", "category", "brand", "price",
-- "quantity", "tags"}. sku is required; price and quantity too when `p_priced` (a checkout line). Other fields are
-- kept as sent. `p_path` names the item in the message: item, checkout.items[2], events[3].interaction_value.
create or replace function private.item_problem(p_item jsonb, p_path text, p_priced boolean)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  v_field text;
  v_value jsonb;
begin
  if p_item is null or jsonb_typeof(p_item) <> 'object' then
    return format('%s must be a JSON object describing the item, not %s.', p_path,
                  coalesce(jsonb_typeof(p_item), 'missing'));
  end if;

  v_value := nullif(p_item -> 'sku', 'null'::jsonb);
  if v_value is null then
    return format('%s.sku is required: every item needs its SKU.', p_path);
  end if;
  if jsonb_typeof(v_value) <> 'string' or btrim(v_value #>> '{}') = '' or char_length(v_value #>> '{}') > 255 then
    return format('%s.sku must be a non-empty string of at most 255 characters, not %s.', p_path,
                  private.json_excerpt(v_value));
  end if;

  foreach v_field in array array['name', 'category', 'brand'] loop
    v_value := nullif(p_item -> v_field, 'null'::jsonb);
    if v_value is not null and (jsonb_typeof(v_value) <> 'string' or btrim(v_value #>> '{}') = ''
                                or char_length(v_value #>> '{}') > 255) then
      return format('%s.%s must be a non-empty string of at most 255 characters, not %s.', p_path, v_field,
                    private.json_excerpt(v_value));
    end if;
  end loop;

  v_value := nullif(p_item -> 'price', 'null'::jsonb);
  if v_value is null then
    if p_priced then
      return format('%s.price is required: the price paid for one unit.', p_path);
    end if;
  elsif jsonb_typeof(v_value) <> 'number' then
    return format('%s.price must be a number, not %s.', p_path, private.json_excerpt(v_value));
  elsif v_value::numeric < 0 or v_value::numeric > 100000 then
    return format('%s.price must be between 0 and 100000, not %s.', p_path, v_value);
  end if;

  v_value := nullif(p_item -> 'quantity', 'null'::jsonb);
  if v_value is null then
    if p_priced then
      return format('%s.quantity is required: how many units were bought.', p_path);
    end if;
  elsif jsonb_typeof(v_value) <> 'number' then
    return format('%s.quantity must be a whole number from 1 to 1000, not %s.', p_path, private.json_excerpt(v_value));
  elsif v_value::numeric <> trunc(v_value::numeric) or v_value::numeric < 1 or v_value::numeric > 1000 then
    return format('%s.quantity must be a whole number from 1 to 1000, not %s.', p_path, v_value);
  end if;

  v_value := nullif(p_item -> 'tags', 'null'::jsonb);
  if v_value is not null then
    if jsonb_typeof(v_value) <> 'array' or jsonb_array_length(v_value) > 50 then
      return format('%s.tags must be an array of at most 50 strings, not %s.', p_path, private.json_excerpt(v_value));
    end if;
    -- A JSON path, not a query: this runs for every item of a batch.
    if jsonb_path_exists(v_value, '$[*] ? (@.type() != "string" || !(@ like_regex "^.{1,100}$" flag "s"))') then
      return format('%s.tags must hold only non-empty strings of at most 100 characters, not %s.', p_path,
                    private.json_excerpt(v_value));
    end if;
  end if;
  return null;
end;
$$;
revoke all on function private.item_problem(jsonb, text, boolean) from public, anon, authenticated, service_role;

-- What is wrong with one event, or NULL. `p_index` is its position in a batch (0-based, as in the JSON array),
-- NULL for record_interaction, whose fields are its arguments.
create or replace function private.event_problem(p_event jsonb, p_index integer)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  v_at text := case when p_index is null then '' else format('events[%s].', p_index) end;
  v_type jsonb;
  v_field text;
  v_value jsonb;
  v_unknown text;
  v_problem text;
begin
  if jsonb_typeof(p_event) is distinct from 'object' then
    return format('events[%s] must be a JSON object (an event), not %s.', p_index,
                  coalesce(jsonb_typeof(p_event), 'missing'));
  end if;
  -- An expression, not a query: this runs for every event of a batch.
  v_value := p_event - array['interaction_type', 'interaction_key', 'interaction_value', 'session_id', 'message_id'];
  if v_value <> '{}'::jsonb then
    select min(k) into v_unknown from jsonb_object_keys(v_value) as k;
    return format('%s%s is not a field of an event; an event has interaction_type, interaction_key, '
                  'interaction_value, session_id and message_id.', v_at, v_unknown);
  end if;

  v_type := nullif(p_event -> 'interaction_type', 'null'::jsonb);
  if v_type is null then
    return format('%sinteraction_type is required.', v_at);
  end if;
  case v_type #>> '{}'
    when 'question', 'search', 'view_item', 'voice_used', 'cart_add' then
      null;  -- a plain event type (a JSON string: no other JSON value reads as these words)
    when 'checkout' then
      return format('%sinteraction_type "checkout" is recorded with record_checkout, which validates the order.', v_at);
    when 'swap', 'reject_swap' then
      return format('%sinteraction_type "%s" is recorded with record_swap, which learns the brand preference.', v_at,
                    v_type #>> '{}');
    when 'message' then
      return format('%sinteraction_type "message" is recorded with record_message.', v_at);
    when 'preference_stated' then
      return format('%sinteraction_type "preference_stated" is recorded with remember_preference.', v_at);
    else
      return format('%sinteraction_type must be one of question, search, view_item, voice_used or cart_add, not %s.',
                    v_at, private.json_excerpt(v_type));
  end case;

  foreach v_field in array array['interaction_key', 'message_id'] loop
    v_value := nullif(p_event -> v_field, 'null'::jsonb);
    if v_value is not null and (jsonb_typeof(v_value) <> 'string' or char_length(v_value #>> '{}') not between 1 and 255)
    then
      return format('%s%s must be a non-empty string of at most 255 characters, not %s.', v_at, v_field,
                    private.json_excerpt(v_value));
    end if;
  end loop;

  v_value := nullif(p_event -> 'interaction_value', 'null'::jsonb);
  if v_value is not null and jsonb_typeof(v_value) <> 'object' then
    return format('%sinteraction_value must be a JSON object, not %s.', v_at, jsonb_typeof(v_value));
  end if;
  v_problem := private.size_problem(v_at || 'interaction_value', pg_catalog.pg_column_size(v_value), 262144, 'bytes',
                                    'send a smaller event');
  if v_problem is not null then
    return v_problem;
  end if;
  if v_type #>> '{}' = 'cart_add' then
    if v_value is null then
      return format('%sinteraction_value is required for a cart_add: the item added.', v_at);
    end if;
    if (p_event ->> 'interaction_key') is distinct from (v_value ->> 'sku') and p_event ->> 'interaction_key' is not null
    then
      return format('%sinteraction_key of a cart_add must be its item''s SKU (or null), not %s.', v_at,
                    private.json_excerpt(p_event -> 'interaction_key'));
    end if;
  end if;

  v_value := nullif(p_event -> 'session_id', 'null'::jsonb);
  if v_value is not null and (jsonb_typeof(v_value) <> 'string' or (v_value #>> '{}') !~*
      '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$') then
    return format('%ssession_id must be a UUID, not %s.', v_at, private.json_excerpt(v_value));
  end if;

  if v_type #>> '{}' = 'cart_add' then
    return private.item_problem(p_event -> 'interaction_value', v_at || 'interaction_value', false);
  end if;
  return null;
end;
$$;
revoke all on function private.event_problem(jsonb, integer) from public, anon, authenticated, service_role;

-- The shopper's profile time zone (auth.users.raw_user_meta_data.time_zone, as GoTrue stores the sign-up
-- metadata), when it is a valid IANA name; otherwise null. record_checkout uses it when a checkout names none.
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


-- The write paths ------------------------------------------------------------------------------------------------
-- Append validated events ([{interaction_type, interaction_key, interaction_value, session_id, message_id}]) for
-- a shopper and return their ids in order; a cart add's key is its SKU. Then apply the cart-add favourite rule to
-- the SKUs added. Every recording function writes through here.
--
-- Concurrency: the rule counts committed cart adds, so two transactions adding the same SKU at once could each
-- miss the other's event and lose an increment. A per-shopper transaction lock, taken before counting, orders
-- them: the second counts after the first has committed. The upsert itself never fails on the unique key.
create or replace function private.insert_events(p_user_id uuid, p_events jsonb)
returns uuid[]
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_ids uuid[];
begin
  -- Append only: what the events mean is derived by the worker (private.derive_preferences), in one place.
  with new_events as (
    select pg_catalog.gen_random_uuid() as id, e.ord, e.event
      from pg_catalog.jsonb_array_elements(p_events) with ordinality as e(event, ord)
  ), inserted as (
    insert into public.interaction_history
      (id, user_id, interaction_type, interaction_key, interaction_value, session_id, message_id)
    select n.id, p_user_id, n.event ->> 'interaction_type',
           case when n.event ->> 'interaction_type' = 'cart_add' then n.event -> 'interaction_value' ->> 'sku'
                else n.event ->> 'interaction_key' end,
           coalesce(nullif(n.event -> 'interaction_value', 'null'::jsonb), '{}'::jsonb),
           (n.event ->> 'session_id')::uuid,
           n.event ->> 'message_id'
      from new_events as n
  )
  select pg_catalog.array_agg(n.id order by n.ord) into v_ids from new_events as n;
  return v_ids;
end;
$$;
revoke all on function private.insert_events(uuid, jsonb) from public, anon, authenticated, service_role;

-- Remember what a shopper said, wherever they said it (the app's settings, a chat message): the preference becomes
-- explicit at 1.00 (confirmed once more if it was already), a preference_stated event records the statement as its
-- evidence (an inference's record is dropped: the worker never updates an explicit row, so its figures would go
-- stale and explain would show the inference, not the statement), and any earlier "forget this" is lifted so
-- inference may use new evidence again. The callers have validated the input and checked who is asking.
-- `p_evidence` adds to the event's value; returns the preference id.
create or replace function private.remember_explicit(
  p_user_id uuid, p_type text, p_key text, p_value text, p_reason text, p_evidence jsonb, p_message_id text
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
  if not exists (select from public.customer_preferences as cp
                  where cp.user_id = p_user_id and cp.preference_type = p_type and cp.preference_key = p_key
                    and cp.source = 'explicit') then
    perform private.lock_memory(p_user_id, 'stated-preferences');
    select count(*) into v_stated from public.customer_preferences as cp
     where cp.user_id = p_user_id and cp.source = 'explicit';
    if v_stated >= private.volume_limit('stated_preferences') then
      raise exception using errcode = '22023',
        message = format('This shopper has stated %s preferences, the most kept; forget one before adding another.',
                         v_stated);
    end if;
  end if;

  insert into public.customer_preferences as cp
    (user_id, preference_type, preference_key, preference_value, confidence, reason, source, times_confirmed,
     last_confirmed_at)
  values (p_user_id, p_type, p_key, p_value, 1.00, p_reason, 'explicit', 1, now())
  on conflict on constraint customer_preferences_user_type_key_key do update
    set preference_value = excluded.preference_value, confidence = 1.00, reason = excluded.reason,
        source = 'explicit', times_confirmed = cp.times_confirmed + 1, last_confirmed_at = excluded.last_confirmed_at,
        evidence = null
  returning cp.id into v_id;

  insert into public.interaction_history (user_id, interaction_type, interaction_key, interaction_value, message_id)
  values (p_user_id, 'preference_stated', left(p_type || ':' || p_key, 255),
          jsonb_build_object('preference_type', p_type, 'preference_key', p_key, 'preference_value', p_value,
                             'reason', p_reason) || p_evidence,
          p_message_id);

  delete from private.memory_suppressions as s
   where s.user_id = p_user_id and s.memory_kind = 'preference' and s.memory_type = p_type and s.memory_key = p_key;
  return v_id;
end;
$$;
revoke all on function private.remember_explicit(uuid, text, text, text, text, jsonb, text)
  from public, anon, authenticated, service_role;
