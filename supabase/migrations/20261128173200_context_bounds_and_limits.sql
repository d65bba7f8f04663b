-- Memory system: every size has a stated bound.
--
-- - memory_context: the sections that are always included (allergies, dietary restrictions) are capped too, at 25
--   and 10 items, the most important first (stated by the shopper before inferred, then by confidence and
--   recency); `omitted` says how many more exist. Texts in the document are cut to 300 characters. So a document
--   holds at most 51 items (25 + 10 + 16 others) and stays under 64 KiB whatever the shopper stored.
-- - Per-shopper volume: at most 100,000 events and 64 MiB of event values in the live log (the archive holds what
--   retention moved out), and at most 500 stated (explicit) preferences. Past a limit the call fails with 22023
--   and a sentence, and nothing is written.
-- - export_memories_page(after, max_rows) pages the export (one section at a time, at most max_rows rows and about
--   8 MiB per page, a cursor to the next page), so the export works at any size; export_memories() still returns
--   one document, and refuses with a sentence pointing to the pages when it would pass 128 MiB.

-- Tables ---------------------------------------------------------------------------------------------------------
create table private.shopper_volume (
  user_id uuid primary key references auth.users (id) on delete cascade,
  events bigint not null default 0,
  event_bytes bigint not null default 0,
  constraint shopper_volume_events_nonnegative check (events >= 0),
  constraint shopper_volume_event_bytes_nonnegative check (event_bytes >= 0)
);
comment on table private.shopper_volume is
  'How many events (and bytes of event values) each shopper holds in the live log, kept by triggers, for the limits.';

insert into private.shopper_volume (user_id, events, event_bytes)
select ih.user_id, count(*), coalesce(sum(pg_catalog.pg_column_size(ih.interaction_value)), 0)
  from public.interaction_history as ih
 group by ih.user_id;

-- Grants ---------------------------------------------------------------------------------------------------------
revoke all on table private.shopper_volume from public, anon, authenticated, service_role;

-- RLS ------------------------------------------------------------------------------------------------------------
alter table private.shopper_volume enable row level security;

-- Helpers --------------------------------------------------------------------------------------------------------
-- The limits, in one place (README "Limits").
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
           when 'export_document_bytes' then 134217728
         end::bigint;
$$;
revoke all on function private.volume_limit(text) from public, anon, authenticated, service_role;
comment on function private.volume_limit(text) is
  'Per-shopper limits: events (100,000) and event_bytes (64 MiB) in the live log, stated_preferences (500), '
  'export_document_bytes (128 MiB: past it, export_memories_page).';

-- Triggers -------------------------------------------------------------------------------------------------------
-- Keeps shopper_volume in step with the live log, and refuses a statement that takes a shopper past a limit (the
-- whole statement fails, so nothing is written). Fires after the enqueue triggers (names sort after them), so that
-- every writer takes the job row before the volume row: no deadlock between a shopper's call and a bulk delete.
create or replace function private.interaction_history_count()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_over record;
begin
  if tg_op = 'DELETE' then
    update private.shopper_volume as v
       set events = greatest(v.events - d.events, 0), event_bytes = greatest(v.event_bytes - d.bytes, 0)
      from (select c.user_id, count(*) as events,
                   coalesce(sum(pg_catalog.pg_column_size(c.interaction_value)), 0) as bytes
              from changed_rows as c
             group by c.user_id) as d
     where v.user_id = d.user_id;
    return null;
  end if;
  with upserted as (
    insert into private.shopper_volume as v (user_id, events, event_bytes)
    select c.user_id, count(*), coalesce(sum(pg_catalog.pg_column_size(c.interaction_value)), 0)
      from changed_rows as c
     group by c.user_id
     order by c.user_id
    on conflict (user_id) do update
      set events = v.events + excluded.events, event_bytes = v.event_bytes + excluded.event_bytes
    returning v.events, v.event_bytes
  )
  select u.events, u.event_bytes into v_over
    from upserted as u
   where u.events > private.volume_limit('events') or u.event_bytes > private.volume_limit('event_bytes')
   limit 1;
  if found then
    raise exception using errcode = '22023',
      message = format('This shopper''s history is full: it holds at most %s events and %s MiB of event values '
                       '(this would make %s events and %s bytes); nothing was recorded.',
                       private.volume_limit('events'), private.volume_limit('event_bytes') / 1048576,
                       v_over.events, v_over.event_bytes);
  end if;
  return null;
end;
$$;
revoke all on function private.interaction_history_count() from public, anon, authenticated, service_role;

create trigger interaction_history_volume_inserted
  after insert on public.interaction_history
  referencing new table as changed_rows
  for each statement execute function private.interaction_history_count();

create trigger interaction_history_volume_deleted
  after delete on public.interaction_history
  referencing old table as changed_rows
  for each statement execute function private.interaction_history_count();

-- remember_explicit (schemas/20_api_helpers.sql) now refuses a new stated
-- preference past the limit; confirming one already stated is always possible.
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

