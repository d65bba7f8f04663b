-- Memory: the helpers every area shares. The two guards (one for shopper-facing functions, one for worker
-- functions), the per-shopper lock, suppressions, the confidence rules and the validation basics.
--
-- How a function is written (every public function follows it):
--   security definer, set search_path = '', fully qualified names;
--   a shopper-facing function starts with `v_user_id uuid := private.require_shopper('<its name>')` and filters
--   every read and write on that id; a worker_* function starts with `perform private.require_service_role()`;
--   then `revoke all on function ... from public, anon, authenticated, service_role;` and
--   `grant execute on function ... to <the one role that calls it>;` and a comment.
-- Private helpers get the same revoke and no grant: only the security definer functions (as their owner) run them.

-- Guards ---------------------------------------------------------------------------------------------------------
-- The caller's user id from the JWT, or a 42501 error that PostgREST turns into 401/403. Every client-facing
-- function is security definer (clients have no INSERT grant), so this check is what stands between a request
-- without a shopper and the tables.
create or replace function private.require_shopper(p_function text)
returns uuid
language plpgsql
stable
set search_path = ''
as $$
declare
  v_user_id uuid := (select auth.uid());
begin
  if v_user_id is null then
    raise exception using
      errcode = '42501',
      message = format('%s needs a signed-in shopper, but the request carries no JWT with a sub claim.', p_function),
      hint = 'Call it with the shopper''s access token in the Authorization header.';
  end if;
  if not exists (select from auth.users as u where u.id = v_user_id) then
    raise exception using
      errcode = '42501',
      message = format('%s needs a signed-in shopper, but shopper %s does not exist.', p_function, v_user_id);
  end if;
  return v_user_id;
end;
$$;
revoke all on function private.require_shopper(text) from public, anon, authenticated, service_role;

-- Every worker_* function starts here: they run as security definer (the queue lives in private), so they check
-- that the caller is the service role, as PostgREST or the worker's direct connection sets it.
create or replace function private.require_service_role()
returns void
language plpgsql
stable
set search_path = ''
as $$
begin
  if (select auth.role()) is distinct from 'service_role' then
    raise exception using errcode = '42501',
      message = 'Only the service role may call worker functions.';
  end if;
end;
$$;
revoke all on function private.require_service_role() from public, anon, authenticated, service_role;

-- Serialising and forgetting -------------------------------------------------------------------------------------
-- Serialise one kind of write for one shopper until the transaction ends (a transaction-level advisory lock;
-- a hash collision only costs a little extra waiting).
create or replace function private.lock_memory(p_user_id uuid, p_scope text)
returns void
language sql
volatile
set search_path = ''
as $$
  select pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(p_scope || ':' || p_user_id::text, 0));
$$;
revoke all on function private.lock_memory(uuid, text) from public, anon, authenticated, service_role;

-- Record (or refresh) a suppression. Called by the forget paths, which have already checked who is asking.
create or replace function private.suppress_memory(
  p_user_id uuid, p_memory_kind text, p_memory_type text, p_memory_key text
)
returns void
language sql
set search_path = ''
as $$
  insert into private.memory_suppressions as s (user_id, memory_kind, memory_type, memory_key)
  values (p_user_id, p_memory_kind, p_memory_type, p_memory_key)
  on conflict (user_id, memory_kind, memory_type, memory_key) do update set forgotten_at = now();
$$;
revoke all on function private.suppress_memory(uuid, text, text, text) from public, anon, authenticated, service_role;

-- The moment before which evidence for this memory must be ignored ('-infinity' when nothing was forgotten).
create or replace function private.evidence_since(
  p_user_id uuid, p_memory_kind text, p_memory_type text, p_memory_key text
)
returns timestamptz
language sql
stable
set search_path = ''
as $$
  select coalesce(
    (select s.forgotten_at from private.memory_suppressions as s
      where s.user_id = p_user_id and s.memory_kind = p_memory_kind
        and s.memory_type = p_memory_type and s.memory_key = p_memory_key),
    '-infinity'::timestamptz);
$$;
revoke all on function private.evidence_since(uuid, text, text, text) from public, anon, authenticated, service_role;

-- The confidence rules: confidence is a probability, calibrated per claim type on the training months ---------
-- Each type's constants and floor are private.claim_model's, generated from their recorded fit into
-- 12_memory_claim_model.sql (`make claim-model`).

-- The calibrated probability of a claim with evidence (x1, x2, x3), capped at 0.95 (inferred); NULL for a type
-- that is not derived.
create or replace function private.claim_probability(
  p_claim text, p_x1 double precision, p_x2 double precision, p_x3 double precision
)
returns numeric
language sql
immutable
set search_path = ''
as $$
  select least(0.95, round((1 / (1 + pg_catalog.exp(-greatest(-30, least(30,
           m.b0::float8 + m.b1::float8 * coalesce(p_x1, 0) + m.b2::float8 * coalesce(p_x2, 0)
           + m.b3::float8 * coalesce(p_x3, 0))))))::numeric, 2))
    from private.claim_model(p_claim) as m;
$$;
revoke all on function private.claim_probability(text, double precision, double precision, double precision) from public, anon, authenticated, service_role;

