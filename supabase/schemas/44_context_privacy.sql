-- The shopper's privacy controls (docs/api.md, DESIGN-DOCUMENT.md "Privacy & Transparency"): what
-- they can see (my_memories, my_order_figures), forget (forget_memory, the answers to pending changes and to
-- questions, clear_memories) and take with them (export_memories_page, export_memories).
--
-- The functions are security definer: they reach private tables (the stored documents, suppressions, the
-- interaction archive) that no API role may touch. Each takes the shopper from the JWT only
-- (private.require_shopper), never from an argument, and every statement is restricted to that user's rows.
-- my_memories is a view with security_invoker = true, under the caller's RLS.

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
         p.pending_removal as pending_change, 'active'::text as status
  from public.customer_preferences as p
  where p.user_id = (select auth.uid())
  union all
  select sp.id, 'pattern', sp.pattern_type, sp.pattern_key,
         sp.pattern_type || ': ' || sp.pattern_key, sp.confidence, 'pattern',
         format('Seen in %s orders, last on %s', sp.occurrence_count, to_char(sp.last_occurrence, 'YYYY-MM-DD')),
         sp.occurrence_count, sp.pattern_value,
         sp.created_at, sp.updated_at, null,
         sp.last_occurrence, null, 'active'
  from public.shopping_patterns as sp
  where sp.user_id = (select auth.uid())
  union all
  select mi.id, 'insight', mi.insight_type, mi.insight_key,
         mi.insight_value, mi.confidence, mi.source,
         -- Why, in words: what the shopper said (or said ended it), their Yes, or what suggested a question.
         left(case when mi.status = 'ended'
                   then format('You told us this no longer holds: "%s"', mi.ended ->> 'message')
                   when mi.status = 'question'
                   then coalesce(mi.supporting_data ->> 'because', mi.insight_value)
                   when mi.source = 'explicit'
                   then coalesce(format('You told us: "%s"', mi.supporting_data ->> 'message'), 'You told us')
                   when mi.source = 'confirmed' then 'You confirmed it'
                   else coalesce(mi.supporting_data ->> 'summary', mi.insight_value) end, 1000),
         (select count(*)::integer from jsonb_object_keys(mi.supporting_data)), mi.supporting_data,
         mi.created_at, mi.updated_at, mi.expires_at,
         mi.updated_at, null, mi.status
  from public.memory_insights as mi
  where mi.user_id = (select auth.uid());

comment on view public.my_memories is
  'Every memory of the signed-in shopper, one row each: preferences, shopping patterns and insights. The events '
  'they came from are in interaction_history; explain_memory(id) shows them, forget_memory(id) deletes one.';
comment on column public.my_memories.memory_kind is 'preference, pattern or insight: which table holds it.';
comment on column public.my_memories.memory_type is 'Its type within that table (dietary, time_of_day, persona, ...).';
comment on column public.my_memories.summary is 'What is remembered, in a few words.';
comment on column public.my_memories.reason is 'Why it is believed.';
comment on column public.my_memories.evidence_count is 'How much evidence supports it (times confirmed, orders, supporting facts).';
comment on column public.my_memories.details is 'The figures behind a pattern or an insight.';
comment on column public.my_memories.last_confirmed_at is
  'When it was last confirmed: the latest evidence for a preference, the latest order showing a pattern, the last '
  'derivation of an insight.';
comment on column public.my_memories.pending_change is
  'A removal the shopper asked for in chat and has not confirmed (allergies and diets): confirm_pending_change or '
  'reject_pending_change answers it. Null when none is pending.';
comment on column public.my_memories.status is
  'active (used by the assistant), question (an insight suggested from the shopper''s orders, never used until they '
  'answer Yes with answer_insight_question) or ended (an insight the shopper said no longer holds).';

-- Grants ---------------------------------------------------------------------------------------------------------
-- Under the legacy regime a new view in public is granted to anon and authenticated by default: take it back.
revoke all on table public.my_memories from public, anon, authenticated, service_role;
grant select on table public.my_memories to authenticated;