-- compose_memory_context (schemas/42_context_helpers.sql) with the safety sections capped
-- and texts clipped.
-- A text for the document: at most 300 characters (a longer one ends with an ellipsis).
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
-- overall; JSON is built only for the items kept. Allergies and dietary restrictions are in whatever the floor
-- (safety first), capped at 25 and 10 (the most relevant, confident and recent; omitted counts the rest);
-- the floor is for preferences, as in the design document's buildSystemPrompt (patterns are bounded by recency,
-- insights by expiry).
create or replace function private.compose_memory_context(p_user_id uuid, p_min_confidence numeric, p_query text)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_terms text[] := '{}';
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
    -- section_no: 1 allergies, 2 dietary, 3 dislikes, 4 favorites, 5 brands, 6 patterns, 7 insights;
    -- words: what a query is matched against (only with a query).
    select case p.preference_type when 'allergy' then 1 when 'dietary' then 2 when 'dislike' then 3
                                  when 'favorite' then 4 else 5 end as section_no,
           p.id, p.preference_type as memory_type, p.preference_key as memory_key,
           p.preference_value as memory_value, p.confidence, p.reason, p.source,
           p.times_confirmed as evidence_count, coalesce(p.last_confirmed_at, p.updated_at) as seen_at,
           p.updated_at, null::jsonb as figures, null::timestamptz as expires_at,
           case when v_pattern is not null
                then lower(concat_ws(' ', p.preference_key, p.preference_value, p.reason)) end as words
    from public.customer_preferences as p
    where p.user_id = p_user_id
      and (p.preference_type in ('allergy', 'dietary') or p.confidence >= p_min_confidence)
    union all
    select 6, sp.id, sp.pattern_type, sp.pattern_key, null, sp.confidence, null, 'pattern',
           sp.occurrence_count, sp.last_occurrence, sp.updated_at, sp.pattern_value, null,
           case when v_pattern is not null then lower(sp.pattern_type || ' ' || sp.pattern_key) end
    from public.shopping_patterns as sp
    where sp.user_id = p_user_id
      and sp.last_occurrence >= now() - private.pattern_recency()
    union all
    select 7, mi.id, mi.insight_type, mi.insight_key, mi.insight_value, mi.confidence, null, 'inferred',
           null, mi.updated_at, mi.updated_at, mi.supporting_data, mi.expires_at,
           case when v_pattern is not null
                then lower(concat_ws(' ', mi.insight_type, mi.insight_key, mi.insight_value)) end
    from public.memory_insights as mi
    where mi.user_id = p_user_id
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
    -- 4 brands, 4 patterns, 5 insights.
    select r.*
    from ranked as r
    where r.section_rank <= (array[25, 10, 5, 5, 4, 4, 5])[r.section_no]
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
    select (array['allergies', 'dietary', 'dislikes', 'favorites', 'brands', 'patterns', 'insights'])[s.section_no]
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
      'brands', '[]'::jsonb, 'patterns', '[]'::jsonb, 'insights', '[]'::jsonb)
    || coalesce(jsonb_object_agg(n.section, n.items) filter (where n.items is not null), '{}')
    || jsonb_build_object('omitted',
                          coalesce(jsonb_object_agg(n.section, n.left_out) filter (where n.left_out > 0), '{}'))
    into v_result
  from named as n;

  return v_result;
end;
$$;
revoke all on function private.compose_memory_context(uuid, numeric, text) from public, anon, authenticated, service_role;

-- Documents stored with the old caps are dropped; the worker's sweep composes them again.
update private.memory_context_cache as c
   set generation = c.generation + 1, min_confidence = null, document = null, valid_until = null, built_at = null
 where c.document is not null;

-- Public RPCs ------------------------------------------------------------------------------------------------------
-- The export, a page at a time: the sections of export_memories() in order, one section per page, rows in a
-- stable order (by creation, or by key for suppressions), at most `max_rows` rows and about 8 MiB per page. `after` is the previous
-- page's `next` (null for the first page); `next` is null on the last page.
create or replace function public.export_memories_page(after text default null, max_rows integer default 1000)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_user uuid := private.require_shopper('export_memories_page');
  v_sections constant text[] := array['preferences', 'patterns', 'insights', 'interactions', 'archived_interactions',
                                      'suppressions', 'precomputed_contexts'];
  v_max_bytes constant integer := 8388608;
  v_cursor jsonb := '{}';
  v_section text;
  v_position text[];
  v_query text;
  v_row record;
  v_rows jsonb[] := '{}';
  v_bytes bigint := 0;
  v_next jsonb;
