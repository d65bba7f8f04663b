-- Retention looks for a month still to drop among the months it noted, one index probe per month, not one row per
-- shopper: each call of its catch-up read every shopper row left (100,000 at 10 M events) and looked its month's
-- table up for each, so catching a month up took 11 s in 100 calls (benchmarks/scale.py).

create or replace function public.worker_archive_interactions(
  p_months integer, p_now timestamptz default now(), p_batch integer default 10000
)
returns integer
language plpgsql
security definer
set search_path = ''
set lock_timeout = '500ms'
as $$
declare
  v_cutoff timestamptz;
  v_month text;
  v_users uuid[];
  v_count integer;
begin
  perform private.require_service_role();
  if p_months is null or p_months < 1 then
    raise exception using errcode = '22023', message = 'The retention period must be at least one month.';
  end if;
  if p_batch is null or p_batch < 1 then
    raise exception using errcode = '22023', message = 'The batch size must be at least 1.';
  end if;
  v_cutoff := p_now - pg_catalog.make_interval(months => p_months);
  -- The recomputes these moves enqueue are maintenance: behind every shopper's own events.
  perform pg_catalog.set_config('customer_memory.maintenance', 'on', true);
  begin
    -- (2) A month copied to the archive but still in the log: drop it, holding nothing else. The months noted are
    -- read one index probe each (not one row per shopper: a month holds every shopper who shopped in it).
    with recursive months (month) as (
      (select r.month from private.retention_moves as r order by r.month limit 1)
      union all
      select (select r.month from private.retention_moves as r where r.month > m.month order by r.month limit 1)
        from months as m
       where m.month is not null
    )
    select m.month into v_month from months as m
     where m.month is not null and pg_catalog.to_regclass('private.' || m.month) is not null
     order by m.month limit 1;
    if found then
      execute pg_catalog.format('drop table private.%I', v_month);
      return 1;
    end if;
    -- (3) A dropped month's shoppers: their recompute (jobs before volume, as the log's triggers take them), at
    -- most 1,000 a call: a shopper's own call waits for this transaction if it needs their job or volume row.
    select m.month into v_month from private.retention_moves as m order by m.month limit 1;
    if found then
      select pg_catalog.array_agg(m.user_id order by m.user_id) into v_users
        from (select r.user_id from private.retention_moves as r where r.month = v_month
               order by r.user_id limit least(p_batch, 1000)) as m;
      perform private.enqueue_recompute(v_users);
      with gone as (
        delete from private.retention_moves as r where r.month = v_month and r.user_id = any (v_users)
        returning r.user_id, r.events, r.event_bytes
      )
      update private.shopper_volume as v
         set events = greatest(v.events - g.events, 0), event_bytes = greatest(v.event_bytes - g.event_bytes, 0)
        from gone as g
       where v.user_id = g.user_id;
      return pg_catalog.cardinality(v_users);
    end if;
    -- Making a partition locks the log for a moment too.
    perform private.ensure_interaction_partitions(now(), now() + interval '3 months');
    -- (1) The oldest month wholly past the window.
    for v_month in
      select c.relname
        from pg_catalog.pg_inherits as i
        join pg_catalog.pg_class as c on c.oid = i.inhrelid
       where i.inhparent = 'public.interaction_history'::regclass
         and c.relname ~ '^interaction_history_p[0-9]{4}_[0-9]{2}$'
         and (pg_catalog.to_date(substr(c.relname, 22), 'YYYY_MM') + interval '1 month')::timestamp at time zone 'UTC'
             <= v_cutoff
       order by c.relname
    loop
      -- No shopper writes into a month this old; a shopper's delete of their own rows waits until it is copied.
      execute pg_catalog.format('lock table private.%I in exclusive mode', v_month);
      execute pg_catalog.format(
        'insert into private.interaction_archive (id, user_id, interaction_type, interaction_key, interaction_value, '
        'session_id, message_id, created_at, archived_at) '
        'select m.id, m.user_id, m.interaction_type, m.interaction_key, m.interaction_value, m.session_id, '
        'm.message_id, m.created_at, $1 from private.%I as m', v_month) using p_now;
      get diagnostics v_count = row_count;
      if v_count = 0 then
        execute pg_catalog.format('drop table private.%I', v_month);  -- an empty month goes, and the next is looked at
        continue;
      end if;
      execute pg_catalog.format(
        'delete from private.extracted_messages as e using private.%I as m '
        'where e.interaction_id = m.id and m.interaction_type = %L', v_month, 'message');
      execute pg_catalog.format(
        'insert into private.retention_moves (month, user_id, events, event_bytes) '
        'select %L, m.user_id, count(*), coalesce(sum(pg_catalog.pg_column_size(m.interaction_value)), 0) '
        'from private.%I as m group by m.user_id', v_month, v_month);
      return v_count;
    end loop;
  exception when lock_not_available then
    return 0;
  end;

  -- What no month holds (an import older than the partitions, a moment with no month yet), row by row.
  with old as (
    select d.id, d.created_at from private.interaction_history_default as d
     where d.created_at < v_cutoff
     order by d.created_at
     limit p_batch
     for update skip locked
  ),
  moved as (
    delete from public.interaction_history as ih using old where ih.id = old.id and ih.created_at = old.created_at
    returning ih.id, ih.user_id, ih.interaction_type, ih.interaction_key, ih.interaction_value, ih.session_id,
              ih.message_id, ih.created_at
  )
  insert into private.interaction_archive
    (id, user_id, interaction_type, interaction_key, interaction_value, session_id, message_id, created_at, archived_at)
  select m.id, m.user_id, m.interaction_type, m.interaction_key, m.interaction_value, m.session_id, m.message_id,
         m.created_at, p_now
    from moved as m;
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;
revoke all on function public.worker_archive_interactions(integer, timestamptz, integer)
  from public, anon, authenticated, service_role;
grant execute on function public.worker_archive_interactions(integer, timestamptz, integer) to service_role;
comment on function public.worker_archive_interactions(integer, timestamptz, integer) is
  'Worker only: move interactions older than p_months to the archive, a month at a time (copy, drop, catch its '
  'shoppers up: one step per call), or at most p_batch rows no month holds; 0 when nothing is left.';
