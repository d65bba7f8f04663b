-- Worker: a shopper's job (worker_*; granted to service_role only): read their new chat messages, apply what they
-- stated, then recompute what is inferred (the derivations are 34-37). Each starts with
-- private.require_service_role(); they are security definer because the suppressions live in the private schema.

-- Stated preferences from chat messages --------------------------------------------------------------------------
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

-- p_statements: an array of at most 20 statements, each either a preference
--   {"action": "remember"|"forget", "preference_type", "preference_key", "preference_value", "reason",
--    "household_member"}
-- or an insight (dispatched on "insight_type"; docs/learning.md, "Insights")
--   {"action": "remember"|"forget", "insight_type": persona|goal|context|constraint, "insight_key": a canonical
--    lowercase key ("children", "pet-dog", "budget"), "insight_value": short text in words, "details": an optional
--    object of figures ({"count": 2, "ages": [4, 7]}), "expires_at": an ISO-8601 timestamp or null}.
-- Returns how many statements were applied (0 when the message was already applied). The one place where what any
-- extractor read (the rules or Claude) changes memory: chat never removes an allergy or a diet on its own; a
-- request to forget one becomes a pending removal the shopper confirms or rejects (confirm_pending_change,
-- reject_pending_change), and the memory stays until then. An insight is remembered as explicit with the message
-- as its evidence (a later statement with the same key updates it); a "forget" ends it (out of the prompt, kept on
-- the page with what ended it) and never deletes it on a message's word (private.end_insight).
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
  v_said_at timestamptz;
  v_expires_at timestamptz;
  v_types text[] := private.preference_types();
  v_insight_types text[] := private.insight_types();
begin
  perform private.require_service_role();
  select left(ih.interaction_value ->> 'content', 500), ih.message_id, ih.created_at
    into v_message, v_message_id, v_said_at
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
    if v_statement ? 'insight_type' then
      if v_statement ? 'preference_type' or v_statement ? 'preference_key' then
        raise exception using errcode = '22023',
          message = format('Statement %s names both an insight and a preference; a statement is one or the other.',
                           v_index);
      end if;
      if not coalesce(v_statement ->> 'insight_type', '') = any (v_insight_types) then
        raise exception using errcode = '22023',
          message = format('Statement %s: insight_type must be %s.', v_index, private.in_words(v_insight_types));
      end if;
      if coalesce(v_statement ->> 'insight_key', '') !~ '^[a-z0-9]+(-[a-z0-9]+)*$'
         or char_length(v_statement ->> 'insight_key') > 64 then
        raise exception using errcode = '22023',
          message = format('Statement %s: insight_key must be a canonical lowercase key of at most 64 characters '
                           '(letters and digits joined by hyphens, such as pet-dog), not %s.',
                           v_index, private.json_excerpt(v_statement -> 'insight_key'));
      end if;
      if v_statement ->> 'action' = 'remember'
         and char_length(pg_catalog.btrim(coalesce(v_statement ->> 'insight_value', ''))) not between 1 and 200 then
        raise exception using errcode = '22023',
          message = format('Statement %s: insight_value must say the insight in words, in 1 to 200 characters.',
                           v_index);
      end if;
      if coalesce(jsonb_typeof(v_statement -> 'details'), 'null') not in ('null', 'object')
         or char_length((v_statement -> 'details')::text) > 1000 then
        raise exception using errcode = '22023',
          message = format('Statement %s: details must be an object of figures of at most 1000 characters, or null.',
                           v_index);
      end if;
      if coalesce(jsonb_typeof(v_statement -> 'expires_at'), 'null') not in ('null', 'string')
         or (jsonb_typeof(v_statement -> 'expires_at') = 'string'
             and (v_statement ->> 'expires_at' !~ '^\d{4}-\d{2}-\d{2}'
                  or not coalesce(pg_catalog.isfinite(private.try_timestamptz(v_statement ->> 'expires_at')), false)))
      then
        raise exception using errcode = '22023',
          message = format('Statement %s: expires_at must be an ISO-8601 timestamp or null, not %s.',
                           v_index, private.json_excerpt(v_statement -> 'expires_at'));
      end if;
      continue;
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
    if v_statement ? 'insight_type' then
      v_type := v_statement ->> 'insight_type';
      v_key := v_statement ->> 'insight_key';
      if v_statement ->> 'action' = 'remember' then
        v_expires_at := private.try_timestamptz(v_statement ->> 'expires_at');
        perform private.remember_insight(
          p_user_id, v_type, v_key, pg_catalog.btrim(v_statement ->> 'insight_value'), 'explicit',
          pg_catalog.jsonb_build_object(
            'source', 'message', 'interaction_ids', pg_catalog.jsonb_build_array(p_interaction_id),
            'message', v_message, 'message_id', v_message_id, 'said_at', v_said_at, 'extractor', p_extractor)
            || case when jsonb_typeof(v_statement -> 'details') = 'object'
                    then pg_catalog.jsonb_build_object('details', v_statement -> 'details') else '{}'::jsonb end,
          v_expires_at);
      else
        perform private.end_insight(p_user_id, v_type, v_key, pg_catalog.jsonb_build_object(
          'ended_at', now(), 'interaction_id', p_interaction_id, 'message', v_message, 'extractor', p_extractor));
      end if;
      continue;
    end if;
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
  'shopper confirms or rejects; for an insight (statements with insight_type), remember it as explicit with the '
  'message as evidence, or end it (kept on the page with what ended it, out of the prompt).';

