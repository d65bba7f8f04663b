-- The memory API's shape: each client function exists with the contract's argument names, is security definer
-- with an empty search_path, and is executable by authenticated only.
begin;
select plan(35);

create temporary table api_functions (name text, args text[], arg_names text[]);
insert into api_functions values
  ('record_interaction', array['text', 'text', 'jsonb', 'uuid', 'text'],
   array['interaction_type', 'interaction_key', 'interaction_value', 'session_id', 'message_id']),
  ('record_interactions', array['jsonb'], array['events']),
  ('record_cart_add', array['jsonb', 'uuid'], array['item', 'session_id']),
  ('record_checkout', array['jsonb'], array['checkout']),
  ('record_swap', array['jsonb', 'jsonb', 'boolean', 'text'], array['original', 'replacement', 'accepted', 'reason']),
  ('record_message', array['text', 'uuid', 'text'], array['content', 'session_id', 'message_id']),
  ('remember_preference', array['text', 'text', 'text', 'text'],
   array['preference_type', 'preference_key', 'preference_value', 'reason']);

select has_function('public', f.name, f.args, format('%s(%s) exists', f.name, array_to_string(f.args, ', ')))
  from api_functions as f order by f.name;
select is((select p.proargnames from pg_proc p where p.oid = format('public.%s(%s)', f.name, array_to_string(f.args, ','))::regprocedure),
          f.arg_names, format('%s has the contract''s argument names', f.name))
  from api_functions as f order by f.name;
select is_definer('public', f.name, f.args, format('%s is security definer (clients cannot insert)', f.name))
  from api_functions as f order by f.name;
select is((select p.proconfig from pg_proc p where p.oid = format('public.%s(%s)', f.name, array_to_string(f.args, ','))::regprocedure),
          array['search_path=""'], format('%s pins an empty search_path', f.name))
  from api_functions as f order by f.name;
select is(
  array(select r from unnest(array['anon', 'authenticated', 'service_role']) as r
         where has_function_privilege(r, format('public.%s(%s)', f.name, array_to_string(f.args, ','))::regprocedure, 'execute')),
  array['authenticated'], format('%s is executable by authenticated only', f.name))
  from api_functions as f order by f.name;

select * from finish();
rollback;
