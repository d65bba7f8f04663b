-- Memory system: memory_insights, what the evidence adds up to (DESIGN-DOCUMENT.md table 4).
-- A projection written by the worker only: shoppers read and delete, never write what was inferred about them.

-- Table ----------------------------------------------------------------------------------------------------------
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
  constraint memory_insights_insight_type_check check (insight_type in ('persona', 'goal', 'context', 'constraint')),
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

-- Grants ---------------------------------------------------------------------------------------------------------
revoke all on table public.memory_insights from public, anon, authenticated, service_role;
grant select, delete on table public.memory_insights to authenticated;
grant select, insert, update, delete on table public.memory_insights to service_role;

-- Triggers -------------------------------------------------------------------------------------------------------
create trigger memory_insights_set_updated_at
  before update on public.memory_insights
  for each row when (old.* is distinct from new.*)
  execute function private.set_updated_at();

-- RLS ------------------------------------------------------------------------------------------------------------
alter table public.memory_insights enable row level security;

create policy "Shoppers can view their own insights"
  on public.memory_insights for select to authenticated
  using ((select auth.uid()) = user_id);

create policy "Shoppers can delete their own insights"
  on public.memory_insights for delete to authenticated
  using ((select auth.uid()) = user_id);