-- A message the extractor could not read (its output failed validation, it raised, it timed out): recorded with
-- why, nothing applied, and never offered again. Returns false when the message was already read.
create or replace function public.worker_skip_message(
  p_user_id uuid, p_interaction_id uuid, p_extractor text, p_problem text
)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.require_service_role();
  if not exists (select 1 from public.interaction_history as ih
                  where ih.id = p_interaction_id and ih.user_id = p_user_id
                    and ih.interaction_type = 'message' and ih.interaction_key = 'user_message') then
    raise exception using errcode = '22023',
      message = 'The interaction is not a message this shopper wrote; only the shopper''s own words are read.';
  end if;
  if p_extractor is null or char_length(p_extractor) not between 1 and 100 then
    raise exception using errcode = '22023', message = 'The extractor name must be between 1 and 100 characters.';
  end if;
  insert into private.extracted_messages (interaction_id, user_id, extractor, statements, outcome, problem)
  values (p_interaction_id, p_user_id, p_extractor, '[]', 'unreadable',
          left(coalesce(nullif(btrim(p_problem), ''), 'The extractor could not read this message.'), 1000))
  on conflict (interaction_id) do nothing;
  return found;
end;
$$;
revoke all on function public.worker_skip_message(uuid, uuid, text, text) from public, anon, authenticated, service_role;
grant execute on function public.worker_skip_message(uuid, uuid, text, text) to service_role;
comment on function public.worker_skip_message(uuid, uuid, text, text) is
  'Worker only: record a message the extractor could not read as unreadable (with why), so it is skipped, once.';


-- Recompute ------------------------------------------------------------------------------------------------------
-- Recompute one shopper's patterns, inferred preferences and insights as of p_now, writing only differences.
-- Serialised per shopper (two workers on the same shopper wait for each other instead of racing).
create or replace function public.worker_recompute_user(p_user_id uuid, p_now timestamptz default now())
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_patterns integer;
  v_preferences integer;
  v_insights integer;
