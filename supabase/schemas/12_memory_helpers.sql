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

-- The confidence rules (ARCHITECTURE.md section 4), one definition for the API and the worker --------------------
-- A SKU added to the cart more than 5 times (since any suppression) is a favourite with this confidence;
-- NULL when it is not a favourite yet.
create or replace function private.cart_add_favorite_confidence(adds integer)
returns numeric
language sql
immutable
set search_path = ''
as $$
  select case when adds > 5 then least(0.95, 0.50 + adds * 0.05)::numeric(3, 2) end;
$$;
revoke all on function private.cart_add_favorite_confidence(integer) from public, anon, authenticated, service_role;
comment on function private.cart_add_favorite_confidence(integer) is
  'Favourite confidence from cart adds: min(0.95, 0.5 + adds * 0.05) when adds > 5, otherwise NULL (not a favourite).';

-- Favourite confidence from purchases: the cart-add formula of the API (private.cart_add_favorite_confidence,
-- min(0.95, 0.5 + n * 0.05)) with a lower threshold, 3 orders, because a purchase is stronger evidence than an
-- add; NULL below it.
create or replace function private.purchase_favorite_confidence(p_orders integer)
returns numeric
language sql
immutable
set search_path = ''
as $$
  select case when p_orders >= 3 then least(0.95, 0.50 + p_orders * 0.05)::numeric(3, 2) end;
$$;
revoke all on function private.purchase_favorite_confidence(integer) from public, anon, authenticated, service_role;

-- A brand's confidence after one more swap: accepted (as the replacement) +0.10, rejected (as the original)
-- +0.15, from 0.50 for a brand with no row yet, capped at 0.95 because it is inferred.
create or replace function private.swap_brand_confidence(p_current numeric, p_accepted boolean)
returns numeric
language sql
immutable
set search_path = ''
as $$
  select least(0.95, coalesce(p_current, 0.50) + case when p_accepted then 0.10 else 0.15 end)::numeric(3, 2);
$$;
revoke all on function private.swap_brand_confidence(numeric, boolean) from public, anon, authenticated, service_role;

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
