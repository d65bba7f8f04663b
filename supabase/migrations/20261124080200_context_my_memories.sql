-- Memory system: my_memories, every memory of the signed-in shopper, one row each (DESIGN-DOCUMENT.md "View
-- Memories": GET /rest/v1/my_memories).
--
-- What counts as a memory: what the system believes about the shopper (preferences, patterns, insights). The raw
-- event log (interaction_history) is not: it is the evidence, possibly thousands of rows, already readable by the
-- shopper as its own table, and shown per memory by explain_memory. forget_memory accepts an event id as well.
--
-- security_invoker = true: the view runs under the caller's RLS (a view owned by postgres would bypass it), and
-- each branch also filters on (select auth.uid()) so that a request reads one user's index range, not the table.

-- Views ----------------------------------------------------------------------------------------------------------
create or replace view public.my_memories
with (security_invoker = true)
as
  select p.id, 'preference'::text as memory_kind, p.preference_type as memory_type, p.preference_key as memory_key,
         coalesce(p.preference_value, p.preference_key) as summary, p.confidence, p.source, p.reason,
         p.times_confirmed as evidence_count, null::jsonb as details,
         p.created_at, p.updated_at, null::timestamptz as expires_at
  from public.customer_preferences as p
  where p.user_id = (select auth.uid())
  union all
  select sp.id, 'pattern', sp.pattern_type, sp.pattern_key,
         sp.pattern_type || ': ' || sp.pattern_key, sp.confidence, 'pattern',
         format('Seen in %s orders, last on %s', sp.occurrence_count, to_char(sp.last_occurrence, 'YYYY-MM-DD')),
         sp.occurrence_count, sp.pattern_value,
         sp.created_at, sp.updated_at, null
  from public.shopping_patterns as sp
  where sp.user_id = (select auth.uid())
  union all
  select mi.id, 'insight', mi.insight_type, mi.insight_key,
         mi.insight_value, mi.confidence, 'inferred', mi.insight_value,
         (select count(*)::integer from jsonb_object_keys(mi.supporting_data)), mi.supporting_data,
         mi.created_at, mi.updated_at, mi.expires_at
  from public.memory_insights as mi
  where mi.user_id = (select auth.uid());

comment on view public.my_memories is
  'Every memory of the signed-in shopper, one row each: preferences, shopping patterns and insights. The events '
  'they came from are in interaction_history; explain_memory(id) shows them, forget_memory(id) deletes one.';
comment on column public.my_memories.memory_kind is 'preference, pattern or insight: which table holds it.';
comment on column public.my_memories.memory_type is 'Its type within that table (dietary, time_of_day, persona, ...).';
comment on column public.my_memories.summary is 'What is remembered, in a few words.';
comment on column public.my_memories.reason is 'Why it is believed.';
comment on column public.my_memories.evidence_count is 'How much evidence supports it (times confirmed, orders, supporting facts).';
comment on column public.my_memories.details is 'The figures behind a pattern or an insight.';

-- Grants ---------------------------------------------------------------------------------------------------------
-- Under the legacy regime a new view in public is granted to anon and authenticated by default: take it back.
revoke all on table public.my_memories from public, anon, authenticated, service_role;
grant select on table public.my_memories to authenticated;
