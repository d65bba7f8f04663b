-- Baseline of the memory area: the project's first 18 migrations (2026-11-24), squashed before its first release.
-- It equals 00_constants.sql, 10_memory_tables.sql, 11_memory_rls_grants.sql, 12_memory_helpers.sql of supabase/schemas/ as they were when it was written;
-- the drift test holds migrations and schema files to the same database. Never edit it: a change is a new
-- migration plus the same edit in the schema file, in the same commit (README, Conventions).

-- ==== supabase/schemas/00_constants.sql =========================================================================

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
grant execute on function private.interaction_types() to service_role;

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

-- ==== supabase/schemas/10_memory_tables.sql =====================================================================

-- Memory: the four tables of the design document and the private tables beside them (the archive, suppressions).
-- Grants, RLS and policies are in 11_memory_rls_grants.sql.

-- customer_preferences: what a shopper likes, avoids or must avoid (DESIGN-DOCUMENT.md table 1) ------------------
create table public.customer_preferences (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  preference_type text not null,
  preference_key text not null,
  preference_value text,
  confidence numeric(3, 2) not null default 0.50,
  reason text,
  source text not null default 'inferred',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  last_confirmed_at timestamptz,
  times_confirmed integer not null default 0,
  constraint customer_preferences_user_type_key_key unique (user_id, preference_type, preference_key),
  constraint customer_preferences_preference_type_check check (preference_type = any (private.preference_types())),
  constraint customer_preferences_source_check check (source in ('explicit', 'inferred', 'pattern')),
  constraint customer_preferences_confidence_range check (confidence between 0 and 1),
  -- 1.00 is reserved for what the shopper said; inference stops at 0.95 (ARCHITECTURE.md, confidence rules).
  constraint customer_preferences_inferred_confidence_cap check (source = 'explicit' or confidence <= 0.95),
  constraint customer_preferences_preference_key_length check (char_length(preference_key) between 1 and 255),
  constraint customer_preferences_preference_value_length check (char_length(preference_value) <= 2000),
  constraint customer_preferences_reason_length check (char_length(reason) <= 1000),
  constraint customer_preferences_times_confirmed_nonnegative check (times_confirmed >= 0)
);
-- The unique key's index leads with (user_id, preference_type), so it serves both lookups the design document
-- indexes separately (by user, by user and type); two more indexes would only slow every upsert.

comment on table public.customer_preferences is
  'What a shopper prefers, avoids or must avoid: stated (explicit, confidence 1.00) or inferred from behaviour (at most 0.95).';
comment on column public.customer_preferences.preference_type is 'dietary, allergy, dislike, favorite or brand.';
comment on column public.customer_preferences.preference_key is 'What the preference is about: vegetarian, peanuts, great-value, milk-whole-gal.';
comment on column public.customer_preferences.confidence is '0.00 to 1.00; 1.00 only for what the shopper said.';
comment on column public.customer_preferences.reason is 'Why the system believes it, in words a shopper can read.';
comment on column public.customer_preferences.source is 'explicit (the shopper said it), inferred (from events) or pattern (from purchase statistics).';
comment on column public.customer_preferences.times_confirmed is 'How many pieces of evidence support it.';

