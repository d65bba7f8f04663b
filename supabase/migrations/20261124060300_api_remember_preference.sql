-- Memory API: remember_preference, a preference the shopper stated in the app's settings.
-- It is explicit (confidence 1.00), which inference never lowers or overwrites; it is logged as a
-- preference_stated event (the evidence explain_memory shows), and it lifts any earlier "forget this".

-- Helpers --------------------------------------------------------------------------------------------------------
-- Remember what a shopper said, wherever they said it (the app's settings, a chat message): the preference becomes
-- explicit at 1.00 (confirmed once more if it was already), a preference_stated event records the statement as its
-- evidence, and any earlier "forget this" is lifted so inference may use new evidence again. The callers have
-- validated the input and checked who is asking. `p_evidence` adds to the event's value; returns the preference id.
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
begin
  insert into public.customer_preferences as cp
    (user_id, preference_type, preference_key, preference_value, confidence, reason, source, times_confirmed,
     last_confirmed_at)
  values (p_user_id, p_type, p_key, p_value, 1.00, p_reason, 'explicit', 1, now())
  on conflict on constraint customer_preferences_user_type_key_key do update
    set preference_value = excluded.preference_value, confidence = 1.00, reason = excluded.reason,
        source = 'explicit', times_confirmed = cp.times_confirmed + 1, last_confirmed_at = excluded.last_confirmed_at
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

-- Public RPCs ------------------------------------------------------------------------------------------------------
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
  v_id uuid;
begin
  if remember_preference.preference_type is null
     or remember_preference.preference_type not in ('dietary', 'allergy', 'dislike', 'favorite', 'brand') then
    raise exception using errcode = '22023',
      message = format('preference_type must be one of dietary, allergy, dislike, favorite or brand, not %s.',
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
revoke execute on function public.remember_preference(text, text, text, text)
  from public, anon, authenticated, service_role;
grant execute on function public.remember_preference(text, text, text, text) to authenticated;
comment on function public.remember_preference(text, text, text, text) is
  'Remember a preference the signed-in shopper stated (dietary, allergy, dislike, favorite or brand) as explicit, '
  'confidence 1.00, and lift any suppression of it. Returns the preference id.';
