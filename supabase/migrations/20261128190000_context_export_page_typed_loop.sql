-- export_memories_page reads each row into two typed variables instead of a record, and its empty literals are
-- typed, so that plpgsql_check (supabase db lint) can check it: a record from a dynamic query has no known shape.
-- Behaviour is unchanged.
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
