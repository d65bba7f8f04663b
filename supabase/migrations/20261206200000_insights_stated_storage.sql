-- Insights the shopper states in chat, and the storage the rest of the insights work builds on: memory_insights
-- gets a source (explicit, confirmed, inferred), a status (active, question, ended) and what ended it;
-- worker_apply_stated_preferences dispatches statements that carry an insight_type to memory_insights; a recompute
-- touches only inferred insights; the prompt carries only active ones.

alter table public.memory_insights
  add column source text not null default 'inferred',
  add column status text not null default 'active',
  add column ended jsonb;

alter table public.memory_insights drop constraint memory_insights_inferred_confidence_cap;
alter table public.memory_insights
  add constraint memory_insights_inferred_confidence_cap check (source <> 'inferred' or confidence <= 0.95),
  add constraint memory_insights_source_check check (source in ('explicit', 'confirmed', 'inferred')),
  add constraint memory_insights_status_check check (status in ('active', 'question', 'ended')),
  add constraint memory_insights_question_is_inferred check (status <> 'question' or source = 'inferred'),
  add constraint memory_insights_ended_when_ended check (
    (status = 'ended') = (ended is not null)
    and (ended is null or (jsonb_typeof(ended) = 'object' and pg_column_size(ended) <= 4096)));

comment on column public.memory_insights.source is
  'explicit (the shopper said it in chat), confirmed (the shopper answered Yes to a question) or inferred (from '
  'behaviour, only where the learning benchmark measured precision >= 0.90).';
comment on column public.memory_insights.status is
  'active (in the prompt), question (a suggestion shown on the page as a question, never in the prompt, until the '
  'shopper answers Yes) or ended (the shopper said it no longer holds: kept visible with the change, out of the prompt).';
comment on column public.memory_insights.ended is
  'For an ended insight, what ended it: {ended_at, interaction_id, message, extractor}. Null otherwise.';

drop function private.derive_insights(uuid, timestamptz);

-- The per-shopper limits, in one place (README "Limits").
create or replace function private.volume_limit(p_name text)
returns bigint
language sql
immutable
set search_path = ''
as $$
  select case p_name
           when 'events' then 100000
           when 'event_bytes' then 67108864
           when 'stated_preferences' then 500
           when 'stated_insights' then 100
           when 'export_document_bytes' then 134217728
         end::bigint;
$$;
revoke all on function private.volume_limit(text) from public, anon, authenticated, service_role;
comment on function private.volume_limit(text) is
  'Per-shopper limits: events (100,000) and event_bytes (64 MiB) in the live log, stated_preferences (500), '
  'stated_insights (100), export_document_bytes (128 MiB: past it, export_memories_page).';

-- Inferred insights and the questions inference may ask (status 'question': shown on the page, never in the
-- prompt, until the shopper answers Yes). None is derived yet: on the benchmark no insight rule beat its naive
-- baseline or base rate significantly (family household 41% against 36% for the largest baskets, budget-conscious
-- 50% against 42%, meal prep with no defensible check; benchmarks/RESULTS.md). A claim type that does not beat the
-- baseline goes; the function stays so that a recompute removes the inferred insights older rules wrote. What the
-- shopper said or confirmed is never touched by a recompute.
create or replace function private.derive_insights(p_user_id uuid, p_now timestamptz)
returns table (
  insight_type text, insight_key text, insight_value text, confidence numeric, supporting_data jsonb,
  expires_at timestamptz, status text
)
language sql
stable
set search_path = ''
as $$
  select null::text, null::text, null::text, null::numeric, null::jsonb, null::timestamptz, null::text where false;
$$;
revoke all on function private.derive_insights(uuid, timestamptz) from public, anon, authenticated, service_role;

