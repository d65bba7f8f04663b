-- Worker and memory API: chat never removes an allergy or a diet on its own.
--
-- An extractor (the rules or Claude) may read "forget that I'm allergic to peanuts" or "I'm not vegetarian
-- anymore" out of a message; it may also misread one. Whatever it returns, worker_apply_stated_preferences is the
-- one place that applies it, and there a request to forget an allergy or a dietary restriction does not delete
-- it: it marks the preference with a pending removal that the shopper sees (my_memories.pending_change, added
-- by 20261128180000 after the view's last_confirmed_at; the export) and confirms (confirm_pending_change: forgotten as forget_memory forgets) or rejects
-- (reject_pending_change: kept). Until then the memory stays, in memory_context and the prompt. Saying it again
-- ("I am allergic to peanuts") answers the question too: the pending removal is dropped. Other preferences
-- (dislikes, favourites, brands) are removed on a request to forget, as before.
--
-- A household member's allergy ("my son is allergic to peanuts") is the household's: the statement names the
-- member (household_member), which the reason and the evidence keep.

-- Tables ---------------------------------------------------------------------------------------------------------
alter table public.customer_preferences add column pending_removal jsonb;
alter table public.customer_preferences add constraint customer_preferences_pending_removal_object check (
    pending_removal is null or (jsonb_typeof(pending_removal) = 'object' and pg_column_size(pending_removal) <= 4096));
comment on column public.customer_preferences.pending_removal is
  'A removal the shopper asked for in a chat message and has not confirmed yet (allergies and diets only): '
  '{requested_at, interaction_id, message, extractor}. Null when none is pending.';

-- Worker functions -----------------------------------------------------------------------------------------------
-- p_statements: [{"action": "remember"|"forget", "preference_type", "preference_key", "preference_value",
-- "reason", "household_member"}]. Returns how many statements were applied (0 when the message was already
-- applied). The one place where what any extractor read (the rules or Claude) changes memory: chat never
-- removes an allergy or a diet on its own; a request to forget one becomes a pending removal the shopper
-- confirms or rejects (confirm_pending_change, reject_pending_change), and the memory stays until then.
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
  v_member text;
  v_message text;
  v_message_id text;
  v_types text[] := private.preference_types();
begin
  perform private.require_service_role();
  select left(ih.interaction_value ->> 'content', 500), ih.message_id into v_message, v_message_id
    from public.interaction_history as ih
   where ih.id = p_interaction_id and ih.user_id = p_user_id
     and ih.interaction_type = 'message' and ih.interaction_key = 'user_message';
  if not found then
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
    if not coalesce(v_statement ->> 'preference_type', '') = any (v_types) then
      raise exception using errcode = '22023',
        message = format('Statement %s: preference_type must be %s.', v_index, private.in_words(v_types));
    end if;
    if char_length(pg_catalog.btrim(coalesce(v_statement ->> 'preference_key', ''))) not between 1 and 255 then
      raise exception using errcode = '22023',
        message = format('Statement %s: preference_key must be a non-empty text of at most 255 characters.', v_index);
    end if;
    if char_length(v_statement ->> 'preference_value') > 2000 or char_length(v_statement ->> 'reason') > 1000 then
      raise exception using errcode = '22023',
        message = format('Statement %s: preference_value is at most 2000 and reason at most 1000 characters.', v_index);
    end if;
    if char_length(v_statement ->> 'household_member') > 40 then
      raise exception using errcode = '22023',
        message = format('Statement %s: household_member is at most 40 characters.', v_index);
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
    v_member := nullif(pg_catalog.btrim(v_statement ->> 'household_member'), '');
    v_reason := coalesce(nullif(pg_catalog.btrim(v_statement ->> 'reason'), ''), 'You told us in a chat message');
    if v_statement ->> 'action' = 'remember' then
      perform private.remember_explicit(
        p_user_id, v_type, v_key, v_value, v_reason,
        pg_catalog.jsonb_build_object('source', 'message', 'interaction_id', p_interaction_id)
          || case when v_member is null then '{}'::jsonb
                  else pg_catalog.jsonb_build_object('household_member', v_member) end,
        v_message_id);
      -- Stating it again answers a pending removal: it stays.
      update public.customer_preferences as cp set pending_removal = null
       where cp.user_id = p_user_id and cp.preference_type = v_type and cp.preference_key = v_key
         and cp.pending_removal is not null;
    elsif v_type in ('allergy', 'dietary') then
      -- Safety: never removed or lowered on a message's word; the shopper confirms or rejects.
      update public.customer_preferences as cp
         set pending_removal = pg_catalog.jsonb_build_object(
               'requested_at', now(), 'interaction_id', p_interaction_id, 'message', v_message,
               'extractor', p_extractor)
       where cp.user_id = p_user_id and cp.preference_type = v_type and cp.preference_key = v_key;
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
  'Worker only: apply what a shopper stated in one of their messages, once: remember as explicit; forget a '
  'dislike, favourite or brand (deleted and suppressed); for an allergy or a diet, a pending removal that the '
  'shopper confirms or rejects.';

-- Public RPCs (shoppers) -----------------------------------------------------------------------------------------
-- Removals asked for in chat (allergies and diets): the shopper answers them.
create or replace function public.confirm_pending_change(memory_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := private.require_shopper('confirm_pending_change');
begin
  perform 1 from public.customer_preferences as p
   where p.id = confirm_pending_change.memory_id and p.user_id = v_user_id and p.pending_removal is not null
     for update;
  if not found then
    raise exception using errcode = 'PT404', message = 'No pending change with that id.',
      hint = 'my_memories lists the memories with a pending_change.';
  end if;
  -- Confirmed: forgotten exactly as forget_memory forgets (deleted, and never inferred again from old evidence).
  return public.forget_memory(confirm_pending_change.memory_id) || '{"confirmed": true}'::jsonb;
end;
$$;
revoke execute on function public.confirm_pending_change(uuid) from public, anon, authenticated, service_role;
grant execute on function public.confirm_pending_change(uuid) to authenticated;
comment on function public.confirm_pending_change(uuid) is
  'The signed-in shopper confirms a removal they asked for in chat (an allergy or a diet): the memory is '
  'forgotten. Unknown id, someone else''s, or nothing pending: PT404.';

create or replace function public.reject_pending_change(memory_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := private.require_shopper('reject_pending_change');
  v_type text;
  v_key text;
begin
  update public.customer_preferences as p set pending_removal = null
   where p.id = reject_pending_change.memory_id and p.user_id = v_user_id and p.pending_removal is not null
  returning p.preference_type, p.preference_key into v_type, v_key;
  if v_type is null then
    raise exception using errcode = 'PT404', message = 'No pending change with that id.',
      hint = 'my_memories lists the memories with a pending_change.';
  end if;
  return jsonb_build_object('rejected', true, 'id', reject_pending_change.memory_id, 'memory_type', v_type,
                            'memory_key', v_key);
end;
$$;
revoke execute on function public.reject_pending_change(uuid) from public, anon, authenticated, service_role;
grant execute on function public.reject_pending_change(uuid) to authenticated;
comment on function public.reject_pending_change(uuid) is
  'The signed-in shopper rejects a removal read from their chat (an allergy or a diet): the memory stays as it '
  'was. Unknown id, someone else''s, or nothing pending: PT404.';
