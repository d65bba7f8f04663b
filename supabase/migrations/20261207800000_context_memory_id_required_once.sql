-- Context: "memory_id is required" is written once (private.require_memory_id), read by explain_memory and
-- forget_memory, as "No memory with that id" is.

create or replace function private.require_memory_id(p_memory_id uuid)
returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_memory_id is null then
    raise exception using errcode = '22023',
      message = 'memory_id is required: pass the id of one of your memories (see my_memories).';
  end if;
end;
$$;
revoke all on function private.require_memory_id(uuid) from public, anon, authenticated, service_role;

create or replace function public.explain_memory(memory_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_user uuid := private.require_shopper('explain_memory');
  -- How many interactions or orders an explanation lists at most.
  c_cap constant integer := 20;
begin
  perform private.require_memory_id(explain_memory.memory_id);
  -- The first kind, in this order, that holds this id; none: no memory with that id.
  return coalesce(private.explain_preference(v_user, explain_memory.memory_id, c_cap),
                  private.explain_pattern(v_user, explain_memory.memory_id, c_cap),
                  private.explain_insight(v_user, explain_memory.memory_id, c_cap),
                  private.explain_event(v_user, explain_memory.memory_id),
                  private.no_memory_with_that_id());
end;
$$;
revoke all on function public.explain_memory(uuid) from public, anon, authenticated, service_role;
grant execute on function public.explain_memory(uuid) to authenticated;
comment on function public.explain_memory(uuid) is
  'One memory of the signed-in shopper (preference, pattern, insight or logged event) with the evidence behind '
  'it: the supporting interactions (at most 20, newest first, with the total), the pattern''s figures and the '
  'orders of its window, or the insight''s supporting data. Unknown or someone else''s id: PT404 No memory with that id.';

create or replace function public.forget_memory(memory_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user uuid := private.require_shopper('forget_memory');
  v_kind text;
  v_type text;
  v_key text;
begin
  perform private.require_memory_id(forget_memory.memory_id);

  delete from public.customer_preferences as p
  where p.id = forget_memory.memory_id and p.user_id = v_user
  returning 'preference', p.preference_type, p.preference_key into v_kind, v_type, v_key;

  if v_kind is null then
    delete from public.shopping_patterns as sp
    where sp.id = forget_memory.memory_id and sp.user_id = v_user
    returning 'pattern', sp.pattern_type, sp.pattern_key into v_kind, v_type, v_key;
  end if;

  if v_kind is null then
    delete from public.memory_insights as mi
    where mi.id = forget_memory.memory_id and mi.user_id = v_user
    returning 'insight', mi.insight_type, mi.insight_key into v_kind, v_type, v_key;
  end if;

  if v_kind is not null then
    -- Evidence up to now never infers it again; a new explicit statement lifts this (remember_preference).
    perform private.suppress_memory(v_user, v_kind, v_type, v_key);
    return jsonb_build_object('forgotten', true, 'id', forget_memory.memory_id, 'memory_kind', v_kind,
                              'memory_type', v_type, 'memory_key', v_key, 'suppressed', true);
  end if;

  -- A single logged event (live or archived): deleted; what was inferred from it is recomputed by the worker.
  delete from public.interaction_history as ih
  where ih.id = forget_memory.memory_id and ih.user_id = v_user
  returning 'interaction', ih.interaction_type, ih.interaction_key into v_kind, v_type, v_key;
  if v_kind is null then
    delete from private.interaction_archive as ia
    where ia.id = forget_memory.memory_id and ia.user_id = v_user
    returning 'interaction', ia.interaction_type, ia.interaction_key into v_kind, v_type, v_key;
  end if;
  if v_kind is not null then
    return jsonb_build_object('forgotten', true, 'id', forget_memory.memory_id, 'memory_kind', v_kind,
                              'memory_type', v_type, 'memory_key', v_key, 'suppressed', false);
  end if;

  -- Unknown, or someone else's: nothing changed.
  return private.no_memory_with_that_id();
end;
$$;
revoke all on function public.forget_memory(uuid) from public, anon, authenticated, service_role;
grant execute on function public.forget_memory(uuid) to authenticated;
comment on function public.forget_memory(uuid) is
  'Deletes one memory of the signed-in shopper wherever it lives (preference, pattern, insight, or one logged event) '
  'and, for a memory, records that it was forgotten so that older evidence never infers it again. Unknown or '
  'someone else''s id: PT404 No memory with that id.';