-- Insights the shopper stated or confirmed ------------------------------------------------------------------------
-- Remember an insight the shopper said (source explicit, from a chat message) or confirmed (source confirmed, their
-- Yes to a question): active at 1.00. What was stored under the same type and key (a question, an ended insight,
-- an earlier statement) is updated in place, its earlier value kept in supporting_data.previous when it changes
-- ("two kids" after "one kid"), and any earlier "forget this" is lifted. The callers have validated the input and
-- checked who is asking. Returns the insight's id.
create or replace function private.remember_insight(
  p_user_id uuid, p_type text, p_key text, p_value text, p_source text, p_supporting_data jsonb,
  p_expires_at timestamptz
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
  if not exists (select from public.memory_insights as mi
                  where mi.user_id = p_user_id and mi.insight_type = p_type and mi.insight_key = p_key
                    and mi.source <> 'inferred') then
    perform private.lock_memory(p_user_id, 'stated-insights');
    select count(*) into v_stated from public.memory_insights as mi
     where mi.user_id = p_user_id and mi.source <> 'inferred';
    if v_stated >= private.volume_limit('stated_insights') then
      raise exception using errcode = '22023',
        message = format('This shopper has %s stated insights, the most kept; forget one before adding another.',
                         v_stated);
    end if;
  end if;

  insert into public.memory_insights as mi
    (user_id, insight_type, insight_key, insight_value, confidence, supporting_data, expires_at, source, status, ended)
  values (p_user_id, p_type, p_key, p_value, 1.00, p_supporting_data, p_expires_at, p_source, 'active', null)
  on conflict on constraint memory_insights_user_type_key_key do update
    set insight_value = excluded.insight_value, confidence = 1.00,
        supporting_data = excluded.supporting_data
          || case when mi.status = 'question' or mi.insight_value = excluded.insight_value then '{}'::jsonb
                  else pg_catalog.jsonb_build_object('previous', pg_catalog.jsonb_build_object(
                         'value', mi.insight_value, 'source', mi.source, 'status', mi.status,
                         'until', now())) end,
        expires_at = excluded.expires_at, source = excluded.source, status = 'active', ended = null
  returning mi.id into v_id;

  delete from private.memory_suppressions as s
   where s.user_id = p_user_id and s.memory_kind = 'insight' and s.memory_type = p_type and s.memory_key = p_key;
  return v_id;
end;
$$;
revoke all on function private.remember_insight(uuid, text, text, text, text, jsonb, timestamptz)
  from public, anon, authenticated, service_role;

-- The shopper says an insight no longer holds ("the dog died", "the kids moved out"). Nothing is deleted on a
-- message's word: an active insight becomes ended (out of the prompt at once, kept on the page with what ended
-- it, where the shopper can delete it or say it still holds); an unanswered question is dismissed (deleted). Either
-- way older evidence never suggests it again (a suppression, lifted by a later statement). Returns 'ended',
-- 'dismissed' or 'none' (nothing was stored under that key).
create or replace function private.end_insight(p_user_id uuid, p_type text, p_key text, p_ended jsonb)
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_outcome text := 'none';
begin
  update public.memory_insights as mi set status = 'ended', ended = p_ended
   where mi.user_id = p_user_id and mi.insight_type = p_type and mi.insight_key = p_key and mi.status = 'active';
  if found then
    v_outcome := 'ended';
  else
    delete from public.memory_insights as mi
     where mi.user_id = p_user_id and mi.insight_type = p_type and mi.insight_key = p_key and mi.status = 'question';
    if found then
      v_outcome := 'dismissed';
    end if;
  end if;
  perform private.suppress_memory(p_user_id, 'insight', p_type, p_key);
  return v_outcome;
end;
$$;
revoke all on function private.end_insight(uuid, text, text, jsonb) from public, anon, authenticated, service_role;

-- Derivations, expiry and retention ------------------------------------------------------------------------------
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

-- p_statements: an array of at most 20 statements, each either a preference
--   {"action": "remember"|"forget", "preference_type", "preference_key", "preference_value", "reason",
--    "household_member"}
-- or an insight (dispatched on "insight_type"; README, "Insights")
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

-- The memory_context document of one shopper (callers check who is asking). One pass: the candidates (one index
-- range per table), ranked within their section in one sort, cut to the section caps, then to 16 non-safety items
-- overall; JSON is built only for the items kept. Allergies and dietary restrictions are always in (safety first);
-- the floor is for preferences, as in the design document's buildSystemPrompt (patterns are bounded by recency,
-- insights by expiry).
create or replace function private.compose_memory_context(p_user_id uuid, p_min_confidence numeric, p_query text)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_terms text[] := '{}'::text[];
  v_pattern text;
  v_substrings text[];
  v_result jsonb;
