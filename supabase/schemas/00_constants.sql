-- The private schema, and what every other file shares: the type lists, the pattern window, and the trigger every
-- table uses. Each constant is written here once; tables, functions and error messages use these.
--
-- `public` holds only what clients may see (the four memory tables under RLS, the API functions, my_memories);
-- internals (archive, job queue, suppressions, the precomputed documents, helper functions) live in `private`,
-- which PostgREST does not expose and no API role may use.

-- Schema ---------------------------------------------------------------------------------------------------------
create schema if not exists private;
revoke all on schema private from public;
comment on schema private is 'Internals of the customer memory system; not exposed through the Data API.';

-- The type lists ---------------------------------------------------------------------------------------------
-- Each list is written once, here. The tables' CHECK constraints allow exactly these values (so a refused row
-- still names the table's constraint), and every function that validates a type, or lists the types in an error
-- message (private.in_words), reads the same list. A CHECK runs its functions as whoever writes the row, so the
-- lists are executable by the service role (the only API role that writes these tables directly); they hold no
-- data.
create or replace function private.preference_types()
returns text[]
language sql
immutable
set search_path = ''
as $$
  select array['dietary', 'allergy', 'dislike', 'favorite', 'brand'];
$$;
revoke all on function private.preference_types() from public, anon, authenticated, service_role;
grant execute on function private.preference_types() to service_role;

create or replace function private.pattern_types()
returns text[]
language sql
immutable
set search_path = ''
as $$
  select array['time_of_day', 'day_of_week', 'frequency', 'basket_size', 'category_preference'];
$$;
revoke all on function private.pattern_types() from public, anon, authenticated, service_role;
grant execute on function private.pattern_types() to service_role;

create or replace function private.insight_types()
returns text[]
language sql
immutable
set search_path = ''
as $$
  select array['persona', 'goal', 'context', 'constraint'];
$$;
revoke all on function private.insight_types() from public, anon, authenticated, service_role;
grant execute on function private.insight_types() to service_role;

create or replace function private.interaction_types()
returns text[]
language sql
immutable
set search_path = ''
as $$
  select array['question', 'search', 'view_item', 'cart_add', 'checkout', 'swap', 'reject_swap', 'message',
               'preference_stated', 'voice_used'];
$$;
revoke all on function private.interaction_types() from public, anon, authenticated, service_role;
-- The log's CHECK calls it, and the planner evaluates a partition's CHECK when a shopper reads the log (constraint
-- exclusion): a constant list, so the shoppers' role may run it too.
grant execute on function private.interaction_types() to authenticated, service_role;

-- The worker's job kinds besides a shopper's recompute: maintenance (no shopper), and the periodic runs that queue
-- it. The queue's CHECKs, the worker functions that take a kind or a name, and the worker
-- (worker/runtime/store.py, held equal by tests/test_type_lists.py) read these lists.
create or replace function private.maintenance_kinds()
returns text[]
language sql
immutable
set search_path = ''
as $$
  select array['retention', 'expiry', 'contexts'];
$$;
revoke all on function private.maintenance_kinds() from public, anon, authenticated, service_role;
grant execute on function private.maintenance_kinds() to service_role;

create or replace function private.periodic_run_names()
returns text[]
language sql
immutable
set search_path = ''
as $$
  select array['sweep', 'expiry', 'retention'];
$$;
revoke all on function private.periodic_run_names() from public, anon, authenticated, service_role;
grant execute on function private.periodic_run_names() to service_role;

-- A list for a sentence: 'dietary, allergy, dislike, favorite or brand'.
create or replace function private.in_words(p_values text[])
returns text
language sql
immutable
set search_path = ''
as $$
  select case when cardinality(p_values) <= 1 then p_values[1]
              else pg_catalog.array_to_string(p_values[1:cardinality(p_values) - 1], ', ')
                   || ' or ' || p_values[cardinality(p_values)] end;
$$;
revoke all on function private.in_words(text[]) from public, anon, authenticated, service_role;

-- The pattern window: the worker derives patterns, purchase favourites, brand shares and insights from the
-- checkouts of this window, and memory_context shows a pattern until its last occurrence leaves it (the stored
-- document's valid_until is derived from it too).
create or replace function private.pattern_recency()
returns interval
language sql
immutable
set search_path = ''
as $$
  select interval '90 days';
$$;
revoke all on function private.pattern_recency() from public, anon, authenticated, service_role;

-- A pattern is stored only when the shopper's share of the bucket is at least this many times the share of shoppers
-- in general (private.pattern_population): "buys dairy" is true of nearly everyone and tells the assistant nothing.
-- 1.2 on the benchmark: benchmarks/RESULTS.md ("Learning on the holdout", lift threshold).
create or replace function private.pattern_min_lift()
returns numeric
language sql
immutable
set search_path = ''
as $$
  select 1.2;
$$;
revoke all on function private.pattern_min_lift() from public, anon, authenticated, service_role;

-- Helpers: every table -------------------------------------------------------------------------------------------
-- Keeps updated_at honest whatever the writer (API function, worker, dashboard). Only real changes count: an
-- upsert that rewrites the same values leaves updated_at alone.
create or replace function private.set_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end;
$$;
revoke all on function private.set_updated_at() from public, anon, authenticated, service_role;
comment on function private.set_updated_at() is 'Trigger: sets updated_at to the transaction time on every real change of a row.';

-- The per-shopper limits, in one place (docs/api.md, "Limits").
create or replace function private.volume_limit(p_name text)
returns bigint
language sql
immutable
set search_path = ''
as $$
  select case p_name
           when 'events' then 100000
           when 'event_bytes' then 67108864
           when 'stated_preferences' then 500
           when 'stated_insights' then 100
           when 'export_document_bytes' then 134217728
         end::bigint;
$$;
revoke all on function private.volume_limit(text) from public, anon, authenticated, service_role;
comment on function private.volume_limit(text) is
  'Per-shopper limits: events (100,000) and event_bytes (64 MiB) in the live log, stated_preferences (500), '
  'stated_insights (100), export_document_bytes (128 MiB: past it, export_memories_page).';
