-- Memory in the prompt: who may touch the precomputed documents. Only security definer functions (memory_context,
-- the worker's refresh, clear_memories, export_memories) read and write them.

-- Grants ---------------------------------------------------------------------------------------------------------
revoke all on table private.memory_context_cache from public, anon, authenticated, service_role;

-- RLS ------------------------------------------------------------------------------------------------------------
alter table private.memory_context_cache enable row level security;
