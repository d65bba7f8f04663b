-- export_memories builds the whole document in one query again, its header included. Joining the header to the
-- sections (||) rebuilt the document once more: for the page benchmark's heavy shopper (10,000 events), a join of
-- that size took 43 ms against 2 ms without. What it returns is unchanged (tests/context/compare_outputs.py).

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