-- my_order_figures: the signed-in shopper's own orders of the pattern window (private.pattern_recency()) as plain
-- counts, for the page's charts: by hour and by weekday in each order's own time zone, and the categories found in
-- the most orders. Figures, not beliefs: the worker stores no time or category pattern since none beat counting,
-- so the page draws what the orders say rather than what the assistant would claim. A forgotten pattern suppresses
-- a claim, not the orders; forgetting an order (forget_memory on its event) takes it out of these counts.
-- Bounded whatever the history: 24 hours, 7 days, at most 8 categories of at most 255 characters.
create or replace function public.my_order_figures()
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := private.require_shopper('my_order_figures');
  v_since timestamptz := now() - private.pattern_recency();
begin
  return (
    with o as materialized (
      select c.interaction_id, c.local_at, c.items
        from private.checkouts(v_user_id, now()) as c
       where c.placed_at > v_since
    ),
    categories as (
      select g.category, g.orders
        from (select left(pg_catalog.lower(pg_catalog.btrim(i ->> 'category')), 255) as category,
                     count(distinct o.interaction_id)::integer as orders
                from o cross join lateral pg_catalog.jsonb_array_elements(o.items) as i
               where pg_catalog.btrim(coalesce(i ->> 'category', '')) <> ''
               group by 1) as g
       order by g.orders desc, g.category collate "C"
       limit 8
    )
    select pg_catalog.jsonb_build_object(
      'window_days', extract(day from private.pattern_recency())::integer,
      'since', v_since,
      'orders', (select count(*) from o),
      'by_hour', (select pg_catalog.jsonb_agg(coalesce(n.orders, 0) order by h.hour)
                    from pg_catalog.generate_series(0, 23) as h(hour)
                    left join (select extract(hour from o.local_at)::integer as hour, count(*)::integer as orders
                                 from o group by 1) as n on n.hour = h.hour),
      'by_weekday', (select pg_catalog.jsonb_agg(coalesce(n.orders, 0) order by d.day)
                       from pg_catalog.generate_series(1, 7) as d(day)
                       left join (select extract(isodow from o.local_at)::integer as day, count(*)::integer as orders
                                    from o group by 1) as n on n.day = d.day),
      'categories', coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                                       'category', c.category, 'orders', c.orders) order by c.orders desc,
                                       c.category collate "C")
                                from categories as c), '[]'::jsonb))
  );
end;
$$;
revoke all on function public.my_order_figures() from public, anon, authenticated, service_role;
grant execute on function public.my_order_figures() to authenticated;
comment on function public.my_order_figures() is
  'The signed-in shopper''s orders of the last 90 days as plain counts, for charts: {window_days, since, orders, '
  'by_hour: 24 counts (0-23, each order''s own time zone), by_weekday: 7 counts (Monday first), categories: at '
  'most 8 {category, orders}, the most orders first}. Figures from the orders, not memories.';


-- The shopper's control ------------------------------------------------------------------------------------------
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

-- Questions inference asks (insights with status question: "Are you shopping for young children?"): the shopper
-- answers. Yes: the insight becomes the shopper's own (source confirmed, 1.00, in the prompt), the figures that
-- suggested it kept with when it was confirmed. No: dismissed (deleted) and suppressed, so older evidence never
-- suggests it again.
create or replace function public.answer_insight_question(memory_id uuid, answer boolean)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := private.require_shopper('answer_insight_question');
  v_insight public.memory_insights;
begin
  if answer_insight_question.memory_id is null or answer_insight_question.answer is null then
    raise exception using errcode = '22023',
      message = 'memory_id and answer are required: the id of a question (see my_memories, status question) and '
                'true for Yes or false for No.';
  end if;
  select mi.* into v_insight from public.memory_insights as mi
   where mi.id = answer_insight_question.memory_id and mi.user_id = v_user_id and mi.status = 'question'
     for update;
  if not found then
    raise exception using errcode = 'PT404', message = 'No question with that id.',
      hint = 'my_memories lists the questions (status question).';
  end if;
  if answer_insight_question.answer then
    perform private.remember_insight(
      v_user_id, v_insight.insight_type, v_insight.insight_key, v_insight.insight_value, 'confirmed',
      v_insight.supporting_data || pg_catalog.jsonb_build_object('confirmed_at', now()), null);
  else
    delete from public.memory_insights as mi where mi.id = v_insight.id;
    perform private.suppress_memory(v_user_id, 'insight', v_insight.insight_type, v_insight.insight_key);
  end if;
  return pg_catalog.jsonb_build_object(
    'answered', true, 'id', v_insight.id, 'answer', answer_insight_question.answer,
    'memory_type', v_insight.insight_type, 'memory_key', v_insight.insight_key,
    'status', case when answer_insight_question.answer then 'active' else 'dismissed' end);
