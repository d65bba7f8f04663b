-- Memory API: the functions apps call with the shopper's JWT to record what the shopper does and says
-- (docs/api.md; names and arguments are the contract). Each takes the shopper from the JWT
-- (private.require_shopper), validates everything before writing and logs the event through
-- private.insert_events; every inference is the worker's (docs/architecture.md). Granted to authenticated only.

-- Events ---------------------------------------------------------------------------------------------------------
create or replace function public.record_interaction(
  interaction_type text,
  interaction_key text default null,
  interaction_value jsonb default null,
  session_id uuid default null,
  message_id text default null
)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := private.require_shopper('record_interaction');
  v_event jsonb := jsonb_build_object(
    'interaction_type', record_interaction.interaction_type,
    'interaction_key', record_interaction.interaction_key,
    'interaction_value', record_interaction.interaction_value,
    'session_id', record_interaction.session_id,
    'message_id', record_interaction.message_id);
  v_problem text := private.event_problem(v_event, null);
begin
  perform private.raise_invalid(v_problem);
  return (private.insert_events(v_user_id, jsonb_build_array(v_event)))[1];
end;
$$;
revoke all on function public.record_interaction(text, text, jsonb, uuid, text)
  from public, anon, authenticated, service_role;
grant execute on function public.record_interaction(text, text, jsonb, uuid, text) to authenticated;
comment on function public.record_interaction(text, text, jsonb, uuid, text) is
  'Log one event of the signed-in shopper (question, search, view_item, voice_used or cart_add) and return its id.';

create or replace function public.record_interactions(events jsonb)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := private.require_shopper('record_interactions');
  v_max_events constant integer := 1000;
  v_max_bytes constant integer := 8388608;
  v_count integer;
  v_problem text;
begin
  if jsonb_typeof(record_interactions.events) is distinct from 'array' then
    raise exception using errcode = '22023',
      message = format('events must be a JSON array of events, not %s.',
                       coalesce(jsonb_typeof(record_interactions.events), 'missing'));
  end if;
  v_count := jsonb_array_length(record_interactions.events);
  if v_count > v_max_events then
    raise exception using errcode = '22023',
      message = format('events holds %s events, but a batch holds at most %s; split it into smaller batches.',
                       v_count, v_max_events);
  end if;
  -- Each event may hold up to 256 KiB, but a batch as a whole stays small enough for one request.
  perform private.raise_invalid(private.size_problem(
    'events', pg_catalog.pg_column_size(record_interactions.events), v_max_bytes, 'bytes', 'split it into smaller batches'));
  -- All or nothing: the first bad event (in array order) fails the whole batch before anything is written.
  select p.problem into v_problem
    from (select private.event_problem(e.event, (e.ord - 1)::integer) as problem, e.ord
            from jsonb_array_elements(record_interactions.events) with ordinality as e(event, ord)) as p
   where p.problem is not null
   order by p.ord
   limit 1;
  perform private.raise_invalid(v_problem);
  if v_count > 0 then
    perform private.insert_events(v_user_id, record_interactions.events);
  end if;
  return v_count;
end;
$$;
revoke all on function public.record_interactions(jsonb) from public, anon, authenticated, service_role;
grant execute on function public.record_interactions(jsonb) to authenticated;
comment on function public.record_interactions(jsonb) is
  'Log a batch of at most 1000 events (8 MiB) of the signed-in shopper atomically (all or none); return how many.';


-- The passive-learning hooks of the design document --------------------------------------------------------------
create or replace function public.record_cart_add(item jsonb, session_id uuid default null)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := private.require_shopper('record_cart_add');
  v_problem text := coalesce(
    private.size_problem('item', pg_catalog.pg_column_size(record_cart_add.item), 262144, 'bytes',
                         'an item is stored as one event: send only its sku, name, category, brand and price'),
    private.item_problem(record_cart_add.item, 'item', false));
begin
  perform private.raise_invalid(v_problem);
  return (private.insert_events(v_user_id, jsonb_build_array(jsonb_build_object(
    'interaction_type', 'cart_add',
    'interaction_value', record_cart_add.item,
    'session_id', record_cart_add.session_id))))[1];
end;
$$;
revoke all on function public.record_cart_add(jsonb, uuid) from public, anon, authenticated, service_role;
grant execute on function public.record_cart_add(jsonb, uuid) to authenticated;
comment on function public.record_cart_add(jsonb, uuid) is
  'Log that the signed-in shopper added an item ({sku, name, category, brand, price, quantity, added_at}) to the '
  'cart; the worker counts it (on its day, with the orders) towards favorites. Returns the event id.';

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
  perform private.raise_invalid(private.size_problem(
    'checkout', pg_catalog.pg_column_size(record_checkout.checkout), v_max_bytes, 'bytes',
    'shorten its names and tags or send fewer items'));
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
  -- With its figures added, the order must still fit in one event.
  perform private.raise_invalid(private.size_problem(
    'checkout', pg_catalog.pg_column_size(v_value), v_max_bytes, 'bytes',
    'shorten its names and tags or send fewer items'));

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
  -- Both items and the reason are stored as one event (256 KiB): each item gets half of it.
  v_problem text := coalesce(
    private.size_problem('original', pg_catalog.pg_column_size(record_swap.original), 131072, 'bytes',
                         'send only the item''s sku, name, category, brand and price'),
    private.size_problem('replacement', pg_catalog.pg_column_size(record_swap.replacement), 131072, 'bytes',
                         'send only the item''s sku, name, category, brand and price'),
    private.size_problem('reason', char_length(record_swap.reason), 1000, 'characters', 'shorten it'),
    private.item_problem(record_swap.original, 'original', false),
    private.item_problem(record_swap.replacement, 'replacement', false));
