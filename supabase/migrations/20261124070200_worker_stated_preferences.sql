-- Worker: preferences stated in chat messages.
--
-- The worker reads the shopper's own messages (interaction_type 'message', key 'user_message': never the
-- assistant's replies or the injected memory), extracts what they state (allergies, diets, dislikes, brand likes,
-- requests to forget) in Python, and applies it here, once per message: a stated preference becomes explicit
-- (confidence 1.00) with a 'preference_stated' event as its evidence, lifting any suppression; a request to forget
-- deletes the preference and suppresses it, so older evidence never brings it back.

-- Tables ---------------------------------------------------------------------------------------------------------
create table private.extracted_messages (
  interaction_id uuid primary key references public.interaction_history (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  extractor text not null,
  statements jsonb not null,
  extracted_at timestamptz not null default now(),
  constraint extracted_messages_extractor_length check (char_length(extractor) between 1 and 100),
  constraint extracted_messages_statements_array check (jsonb_typeof(statements) = 'array')
);
create index extracted_messages_user_idx on private.extracted_messages (user_id);
comment on table private.extracted_messages is
  'Chat messages the worker has read for stated preferences, with what it found; each message is applied once.';

-- Grants ---------------------------------------------------------------------------------------------------------
revoke all on table private.extracted_messages from public, anon, authenticated, service_role;

-- RLS ------------------------------------------------------------------------------------------------------------
alter table private.extracted_messages enable row level security;

-- Public RPCs (service role only) --------------------------------------------------------------------------------
create or replace function public.worker_pending_messages(p_user_id uuid, p_limit integer default 50)
returns table (interaction_id uuid, content text, created_at timestamptz)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform private.require_service_role();
  if p_limit is null or p_limit < 1 or p_limit > 1000 then
    raise exception using errcode = '22023', message = 'The message limit must be between 1 and 1000.';
  end if;
  return query
  select ih.id, ih.interaction_value ->> 'content', ih.created_at
    from public.interaction_history as ih
   where ih.user_id = p_user_id and ih.interaction_type = 'message' and ih.interaction_key = 'user_message'
     and not exists (select 1 from private.extracted_messages as e where e.interaction_id = ih.id)
   order by ih.created_at, ih.id
   limit p_limit;
end;
$$;
revoke all on function public.worker_pending_messages(uuid, integer) from public, anon, authenticated, service_role;
grant execute on function public.worker_pending_messages(uuid, integer) to service_role;
comment on function public.worker_pending_messages(uuid, integer) is
  'Worker only: the shopper''s own chat messages not yet read for stated preferences, oldest first.';

-- p_statements: [{"action": "remember"|"forget", "preference_type", "preference_key", "preference_value",
-- "reason"}]. Returns how many statements were applied (0 when the message was already applied).
create or replace function public.worker_apply_stated_preferences(
  p_user_id uuid, p_interaction_id uuid, p_statements jsonb, p_extractor text
)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_statement jsonb;
  v_index integer := 0;
  v_type text;
  v_key text;
  v_value text;
  v_reason text;
begin
  perform private.require_service_role();
  if not exists (select 1 from public.interaction_history as ih
                  where ih.id = p_interaction_id and ih.user_id = p_user_id
                    and ih.interaction_type = 'message' and ih.interaction_key = 'user_message') then
    raise exception using errcode = '22023',
      message = 'The interaction is not a message this shopper wrote; only the shopper''s own words are read.';
  end if;
  if p_statements is null or jsonb_typeof(p_statements) <> 'array' or jsonb_array_length(p_statements) > 20 then
    raise exception using errcode = '22023', message = 'The statements must be an array of at most 20 objects.';
  end if;
  if p_extractor is null or char_length(p_extractor) not between 1 and 100 then
    raise exception using errcode = '22023', message = 'The extractor name must be between 1 and 100 characters.';
  end if;
  -- Validate everything before changing anything.
  for v_statement in select s.value from jsonb_array_elements(p_statements) as s loop
    v_index := v_index + 1;
    if jsonb_typeof(v_statement) <> 'object' or coalesce(v_statement ->> 'action', '') not in ('remember', 'forget') then
      raise exception using errcode = '22023',
        message = format('Statement %s must be an object whose action is remember or forget.', v_index);
    end if;
    if coalesce(v_statement ->> 'preference_type', '') not in ('dietary', 'allergy', 'dislike', 'favorite', 'brand') then
      raise exception using errcode = '22023',
        message = format('Statement %s: preference_type must be dietary, allergy, dislike, favorite or brand.', v_index);
    end if;
    if char_length(pg_catalog.btrim(coalesce(v_statement ->> 'preference_key', ''))) not between 1 and 255 then
      raise exception using errcode = '22023',
        message = format('Statement %s: preference_key must be a non-empty text of at most 255 characters.', v_index);
    end if;
    if char_length(v_statement ->> 'preference_value') > 2000 or char_length(v_statement ->> 'reason') > 1000 then
      raise exception using errcode = '22023',
        message = format('Statement %s: preference_value is at most 2000 and reason at most 1000 characters.', v_index);
    end if;
  end loop;

  insert into private.extracted_messages (interaction_id, user_id, extractor, statements)
  values (p_interaction_id, p_user_id, p_extractor, p_statements)
  on conflict (interaction_id) do nothing;
  if not found then
    return 0;  -- already applied (a retried job): nothing twice
  end if;

  for v_statement in select s.value from jsonb_array_elements(p_statements) as s loop
    v_type := v_statement ->> 'preference_type';
    v_key := pg_catalog.btrim(v_statement ->> 'preference_key');
    v_value := v_statement ->> 'preference_value';
    v_reason := coalesce(nullif(pg_catalog.btrim(v_statement ->> 'reason'), ''), 'You told us in a chat message');
    if v_statement ->> 'action' = 'remember' then
      perform private.remember_explicit(
        p_user_id, v_type, v_key, v_value, v_reason,
        pg_catalog.jsonb_build_object('source', 'message', 'interaction_id', p_interaction_id),
        (select ih.message_id from public.interaction_history as ih where ih.id = p_interaction_id));
    else
      delete from public.customer_preferences as cp
       where cp.user_id = p_user_id and cp.preference_type = v_type and cp.preference_key = v_key;
      perform private.suppress_memory(p_user_id, 'preference', v_type, v_key);
    end if;
  end loop;
  return jsonb_array_length(p_statements);
end;
$$;
revoke all on function public.worker_apply_stated_preferences(uuid, uuid, jsonb, text)
  from public, anon, authenticated, service_role;
grant execute on function public.worker_apply_stated_preferences(uuid, uuid, jsonb, text) to service_role;
comment on function public.worker_apply_stated_preferences(uuid, uuid, jsonb, text) is
  'Worker only: apply what a shopper stated in one of their messages (remember as explicit, or forget and suppress), once.';
