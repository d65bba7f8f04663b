-- The context functions: executable by signed-in shoppers only, search_path pinned, definer only where needed.
begin;
select plan(17);

select function_privs_are('public', f, args, 'authenticated', array['EXECUTE'], f || ' is executable by shoppers')
from (values ('memory_context', array['numeric', 'text']), ('explain_memory', array['uuid']),
             ('forget_memory', array['uuid']), ('clear_memories', array[]::text[]),
             ('export_memories', array[]::text[])) as fns(f, args);
select ok(
  not exists (
    select from pg_proc as p, unnest(array['anon', 'service_role', 'public']) as r(role)
    where p.pronamespace = 'public'::regnamespace
      and p.proname in ('memory_context', 'explain_memory', 'forget_memory', 'clear_memories', 'export_memories')
      and (case when r.role = 'public'
                then exists (select from aclexplode(p.proacl) as a where a.grantee = 0)
                else has_function_privilege(r.role, p.oid, 'execute') end)),
  'and by nobody else (anon, service_role, PUBLIC)');
select is(
  (select count(*)::integer from pg_proc as p
    where p.pronamespace = 'public'::regnamespace
      and p.proname in ('memory_context', 'explain_memory', 'forget_memory', 'clear_memories', 'export_memories')
      and 'search_path=""' = any(p.proconfig)),
  5, 'each pins search_path to nothing');
select is(
  (select array_agg(p.proname::text order by p.proname) from pg_proc as p
    where p.pronamespace = 'public'::regnamespace and p.prosecdef
      and p.proname in ('memory_context', 'explain_memory', 'forget_memory', 'clear_memories', 'export_memories')),
  array['clear_memories', 'explain_memory', 'export_memories', 'forget_memory', 'memory_context'],
  'each is security definer: each takes the shopper from the one identity guard, private.require_shopper');
select is(
  (select array_agg(p.proname::text order by p.proname) from pg_proc as p
    where p.pronamespace = 'public'::regnamespace and p.provolatile = 's'
      and p.proname in ('memory_context', 'explain_memory', 'forget_memory', 'clear_memories', 'export_memories')),
  array['explain_memory', 'export_memories', 'memory_context'],
  'the readers are stable (PostgREST runs them read-only, GET allowed)');
select has_view('public', 'my_memories', 'my_memories is a view');
select columns_are('public', 'my_memories',
  array['id', 'memory_kind', 'memory_type', 'memory_key', 'summary', 'confidence', 'source', 'reason',
        'evidence_count', 'details', 'created_at', 'updated_at', 'expires_at', 'last_confirmed_at', 'pending_change',
        'status'],
  'my_memories has its documented columns');
select ok(
  obj_description('public.memory_context(numeric, text)'::regprocedure) is not null
  and obj_description('public.explain_memory(uuid)'::regprocedure) is not null
  and obj_description('public.forget_memory(uuid)'::regprocedure) is not null
  and obj_description('public.clear_memories()'::regprocedure) is not null
  and obj_description('public.export_memories()'::regprocedure) is not null
  and obj_description('public.my_memories'::regclass) is not null,
  'every object clients see is commented');
-- An authenticated caller with no subject (a broken token) is refused with a sentence, not served someone's data.
select set_config('role', 'authenticated', true), set_config('request.jwt.claims', '{"role": "authenticated"}', true);
select throws_ok($$select public.memory_context()$$, '42501',
  'memory_context needs a signed-in shopper, but the request carries no JWT with a sub claim.', 'memory_context needs a subject');
select throws_ok($$select public.forget_memory(gen_random_uuid())$$, '42501',
  'forget_memory needs a signed-in shopper, but the request carries no JWT with a sub claim.', 'forget_memory needs a subject');
select throws_ok($$select public.clear_memories()$$, '42501',
  'clear_memories needs a signed-in shopper, but the request carries no JWT with a sub claim.', 'clear_memories needs a subject');
select throws_ok($$select public.export_memories()$$, '42501',
  'export_memories needs a signed-in shopper, but the request carries no JWT with a sub claim.', 'export_memories needs a subject');
select throws_ok($$select public.explain_memory(gen_random_uuid())$$, '42501',
  'explain_memory needs a signed-in shopper, but the request carries no JWT with a sub claim.', 'explain_memory needs a subject');

select * from finish();
rollback;
