-- Memory API: logging events, one (record_interaction) or an atomic batch (record_interactions).
--
-- An event is {interaction_type, interaction_key, interaction_value, session_id, message_id}. The plain types
-- (question, search, view_item, voice_used) are logged as sent; a cart_add is validated as an item and teaches
-- favourites exactly as record_cart_add does. Checkouts, swaps, messages and stated preferences have their own
-- functions, which validate their shape and learn from them, so they are refused here.

-- Helpers --------------------------------------------------------------------------------------------------------
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
  if pg_catalog.pg_column_size(v_value) > 262144 then
    return format('%sinteraction_value must be at most 256 KiB, not %s bytes.', v_at, pg_catalog.pg_column_size(v_value));
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

-- Public RPCs ------------------------------------------------------------------------------------------------------
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
revoke execute on function public.record_interaction(text, text, jsonb, uuid, text)
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
  if pg_catalog.pg_column_size(record_interactions.events) > v_max_bytes then
    raise exception using errcode = '22023',
      message = format('events takes %s bytes, but a batch takes at most %s (8 MiB); split it into smaller batches.',
                       pg_catalog.pg_column_size(record_interactions.events), v_max_bytes);
  end if;
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
revoke execute on function public.record_interactions(jsonb) from public, anon, authenticated, service_role;
grant execute on function public.record_interactions(jsonb) to authenticated;
comment on function public.record_interactions(jsonb) is
  'Log a batch of at most 1000 events (8 MiB) of the signed-in shopper atomically (all or none); return how many.';
