-- Memory system: memory_context, the memory the assistant puts into its system prompt (ARCHITECTURE.md section 6,
-- DESIGN-DOCUMENT.md "Memory Context Injection").
--
-- One call, one JSON document, one indexed lookup per memory table (each table's unique key leads with user_id).
-- Runs as the caller (security invoker): RLS lets a shopper read their own rows, which is all it needs, and the
-- explicit `user_id = auth.uid()` filter keeps the lookup on the index whatever the policies.

-- Public RPCs ----------------------------------------------------------------------------------------------------
create or replace function public.memory_context(min_confidence numeric default 0.70, query text default null)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_user uuid := (select auth.uid());
  v_terms text[] := '{}';
  v_pattern text;
  v_result jsonb;
begin
  if v_user is null then
    raise exception using errcode = '42501',
      message = 'Sign in first: memory_context returns the memory of the signed-in shopper only.';
  end if;
  if memory_context.min_confidence is null or memory_context.min_confidence < 0 or memory_context.min_confidence > 1 then
    raise exception using errcode = '22023',
      message = 'min_confidence must be a number between 0 and 1 (default 0.70).';
  end if;
  if char_length(memory_context.query) > 1000 then
    raise exception using errcode = '22023', message = 'query must be at most 1000 characters long.';
  end if;

  -- The query's words, lower-cased, stop words dropped, a plural "s" trimmed, plus a few grocery synonyms so that
  -- "milk" also finds dairy patterns and "chicken" finds what is said about meat. Matching is by word prefix
  -- (`\m` + term), so "egg" finds "eggs" and "organic" finds "organic-milk".
  if memory_context.query is not null then
    with words as (
      select distinct case when w ~ '[^s]s$' and char_length(w) > 3 then left(w, -1) else w end as term
      from regexp_split_to_table(lower(memory_context.query), '[^a-z0-9]+') as w
      where char_length(w) >= 3
        and w not in ('the', 'and', 'for', 'with', 'what', 'which', 'should', 'could', 'would', 'can', 'get', 'buy',
                      'need', 'want', 'some', 'any', 'you', 'your', 'our', 'are', 'does', 'make', 'give', 'show',
                      'find', 'please', 'about', 'from', 'this', 'that', 'have', 'has', 'best', 'good', 'like',
                      'how', 'who', 'why', 'when', 'where', 'there', 'them', 'they', 'tonight', 'today', 'idea',
                      'ideas', 'suggest', 'recommend', 'into', 'out', 'all', 'more', 'much', 'many', 'got')
    ),
    synonyms (term, related) as (
      values ('milk', 'dairy'), ('milk', 'lactose'), ('cheese', 'dairy'), ('cheese', 'lactose'),
             ('yogurt', 'dairy'), ('yoghurt', 'yogurt'), ('butter', 'dairy'), ('cream', 'dairy'),
             ('cream', 'lactose'), ('egg', 'dairy'), ('chicken', 'meat'), ('chicken', 'poultry'),
             ('beef', 'meat'), ('pork', 'meat'), ('turkey', 'meat'), ('bacon', 'meat'), ('ham', 'meat'),
             ('sausage', 'meat'), ('steak', 'meat'), ('fish', 'seafood'), ('fish', 'meat'), ('salmon', 'seafood'),
             ('salmon', 'meat'), ('tuna', 'seafood'), ('shrimp', 'seafood'), ('shrimp', 'shellfish'),
             ('peanut', 'nut'), ('almond', 'nut'), ('bread', 'bakery'), ('bread', 'gluten'), ('pasta', 'gluten'),
             ('recipe', 'meal'), ('dinner', 'meal'), ('lunch', 'meal'), ('breakfast', 'meal'),
             ('apple', 'produce'), ('banana', 'produce'), ('avocado', 'produce'), ('tomato', 'produce'),
             ('vegetable', 'produce'), ('fruit', 'produce'), ('cheap', 'budget'), ('save', 'budget'),
             ('saving', 'budget'), ('deal', 'budget'), ('healthy', 'health'), ('organic', 'health'))
    select coalesce(array_agg(distinct t.term), '{}') into v_terms
    from (
      select w.term from words as w
      union all
      select s.related from words as w join synonyms as s on s.term = w.term
    ) as t;
    -- A bound on the work per call, whatever the query; one regular expression for all the terms (they are
    -- [a-z0-9]+, so nothing in them needs escaping). Relevance = how many times the terms occur in an item.
    v_terms := v_terms[1:24];
    if cardinality(v_terms) > 0 then
      v_pattern := '\m(' || array_to_string(v_terms, '|') || ')';
    end if;
  end if;

  -- One pass: the candidates (one index range per table), scored, ranked within their section and then overall,
  -- aggregated per section. Every CTE is referenced once, so the planner inlines them all.
  with candidates as (
    select
      case p.preference_type when 'allergy' then 'allergies' when 'dietary' then 'dietary'
        when 'dislike' then 'dislikes' when 'favorite' then 'favorites' else 'brands' end as section,
      p.id, p.preference_type as memory_type, p.preference_key as memory_key, p.preference_value as memory_value,
      p.confidence, p.reason, p.source, p.times_confirmed as evidence_count,
      coalesce(p.last_confirmed_at, p.updated_at) as seen_at, p.updated_at,
      null::jsonb as figures, null::timestamptz as expires_at,
      concat_ws(' ', p.preference_key, p.preference_value, p.reason) as haystack
    from public.customer_preferences as p
    where p.user_id = v_user
      -- Safety first: allergies and dietary restrictions whatever the floor.
      and (p.preference_type in ('allergy', 'dietary') or p.confidence >= memory_context.min_confidence)
    union all
    select
      'patterns', sp.id, sp.pattern_type, sp.pattern_key, null, sp.confidence, null, 'pattern',
      sp.occurrence_count, sp.last_occurrence, sp.updated_at, sp.pattern_value, null,
      sp.pattern_type || ' ' || sp.pattern_key
    from public.shopping_patterns as sp
    where sp.user_id = v_user
      and sp.confidence >= memory_context.min_confidence
      and sp.last_occurrence >= now() - interval '90 days'
    union all
    select
      'insights', mi.id, mi.insight_type, mi.insight_key, mi.insight_value, mi.confidence, null, 'inferred',
      null, mi.updated_at, mi.updated_at, mi.supporting_data, mi.expires_at,
      concat_ws(' ', mi.insight_type, mi.insight_key, mi.insight_value)
    from public.memory_insights as mi
    where mi.user_id = v_user
      and mi.confidence >= memory_context.min_confidence
      and (mi.expires_at is null or mi.expires_at > now())
  ),
  ranked as (
    select c.*,
      row_number() over (partition by c.section
                         order by c.relevance desc, c.confidence desc, c.seen_at desc,
                                  c.evidence_count desc nulls last, c.id) as section_rank
    from (
      select c.*,
        case when v_pattern is null then 0 else regexp_count(c.words, v_pattern) end as relevance,
        c.section in ('allergies', 'dietary') as safety
      from (select c.*, case when v_pattern is not null then translate(lower(c.haystack), '_-:', '   ') end as words
              from candidates as c) as c
    ) as c
  ),
  capped as (
    -- The size budget: a cap per section, then one overall, so that a heavy shopper's block stays short.
    select r.*,
      r.safety or r.section_rank <= case r.section when 'dislikes' then 5 when 'favorites' then 5
                                                   when 'brands' then 4 when 'patterns' then 4 else 4 end
        as within_section
    from ranked as r
  ),
  chosen as (
    select c.*,
      c.safety or (c.within_section
                   and row_number() over (partition by c.safety, c.within_section
                                          order by c.relevance desc, c.confidence desc, c.seen_at desc,
                                                   c.evidence_count desc nulls last, c.id) <= 16) as chosen
    from capped as c
  ),
  sections as (
    select
      ch.section,
      jsonb_agg(
        jsonb_strip_nulls(jsonb_build_object(
          'id', ch.id, 'type', ch.memory_type, 'key', ch.memory_key, 'value', ch.memory_value,
          'confidence', ch.confidence,
          -- A pattern's or an insight's reason is its figures, in words: "orders: 24, range: 18:00-21:00".
          'reason', coalesce(ch.reason, (select string_agg(f.key || ': ' || f.value, ', ' order by f.key)
                                           from jsonb_each_text(ch.figures) as f
                                          where jsonb_typeof(ch.figures -> f.key) not in ('object', 'array'))),
          'source', ch.source,
          'evidence_count', coalesce(ch.evidence_count,
                                     (select count(*)::integer from jsonb_object_keys(ch.figures))),
          'updated_at', ch.updated_at, 'last_seen_at', ch.seen_at,
          'relevance', ch.relevance, 'figures', ch.figures, 'expires_at', ch.expires_at))
        order by ch.section_rank) filter (where ch.chosen) as items,
      count(*) filter (where not ch.chosen) as left_out
    from chosen as ch
    group by ch.section
  )
  select
    jsonb_build_object(
      'generated_at', now(), 'min_confidence', memory_context.min_confidence, 'query', memory_context.query,
      'query_terms', to_jsonb(v_terms),
      'allergies', '[]'::jsonb, 'dietary', '[]'::jsonb, 'dislikes', '[]'::jsonb, 'favorites', '[]'::jsonb,
      'brands', '[]'::jsonb, 'patterns', '[]'::jsonb, 'insights', '[]'::jsonb)
    || coalesce(jsonb_object_agg(s.section, s.items) filter (where s.items is not null), '{}')
    || jsonb_build_object('omitted',
                          coalesce(jsonb_object_agg(s.section, s.left_out) filter (where s.left_out > 0), '{}'))
    into v_result
  from sections as s;

  return v_result;
end;
$$;
revoke execute on function public.memory_context(numeric, text) from public, anon, authenticated, service_role;
grant execute on function public.memory_context(numeric, text) to authenticated;
comment on function public.memory_context(numeric, text) is
  'The signed-in shopper''s memory for the assistant''s system prompt: allergies and dietary restrictions always, '
  'then dislikes, favorites, brands, patterns of the last 90 days and unexpired insights at or above min_confidence, '
  'ranked by relevance to query, confidence and recency, capped per section and overall. Each item carries its id, '
  'confidence, reason, source and evidence count; omitted counts what the caps left out.';
