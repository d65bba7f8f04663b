-- Memory system: suppressions, what a shopper told us to forget.
--
-- Forgetting a memory deletes it and records a suppression, so that evidence from before the moment it was
-- forgotten never brings it back. Every inference path (the recording functions, the worker's derivations)
-- counts only evidence newer than `forgotten_at`; an explicit statement made after it clears the suppression.

-- Table ----------------------------------------------------------------------------------------------------------
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

-- Grants ---------------------------------------------------------------------------------------------------------
revoke all on table private.memory_suppressions from public, anon, authenticated, service_role;

-- RLS ------------------------------------------------------------------------------------------------------------
alter table private.memory_suppressions enable row level security;

-- Helpers --------------------------------------------------------------------------------------------------------
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