begin
  if export_memories_page.max_rows is null or export_memories_page.max_rows not between 1 and 10000 then
    raise exception using errcode = '22023', message = 'max_rows must be a whole number from 1 to 10000 (default 1000).';
  end if;
  if export_memories_page.after is not null then
    begin
      v_cursor := export_memories_page.after::jsonb;
      v_position := array(select jsonb_array_elements_text(v_cursor -> 'position'));
    exception when others then
      v_cursor := null;
    end;
    if v_cursor is null or jsonb_typeof(v_cursor) <> 'object' or coalesce(v_cursor ->> 'section', '') <> all (v_sections)
       or coalesce(cardinality(v_position), 0) not in (0, 2) then
      raise exception using errcode = '22023',
        message = 'after must be the next value of the previous page, exactly as it was returned (or null to start).';
    end if;
  end if;
  v_section := coalesce(v_cursor ->> 'section', 'preferences');

  -- Every section is read in an order its index gives, from the position after the previous page's last row.
  v_query := case v_section
    when 'suppressions' then
      'select to_jsonb(t) as doc, array[t.memory_kind || chr(31) || t.memory_type, t.memory_key] as position
         from private.memory_suppressions as t
        where t.user_id = $1 and ($2 is null or (t.memory_kind || chr(31) || t.memory_type, t.memory_key) > ($2[1], $2[2]))
        order by t.memory_kind || chr(31) || t.memory_type, t.memory_key'
    when 'precomputed_contexts' then
      'select to_jsonb(t) as doc, array[t.user_id::text, ''''] as position
         from private.memory_context_cache as t
        where t.user_id = $1 and $2 is null'
    else format(
      'select to_jsonb(t) as doc, array[t.created_at::text, t.id::text] as position
         from %s as t
        where t.user_id = $1 and ($2 is null or (t.created_at, t.id) > ($2[1]::timestamptz, $2[2]::uuid))
        order by t.created_at, t.id',
      case v_section when 'preferences' then 'public.customer_preferences'
                     when 'patterns' then 'public.shopping_patterns'
                     when 'insights' then 'public.memory_insights'
                     when 'interactions' then 'public.interaction_history'
                     else 'private.interaction_archive' end)
    end;
  for v_row in execute v_query using v_user, nullif(v_position, '{}') loop
    if cardinality(v_rows) >= export_memories_page.max_rows
       or (v_bytes > 0 and v_bytes + pg_catalog.pg_column_size(v_row.doc) > v_max_bytes) then
      v_next := jsonb_build_object('section', v_section, 'position', v_position);
      exit;
    end if;
    v_rows := v_rows || v_row.doc;
    v_bytes := v_bytes + pg_catalog.pg_column_size(v_row.doc);
    v_position := v_row.position;
  end loop;
  if v_next is null and v_section <> v_sections[cardinality(v_sections)] then
    v_next := jsonb_build_object('section', v_sections[pg_catalog.array_position(v_sections, v_section) + 1],
                                 'position', '[]'::jsonb);
  end if;

  return jsonb_build_object(
    'format', 'customer-memory-export-page', 'version', 1, 'user_id', v_user, 'section', v_section,
    'rows', to_jsonb(v_rows), 'next', v_next::text);
end;
$$;
revoke execute on function public.export_memories_page(text, integer) from public, anon, authenticated, service_role;
grant execute on function public.export_memories_page(text, integer) to authenticated;
comment on function public.export_memories_page(text, integer) is
  'One page of the signed-in shopper''s export: the sections of export_memories() in order, at most max_rows rows '
  '(1 to 10000, default 1000) and about 8 MiB per page; pass the page''s next as after to get the following one '
  '(null on the last page). Works at any size, where export_memories() stops at 128 MiB.';

-- export_memories (schemas/43_context_functions.sql) is unchanged for the sizes it can hold,
-- and refuses with a sentence, before building anything, past what one document can hold.
create or replace function public.export_memories()
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_user uuid := private.require_shopper('export_memories');
  v_bytes bigint;
begin
  v_bytes := coalesce((select v.event_bytes from private.shopper_volume as v where v.user_id = v_user), 0)
             + coalesce((select sum(pg_catalog.pg_column_size(ia.interaction_value))
                           from private.interaction_archive as ia where ia.user_id = v_user), 0);
  if v_bytes > private.volume_limit('export_document_bytes') then
    raise exception using errcode = '22023',
      message = format('This export would take more than %s MiB as one document; read it with export_memories_page '
                       'instead, a page at a time.', private.volume_limit('export_document_bytes') / 1048576);
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
                     from private.memory_suppressions as s where s.user_id = v_user),
    'precomputed_contexts', (select coalesce(jsonb_agg(to_jsonb(c)), '[]')
                             from private.memory_context_cache as c where c.user_id = v_user));
end;
$$;
revoke execute on function public.export_memories() from public, anon, authenticated, service_role;
grant execute on function public.export_memories() to authenticated;
comment on function public.export_memories() is
  'Everything stored about the signed-in shopper''s memory as one versioned JSON document '
  '(format customer-memory-export, version 1): preferences, patterns, insights, interactions, archived '
  'interactions, forget records and the precomputed memory_context document (a copy of the memories). Past 128 MiB '
  'it refuses: export_memories_page reads the same rows a page at a time.';
