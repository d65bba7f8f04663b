-- plpgsql_check (`supabase db lint`) warns on private.compose_memory_context: `v_terms text[] := '{}'` assigns an
-- unknown-typed literal to a text[] variable ("target type is different type than source type"). The fix is the
-- declaration alone, `'{}'::text[]`; it is applied to whatever body the function has at this point rather than by
-- restating the whole function, so that a change to the function in another migration is never overwritten.
do $$
declare
  v_definition text := pg_get_functiondef('private.compose_memory_context(uuid, numeric, text)'::regprocedure);
begin
  if strpos(v_definition, 'v_terms text[] := ''{}'';') > 0 then
    execute replace(v_definition, 'v_terms text[] := ''{}'';', 'v_terms text[] := ''{}''::text[];');
  end if;
end
$$;
