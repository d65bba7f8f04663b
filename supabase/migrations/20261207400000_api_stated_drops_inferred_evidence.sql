-- A preference the shopper states after it was inferred keeps no inference record: explain shows the statement,
-- and no frozen buy-again figures reach the block (the worker never updates an explicit row).
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
