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
  evidence jsonb,
  pending_removal jsonb,
  constraint customer_preferences_user_type_key_key unique (user_id, preference_type, preference_key),
  constraint customer_preferences_preference_type_check check (preference_type = any (private.preference_types())),
  constraint customer_preferences_source_check check (source in ('explicit', 'inferred', 'pattern')),
  constraint customer_preferences_confidence_range check (confidence between 0 and 1),
  -- 1.00 is reserved for what the shopper said; inference stops at 0.95 (docs/learning.md, two sources).
  constraint customer_preferences_inferred_confidence_cap check (source = 'explicit' or confidence <= 0.95),
  constraint customer_preferences_preference_key_length check (char_length(preference_key) between 1 and 255),
  constraint customer_preferences_preference_value_length check (char_length(preference_value) <= 2000),
  constraint customer_preferences_reason_length check (char_length(reason) <= 1000),
  constraint customer_preferences_times_confirmed_nonnegative check (times_confirmed >= 0),
  constraint customer_preferences_evidence_size check (evidence is null or pg_catalog.pg_column_size(evidence) <= 16384),
  constraint customer_preferences_pending_removal_object check (
    pending_removal is null or (jsonb_typeof(pending_removal) = 'object' and pg_column_size(pending_removal) <= 4096))
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
comment on column public.customer_preferences.evidence is
  'For an inferred preference, the evidence it was derived from: the rule, its figures and the ids of the '
  'interactions behind it (at most 20, newest first). explain_memory shows it.';
comment on column public.customer_preferences.pending_removal is
  'A removal the shopper asked for in a chat message and has not confirmed yet (allergies and diets only): '
  '{requested_at, interaction_id, message, extractor}. Null when none is pending.';

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
-- Partitioned by month of created_at (private.interaction_history_pYYYY_MM, made ahead by
-- private.ensure_interaction_partitions; a default partition takes what no month holds), so that retention moves
-- whole months to the archive instead of scanning the log. The key is (id, created_at), as a partitioned table's
-- must hold its partition key; ids are random UUIDs.
create table public.interaction_history (
  id uuid not null default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  interaction_type text not null,
  interaction_key text,
  interaction_value jsonb not null default '{}'::jsonb,
  session_id uuid,
  message_id text,
  created_at timestamptz not null default now(),
  constraint interaction_history_pkey primary key (id, created_at),
  constraint interaction_history_interaction_type_check check (interaction_type = any (private.interaction_types())),
  constraint interaction_history_interaction_key_length check (char_length(interaction_key) between 1 and 255),
  constraint interaction_history_interaction_value_object check (jsonb_typeof(interaction_value) = 'object'),
  constraint interaction_history_interaction_value_size check (pg_column_size(interaction_value) <= 262144),
  constraint interaction_history_message_id_length check (char_length(message_id) between 1 and 255)
) partition by range (created_at);
create table private.interaction_history_default partition of public.interaction_history default;

create index interaction_history_user_created_idx on public.interaction_history (user_id, created_at desc);
create index interaction_history_user_type_idx on public.interaction_history (user_id, interaction_type);
create index interaction_history_session_idx on public.interaction_history (session_id) where session_id is not null;

comment on table public.interaction_history is
  'Append-only log of what a shopper did (cart adds, checkouts, swaps, messages); every memory is derived from it.';
comment on column public.interaction_history.interaction_type is
  'question, search, view_item, cart_add, checkout, swap, reject_swap, message, preference_stated or voice_used.';
comment on column public.interaction_history.interaction_key is 'What it was about: recipe_request, a SKU, accepted.';
comment on column public.interaction_history.interaction_value is 'The full event as a JSON object (at most 256 KiB).';
comment on table private.interaction_history_default is
  'Events of a month without a partition of its own (private.ensure_interaction_partitions moves them when it makes one).';

-- Events older than the retention window (12 months) move here. Same shape, still the shopper's: visible to them
-- and deleted with them, through the API functions only.
create table private.interaction_archive (
  like public.interaction_history including defaults including constraints,
  archived_at timestamptz not null default now(),
  constraint interaction_archive_pkey primary key (id),
  constraint interaction_archive_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade
);
create index interaction_archive_user_created_idx on private.interaction_archive (user_id, created_at desc);

-- Retention's progress through a month (public.worker_archive_interactions): the shoppers of a month copied to the
-- archive, and how much of their volume it held, until the month is dropped and they are caught up.
create table private.retention_moves (
  month text not null,
  user_id uuid not null,
  events bigint not null,
  event_bytes bigint not null,
  constraint retention_moves_pkey primary key (month, user_id),
  constraint retention_moves_month_length check (char_length(month) between 1 and 63)
);
comment on table private.retention_moves is
  'Shoppers of a month retention copied to the archive, until its partition is dropped and they are caught up.';

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
  source text not null default 'inferred',
  status text not null default 'active',
  ended jsonb,
  constraint memory_insights_user_type_key_key unique (user_id, insight_type, insight_key),
  constraint memory_insights_insight_type_check check (insight_type = any (private.insight_types())),
  constraint memory_insights_confidence_range check (confidence between 0 and 1),
  -- 1.00 is for what the shopper said or confirmed; inference stops at 0.95.
  constraint memory_insights_inferred_confidence_cap check (source <> 'inferred' or confidence <= 0.95),
  constraint memory_insights_source_check check (source in ('explicit', 'confirmed', 'inferred')),
  constraint memory_insights_status_check check (status in ('active', 'question', 'ended')),
  -- A question is a suggestion the shopper has not answered: only inference asks.
  constraint memory_insights_question_is_inferred check (status <> 'question' or source = 'inferred'),
  constraint memory_insights_ended_when_ended check (
    (status = 'ended') = (ended is not null)
    and (ended is null or (jsonb_typeof(ended) = 'object' and pg_column_size(ended) <= 4096))),
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
comment on column public.memory_insights.source is
  'explicit (the shopper said it in chat), confirmed (the shopper answered Yes to a question) or inferred (from '
  'behaviour, only where the learning benchmark measured precision >= 0.90).';
comment on column public.memory_insights.status is
  'active (in the prompt), question (a suggestion shown on the page as a question, never in the prompt, until the '
  'shopper answers Yes) or ended (the shopper said it no longer holds: kept visible with the change, out of the prompt).';
comment on column public.memory_insights.ended is
  'For an ended insight, what ended it: {ended_at, interaction_id, message, extractor}. Null otherwise.';

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

-- private.shopper_volume: how much each shopper holds, for the per-shopper limits (private.volume_limit) ------------
create table private.shopper_volume (
  user_id uuid primary key references auth.users (id) on delete cascade,
  events bigint not null default 0,
  event_bytes bigint not null default 0,
  constraint shopper_volume_events_nonnegative check (events >= 0),
  constraint shopper_volume_event_bytes_nonnegative check (event_bytes >= 0)
);
comment on table private.shopper_volume is
  'How many events (and bytes of event values) each shopper holds in the live log, kept by triggers, for the limits.';