begin
  perform private.require_service_role();
  if p_user_id is null then
    raise exception using errcode = '22023', message = 'The user id is required.';
  end if;
  if p_now is null or not pg_catalog.isfinite(p_now) then
    raise exception using errcode = '22023', message = 'The moment to recompute at must be a finite timestamp.';
  end if;
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('customer_memory.recompute:' || p_user_id, 0));

  with d as (select * from private.derive_patterns(p_user_id, p_now)),
  gone as (
    delete from public.shopping_patterns as sp
     where sp.user_id = p_user_id
       and not exists (select 1 from d where d.pattern_type = sp.pattern_type and d.pattern_key = sp.pattern_key)
  )
  insert into public.shopping_patterns as sp
    (user_id, pattern_type, pattern_key, pattern_value, confidence, occurrence_count, last_occurrence)
  select p_user_id, d.pattern_type, d.pattern_key, d.pattern_value, d.confidence, d.occurrence_count, d.last_occurrence
    from d
  on conflict (user_id, pattern_type, pattern_key) do update
     set pattern_value = excluded.pattern_value, confidence = excluded.confidence,
         occurrence_count = excluded.occurrence_count, last_occurrence = excluded.last_occurrence
   where (sp.pattern_value, sp.confidence, sp.occurrence_count, sp.last_occurrence)
         is distinct from (excluded.pattern_value, excluded.confidence, excluded.occurrence_count, excluded.last_occurrence);
  select count(*) into v_patterns from public.shopping_patterns as sp where sp.user_id = p_user_id;

  -- Inferred preferences the worker owns: non-explicit favorites and brands, and inferred vegetarian.
  with d as (select * from private.derive_preferences(p_user_id, p_now)),
  gone as (
    delete from public.customer_preferences as cp
     where cp.user_id = p_user_id and cp.source <> 'explicit'
       and (cp.preference_type in ('favorite', 'brand')
            or (cp.preference_type = 'dietary' and cp.preference_key = 'vegetarian'))
       and not exists (select 1 from d where d.preference_type = cp.preference_type
                                          and d.preference_key = cp.preference_key)
  )
  insert into public.customer_preferences as cp
    (user_id, preference_type, preference_key, preference_value, confidence, reason, source, times_confirmed,
     last_confirmed_at, evidence)
  select p_user_id, d.preference_type, d.preference_key, d.preference_value, d.confidence, d.reason, d.source,
         d.times_confirmed, d.last_confirmed_at, d.evidence
    from d
  on conflict (user_id, preference_type, preference_key) do update
     set preference_value = excluded.preference_value, confidence = excluded.confidence, reason = excluded.reason,
         source = excluded.source, times_confirmed = excluded.times_confirmed,
         last_confirmed_at = excluded.last_confirmed_at, evidence = excluded.evidence
   where cp.source <> 'explicit'
     and (cp.preference_value, cp.confidence, cp.reason, cp.source, cp.times_confirmed, cp.last_confirmed_at,
          cp.evidence)
         is distinct from (excluded.preference_value, excluded.confidence, excluded.reason, excluded.source,
                           excluded.times_confirmed, excluded.last_confirmed_at, excluded.evidence);
  select count(*) into v_preferences from public.customer_preferences as cp
   where cp.user_id = p_user_id and cp.source <> 'explicit';

  -- Inferred insights and questions the worker owns: what the shopper stated or confirmed, and what they said no
  -- longer holds (ended), are theirs and never touched here.
  with d as (select * from private.derive_insights(p_user_id, p_now) as x where coalesce(x.expires_at > p_now, true)),
  gone as (
    delete from public.memory_insights as mi
     where mi.user_id = p_user_id and mi.source = 'inferred' and mi.status <> 'ended'
       and not exists (select 1 from d where d.insight_type = mi.insight_type and d.insight_key = mi.insight_key)
  )
  insert into public.memory_insights as mi
    (user_id, insight_type, insight_key, insight_value, confidence, supporting_data, expires_at, source, status)
  select p_user_id, d.insight_type, d.insight_key, d.insight_value, d.confidence, d.supporting_data, d.expires_at,
         'inferred', d.status
    from d
  on conflict (user_id, insight_type, insight_key) do update
     set insight_value = excluded.insight_value, confidence = excluded.confidence,
         supporting_data = excluded.supporting_data, expires_at = excluded.expires_at, status = excluded.status
   where mi.source = 'inferred' and mi.status <> 'ended'
     and (mi.insight_value, mi.confidence, mi.supporting_data, mi.expires_at, mi.status)
         is distinct from (excluded.insight_value, excluded.confidence, excluded.supporting_data, excluded.expires_at,
                           excluded.status);
  select count(*) into v_insights from public.memory_insights as mi
   where mi.user_id = p_user_id and mi.source = 'inferred';

  return pg_catalog.jsonb_build_object('patterns', v_patterns, 'preferences', v_preferences, 'insights', v_insights);
end;
$$;
revoke all on function public.worker_recompute_user(uuid, timestamptz) from public, anon, authenticated, service_role;
grant execute on function public.worker_recompute_user(uuid, timestamptz) to service_role;
comment on function public.worker_recompute_user(uuid, timestamptz) is
  'Worker only: recompute a shopper''s patterns, inferred preferences and insights from their events as of p_now.';
