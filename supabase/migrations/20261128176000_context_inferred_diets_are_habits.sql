-- Memory in the prompt (issue 10): "Allergies" and "Dietary Restrictions" carry only what the shopper said, or an
-- inference whose benchmark precision is >= 0.95 (private.inferred_diet_is_restriction: none today); any other
-- inferred diet is a habit (section `habits`, under the confidence floor like every inference), never a restriction.
--
-- The function as the schema file defines it (supabase/schemas/42_context_helpers.sql), after the other changes of
-- 2026-11-28 to it (section bounds, typed empty terms): this migration must run after them, so its timestamp is
-- later than every helper's range.

create or replace function private.compose_memory_context(p_user_id uuid, p_min_confidence numeric, p_query text)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_terms text[] := '{}'::text[];
  v_pattern text;
  v_substrings text[];
  v_result jsonb;
begin
  if p_query is not null then
    v_terms := private.memory_query_terms(p_query);
    if cardinality(v_terms) > 0 then
      -- Word-prefix match (`\m` + term): "egg" finds "eggs", "organic" finds "organic-milk".
      v_pattern := '\m(' || array_to_string(v_terms, '|') || ')';
      v_substrings := array(select '%' || t.term || '%' from unnest(v_terms) as t(term));
    end if;
  end if;

  with candidates as (
    -- section_no: 1 allergies, 2 dietary, 3 dislikes, 4 favorites, 5 brands, 6 patterns, 7 insights, 8 habits;
    -- words: what a query is matched against (only with a query). A diet is a restriction only when the shopper
    -- said it, or when its inference has measured precision >= 0.95; otherwise it is a habit, under the floor.
    select case when p.preference_type = 'dietary' and p.source <> 'explicit'
                     and not private.inferred_diet_is_restriction(p.preference_key) then 8
                else case p.preference_type when 'allergy' then 1 when 'dietary' then 2 when 'dislike' then 3
                                            when 'favorite' then 4 else 5 end end as section_no,
           p.id, p.preference_type as memory_type, p.preference_key as memory_key,
           p.preference_value as memory_value, p.confidence, p.reason, p.source,
           p.times_confirmed as evidence_count, coalesce(p.last_confirmed_at, p.updated_at) as seen_at,
           p.updated_at, null::jsonb as figures, null::timestamptz as expires_at,
           case when v_pattern is not null
                then lower(concat_ws(' ', p.preference_key, p.preference_value, p.reason)) end as words
    from public.customer_preferences as p
    where p.user_id = p_user_id
      and ((p.preference_type = 'allergy' or (p.preference_type = 'dietary'
                                              and (p.source = 'explicit'
                                                   or private.inferred_diet_is_restriction(p.preference_key))))
           or p.confidence >= p_min_confidence)
    union all
    select 6, sp.id, sp.pattern_type, sp.pattern_key, null, sp.confidence, null, 'pattern',
           sp.occurrence_count, sp.last_occurrence, sp.updated_at, sp.pattern_value, null,
           case when v_pattern is not null then lower(sp.pattern_type || ' ' || sp.pattern_key) end
    from public.shopping_patterns as sp
    where sp.user_id = p_user_id
      and sp.last_occurrence >= now() - private.pattern_recency()
    union all
    select 7, mi.id, mi.insight_type, mi.insight_key, mi.insight_value, mi.confidence, null, 'inferred',
           null, mi.updated_at, mi.updated_at, mi.supporting_data, mi.expires_at,
           case when v_pattern is not null
                then lower(concat_ws(' ', mi.insight_type, mi.insight_key, mi.insight_value)) end
    from public.memory_insights as mi
    where mi.user_id = p_user_id
      and (mi.expires_at is null or mi.expires_at > now())
  ),
  scored as (
    -- relevance: how many times the query's terms start a word of the item (0 without a query). The substring
    -- test first, because the regular expression costs about 2 us a row and most rows match no term.
    select c.*,
           case when c.words is null or not c.words like any (v_substrings) then 0
                else regexp_count(translate(c.words, '_-:', '   '), v_pattern) end as relevance
    from candidates as c
  ),
  ranked as (
    select c.*,
           row_number() over by_rank as section_rank,
           count(*) over (partition by c.section_no) as section_total
    from scored as c
    window by_rank as (partition by c.section_no
                       order by c.relevance desc, c.confidence desc, c.seen_at desc,
                                c.evidence_count desc nulls last, c.id)
  ),
  within_caps as (
    -- The size budget, first per section: 25 allergies, 10 dietary restrictions, 5 dislikes, 5 favorites,
    -- 4 brands, 4 patterns, 5 insights, 3 habits.
    select r.*
    from ranked as r
    where r.section_rank <= (array[25, 10, 5, 5, 4, 4, 5, 3])[r.section_no]
  ),
  chosen as (
    -- ... then overall: at most 16 non-safety items, the most relevant, confident and recent.
    select w.*
    from (select w.*,
                 row_number() over (partition by w.section_no <= 2
                                    order by w.relevance desc, w.confidence desc, w.seen_at desc,
                                             w.evidence_count desc nulls last, w.id) as overall_rank
          from within_caps as w) as w
    where w.section_no <= 2 or w.overall_rank <= 16
  ),
  sections as (
    select c.section_no, max(c.section_total) - count(*) as left_out,
           jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
             'id', c.id, 'type', c.memory_type, 'key', c.memory_key, 'value', private.clip_text(c.memory_value),
             'confidence', c.confidence,
             -- A pattern's or an insight's reason is its figures, in words: "orders: 24, range: 18:00-21:00".
             'reason', private.clip_text(coalesce(c.reason,
                            (select string_agg(f.key || ': ' || f.value, ', ' order by f.key)
                               from jsonb_each_text(c.figures) as f
                              where jsonb_typeof(c.figures -> f.key) not in ('object', 'array')))),
             'source', c.source,
             'evidence_count', coalesce(c.evidence_count,
                                        (select count(*)::integer from jsonb_object_keys(c.figures))),
             'updated_at', c.updated_at, 'last_seen_at', c.seen_at,
             'relevance', c.relevance, 'figures', c.figures, 'expires_at', c.expires_at))
             order by c.section_rank) as items
    from chosen as c
    group by c.section_no
  ),
  -- Sections the overall cap emptied still count what they left out.
  emptied as (
    select r.section_no, max(r.section_total) as left_out
    from within_caps as r
    where not exists (select 1 from sections as s where s.section_no = r.section_no)
    group by r.section_no
  ),
  named as (
    select (array['allergies', 'dietary', 'dislikes', 'favorites', 'brands', 'patterns', 'insights',
                  'habits'])[s.section_no]
             as section, s.items, s.left_out
    from (select s.section_no, s.items, s.left_out from sections as s
          union all
          select e.section_no, null, e.left_out from emptied as e) as s
  )
  select
    jsonb_build_object(
      'generated_at', now(), 'min_confidence', p_min_confidence, 'query', p_query,
      'query_terms', to_jsonb(v_terms),
      'allergies', '[]'::jsonb, 'dietary', '[]'::jsonb, 'dislikes', '[]'::jsonb, 'favorites', '[]'::jsonb,
      'brands', '[]'::jsonb, 'patterns', '[]'::jsonb, 'insights', '[]'::jsonb, 'habits', '[]'::jsonb)
    || coalesce(jsonb_object_agg(n.section, n.items) filter (where n.items is not null), '{}')
    || jsonb_build_object('omitted',
                          coalesce(jsonb_object_agg(n.section, n.left_out) filter (where n.left_out > 0), '{}'))
    into v_result
  from named as n;

  return v_result;
end;
$$;
revoke all on function private.compose_memory_context(uuid, numeric, text) from public, anon, authenticated, service_role;