end;
$$;
revoke all on function public.answer_insight_question(uuid, boolean) from public, anon, authenticated, service_role;
grant execute on function public.answer_insight_question(uuid, boolean) to authenticated;
comment on function public.answer_insight_question(uuid, boolean) is
  'The signed-in shopper answers a question suggested from their orders (an insight with status question): Yes '
  '(true) makes it theirs (source confirmed, used by the assistant); No (false) dismisses it, never suggested again '
  'from older evidence. Unknown id, someone else''s, or not a question: PT404.';

-- Everything stored about the shopper, section by section ------------------------------------------------------
-- Every table that holds rows about a shopper (by user_id), one section each, in the order of the export: what
-- clear_memories deletes, export_memories writes and export_memories_page reads a page at a time. A table listed
-- here is cleared and exported alike; one not listed is neither. Per section: its table; the order of its rows in
-- export_memories; and the key export_memories_page orders the section by and seeks after (an index's order, so that
-- a page starts where the previous one ended), two expressions and the types a page's position is read back as,
-- null for a section of at most one row per shopper, read whole on its first page.
create or replace function private.memory_sections()
returns table (ordinal integer, section text, relation text, row_order text, page_key text[], page_key_types text[])
language sql
immutable
set search_path = ''
as $$
  values
    (1, 'preferences', 'public.customer_preferences', 't.created_at, t.id',
     array['t.created_at', 't.id'], array['timestamptz', 'uuid']),
    (2, 'patterns', 'public.shopping_patterns', 't.created_at, t.id',
     array['t.created_at', 't.id'], array['timestamptz', 'uuid']),
    (3, 'insights', 'public.memory_insights', 't.created_at, t.id',
     array['t.created_at', 't.id'], array['timestamptz', 'uuid']),
    (4, 'interactions', 'public.interaction_history', 't.created_at, t.id',
     array['t.created_at', 't.id'], array['timestamptz', 'uuid']),
    (5, 'archived_interactions', 'private.interaction_archive', 't.created_at, t.id',
     array['t.created_at', 't.id'], array['timestamptz', 'uuid']),
    -- The records of what was forgotten: each is itself a record of what the shopper once had.
    (6, 'suppressions', 'private.memory_suppressions', 't.forgotten_at, t.memory_kind, t.memory_type, t.memory_key',
     array['t.memory_kind || chr(31) || t.memory_type', 't.memory_key'], array['text', 'text']),
    -- The precomputed memory_context document: a copy of the memories above, data about the shopper like any other.
    (7, 'precomputed_contexts', 'private.memory_context_cache', 't.user_id', null, null);
$$;
revoke all on function private.memory_sections() from public, anon, authenticated, service_role;

create or replace function public.clear_memories()
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user uuid := private.require_shopper('clear_memories');
  v_section text;
  v_relation text;
  v_deleted bigint;
  v_counts jsonb := '{}'::jsonb;
begin
  -- With every piece of evidence gone there is nothing left to suppress: the suppressions go too.
  for v_section, v_relation in
    select s.section, s.relation from private.memory_sections() as s order by s.ordinal
  loop
    if v_section = 'precomputed_contexts' then
      -- The precomputed memory_context document is a copy of what was just deleted (the invalidations of the
      -- deletes above run now, or they would bring its row back at commit).
      perform private.invalidate_memory_context_now();
    end if;
    execute format('with d as (delete from %s as t where t.user_id = $1 returning 1) select count(*) from d',
                   v_relation)
      into v_deleted using v_user;
    v_counts := v_counts || jsonb_build_object(v_section, v_deleted);
  end loop;
  return v_counts;
