-- The event log's monthly partitions: every partition (those the install made, the default, and one made now as
-- the worker makes them ahead) has RLS, the log's two policies and no grant to an API role; a shopper reaches their
-- events through the log only, and retention moves a whole month to the archive (still theirs).
begin;
select plan(12);

select tests.create_supabase_user('owner');
select tests.create_supabase_user('stranger');

select is(private.ensure_interaction_partitions('2031-01-15', '2031-02-15'), 2, 'the worker makes two months ahead');
create temporary view log_partitions as
  select c.oid, c.relname, c.relrowsecurity
    from pg_inherits as i join pg_class as c on c.oid = i.inhrelid
   where i.inhparent = 'public.interaction_history'::regclass;
grant select on log_partitions to public;

select cmp_ok((select count(*)::int from log_partitions), '>=', 19, 'the default, 13 months back, this one, 3 ahead and 2031');
select is_empty('select relname from log_partitions where not relrowsecurity', 'every partition has RLS');
select is_empty(
  $$select p.relname from log_partitions as p
     where (select count(*) from pg_policies as po where po.schemaname = 'private' and po.tablename = p.relname) <> 2$$,
  'every partition has the log''s two policies');
select is_empty(
  $$select p.relname, r.rolname from log_partitions as p
      cross join (values ('anon'), ('authenticated'), ('service_role'), ('public')) as r (rolname)
     where r.rolname <> 'public' and has_table_privilege(r.rolname, p.oid, 'select,insert,update,delete')$$,
  'no API role holds a privilege on any partition');

-- An event of January 2031 lands in its month.
insert into public.interaction_history (user_id, interaction_type, interaction_key, created_at)
values (tests.get_supabase_uid('owner'), 'search', 'partition probe', '2031-01-20T10:00:00Z');
select is((select tableoid::regclass::text from public.interaction_history where interaction_key = 'partition probe'),
  'private.interaction_history_p2031_01', 'an event lands in its month''s partition');

select tests.authenticate_as('owner');
select results_eq($$select count(*)::int from public.interaction_history where interaction_key = 'partition probe'$$,
  array[1], 'the owner sees their event through the log');
select throws_ok('select * from private.interaction_history_p2031_01', '42501', null,
  'the owner cannot read a partition directly');
select tests.authenticate_as('stranger');
select is_empty($$select * from public.interaction_history where interaction_key = 'partition probe'$$,
  'a stranger sees none of it through the log');
select tests.authenticate_as_anon();
select throws_ok('select * from private.interaction_history_default', '42501', null,
  'anon cannot read the default partition');

-- Retention (12 months) in February 2032 moves January 2031 whole, still the owner's.
select tests.authenticate_as_service_role();
select cmp_ok(public.worker_archive_interactions(12, '2032-02-10T00:00:00Z'), '>=', 1, 'retention moves a month');
do $$
begin
  while public.worker_archive_interactions(12, '2032-02-10T00:00:00Z') > 0 loop
    null;  -- one month per call, until nothing is left
  end loop;
end;
$$;
select tests.clear_authentication();
select ok(to_regclass('private.interaction_history_p2031_01') is null
          and exists (select from private.interaction_archive where interaction_key = 'partition probe'
                         and user_id = tests.get_supabase_uid('owner')),
  'the month''s partition is gone and its event is in the archive, the owner''s');

select * from finish();
rollback;