-- shopping_patterns: when and how a shopper shops (DESIGN-DOCUMENT.md table 2) -----------------------------------
-- A projection of interaction_history written by the worker only: shoppers read and delete, never write.
create table public.shopping_patterns (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  pattern_type text not null,
  -- not null: the unique key below would let NULL keys repeat without limit.
  pattern_key text not null,
  pattern_value jsonb not null default '{}'::jsonb,
  confidence numeric(3, 2) not null default 0.50,
  occurrence_count integer not null default 1,
  last_occurrence timestamptz not null default now(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint shopping_patterns_user_type_key_key unique (user_id, pattern_type, pattern_key),
  constraint shopping_patterns_pattern_type_check check (pattern_type = any (private.pattern_types())),
  constraint shopping_patterns_confidence_range check (confidence between 0 and 1),
  constraint shopping_patterns_inferred_confidence_cap check (confidence <= 0.95),
  constraint shopping_patterns_pattern_key_length check (char_length(pattern_key) between 1 and 255),
  constraint shopping_patterns_pattern_value_object check (jsonb_typeof(pattern_value) = 'object'),
  constraint shopping_patterns_pattern_value_size check (pg_column_size(pattern_value) <= 16384),
  constraint shopping_patterns_occurrence_count_nonnegative check (occurrence_count >= 0)
);
-- As for preferences, the unique key's index serves the design document's (user) and (user, type) lookups.

comment on table public.shopping_patterns is
  'When and how a shopper shops, derived from their checkouts of the last 90 days; written by the worker only.';
comment on column public.shopping_patterns.pattern_type is 'time_of_day, day_of_week, frequency, basket_size or category_preference.';
comment on column public.shopping_patterns.pattern_key is 'The bucket: evening, saturday, weekly, medium, dairy.';
comment on column public.shopping_patterns.pattern_value is 'The figures behind it: orders, total_orders, range, avg_days, avg_items, avg_total, percentage.';
comment on column public.shopping_patterns.occurrence_count is 'How many orders fall into this bucket.';

-- interaction_history: the append-only event log every memory is derived from (DESIGN-DOCUMENT.md table 3) -------
create table public.interaction_history (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  interaction_type text not null,
  interaction_key text,
  interaction_value jsonb not null default '{}'::jsonb,
  session_id uuid,
  message_id text,
  created_at timestamptz not null default now(),
  constraint interaction_history_interaction_type_check check (interaction_type = any (private.interaction_types())),
  constraint interaction_history_interaction_key_length check (char_length(interaction_key) between 1 and 255),
  constraint interaction_history_interaction_value_object check (jsonb_typeof(interaction_value) = 'object'),
  constraint interaction_history_interaction_value_size check (pg_column_size(interaction_value) <= 262144),
  constraint interaction_history_message_id_length check (char_length(message_id) between 1 and 255)
);

create index interaction_history_user_created_idx on public.interaction_history (user_id, created_at desc);
create index interaction_history_user_type_idx on public.interaction_history (user_id, interaction_type);
create index interaction_history_session_idx on public.interaction_history (session_id) where session_id is not null;
-- The favourite rule counts a shopper's cart adds of one SKU on every add; this keeps that an index-only range
-- scan whatever the shopper's history, and costs nothing for the other event types.
create index interaction_history_cart_add_idx
  on public.interaction_history (user_id, interaction_key, created_at)
  where interaction_type = 'cart_add';

comment on table public.interaction_history is
  'Append-only log of what a shopper did (cart adds, checkouts, swaps, messages); every memory is derived from it.';
comment on column public.interaction_history.interaction_type is
  'question, search, view_item, cart_add, checkout, swap, reject_swap, message, preference_stated or voice_used.';
comment on column public.interaction_history.interaction_key is 'What it was about: recipe_request, a SKU, accepted.';
comment on column public.interaction_history.interaction_value is 'The full event as a JSON object (at most 256 KiB).';

-- Events older than the retention window (12 months) move here. Same shape, still the shopper's: visible to them
-- and deleted with them, through the API functions only.
create table private.interaction_archive (
  like public.interaction_history including defaults including constraints,
  archived_at timestamptz not null default now(),
  constraint interaction_archive_pkey primary key (id),
  constraint interaction_archive_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade
);
create index interaction_archive_user_created_idx on private.interaction_archive (user_id, created_at desc);

comment on table private.interaction_archive is 'Interactions past the 12-month retention window, kept for their owner.';

-- memory_insights: what the evidence adds up to (DESIGN-DOCUMENT.md table 4) -------------------------------------
-- A projection written by the worker only: shoppers read and delete, never write what was inferred about them.
create table public.memory_insights (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  insight_type text not null,
  insight_key text not null,
  insight_value text not null,
  confidence numeric(3, 2) not null default 0.50,
  supporting_data jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  expires_at timestamptz,
  constraint memory_insights_user_type_key_key unique (user_id, insight_type, insight_key),
  constraint memory_insights_insight_type_check check (insight_type = any (private.insight_types())),
  constraint memory_insights_confidence_range check (confidence between 0 and 1),
  constraint memory_insights_inferred_confidence_cap check (confidence <= 0.95),
  constraint memory_insights_insight_key_length check (char_length(insight_key) between 1 and 255),
  constraint memory_insights_insight_value_length check (char_length(insight_value) between 1 and 1000),
  constraint memory_insights_supporting_data_object check (jsonb_typeof(supporting_data) = 'object'),
  constraint memory_insights_supporting_data_size check (pg_column_size(supporting_data) <= 16384)
);

create index memory_insights_expires_idx on public.memory_insights (expires_at) where expires_at is not null;

comment on table public.memory_insights is
  'Higher-level conclusions (persona, goal, context, constraint) with the evidence behind them; written by the worker only.';
comment on column public.memory_insights.supporting_data is 'The evidence: counts, shares and ids of the interactions it came from.';
comment on column public.memory_insights.expires_at is 'When a time-bound insight stops being true unless new evidence renews it.';

-- private.memory_suppressions: what a shopper told us to forget --------------------------------------------------
-- Forgetting a memory deletes it and records a suppression, so that evidence from before the moment it was
-- forgotten never brings it back. Every inference path (the recording functions, the worker's derivations)
-- counts only evidence newer than `forgotten_at`; an explicit statement made after it clears the suppression.
create table private.memory_suppressions (
  user_id uuid not null references auth.users (id) on delete cascade,
  memory_kind text not null,
  memory_type text not null,
  memory_key text not null,
  forgotten_at timestamptz not null default now(),
  constraint memory_suppressions_pkey primary key (user_id, memory_kind, memory_type, memory_key),
  constraint memory_suppressions_memory_kind_check check (memory_kind in ('preference', 'pattern', 'insight')),
  constraint memory_suppressions_memory_key_length check (char_length(memory_key) between 1 and 255)
);

comment on table private.memory_suppressions is
  'Memories a shopper asked us to forget; evidence at or before forgotten_at never infers them again.';

-- Triggers -------------------------------------------------------------------------------------------------------
create trigger customer_preferences_set_updated_at
  before update on public.customer_preferences
  for each row when (old.* is distinct from new.*)
  execute function private.set_updated_at();

create trigger shopping_patterns_set_updated_at
  before update on public.shopping_patterns
  for each row when (old.* is distinct from new.*)
  execute function private.set_updated_at();

create trigger memory_insights_set_updated_at
  before update on public.memory_insights
  for each row when (old.* is distinct from new.*)
  execute function private.set_updated_at();

-- ==== supabase/schemas/11_memory_rls_grants.sql =================================================================

-- Memory: who may touch the memory tables. One pattern for every table: revoke everything from every API role
-- (explicit under both grant regimes: the legacy default grants ALL on a new table to anon and authenticated),
-- then grant each role exactly what it needs; RLS on every table; one policy per table, command and role.
--
-- Shoppers read and delete their own rows; they add events only through the API functions and never write what
-- was inferred about them. The service role (the worker) reads and writes everything. Private tables are reached
-- only through security definer functions: no API role may use the schema, and RLS with no policy is the second
-- lock on the door.

-- Grants ---------------------------------------------------------------------------------------------------------
revoke all on table public.customer_preferences from public, anon, authenticated, service_role;
grant select, delete on table public.customer_preferences to authenticated;
grant select, insert, update, delete on table public.customer_preferences to service_role;

revoke all on table public.shopping_patterns from public, anon, authenticated, service_role;
grant select, delete on table public.shopping_patterns to authenticated;
grant select, insert, update, delete on table public.shopping_patterns to service_role;

revoke all on table public.interaction_history from public, anon, authenticated, service_role;
grant select, delete on table public.interaction_history to authenticated;
grant select, insert, update, delete on table public.interaction_history to service_role;

revoke all on table public.memory_insights from public, anon, authenticated, service_role;
grant select, delete on table public.memory_insights to authenticated;
grant select, insert, update, delete on table public.memory_insights to service_role;

revoke all on table private.interaction_archive from public, anon, authenticated, service_role;
revoke all on table private.memory_suppressions from public, anon, authenticated, service_role;

-- RLS and policies -----------------------------------------------------------------------------------------------
alter table public.customer_preferences enable row level security;

create policy "Shoppers can view their own preferences"
  on public.customer_preferences for select to authenticated
  using ((select auth.uid()) = user_id);

create policy "Shoppers can delete their own preferences"
  on public.customer_preferences for delete to authenticated
  using ((select auth.uid()) = user_id);

alter table public.shopping_patterns enable row level security;

create policy "Shoppers can view their own patterns"
  on public.shopping_patterns for select to authenticated
  using ((select auth.uid()) = user_id);

create policy "Shoppers can delete their own patterns"
  on public.shopping_patterns for delete to authenticated
  using ((select auth.uid()) = user_id);

alter table public.interaction_history enable row level security;

create policy "Shoppers can view their own interactions"
  on public.interaction_history for select to authenticated
  using ((select auth.uid()) = user_id);

create policy "Shoppers can delete their own interactions"
  on public.interaction_history for delete to authenticated
  using ((select auth.uid()) = user_id);

alter table public.memory_insights enable row level security;

create policy "Shoppers can view their own insights"
  on public.memory_insights for select to authenticated
  using ((select auth.uid()) = user_id);

create policy "Shoppers can delete their own insights"
  on public.memory_insights for delete to authenticated
  using ((select auth.uid()) = user_id);

alter table private.interaction_archive enable row level security;
alter table private.memory_suppressions enable row level security;

-- ==== supabase/schemas/12_memory_helpers.sql ====================================================================

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