begin
  if p_query is not null then
    v_terms := private.memory_query_terms(p_query);
    if cardinality(v_terms) > 0 then
      -- Word-prefix match (`\m` + term): "egg" finds "eggs", "organic" finds "organic-milk".
      v_pattern := '\m(' || array_to_string(v_terms, '|') || ')';
      v_substrings := array(select '%' || t.term || '%' from unnest(v_terms) as t(term));
    end if;
  end if;

  with candidates as (
    -- section_no: 1 allergies, 2 dietary, 3 dislikes, 4 favorites, 5 brands, 6 patterns, 7 insights, 8 habits;
    -- words: what a query is matched against (only with a query). A diet is a restriction only when the shopper
    -- said it, or when its inference has measured precision >= 0.95; otherwise it is a habit, under the floor.
    select case when p.preference_type = 'dietary' and p.source <> 'explicit'
                     and not private.inferred_diet_is_restriction(p.preference_key) then 8
                else case p.preference_type when 'allergy' then 1 when 'dietary' then 2 when 'dislike' then 3
                                            when 'favorite' then 4 else 5 end end as section_no,
           p.id, p.preference_type as memory_type, p.preference_key as memory_key,
           p.preference_value as memory_value, p.confidence, p.reason, p.source,
           p.times_confirmed as evidence_count, coalesce(p.last_confirmed_at, p.updated_at) as seen_at,
           p.updated_at, null::jsonb as figures, null::timestamptz as expires_at,
           case when v_pattern is not null
                then lower(concat_ws(' ', p.preference_key, p.preference_value, p.reason)) end as words
    from public.customer_preferences as p
    where p.user_id = p_user_id
      and ((p.preference_type = 'allergy' or (p.preference_type = 'dietary'
                                              and (p.source = 'explicit'
                                                   or private.inferred_diet_is_restriction(p.preference_key))))
           or p.confidence >= p_min_confidence)
    union all
    select 6, sp.id, sp.pattern_type, sp.pattern_key, null, sp.confidence, null, 'pattern',
           sp.occurrence_count, sp.last_occurrence, sp.updated_at, sp.pattern_value, null,
           case when v_pattern is not null then lower(sp.pattern_type || ' ' || sp.pattern_key) end
    from public.shopping_patterns as sp
    where sp.user_id = p_user_id
      and sp.last_occurrence >= now() - private.pattern_recency()
    union all
    -- Insights: only active ones (a question waits for the shopper's Yes, an ended one no longer holds); the
    -- reason says where it comes from in words, the measured figure for an inferred one.
    select 7, mi.id, mi.insight_type, mi.insight_key, mi.insight_value, mi.confidence,
           case mi.source when 'explicit' then 'You told us'
                          when 'confirmed' then 'You confirmed it'
                          else coalesce(mi.supporting_data ->> 'summary', 'Inferred from your orders') end,
           mi.source, null, mi.updated_at, mi.updated_at,
           case when mi.source = 'inferred' then mi.supporting_data else mi.supporting_data -> 'details' end,
           mi.expires_at,
           case when v_pattern is not null
                then lower(concat_ws(' ', mi.insight_type, mi.insight_key, mi.insight_value)) end
    from public.memory_insights as mi
    where mi.user_id = p_user_id and mi.status = 'active'
      and (mi.expires_at is null or mi.expires_at > now())
  ),
  scored as (
    -- relevance: how many times the query's terms start a word of the item (0 without a query). The substring
    -- test first, because the regular expression costs about 2 us a row and most rows match no term.
    select c.*,
           case when c.words is null or not c.words like any (v_substrings) then 0
                else regexp_count(translate(c.words, '_-:', '   '), v_pattern) end as relevance
    from candidates as c
  ),
  ranked as (
    select c.*,
           row_number() over by_rank as section_rank,
           count(*) over (partition by c.section_no) as section_total
    from scored as c
    window by_rank as (partition by c.section_no
                       order by c.relevance desc, c.confidence desc, c.seen_at desc,
                                c.evidence_count desc nulls last, c.id)
  ),
  within_caps as (
    -- The size budget, first per section: 25 allergies, 10 dietary restrictions, 5 dislikes, 5 favorites,
    -- 4 brands, 4 patterns, 5 insights, 3 habits.
    select r.*
    from ranked as r
    where r.section_rank <= (array[25, 10, 5, 5, 4, 4, 5, 3])[r.section_no]
  ),
  chosen as (
    -- ... then overall: at most 16 non-safety items, the most relevant, confident and recent.
    select w.*
    from (select w.*,
                 row_number() over (partition by w.section_no <= 2
                                    order by w.relevance desc, w.confidence desc, w.seen_at desc,
                                             w.evidence_count desc nulls last, w.id) as overall_rank
          from within_caps as w) as w
    where w.section_no <= 2 or w.overall_rank <= 16
  ),
  sections as (
    select c.section_no, max(c.section_total) - count(*) as left_out,
           jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
             'id', c.id, 'type', c.memory_type, 'key', c.memory_key, 'value', private.clip_text(c.memory_value),
             'confidence', c.confidence,
             -- A pattern's or an insight's reason is its figures, in words: "orders: 24, range: 18:00-21:00".
             'reason', private.clip_text(coalesce(c.reason,
                            (select string_agg(f.key || ': ' || f.value, ', ' order by f.key)
                               from jsonb_each_text(c.figures) as f
                              where jsonb_typeof(c.figures -> f.key) not in ('object', 'array')))),
             'source', c.source,
             'evidence_count', coalesce(c.evidence_count,
                                        (select count(*)::integer from jsonb_object_keys(c.figures))),
             'updated_at', c.updated_at, 'last_seen_at', c.seen_at,
             'relevance', c.relevance, 'figures', c.figures, 'expires_at', c.expires_at))
             order by c.section_rank) as items
    from chosen as c
    group by c.section_no
  ),
  -- Sections the overall cap emptied still count what they left out.
  emptied as (
    select r.section_no, max(r.section_total) as left_out
    from within_caps as r
    where not exists (select 1 from sections as s where s.section_no = r.section_no)
    group by r.section_no
  ),
  named as (
    select (array['allergies', 'dietary', 'dislikes', 'favorites', 'brands', 'patterns', 'insights',
                  'habits'])[s.section_no]
             as section, s.items, s.left_out
    from (select s.section_no, s.items, s.left_out from sections as s
          union all
          select e.section_no, null, e.left_out from emptied as e) as s
  )
  select
    jsonb_build_object(
      'generated_at', now(), 'min_confidence', p_min_confidence, 'query', p_query,
      'query_terms', to_jsonb(v_terms),
      'allergies', '[]'::jsonb, 'dietary', '[]'::jsonb, 'dislikes', '[]'::jsonb, 'favorites', '[]'::jsonb,
      'brands', '[]'::jsonb, 'patterns', '[]'::jsonb, 'insights', '[]'::jsonb, 'habits', '[]'::jsonb)
    || coalesce(jsonb_object_agg(n.section, n.items) filter (where n.items is not null), '{}')
    || jsonb_build_object('omitted',
                          coalesce(jsonb_object_agg(n.section, n.left_out) filter (where n.left_out > 0), '{}'))
    into v_result
  from named as n;

  return v_result;
