-- Memory system: my_memories shows the removal a shopper asked for in chat and has not confirmed (an allergy or a
-- diet; see 20261128172000_worker_pending_removals), so the shopper's page can ask them to confirm or reject it.
-- Appended after last_confirmed_at (create or replace view may only add columns at the end); it sorts after
-- 20261128175000 for that reason.

-- Views ----------------------------------------------------------------------------------------------------------
create or replace view public.my_memories
with (security_invoker = true)
as
  select p.id, 'preference'::text as memory_kind, p.preference_type as memory_type, p.preference_key as memory_key,
         coalesce(p.preference_value, p.preference_key) as summary, p.confidence, p.source, p.reason,
         p.times_confirmed as evidence_count, null::jsonb as details,
         p.created_at, p.updated_at, null::timestamptz as expires_at,
         coalesce(p.last_confirmed_at, p.updated_at) as last_confirmed_at,
         p.pending_removal as pending_change
  from public.customer_preferences as p
  where p.user_id = (select auth.uid())
  union all
  select sp.id, 'pattern', sp.pattern_type, sp.pattern_key,
         sp.pattern_type || ': ' || sp.pattern_key, sp.confidence, 'pattern',
         format('Seen in %s orders, last on %s', sp.occurrence_count, to_char(sp.last_occurrence, 'YYYY-MM-DD')),
         sp.occurrence_count, sp.pattern_value,
         sp.created_at, sp.updated_at, null,
         sp.last_occurrence, null
  from public.shopping_patterns as sp
  where sp.user_id = (select auth.uid())
  union all
  select mi.id, 'insight', mi.insight_type, mi.insight_key,
         mi.insight_value, mi.confidence, 'inferred', mi.insight_value,
         (select count(*)::integer from jsonb_object_keys(mi.supporting_data)), mi.supporting_data,
         mi.created_at, mi.updated_at, mi.expires_at,
         mi.updated_at, null
  from public.memory_insights as mi
  where mi.user_id = (select auth.uid());

comment on column public.my_memories.pending_change is
  'A removal the shopper asked for in chat and has not confirmed (allergies and diets): confirm_pending_change or '
  'reject_pending_change answers it. Null when none is pending.';
