-- The sections of a shopper's data are listed once: private.memory_sections, read by clear_memories (what it
-- deletes), export_memories (what the document holds) and export_memories_page (what the pages hold, and how each
-- section is paged), where each listed the seven tables itself. What each returns is unchanged
-- (tests/context/compare_outputs.py: every call alike).

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
  v_sections jsonb;
begin
  v_bytes := coalesce((select v.event_bytes from private.shopper_volume as v where v.user_id = v_user), 0)
             + coalesce((select sum(pg_catalog.pg_column_size(ia.interaction_value))
                           from private.interaction_archive as ia where ia.user_id = v_user), 0);
  if v_bytes > private.volume_limit('export_document_bytes') then
    raise exception using errcode = '22023',
      message = format('This export would take more than %s MiB as one document; read it with export_memories_page '
                       'instead, a page at a time.', private.volume_limit('export_document_bytes') / 1048576);
  end if;

  -- One query for every section, each with its rows in its order (no copy of the document per section).
  execute (select 'select jsonb_build_object('
                  || string_agg(format('%L, (select coalesce(jsonb_agg(to_jsonb(t) order by %s), ''[]'') '
                                       'from %s as t where t.user_id = $1)', s.section, s.row_order, s.relation),
                                ', ' order by s.ordinal)
                  || ')'
             from private.memory_sections() as s)
    into v_sections using v_user;
  return jsonb_build_object('format', 'customer-memory-export', 'version', 1, 'exported_at', now(), 'user_id', v_user)
         || v_sections;
end;
$$;
revoke execute on function public.export_memories() from public, anon, authenticated, service_role;
grant execute on function public.export_memories() to authenticated;
comment on function public.export_memories() is
  'Everything stored about the signed-in shopper''s memory as one versioned JSON document '
  '(format customer-memory-export, version 1): preferences, patterns, insights, interactions, archived '
  'interactions, forget records and the precomputed memory_context document (a copy of the memories). Past 128 MiB '
  'it refuses: export_memories_page reads the same rows a page at a time.';