end;
$$;
revoke all on function private.compose_memory_context(uuid, numeric, text) from public, anon, authenticated, service_role;

-- Refresh --------------------------------------------------------------------------------------------------------
-- Compose and store one shopper's default document. The generation is read before composing: a write committed
-- after that moves it on, and the guarded update then stores nothing (the next refresh will). Returns whether a
-- document was stored.
create or replace function private.refresh_memory_context(p_user_id uuid)
returns boolean
language plpgsql
set search_path = ''
as $$
declare
  -- The floor the stored document is composed at: memory_context's default.
  c_min_confidence constant numeric := 0.70;
  v_generation bigint;
  v_document jsonb;
  v_valid_until timestamptz;
begin
  -- This transaction's own writes first: their invalidations are pending until commit.
  perform private.invalidate_memory_context_now();
  insert into private.memory_context_cache (user_id)
  select u.id from auth.users as u where u.id = p_user_id
  on conflict (user_id) do nothing;
  select c.generation into v_generation from private.memory_context_cache as c where c.user_id = p_user_id;
  if v_generation is null then
    return false;  -- no such shopper
  end if;

  v_document := private.compose_memory_context(p_user_id, c_min_confidence, null);
  -- Until time alone changes the document: the first recent pattern to leave the 90-day window, or the first
  -- unexpired insight to expire.
  select least(
           (select min(sp.last_occurrence) + private.pattern_recency() from public.shopping_patterns as sp
             where sp.user_id = p_user_id and sp.last_occurrence >= now() - private.pattern_recency()),
           (select min(mi.expires_at) from public.memory_insights as mi
             where mi.user_id = p_user_id and mi.status = 'active' and mi.expires_at > now()))
    into v_valid_until;

  update private.memory_context_cache as c
     set min_confidence = c_min_confidence, document = v_document,
         valid_until = coalesce(v_valid_until, 'infinity'), built_at = now()
   where c.user_id = p_user_id and c.generation = v_generation;
  return found;
