-- Memory system: interaction_history, the append-only event log every memory is derived from
-- (DESIGN-DOCUMENT.md table 3), and its archive for events past the 12-month retention window.

-- Tables ---------------------------------------------------------------------------------------------------------
create table public.interaction_history (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  interaction_type text not null,
  interaction_key text,
  interaction_value jsonb not null default '{}'::jsonb,
  session_id uuid,
  message_id text,
  created_at timestamptz not null default now(),
  constraint interaction_history_interaction_type_check
    check (interaction_type in ('question', 'search', 'view_item', 'cart_add', 'checkout', 'swap', 'reject_swap',
                                'message', 'preference_stated', 'voice_used')),
  constraint interaction_history_interaction_key_length check (char_length(interaction_key) between 1 and 255),
  constraint interaction_history_interaction_value_object check (jsonb_typeof(interaction_value) = 'object'),
  constraint interaction_history_interaction_value_size check (pg_column_size(interaction_value) <= 262144),
  constraint interaction_history_message_id_length check (char_length(message_id) between 1 and 255)
);

create index interaction_history_user_created_idx on public.interaction_history (user_id, created_at desc);
create index interaction_history_user_type_idx on public.interaction_history (user_id, interaction_type);
create index interaction_history_session_idx on public.interaction_history (session_id) where session_id is not null;

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

-- Grants ---------------------------------------------------------------------------------------------------------
-- Shoppers read and delete their events; they add events only through the API functions, never by INSERT.
revoke all on table public.interaction_history from public, anon, authenticated, service_role;
grant select, delete on table public.interaction_history to authenticated;
grant select, insert, update, delete on table public.interaction_history to service_role;

revoke all on table private.interaction_archive from public, anon, authenticated, service_role;

-- RLS ------------------------------------------------------------------------------------------------------------
alter table public.interaction_history enable row level security;

create policy "Shoppers can view their own interactions"
  on public.interaction_history for select to authenticated
  using ((select auth.uid()) = user_id);

create policy "Shoppers can delete their own interactions"
  on public.interaction_history for delete to authenticated
  using ((select auth.uid()) = user_id);

-- No API role can reach the private schema; RLS with no policy is the second lock on the door.
alter table private.interaction_archive enable row level security;