end;
$$;
revoke all on function public.clear_memories() from public, anon, authenticated, service_role;
grant execute on function public.clear_memories() to authenticated;
comment on function public.clear_memories() is
  'Deletes everything stored about the signed-in shopper''s memory: preferences, patterns, insights, interactions '
  '(live and archived), forget records and the precomputed memory_context document. Returns how many rows each held.';

-- The export, a page at a time: the sections of export_memories() in order, one section per page, rows in the order
-- of the section's page key (private.memory_sections), at most `max_rows` rows and about 8 MiB per page. `after` is
-- the previous page's `next` (null for the first page); `next` is null on the last page.
create or replace function public.export_memories_page(after text default null, max_rows integer default 1000)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_user uuid := private.require_shopper('export_memories_page');
  v_sections constant text[] := array(select s.section from private.memory_sections() as s order by s.ordinal);
  v_max_bytes constant integer := 8388608;
  v_cursor jsonb := '{}'::jsonb;
  v_section text;
  v_position text[];
  v_query text;
  v_doc jsonb;
  v_row_position text[];
  v_rows jsonb[] := '{}'::jsonb[];
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
  v_section := coalesce(v_cursor ->> 'section', v_sections[1]);

  -- Every section is read in the order of its key, from the position after the previous page's last row.
  select format('select to_jsonb(t) as doc, %s as position from %s as t where t.user_id = $1 and %s',
                case when s.page_key is null then 'array[t.user_id::text, '''']'
                     else format('array[(%s)::text, (%s)::text]', s.page_key[1], s.page_key[2]) end,
                s.relation,
                case when s.page_key is null then '$2 is null'
                     else format('($2 is null or (%1$s, %2$s) > ($2[1]::%3$s, $2[2]::%4$s)) order by %1$s, %2$s',
                                 s.page_key[1], s.page_key[2], s.page_key_types[1], s.page_key_types[2]) end)
    into v_query
    from private.memory_sections() as s
   where s.section = v_section;
  -- Two typed targets, not a record: plpgsql_check can then check the loop's uses.
  for v_doc, v_row_position in execute v_query using v_user, nullif(v_position, '{}') loop
    if cardinality(v_rows) >= export_memories_page.max_rows
       or (v_bytes > 0 and v_bytes + pg_catalog.pg_column_size(v_doc) > v_max_bytes) then
      v_next := jsonb_build_object('section', v_section, 'position', v_position);
      exit;
    end if;
    v_rows := v_rows || v_doc;
    v_bytes := v_bytes + pg_catalog.pg_column_size(v_doc);
    v_position := v_row_position;
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
  v_document jsonb;
begin
  v_bytes := coalesce((select v.event_bytes from private.shopper_volume as v where v.user_id = v_user), 0)
             + coalesce((select sum(pg_catalog.pg_column_size(ia.interaction_value))
                           from private.interaction_archive as ia where ia.user_id = v_user), 0);
  if v_bytes > private.volume_limit('export_document_bytes') then
    raise exception using errcode = '22023',
      message = format('This export would take more than %s MiB as one document; read it with export_memories_page '
                       'instead, a page at a time.', private.volume_limit('export_document_bytes') / 1048576);
  end if;

  -- One query builds the whole document, each section with its rows in its order (a document built in parts would
  -- be copied as they are joined).
  execute format('select jsonb_build_object(''format'', ''customer-memory-export'', ''version'', 1, '
                 '''exported_at'', now(), ''user_id'', $1, %s)',
                 (select string_agg(format('%L, (select coalesce(jsonb_agg(to_jsonb(t) order by %s), ''[]'') '
                                           'from %s as t where t.user_id = $1)', s.section, s.row_order, s.relation),
                                    ', ' order by s.ordinal)
                    from private.memory_sections() as s))
    into v_document using v_user;
  return v_document;
end;
$$;
revoke execute on function public.export_memories() from public, anon, authenticated, service_role;
grant execute on function public.export_memories() to authenticated;
comment on function public.export_memories() is
  'Everything stored about the signed-in shopper''s memory as one versioned JSON document '
  '(format customer-memory-export, version 1): preferences, patterns, insights, interactions, archived '
  'interactions, forget records and the precomputed memory_context document (a copy of the memories). Past 128 MiB '
  'it refuses: export_memories_page reads the same rows a page at a time.';