end;
$$;
revoke all on function private.refresh_memory_context(uuid) from public, anon, authenticated, service_role;

-- Explainability -------------------------------------------------------------------------------------------------
create or replace function public.explain_memory(memory_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_user uuid := private.require_shopper('explain_memory');
  v_evidence_cap constant integer := 20;
  v_pref public.customer_preferences;
  v_pattern public.shopping_patterns;
  v_insight public.memory_insights;
  v_event public.interaction_history;
  v_words text;
  v_slug text;
  v_category text;
  v_evidence jsonb;
begin
  if explain_memory.memory_id is null then
    raise exception using errcode = '22023',
      message = 'memory_id is required: pass the id of one of your memories (see my_memories).';
  end if;

  -- A preference: the events that support it, newest first, capped, with the total.
  select p.* into v_pref
  from public.customer_preferences as p
  where p.id = explain_memory.memory_id and p.user_id = v_user;
  if found and v_pref.evidence is not null then
    -- An inferred preference: the evidence record the worker wrote it with (its rule, figures and interactions),
    -- never re-derived here with rules of its own.
    select jsonb_build_object(
             'record', v_pref.evidence - 'interaction_ids',
             'interaction_count', jsonb_array_length(coalesce(v_pref.evidence -> 'interaction_ids', '[]')),
             'interactions', coalesce(jsonb_agg(jsonb_build_object(
                 'id', ih.id, 'interaction_type', ih.interaction_type, 'interaction_key', ih.interaction_key,
                 'created_at', ih.created_at,
                 'detail', case when ih.interaction_type = 'checkout' then
                     jsonb_build_object(
                       'order_id', ih.interaction_value -> 'order_id',
                       'placed_at', ih.interaction_value -> 'placed_at',
                       'item_count', ih.interaction_value -> 'item_count',
                       'items', (select coalesce(jsonb_agg(it.item), '[]') from jsonb_array_elements(
                                   case when jsonb_typeof(ih.interaction_value -> 'items') = 'array'
                                        then ih.interaction_value -> 'items' else '[]' end) as it(item)
                                 where v_pref.preference_type in ('favorite', 'brand')
                                   and (it.item ->> 'sku' = v_pref.preference_key
                                        or nullif(left(btrim(it.item ->> 'brand'), 255), '') = v_pref.preference_key)))
                   else ih.interaction_value end)
               order by ih.created_at desc, ih.id), '[]'))
      into v_evidence
    from public.interaction_history as ih
    where ih.user_id = v_user
      and ih.id in (select ids.value::uuid
                    from jsonb_array_elements_text(coalesce(v_pref.evidence -> 'interaction_ids', '[]')) as ids(value)
                    where ids.value ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                    limit v_evidence_cap);

    return jsonb_build_object(
      'memory', jsonb_build_object(
        'id', v_pref.id, 'memory_kind', 'preference', 'memory_type', v_pref.preference_type,
        'memory_key', v_pref.preference_key, 'value', v_pref.preference_value, 'confidence', v_pref.confidence,
        'reason', v_pref.reason, 'source', v_pref.source, 'evidence_count', v_pref.times_confirmed,
        'last_confirmed_at', v_pref.last_confirmed_at, 'created_at', v_pref.created_at,
        'updated_at', v_pref.updated_at),
      'evidence', v_evidence || jsonb_build_object('interactions_cap', v_evidence_cap));
  end if;
  if found then
    -- What the shopper said: the statements behind it. The key as words for a message search ("lactose_intolerant" -> "lactose intolerant"), regex-safe.
    v_words := nullif(regexp_replace(lower(translate(v_pref.preference_key, '_-', '  ')), '[^a-z0-9 ]', '', 'g'), '');
    v_words := regexp_replace(v_words, '([a-z]{3,})s$', '\1');
    -- Brands are compared as slugs on both sides: 'Great Value', 'great-value' and 'GREAT VALUE' are one brand.
    v_slug := trim(both '-' from regexp_replace(lower(v_pref.preference_key), '[^a-z0-9]+', '-', 'g'));
    select jsonb_build_object(
             'interaction_count', coalesce(max(e.total), 0),
             'interactions', coalesce(jsonb_agg(e.item order by e.created_at desc, e.id), '[]'))
      into v_evidence
    from (
      select ih.id, ih.created_at, count(*) over () as total,
             jsonb_build_object(
               'id', ih.id, 'interaction_type', ih.interaction_type, 'interaction_key', ih.interaction_key,
               'created_at', ih.created_at,
               -- A checkout behind a favorite or a brand contributes only its matching lines; behind an inferred
               -- diet, allergy or dislike (derived from whole orders) it is summarised.
               'detail', case when ih.interaction_type = 'checkout'
                                   and v_pref.preference_type in ('allergy', 'dietary', 'dislike') then
                   jsonb_build_object(
                     'order_id', ih.interaction_value -> 'order_id',
                     'placed_at', ih.interaction_value -> 'placed_at',
                     'item_count', ih.interaction_value -> 'item_count')
                 when ih.interaction_type = 'checkout' then
                   jsonb_build_object(
                     'order_id', ih.interaction_value -> 'order_id',
                     'placed_at', ih.interaction_value -> 'placed_at',
                     'items', (select coalesce(jsonb_agg(it.item), '[]') from jsonb_array_elements(
                                 case when jsonb_typeof(ih.interaction_value -> 'items') = 'array'
                                      then ih.interaction_value -> 'items' else '[]' end) as it(item)
                               where it.item ->> 'sku' = v_pref.preference_key
                                  or trim(both '-' from regexp_replace(lower(it.item ->> 'brand'), '[^a-z0-9]+', '-', 'g'))
                                     = v_slug))
                 else ih.interaction_value end) as item
      from public.interaction_history as ih
      where ih.user_id = v_user
        and (
          (ih.interaction_type = 'preference_stated'
             and ih.interaction_key = v_pref.preference_type || ':' || v_pref.preference_key)
          or (v_pref.preference_type = 'favorite' and ih.interaction_type = 'cart_add'
                and ih.interaction_key = v_pref.preference_key)
          or (v_pref.preference_type = 'favorite' and ih.interaction_type = 'checkout'
                and ih.interaction_value -> 'items' @> jsonb_build_array(jsonb_build_object('sku', v_pref.preference_key)))
          or (v_pref.preference_type = 'brand' and ih.interaction_type = 'swap'
                and trim(both '-' from regexp_replace(lower(
                      case when ih.interaction_key = 'accepted' then ih.interaction_value #>> '{replacement,brand}'
                           else ih.interaction_value #>> '{original,brand}' end), '[^a-z0-9]+', '-', 'g'))
                    = v_slug)
          or (v_pref.preference_type = 'brand' and ih.interaction_type = 'cart_add'
                and trim(both '-' from regexp_replace(lower(ih.interaction_value ->> 'brand'), '[^a-z0-9]+', '-', 'g'))
                    = v_slug)
          or (v_pref.preference_type = 'brand' and ih.interaction_type = 'checkout'
                and jsonb_typeof(ih.interaction_value -> 'items') = 'array'
                and exists (select from jsonb_array_elements(ih.interaction_value -> 'items') as it(item)
                            where trim(both '-' from regexp_replace(lower(it.item ->> 'brand'), '[^a-z0-9]+', '-', 'g'))
                                  = v_slug))
          or (v_pref.preference_type in ('allergy', 'dietary', 'dislike') and ih.interaction_type = 'message'
                and v_words is not null
                and lower(ih.interaction_value ->> 'content') ~ ('\m' || v_words))
          -- An inferred diet (vegetarian from a run of orders without meat) comes from the orders themselves.
          or (v_pref.preference_type in ('allergy', 'dietary', 'dislike') and v_pref.source <> 'explicit'
                and ih.interaction_type = 'checkout')
        )
      order by ih.created_at desc, ih.id
      limit v_evidence_cap
    ) as e;

    return jsonb_build_object(
      'memory', jsonb_build_object(
        'id', v_pref.id, 'memory_kind', 'preference', 'memory_type', v_pref.preference_type,
        'memory_key', v_pref.preference_key, 'value', v_pref.preference_value, 'confidence', v_pref.confidence,
        'reason', v_pref.reason, 'source', v_pref.source, 'evidence_count', v_pref.times_confirmed,
        'last_confirmed_at', v_pref.last_confirmed_at, 'created_at', v_pref.created_at,
        'updated_at', v_pref.updated_at),
      'evidence', v_evidence || jsonb_build_object('interactions_cap', v_evidence_cap));
  end if;

  -- A pattern: its figures, and the orders of the 90-day window it was derived from (for a category, the orders
  -- holding it).
  select sp.* into v_pattern
  from public.shopping_patterns as sp
  where sp.id = explain_memory.memory_id and sp.user_id = v_user;
  if found then
    v_category := case when v_pattern.pattern_type = 'category_preference'
                       then trim(both '-' from regexp_replace(lower(v_pattern.pattern_key), '[^a-z0-9]+', '-', 'g')) end;
    select jsonb_build_object(
             'figures', v_pattern.pattern_value,
             'order_count', coalesce(max(o.total), 0),
             'orders', coalesce(jsonb_agg(o.item order by o.created_at desc, o.id), '[]'))
      into v_evidence
    from (
      select ih.id, ih.created_at, count(*) over () as total,
             jsonb_build_object(
               'id', ih.id, 'order_id', ih.interaction_value -> 'order_id',
               'placed_at', ih.interaction_value -> 'placed_at', 'time_zone', ih.interaction_value -> 'time_zone',
               'item_count', ih.interaction_value -> 'item_count', 'total', ih.interaction_value -> 'total',
               'created_at', ih.created_at) as item
      from public.interaction_history as ih
      -- When the order was placed (the worker's clock for patterns), else when it was logged.
      cross join lateral (
        select coalesce(
          case when ih.interaction_value ->> 'placed_at'
                    ~ '^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$'
               then (ih.interaction_value ->> 'placed_at')::timestamptz end,
          ih.created_at) as placed_at
      ) as o
      where ih.user_id = v_user
        and ih.interaction_type = 'checkout'
        -- The pattern window before the pattern was last derived.
        and o.placed_at > v_pattern.updated_at - private.pattern_recency()
        and o.placed_at <= v_pattern.updated_at
        and (v_category is null
             or (jsonb_typeof(ih.interaction_value -> 'items') = 'array'
                 and exists (select from jsonb_array_elements(ih.interaction_value -> 'items') as it(item)
                             where trim(both '-' from regexp_replace(lower(it.item ->> 'category'), '[^a-z0-9]+', '-', 'g'))
                                   = v_category)))
      order by ih.created_at desc, ih.id
      limit v_evidence_cap
    ) as o;

    return jsonb_build_object(
      'memory', jsonb_build_object(
        'id', v_pattern.id, 'memory_kind', 'pattern', 'memory_type', v_pattern.pattern_type,
        'memory_key', v_pattern.pattern_key, 'confidence', v_pattern.confidence, 'source', 'pattern',
        'evidence_count', v_pattern.occurrence_count, 'last_occurrence', v_pattern.last_occurrence,
        'created_at', v_pattern.created_at, 'updated_at', v_pattern.updated_at),
      'evidence', v_evidence || jsonb_build_object('orders_cap', v_evidence_cap));
  end if;

  -- An insight: its supporting data, and the interactions it names (supporting_data.interaction_ids), if any.
  select mi.* into v_insight
  from public.memory_insights as mi
  where mi.id = explain_memory.memory_id and mi.user_id = v_user;
  if found then
    select jsonb_build_object(
             'supporting_data', v_insight.supporting_data,
             'interactions', coalesce(jsonb_agg(jsonb_build_object(
                 'id', ih.id, 'interaction_type', ih.interaction_type, 'interaction_key', ih.interaction_key,
                 'created_at', ih.created_at) order by ih.created_at desc, ih.id), '[]'))
      into v_evidence
    from public.interaction_history as ih
    where ih.user_id = v_user
      and jsonb_typeof(v_insight.supporting_data -> 'interaction_ids') = 'array'
      and ih.id in (select ids.value::uuid
                    from jsonb_array_elements_text(v_insight.supporting_data -> 'interaction_ids') as ids(value)
                    where ids.value ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                    limit v_evidence_cap);

    return jsonb_build_object(
      'memory', jsonb_build_object(
        'id', v_insight.id, 'memory_kind', 'insight', 'memory_type', v_insight.insight_type,
        'memory_key', v_insight.insight_key, 'value', v_insight.insight_value,
        'confidence', v_insight.confidence, 'source', v_insight.source, 'status', v_insight.status,
        'ended', v_insight.ended,
        'evidence_count', (select count(*) from jsonb_object_keys(v_insight.supporting_data)),
        'expires_at', v_insight.expires_at, 'created_at', v_insight.created_at, 'updated_at', v_insight.updated_at),
      'evidence', v_evidence);
  end if;

  -- A single logged event is its own evidence.
  select ih.* into v_event
  from public.interaction_history as ih
  where ih.id = explain_memory.memory_id and ih.user_id = v_user;
  if found then
    return jsonb_build_object(
      'memory', jsonb_build_object(
        'id', v_event.id, 'memory_kind', 'interaction', 'memory_type', v_event.interaction_type,
        'memory_key', v_event.interaction_key, 'value', v_event.interaction_value, 'source', 'event',
        'session_id', v_event.session_id, 'message_id', v_event.message_id, 'created_at', v_event.created_at),
      'evidence', jsonb_build_object('interactions', '[]'::jsonb));
  end if;

  -- Unknown, or someone else's: the same answer either way (HTTP 404 through PostgREST).
  raise exception using errcode = 'PT404', message = 'No memory with that id.',
    hint = 'List your memories with my_memories.';
end;
$$;
revoke all on function public.explain_memory(uuid) from public, anon, authenticated, service_role;
grant execute on function public.explain_memory(uuid) to authenticated;
comment on function public.explain_memory(uuid) is
  'One memory of the signed-in shopper (preference, pattern, insight or logged event) with the evidence behind '
  'it: the supporting interactions (at most 20, newest first, with the total), the pattern''s figures and the '
  'orders of its window, or the insight''s supporting data. Unknown or someone else''s id: PT404 No memory with that id.';

-- my_memories: every memory of the signed-in shopper, one row each (DESIGN-DOCUMENT.md "View
-- Memories": GET /rest/v1/my_memories).
--
-- What counts as a memory: what the system believes about the shopper (preferences, patterns, insights). The raw
-- event log (interaction_history) is not: it is the evidence, possibly thousands of rows, already readable by the
-- shopper as its own table, and shown per memory by explain_memory. forget_memory accepts an event id as well.
--
-- security_invoker = true: the view runs under the caller's RLS (a view owned by postgres would bypass it), and
-- each branch also filters on (select auth.uid()) so that a request reads one user's index range, not the table.
create or replace view public.my_memories
with (security_invoker = true)
as
  select p.id, 'preference'::text as memory_kind, p.preference_type as memory_type, p.preference_key as memory_key,
         coalesce(p.preference_value, p.preference_key) as summary, p.confidence, p.source, p.reason,
         p.times_confirmed as evidence_count, null::jsonb as details,
         p.created_at, p.updated_at, null::timestamptz as expires_at,
         coalesce(p.last_confirmed_at, p.updated_at) as last_confirmed_at,
         p.pending_removal as pending_change
  from public.customer_preferences as p
  where p.user_id = (select auth.uid())
  union all
  select sp.id, 'pattern', sp.pattern_type, sp.pattern_key,
         sp.pattern_type || ': ' || sp.pattern_key, sp.confidence, 'pattern',
         format('Seen in %s orders, last on %s', sp.occurrence_count, to_char(sp.last_occurrence, 'YYYY-MM-DD')),
         sp.occurrence_count, sp.pattern_value,
         sp.created_at, sp.updated_at, null,
         sp.last_occurrence, null
  from public.shopping_patterns as sp
  where sp.user_id = (select auth.uid())
  union all
  select mi.id, 'insight', mi.insight_type, mi.insight_key,
         mi.insight_value, mi.confidence, mi.source, mi.insight_value,
         (select count(*)::integer from jsonb_object_keys(mi.supporting_data)), mi.supporting_data,
         mi.created_at, mi.updated_at, mi.expires_at,
         mi.updated_at, null
  from public.memory_insights as mi
  where mi.user_id = (select auth.uid());


