-- Memory system: customer_preferences, what a shopper likes, avoids or must avoid (DESIGN-DOCUMENT.md table 1).

-- Table ----------------------------------------------------------------------------------------------------------
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
  constraint customer_preferences_preference_type_check
    check (preference_type in ('dietary', 'allergy', 'dislike', 'favorite', 'brand')),
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

-- Grants ---------------------------------------------------------------------------------------------------------
-- Explicit under both grant regimes: the legacy default grants ALL to anon and authenticated, so take it back.
revoke all on table public.customer_preferences from public, anon, authenticated, service_role;
grant select, delete on table public.customer_preferences to authenticated;
grant select, insert, update, delete on table public.customer_preferences to service_role;

-- Triggers -------------------------------------------------------------------------------------------------------
create trigger customer_preferences_set_updated_at
  before update on public.customer_preferences
  for each row when (old.* is distinct from new.*)
  execute function private.set_updated_at();

-- RLS ------------------------------------------------------------------------------------------------------------
alter table public.customer_preferences enable row level security;

create policy "Shoppers can view their own preferences"
  on public.customer_preferences for select to authenticated
  using ((select auth.uid()) = user_id);

create policy "Shoppers can delete their own preferences"
  on public.customer_preferences for delete to authenticated
  using ((select auth.uid()) = user_id);