-- Below this probability a claim of the type is not stored (when unsure, store less).
create or replace function private.claim_floor(p_claim text)
returns numeric
language sql
immutable
set search_path = ''
as $$
  select m.min_probability from private.claim_model(p_claim) as m;
$$;
revoke all on function private.claim_floor(text) from public, anon, authenticated, service_role;

-- Whether an inferred diet may be presented as a dietary restriction: only when the benchmark measured its
-- precision at 0.95 or more. None has (vegetarian from purchases: see benchmarks/RESULTS.md), so an inferred
-- diet is a habit ("usually buys no meat"), never a restriction.
create or replace function private.inferred_diet_is_restriction(p_key text)
returns boolean
language sql
immutable
set search_path = ''
as $$
  select false;
$$;
revoke all on function private.inferred_diet_is_restriction(text) from public, anon, authenticated, service_role;

-- Validation -----------------------------------------------------------------------------------------------------
-- A JSON value for an error message: short enough to read, quoted as JSON.
create or replace function private.json_excerpt(p_value jsonb)
returns text
language sql
immutable
set search_path = ''
as $$
  select case when p_value is null then 'missing'
              when char_length(p_value::text) > 60 then left(p_value::text, 57) || '...'
              else p_value::text end;
$$;
revoke all on function private.json_excerpt(jsonb) from public, anon, authenticated, service_role;

-- Fail the call with a validation helper's sentence (SQLSTATE 22023, which PostgREST answers with 400);
-- nothing when there is no problem.
create or replace function private.raise_invalid(p_problem text)
returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_problem is not null then
    raise exception using errcode = '22023', message = p_problem;
  end if;
end;
$$;
revoke all on function private.raise_invalid(text) from public, anon, authenticated, service_role;

-- The per-shopper volume ---------------------------------------------------------------------------------------
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

-- The log's monthly partitions ------------------------------------------------------------------------------------
-- Make the partitions of interaction_history for every month from p_from to p_to (UTC months), each
-- private.interaction_history_pYYYY_MM with RLS, the log's two policies and no grant (clients reach the log through
-- the parent only). Rows of such a month already in the default partition move into the new one, partition to
-- partition (the parent's triggers do not fire: nothing was recorded or deleted). The worker calls it ahead of
-- time (worker_archive_interactions, hourly); returns how many partitions it made.
create or replace function private.ensure_interaction_partitions(p_from timestamptz, p_to timestamptz)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_month date;
  v_name text;
  v_start timestamptz;
  v_end timestamptz;
  v_count integer := 0;
begin
  if p_from is null or p_to is null or p_to < p_from or p_to > p_from + interval '10 years' then
    raise exception using errcode = '22023', message = 'The partitions must span from a moment to a later one within ten years.';
  end if;
  v_month := pg_catalog.date_trunc('month', p_from at time zone 'UTC')::date;
  while v_month <= pg_catalog.date_trunc('month', p_to at time zone 'UTC')::date loop
    v_name := 'interaction_history_p' || pg_catalog.to_char(v_month, 'YYYY_MM');
    v_start := v_month::timestamp at time zone 'UTC';
    v_end := (v_month + interval '1 month')::timestamp at time zone 'UTC';
    if pg_catalog.to_regclass('private.' || v_name) is null then
      if exists (select from private.interaction_history_default as d
                  where d.created_at >= v_start and d.created_at < v_end) then
        -- The month's rows wait in the default partition: a table of the log's shape takes them, then joins the log.
        execute pg_catalog.format(
          'create table private.%I (like public.interaction_history including defaults including constraints)', v_name);
        execute pg_catalog.format(
          'with moved as (delete from private.interaction_history_default as d where d.created_at >= %L '
          'and d.created_at < %L returning d.*) insert into private.%I select * from moved', v_start, v_end, v_name);
        execute pg_catalog.format(
          'alter table public.interaction_history attach partition private.%I for values from (%L) to (%L)',
          v_name, v_start, v_end);
      else
        execute pg_catalog.format(
          'create table private.%I partition of public.interaction_history for values from (%L) to (%L)',
          v_name, v_start, v_end);
      end if;
      execute pg_catalog.format('revoke all on table private.%I from public, anon, authenticated, service_role', v_name);
      execute pg_catalog.format('alter table private.%I enable row level security', v_name);
      execute pg_catalog.format('create policy "Shoppers can view their own interactions" on private.%I for select '
                                'to authenticated using ((select auth.uid()) = user_id)', v_name);
      execute pg_catalog.format('create policy "Shoppers can delete their own interactions" on private.%I for delete '
                                'to authenticated using ((select auth.uid()) = user_id)', v_name);
      execute pg_catalog.format('comment on table private.%I is %L', v_name,
                                'The events of one month (UTC) of interaction_history; retention moves it whole.');
      v_count := v_count + 1;
    end if;
    v_month := v_month + interval '1 month';
  end loop;
  return v_count;
end;
$$;
revoke all on function private.ensure_interaction_partitions(timestamptz, timestamptz)
  from public, anon, authenticated, service_role;

-- The months an install starts with: the last 13 (an import of the past year lands in months, not the default)
-- and the next 3.
select private.ensure_interaction_partitions(now() - interval '13 months', now() + interval '3 months');
