-- Memory system: shopping_patterns, when and how a shopper shops (DESIGN-DOCUMENT.md table 2).
-- A projection of interaction_history written by the worker only: shoppers read and delete, never write.

-- Table ----------------------------------------------------------------------------------------------------------
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
  constraint shopping_patterns_pattern_type_check
    check (pattern_type in ('time_of_day', 'day_of_week', 'frequency', 'basket_size', 'category_preference')),
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

-- Grants ---------------------------------------------------------------------------------------------------------
revoke all on table public.shopping_patterns from public, anon, authenticated, service_role;
grant select, delete on table public.shopping_patterns to authenticated;
grant select, insert, update, delete on table public.shopping_patterns to service_role;

-- Triggers -------------------------------------------------------------------------------------------------------
create trigger shopping_patterns_set_updated_at
  before update on public.shopping_patterns
  for each row when (old.* is distinct from new.*)
  execute function private.set_updated_at();

-- RLS ------------------------------------------------------------------------------------------------------------
alter table public.shopping_patterns enable row level security;

create policy "Shoppers can view their own patterns"
  on public.shopping_patterns for select to authenticated
  using ((select auth.uid()) = user_id);

create policy "Shoppers can delete their own patterns"
  on public.shopping_patterns for delete to authenticated
  using ((select auth.uid()) = user_id);
