-- Memory in the prompt: composing the block (docs/architecture.md "From a memory to the prompt", DESIGN-DOCUMENT.md
-- "Memory Context Injection"). The composition of a memory_context document (one definition, used live by
-- memory_context and by the worker's refresh), the invalidation of a stored document when the memory it shows
-- changes, the refresh, and the functions that call them: memory_context (the shopper's) and
-- worker_refresh_context, worker_refresh_stale_contexts (the worker's). The table of stored documents is in
-- 40_context_tables.sql.
--
-- memory_context is security definer: it reads the stored documents, which no API role may touch. It takes the
-- shopper from the JWT only (private.require_shopper), never from an argument.

-- Composition ----------------------------------------------------------------------------------------------------
-- The query's words, lower-cased, stop words dropped, a plural "s" trimmed, plus a few grocery synonyms so that
-- "milk" also finds dairy patterns and "chicken" finds what is said about meat; at most 24 terms, a bound on the
-- work per call whatever the query. Terms are [a-z0-9]+, so they go into a regular expression unescaped.
create or replace function private.memory_query_terms(p_query text)
returns text[]
language sql
immutable
set search_path = ''
as $$
  with words as (
    select distinct case when w ~ '[^s]s$' and char_length(w) > 3 then left(w, -1) else w end as term
    from regexp_split_to_table(lower(p_query), '[^a-z0-9]+') as w
    where char_length(w) >= 3
      and w not in ('the', 'and', 'for', 'with', 'what', 'which', 'should', 'could', 'would', 'can', 'get', 'buy',
                    'need', 'want', 'some', 'any', 'you', 'your', 'our', 'are', 'does', 'make', 'give', 'show',
                    'find', 'please', 'about', 'from', 'this', 'that', 'have', 'has', 'best', 'good', 'like',
                    'how', 'who', 'why', 'when', 'where', 'there', 'them', 'they', 'tonight', 'today', 'idea',
                    'ideas', 'suggest', 'recommend', 'into', 'out', 'all', 'more', 'much', 'many', 'got')
  ),
  synonyms (term, related) as (
    values ('milk', 'dairy'), ('milk', 'lactose'), ('cheese', 'dairy'), ('cheese', 'lactose'),
           ('yogurt', 'dairy'), ('yoghurt', 'yogurt'), ('butter', 'dairy'), ('cream', 'dairy'),
           ('cream', 'lactose'), ('egg', 'dairy'), ('chicken', 'meat'), ('chicken', 'poultry'),
           ('beef', 'meat'), ('pork', 'meat'), ('turkey', 'meat'), ('bacon', 'meat'), ('ham', 'meat'),
           ('sausage', 'meat'), ('steak', 'meat'), ('fish', 'seafood'), ('fish', 'meat'), ('salmon', 'seafood'),
           ('salmon', 'meat'), ('tuna', 'seafood'), ('shrimp', 'seafood'), ('shrimp', 'shellfish'),
           ('peanut', 'nut'), ('almond', 'nut'), ('bread', 'bakery'), ('bread', 'gluten'), ('pasta', 'gluten'),
           ('recipe', 'meal'), ('dinner', 'meal'), ('lunch', 'meal'), ('breakfast', 'meal'),
           ('apple', 'produce'), ('banana', 'produce'), ('avocado', 'produce'), ('tomato', 'produce'),
           ('vegetable', 'produce'), ('fruit', 'produce'), ('cheap', 'budget'), ('save', 'budget'),
           ('saving', 'budget'), ('deal', 'budget'), ('healthy', 'health'), ('organic', 'health'))
  select (coalesce(array_agg(distinct t.term), '{}'))[1:24]
  from (select w.term from words as w
        union all
        select s.related from words as w join synonyms as s on s.term = w.term) as t;
$$;
revoke all on function private.memory_query_terms(text) from public, anon, authenticated, service_role;

-- A text for the memory_context document: at most 300 characters (a longer one ends with an ellipsis).
create or replace function private.clip_text(p_text text)
returns text
language sql
immutable
set search_path = ''
as $$
  select case when char_length(p_text) > 300 then left(p_text, 299) || '…' else p_text end;
$$;
revoke all on function private.clip_text(text) from public, anon, authenticated, service_role;

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
           p.updated_at,
           -- A favourite bought repeatedly: its buy-again timing ("about every 7 days, last bought 6 days ago").
           case when p.preference_type = 'favorite' and p.evidence ? 'usual_interval_days'
                then jsonb_build_object('usual_interval_days', p.evidence -> 'usual_interval_days',
                                        'due_from', p.evidence -> 'due_from', 'due_until', p.evidence -> 'due_until',
                                        'last_bought', p.evidence -> 'last_bought') end as figures,
           null::timestamptz as expires_at,
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


-- Invalidation ---------------------------------------------------------------------------------------------------
-- A new generation for the shopper, their stored document dropped. A shopper whose account is being deleted is
-- skipped (their row goes with the account, and a new one could not reference it). Once per transaction is enough:
-- when this transaction already dropped the document and stored none since, there is nothing to do.
create or replace function private.outdate_memory_context(p_user_id uuid)
returns void
language plpgsql
set search_path = ''
as $$
begin
  if exists (select from private.memory_context_cache as c
              where c.user_id = p_user_id and c.document is null and c.xmin = pg_catalog.pg_current_xact_id()::xid) then
    return;
  end if;
  insert into private.memory_context_cache as c (user_id)
  select u.id from auth.users as u where u.id = p_user_id
  on conflict (user_id) do update
     set generation = c.generation + 1, min_confidence = null, document = null, valid_until = null, built_at = null;
end;
$$;
revoke all on function private.outdate_memory_context(uuid) from public, anon, authenticated, service_role;

-- The invalidation runs when the writing transaction commits (a deferred constraint trigger), so taking the cache
-- row is the last thing a writer does. Were it taken when each statement ends, the worker would hold it after
-- writing patterns while waiting for a preference a shopper's call holds, and that call would wait for the cache
-- row: a deadlock (tests/context/test_precomputed_context.py reproduces it). A transaction that refreshes after
-- writing, like the worker's, runs its pending invalidations first (invalidate_memory_context_now, below).
-- Security definer: a shopper deleting their own row through the Data API runs this too.
create or replace function private.memory_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op in ('UPDATE', 'DELETE') then
    perform private.outdate_memory_context(old.user_id);
  end if;
  if tg_op = 'INSERT' or (tg_op = 'UPDATE' and new.user_id is distinct from old.user_id) then
    perform private.outdate_memory_context(new.user_id);
  end if;
  return null;
end;
$$;
revoke all on function private.memory_changed() from public, anon, authenticated, service_role;

create constraint trigger customer_preferences_changed
  after insert or update or delete on public.customer_preferences
  deferrable initially deferred for each row execute function private.memory_changed();

create constraint trigger shopping_patterns_changed
  after insert or update or delete on public.shopping_patterns
  deferrable initially deferred for each row execute function private.memory_changed();

create constraint trigger memory_insights_changed
  after insert or update or delete on public.memory_insights
  deferrable initially deferred for each row execute function private.memory_changed();

-- This transaction's pending invalidations run now instead of at commit (and its later ones with their
-- statements): for a transaction that writes and then refreshes or deletes the cache row itself.
create or replace function private.invalidate_memory_context_now()
returns void
language plpgsql
set search_path = ''
as $$
begin
  set constraints public.customer_preferences_changed, public.shopping_patterns_changed,
                  public.memory_insights_changed immediate;
end;
$$;
revoke all on function private.invalidate_memory_context_now() from public, anon, authenticated, service_role;


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


-- Memory in the prompt -------------------------------------------------------------------------------------------
create or replace function public.memory_context(min_confidence numeric default 0.70, query text default null)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_user uuid;
  v_document jsonb;
begin
  -- The hot path (every turn of the assistant) first: the stored document, one primary-key lookup by the JWT's
  -- subject. Only an existing shopper has one (it goes with the account), so every other request, and every call
  -- that is not for the default document, goes through the guard and the validation below.
  if memory_context.query is null then
    select c.document into v_document
      from private.memory_context_cache as c
     where c.user_id = (select auth.uid()) and c.min_confidence = memory_context.min_confidence
       and c.valid_until > now();
    if v_document is not null then
      return v_document;
    end if;
  end if;

  v_user := private.require_shopper('memory_context');
  if memory_context.min_confidence is null or memory_context.min_confidence < 0 or memory_context.min_confidence > 1 then
    raise exception using errcode = '22023',
      message = 'min_confidence must be a number between 0 and 1 (default 0.70).';
  end if;
  if char_length(memory_context.query) > 1000 then
    raise exception using errcode = '22023', message = 'query must be at most 1000 characters long.';
  end if;
  return private.compose_memory_context(v_user, memory_context.min_confidence, memory_context.query);
end;
$$;
revoke all on function public.memory_context(numeric, text) from public, anon, authenticated, service_role;
grant execute on function public.memory_context(numeric, text) to authenticated;
comment on function public.memory_context(numeric, text) is
  'The signed-in shopper''s memory for the assistant''s system prompt: allergies and dietary restrictions always, '
  'then dislikes, favorites and brands at or above min_confidence, patterns of the last 90 days and unexpired insights, '
  'ranked by relevance to query, confidence and recency, capped per section and overall. Each item carries its id, '
  'confidence, reason, source and evidence count; omitted counts what the caps left out. generated_at is when the '
  'document was composed: the default document is kept precomputed and is never older than the memory it shows.';


-- Worker functions (service role only) ---------------------------------------------------------------------------
create or replace function public.worker_refresh_context(p_user_id uuid)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.require_service_role();
  if p_user_id is null then
    raise exception using errcode = '22023', message = 'The user id is required.';
  end if;
  return private.refresh_memory_context(p_user_id);
end;
$$;
revoke all on function public.worker_refresh_context(uuid) from public, anon, authenticated, service_role;
grant execute on function public.worker_refresh_context(uuid) to service_role;
comment on function public.worker_refresh_context(uuid) is
  'Worker only: compose and store a shopper''s default memory_context document (nothing is stored if their memory '
  'changed meanwhile). Returns whether it was stored.';

-- The sweep: up to p_limit documents that are missing or that time has made stale, missing ones first. It locks
-- its rows up front and skips any another transaction holds, so it never waits for a cache row while holding
-- others (no deadlock with a transaction whose commit invalidates several shoppers, such as expiry), and two sweeps
-- share the work. The rows stay locked until it ends, so keep p_limit small; the worker calls it in a loop.
-- Returns how many were stored.
create or replace function public.worker_refresh_stale_contexts(p_limit integer default 100)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user uuid;
  v_count integer := 0;
begin
  perform private.require_service_role();
  if p_limit is null or p_limit < 1 or p_limit > 1000 then
    raise exception using errcode = '22023', message = 'p_limit must be a whole number from 1 to 1000.';
  end if;
  for v_user in
    select c.user_id from private.memory_context_cache as c
     where c.valid_until is null or c.valid_until <= now()
     order by c.valid_until nulls first
     limit p_limit
       for update skip locked
  loop
    if private.refresh_memory_context(v_user) then
      v_count := v_count + 1;
    end if;
  end loop;
  return v_count;
end;
$$;
revoke all on function public.worker_refresh_stale_contexts(integer) from public, anon, authenticated, service_role;
grant execute on function public.worker_refresh_stale_contexts(integer) to service_role;
comment on function public.worker_refresh_stale_contexts(integer) is
  'Worker only: compose and store up to p_limit missing or time-stale memory_context documents; returns how many.';