begin
  if v_problem is null and nullif(record_swap.original ->> 'brand', '') is null then
    v_problem := 'original.brand is required: a swap teaches which brand the shopper prefers.';
  elsif v_problem is null and nullif(record_swap.replacement ->> 'brand', '') is null then
    v_problem := 'replacement.brand is required: a swap teaches which brand the shopper prefers.';
  elsif v_problem is null and record_swap.accepted is null then
    v_problem := 'accepted must be true (the shopper took the replacement) or false, not null.';
  end if;
  perform private.raise_invalid(v_problem);

  -- The swap is a choice between two brands on offer; the worker counts it with the shopper's other choices.
  return (private.insert_events(v_user_id, jsonb_build_array(jsonb_build_object(
    'interaction_type', 'swap',
    'interaction_key', case when record_swap.accepted then 'accepted' else 'rejected' end,
    'interaction_value', jsonb_build_object(
      'original', record_swap.original, 'replacement', record_swap.replacement,
      'accepted', record_swap.accepted, 'reason', nullif(btrim(record_swap.reason), ''))))))[1];
end;
$$;
revoke all on function public.record_swap(jsonb, jsonb, boolean, text) from public, anon, authenticated, service_role;
grant execute on function public.record_swap(jsonb, jsonb, boolean, text) to authenticated;
comment on function public.record_swap(jsonb, jsonb, boolean, text) is
  'Log a savings swap the signed-in shopper accepted or rejected: a choice of the replacement''s or the original''s '
  'brand where the other was on offer, which the worker counts towards brand preferences. Returns the event id.';

comment on function public.record_cart_add(jsonb, uuid) is
  'Log that the signed-in shopper added an item ({sku, name, category, brand, price, quantity, added_at}) to the '
  'cart; the worker counts it (on its day, with the orders) towards favorites. Returns the event id.';

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
  perform private.raise_invalid(private.size_problem(
    'content', char_length(record_message.content), 10000, 'characters', 'split it into shorter messages'));
  if nullif(btrim(record_message.content), '') is null then
    raise exception using errcode = '22023', message = 'content is required: the shopper''s message, not an empty one.';
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
revoke all on function public.record_message(text, uuid, text) from public, anon, authenticated, service_role;
grant execute on function public.record_message(text, uuid, text) to authenticated;
comment on function public.record_message(text, uuid, text) is
  'Log a message the signed-in shopper wrote (and a question/recipe_request when it asks for recipes or meals); '
  'the worker extracts stated preferences from it. Returns the message event id.';


-- Stated preferences ---------------------------------------------------------------------------------------------
create or replace function public.remember_preference(
  preference_type text, preference_key text, preference_value text default null, reason text default null
)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := private.require_shopper('remember_preference');
  v_key text := btrim(remember_preference.preference_key);
  v_reason text := coalesce(nullif(btrim(remember_preference.reason), ''), 'You told us in your settings');
  v_types text[] := private.preference_types();
  v_id uuid;
begin
  if remember_preference.preference_type is null or not remember_preference.preference_type = any (v_types) then
    raise exception using errcode = '22023',
      message = format('preference_type must be one of %s, not %s.', private.in_words(v_types),
                       coalesce(quote_literal(remember_preference.preference_type), 'null'));
  end if;
  if nullif(v_key, '') is null or char_length(v_key) > 255 then
    raise exception using errcode = '22023',
      message = 'preference_key must be a non-empty text of at most 255 characters: what the preference is about.';
  end if;
  if char_length(remember_preference.preference_value) > 2000 then
    raise exception using errcode = '22023', message = 'preference_value must be at most 2000 characters.';
  end if;
  if char_length(v_reason) > 1000 then
    raise exception using errcode = '22023', message = 'reason must be at most 1000 characters.';
  end if;

  v_id := private.remember_explicit(v_user_id, remember_preference.preference_type, v_key,
                                    remember_preference.preference_value, v_reason, '{"source": "settings"}', null);
  return v_id;
end;
$$;
revoke all on function public.remember_preference(text, text, text, text)
  from public, anon, authenticated, service_role;
grant execute on function public.remember_preference(text, text, text, text) to authenticated;
comment on function public.remember_preference(text, text, text, text) is
  'Remember a preference the signed-in shopper stated (dietary, allergy, dislike, favorite or brand) as explicit, '
  'confidence 1.00, and lift any suppression of it. Returns the preference id.';
