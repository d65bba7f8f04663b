-- The shopper answers the questions inference asks (answer_insight_question), and my_memories says which insights
-- are questions or ended (status) and the reason says what ended one.

-- Questions inference asks (insights with status question: "Are you shopping for young children?"): the shopper
-- answers. Yes: the insight becomes the shopper's own (source confirmed, 1.00, in the prompt), the figures that
-- suggested it kept with when it was confirmed. No: dismissed (deleted) and suppressed, so older evidence never
-- suggests it again.
create or replace function public.answer_insight_question(memory_id uuid, answer boolean)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := private.require_shopper('answer_insight_question');
  v_insight public.memory_insights;
begin
  if answer_insight_question.memory_id is null or answer_insight_question.answer is null then
    raise exception using errcode = '22023',
      message = 'memory_id and answer are required: the id of a question (see my_memories, status question) and '
                'true for Yes or false for No.';
  end if;
  select mi.* into v_insight from public.memory_insights as mi
   where mi.id = answer_insight_question.memory_id and mi.user_id = v_user_id and mi.status = 'question'
     for update;
  if not found then
    raise exception using errcode = 'PT404', message = 'No question with that id.',
      hint = 'my_memories lists the questions (status question).';
  end if;
  if answer_insight_question.answer then
    perform private.remember_insight(
      v_user_id, v_insight.insight_type, v_insight.insight_key, v_insight.insight_value, 'confirmed',
      v_insight.supporting_data || pg_catalog.jsonb_build_object('confirmed_at', now()), null);
  else
    delete from public.memory_insights as mi where mi.id = v_insight.id;
    perform private.suppress_memory(v_user_id, 'insight', v_insight.insight_type, v_insight.insight_key);
  end if;
  return pg_catalog.jsonb_build_object(
    'answered', true, 'id', v_insight.id, 'answer', answer_insight_question.answer,
    'memory_type', v_insight.insight_type, 'memory_key', v_insight.insight_key,
    'status', case when answer_insight_question.answer then 'active' else 'dismissed' end);
end;
$$;
revoke all on function public.answer_insight_question(uuid, boolean) from public, anon, authenticated, service_role;
grant execute on function public.answer_insight_question(uuid, boolean) to authenticated;
comment on function public.answer_insight_question(uuid, boolean) is
  'The signed-in shopper answers a question suggested from their orders (an insight with status question): Yes '
  '(true) makes it theirs (source confirmed, used by the assistant); No (false) dismisses it, never suggested again '
  'from older evidence. Unknown id, someone else''s, or not a question: PT404.';

-- my_memories: every memory of the signed-in shopper, one row each (DESIGN-DOCUMENT.md "View
-- Memories": GET /rest/v1/my_memories).
--
-- What counts as a memory: what the system believes about the shopper (preferences, patterns, insights). The raw
-- event log (interaction_history) is not: it is the evidence, possibly thousands of rows, already readable by the
-- shopper as its own table, and shown per memory by explain_memory. forget_memory accepts an event id as well.
--
-- security_invoker = true: the view runs under the caller's RLS (a view owned by postgres would bypass it), and
-- each branch also filters on (select auth.uid()) so that a request reads one user's index range, not the table.
create or replace view public.my_memories
with (security_invoker = true)
as
  select p.id, 'preference'::text as memory_kind, p.preference_type as memory_type, p.preference_key as memory_key,
         coalesce(p.preference_value, p.preference_key) as summary, p.confidence, p.source, p.reason,
         p.times_confirmed as evidence_count, null::jsonb as details,
         p.created_at, p.updated_at, null::timestamptz as expires_at,
         coalesce(p.last_confirmed_at, p.updated_at) as last_confirmed_at,
         p.pending_removal as pending_change, 'active'::text as status
  from public.customer_preferences as p
  where p.user_id = (select auth.uid())
  union all
  select sp.id, 'pattern', sp.pattern_type, sp.pattern_key,
         sp.pattern_type || ': ' || sp.pattern_key, sp.confidence, 'pattern',
         format('Seen in %s orders, last on %s', sp.occurrence_count, to_char(sp.last_occurrence, 'YYYY-MM-DD')),
         sp.occurrence_count, sp.pattern_value,
         sp.created_at, sp.updated_at, null,
         sp.last_occurrence, null, 'active'
  from public.shopping_patterns as sp
  where sp.user_id = (select auth.uid())
  union all
  select mi.id, 'insight', mi.insight_type, mi.insight_key,
         mi.insight_value, mi.confidence, mi.source,
         -- Why, in words: what the shopper said (or said ended it), their Yes, or what suggested a question.
         left(case when mi.status = 'ended'
                   then format('You told us this no longer holds: "%s"', mi.ended ->> 'message')
                   when mi.status = 'question'
                   then coalesce(mi.supporting_data ->> 'because', mi.insight_value)
                   when mi.source = 'explicit'
                   then coalesce(format('You told us: "%s"', mi.supporting_data ->> 'message'), 'You told us')
                   when mi.source = 'confirmed' then 'You confirmed it'
                   else coalesce(mi.supporting_data ->> 'summary', mi.insight_value) end, 1000),
         (select count(*)::integer from jsonb_object_keys(mi.supporting_data)), mi.supporting_data,
         mi.created_at, mi.updated_at, mi.expires_at,
         mi.updated_at, null, mi.status
  from public.memory_insights as mi
  where mi.user_id = (select auth.uid());


comment on column public.my_memories.status is
  'active (used by the assistant), question (an insight suggested from the shopper''s orders, never used until they '
  'answer Yes with answer_insight_question) or ended (an insight the shopper said no longer holds).';
