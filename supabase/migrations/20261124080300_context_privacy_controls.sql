-- Memory system: the shopper's control over their memory (DESIGN-DOCUMENT.md "Privacy & Transparency"):
-- forget_memory(id), clear_memories(), export_memories().
--
-- These reach private tables (suppressions, the interaction archive) that no API role may touch, so they are
-- security definer; each takes the identity from the JWT only ((select auth.uid())), never from an argument, and
-- every statement is restricted to that user's rows.

-- Public RPCs ----------------------------------------------------------------------------------------------------
create or replace function public.forget_memory(memory_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user uuid := (select auth.uid());
  v_kind text;
  v_type text;
  v_key text;
begin
  if v_user is null then
    raise exception using errcode = '42501',
      message = 'Sign in first: forget_memory deletes memories of the signed-in shopper only.';
  end if;
  if forget_memory.memory_id is null then
    raise exception using errcode = '22023',
      message = 'memory_id is required: pass the id of one of your memories (see my_memories).';
  end if;

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

  -- Unknown, or someone else's: the same answer either way (HTTP 404 through PostgREST), and nothing changed.
  raise exception using errcode = 'PT404', message = 'No memory with that id.',
    hint = 'List your memories with my_memories.';
end;
$$;
revoke execute on function public.forget_memory(uuid) from public, anon, authenticated, service_role;
grant execute on function public.forget_memory(uuid) to authenticated;
comment on function public.forget_memory(uuid) is
  'Deletes one memory of the signed-in shopper wherever it lives (preference, pattern, insight, or one logged event) '
  'and, for a memory, records that it was forgotten so that older evidence never infers it again. Unknown or '
  'someone else''s id: PT404 No memory with that id.';

create or replace function public.clear_memories()
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user uuid := (select auth.uid());
  v_preferences bigint;
  v_patterns bigint;
  v_insights bigint;
  v_interactions bigint;
  v_archived bigint;
  v_suppressions bigint;
begin
  if v_user is null then
    raise exception using errcode = '42501',
      message = 'Sign in first: clear_memories deletes the memory of the signed-in shopper only.';
  end if;

  with d as (delete from public.customer_preferences as p where p.user_id = v_user returning 1)
  select count(*) into v_preferences from d;
  with d as (delete from public.shopping_patterns as sp where sp.user_id = v_user returning 1)
  select count(*) into v_patterns from d;
  with d as (delete from public.memory_insights as mi where mi.user_id = v_user returning 1)
  select count(*) into v_insights from d;
  with d as (delete from public.interaction_history as ih where ih.user_id = v_user returning 1)
  select count(*) into v_interactions from d;
  with d as (delete from private.interaction_archive as ia where ia.user_id = v_user returning 1)
  select count(*) into v_archived from d;
  -- With every piece of evidence gone there is nothing left to suppress, and a suppression is itself a record
  -- of what the shopper once had: cleared too.
  with d as (delete from private.memory_suppressions as s where s.user_id = v_user returning 1)
  select count(*) into v_suppressions from d;

  return jsonb_build_object(
    'preferences', v_preferences, 'patterns', v_patterns, 'insights', v_insights,
    'interactions', v_interactions, 'archived_interactions', v_archived, 'suppressions', v_suppressions);
end;
$$;
revoke execute on function public.clear_memories() from public, anon, authenticated, service_role;
grant execute on function public.clear_memories() to authenticated;
comment on function public.clear_memories() is
  'Deletes everything stored about the signed-in shopper''s memory: preferences, patterns, insights, interactions '
  '(live and archived) and forget records. Returns how many rows each held.';

create or replace function public.export_memories()
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_user uuid := (select auth.uid());
begin
  if v_user is null then
    raise exception using errcode = '42501',
      message = 'Sign in first: export_memories exports the memory of the signed-in shopper only.';
  end if;

  return jsonb_build_object(
    'format', 'customer-memory-export',
    'version', 1,
    'exported_at', now(),
    'user_id', v_user,
    'preferences', (select coalesce(jsonb_agg(to_jsonb(p) order by p.created_at, p.id), '[]')
                    from public.customer_preferences as p where p.user_id = v_user),
    'patterns', (select coalesce(jsonb_agg(to_jsonb(sp) order by sp.created_at, sp.id), '[]')
                 from public.shopping_patterns as sp where sp.user_id = v_user),
    'insights', (select coalesce(jsonb_agg(to_jsonb(mi) order by mi.created_at, mi.id), '[]')
                 from public.memory_insights as mi where mi.user_id = v_user),
    'interactions', (select coalesce(jsonb_agg(to_jsonb(ih) order by ih.created_at, ih.id), '[]')
                     from public.interaction_history as ih where ih.user_id = v_user),
    'archived_interactions', (select coalesce(jsonb_agg(to_jsonb(ia) order by ia.created_at, ia.id), '[]')
                              from private.interaction_archive as ia where ia.user_id = v_user),
    'suppressions', (select coalesce(jsonb_agg(to_jsonb(s) order by s.forgotten_at, s.memory_kind,
                                               s.memory_type, s.memory_key), '[]')
                     from private.memory_suppressions as s where s.user_id = v_user));
end;
$$;
revoke execute on function public.export_memories() from public, anon, authenticated, service_role;
grant execute on function public.export_memories() to authenticated;
comment on function public.export_memories() is
  'Everything stored about the signed-in shopper''s memory as one versioned JSON document '
  '(format customer-memory-export, version 1): preferences, patterns, insights, interactions, archived '
  'interactions and forget records.';
