-- Memory API: the private helpers every recording function shares (identity, validation of items, the one write
-- path into interaction_history, and the confidence rules), and the index the cart-add rule counts with.
--
-- Conventions (CONTRACTS.md): private helpers take `p_` parameters; public functions refer to their own arguments
-- qualified by the function name and to columns through a table alias. Every validation helper returns NULL for
-- a good value or a full sentence naming the field; the caller raises it with SQLSTATE 22023 before writing.

-- Indexes --------------------------------------------------------------------------------------------------------
-- The favourite rule counts a shopper's cart adds of one SKU on every add; this keeps that an index-only range
-- scan whatever the shopper's history, and costs nothing for the other event types.
create index interaction_history_cart_add_idx
  on public.interaction_history (user_id, interaction_key, created_at)
  where interaction_type = 'cart_add';

-- Helpers: identity ----------------------------------------------------------------------------------------------
-- The caller's user id from the JWT, or a 42501 error that PostgREST turns into 401/403. Every client-facing
-- function is security definer (clients have no INSERT grant), so this check is what stands between a request
-- without a shopper and the tables.
create or replace function private.require_shopper(p_function text)
returns uuid
language plpgsql
stable
set search_path = ''
as $$
declare
  v_user_id uuid := (select auth.uid());
begin
  if v_user_id is null then
    raise exception using
      errcode = '42501',
      message = format('%s needs a signed-in shopper, but the request carries no JWT with a sub claim.', p_function),
      hint = 'Call it with the shopper''s access token in the Authorization header.';
  end if;
  if not exists (select from auth.users as u where u.id = v_user_id) then
    raise exception using
      errcode = '42501',
      message = format('%s needs a signed-in shopper, but shopper %s does not exist.', p_function, v_user_id);
  end if;
  return v_user_id;
end;
$$;
revoke all on function private.require_shopper(text) from public, anon, authenticated, service_role;

-- Serialise one kind of write for one shopper until the transaction ends (a transaction-level advisory lock;
-- a hash collision only costs a little extra waiting).
create or replace function private.lock_memory(p_user_id uuid, p_scope text)
returns void
language sql
volatile
set search_path = ''
as $$
  select pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(p_scope || ':' || p_user_id::text, 0));
$$;
revoke all on function private.lock_memory(uuid, text) from public, anon, authenticated, service_role;

-- Helpers: the confidence rules (ARCHITECTURE.md section 4), one definition for the API and the worker --------------
-- A SKU added to the cart more than 5 times (since any suppression) is a favourite with this confidence;
-- NULL when it is not a favourite yet.
create or replace function private.cart_add_favorite_confidence(adds integer)
returns numeric
language sql
immutable
set search_path = ''
as $$
  select case when adds > 5 then least(0.95, 0.50 + adds * 0.05)::numeric(3, 2) end;
$$;
revoke all on function private.cart_add_favorite_confidence(integer) from public, anon, authenticated, service_role;
comment on function private.cart_add_favorite_confidence(integer) is
  'Favourite confidence from cart adds: min(0.95, 0.5 + adds * 0.05) when adds > 5, otherwise NULL (not a favourite).';

-- A brand's confidence after one more swap: accepted (as the replacement) +0.10, rejected (as the original)
-- +0.15, from 0.50 for a brand with no row yet, capped at 0.95 because it is inferred.
create or replace function private.swap_brand_confidence(p_current numeric, p_accepted boolean)
returns numeric
language sql
immutable
set search_path = ''
as $$
  select least(0.95, coalesce(p_current, 0.50) + case when p_accepted then 0.10 else 0.15 end)::numeric(3, 2);
$$;
revoke all on function private.swap_brand_confidence(numeric, boolean) from public, anon, authenticated, service_role;

-- Helpers: validation ----------------------------------------------------------------------------------------------
-- A JSON value for an error message: short enough to read, quoted as JSON.
create or replace function private.json_excerpt(p_value jsonb)
returns text
language sql
immutable
set search_path = ''
as $$
  select case when p_value is null then 'missing'
              when char_length(p_value::text) > 60 then left(p_value::text, 57) || '...'
              else p_value::text end;
$$;
revoke all on function private.json_excerpt(jsonb) from public, anon, authenticated, service_role;

-- Fail the call with a validation helper's sentence (SQLSTATE 22023, which PostgREST answers with 400);
-- nothing when there is no problem.
create or replace function private.raise_invalid(p_problem text)
returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_problem is not null then
    raise exception using errcode = '22023', message = p_problem;
  end if;
end;
$$;
revoke all on function private.raise_invalid(text) from public, anon, authenticated, service_role;

-- An item (a cart add, a checkout line, a side of a swap): {"sku", "name", "category", "brand", "price",
-- "quantity", "tags"}. sku is required; price and quantity too when `p_priced` (a checkout line). Other fields are
-- kept as sent. `p_path` names the item in the message: item, checkout.items[2], events[3].interaction_value.
create or replace function private.item_problem(p_item jsonb, p_path text, p_priced boolean)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  v_field text;
  v_value jsonb;
begin
  if p_item is null or jsonb_typeof(p_item) <> 'object' then
    return format('%s must be a JSON object describing the item, not %s.', p_path,
                  coalesce(jsonb_typeof(p_item), 'missing'));
  end if;

  v_value := nullif(p_item -> 'sku', 'null'::jsonb);
  if v_value is null then
    return format('%s.sku is required: every item needs its SKU.', p_path);
  end if;
  if jsonb_typeof(v_value) <> 'string' or btrim(v_value #>> '{}') = '' or char_length(v_value #>> '{}') > 255 then
    return format('%s.sku must be a non-empty string of at most 255 characters, not %s.', p_path,
                  private.json_excerpt(v_value));
  end if;

  foreach v_field in array array['name', 'category', 'brand'] loop
    v_value := nullif(p_item -> v_field, 'null'::jsonb);
    if v_value is not null and (jsonb_typeof(v_value) <> 'string' or btrim(v_value #>> '{}') = ''
                                or char_length(v_value #>> '{}') > 255) then
      return format('%s.%s must be a non-empty string of at most 255 characters, not %s.', p_path, v_field,
                    private.json_excerpt(v_value));
    end if;
  end loop;

  v_value := nullif(p_item -> 'price', 'null'::jsonb);
  if v_value is null then
    if p_priced then
      return format('%s.price is required: the price paid for one unit.', p_path);
    end if;
  elsif jsonb_typeof(v_value) <> 'number' then
    return format('%s.price must be a number, not %s.', p_path, private.json_excerpt(v_value));
  elsif v_value::numeric < 0 or v_value::numeric > 100000 then
    return format('%s.price must be between 0 and 100000, not %s.', p_path, v_value);
  end if;

  v_value := nullif(p_item -> 'quantity', 'null'::jsonb);
  if v_value is null then
    if p_priced then
      return format('%s.quantity is required: how many units were bought.', p_path);
    end if;
  elsif jsonb_typeof(v_value) <> 'number' then
    return format('%s.quantity must be a whole number from 1 to 1000, not %s.', p_path, private.json_excerpt(v_value));
  elsif v_value::numeric <> trunc(v_value::numeric) or v_value::numeric < 1 or v_value::numeric > 1000 then
    return format('%s.quantity must be a whole number from 1 to 1000, not %s.', p_path, v_value);
  end if;

  v_value := nullif(p_item -> 'tags', 'null'::jsonb);
  if v_value is not null then
    if jsonb_typeof(v_value) <> 'array' or jsonb_array_length(v_value) > 50 then
      return format('%s.tags must be an array of at most 50 strings, not %s.', p_path, private.json_excerpt(v_value));
    end if;
    -- A JSON path, not a query: this runs for every item of a batch.
    if jsonb_path_exists(v_value, '$[*] ? (@.type() != "string" || !(@ like_regex "^.{1,100}$" flag "s"))') then
      return format('%s.tags must hold only non-empty strings of at most 100 characters, not %s.', p_path,
                    private.json_excerpt(v_value));
    end if;
  end if;
  return null;
end;
$$;
revoke all on function private.item_problem(jsonb, text, boolean) from public, anon, authenticated, service_role;

-- Helpers: the one write path ----------------------------------------------------------------------------------------
-- Append validated events ([{interaction_type, interaction_key, interaction_value, session_id, message_id}]) for
-- a shopper and return their ids in order; a cart add's key is its SKU. Then apply the cart-add favourite rule to
-- the SKUs added. Every recording function writes through here.
--
-- Concurrency: the rule counts committed cart adds, so two transactions adding the same SKU at once could each
-- miss the other's event and lose an increment. A per-shopper transaction lock, taken before counting, orders
-- them: the second counts after the first has committed. The upsert itself never fails on the unique key.
create or replace function private.insert_events(p_user_id uuid, p_events jsonb)
returns uuid[]
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_ids uuid[];
  v_has_cart_adds boolean := p_events @? '$[*] ? (@.interaction_type == "cart_add")';
  v_has_suppressions boolean;
begin
  if v_has_cart_adds then
    perform private.lock_memory(p_user_id, 'favorite-from-cart-adds');
  end if;

  with new_events as (
    select pg_catalog.gen_random_uuid() as id, e.ord, e.event
      from jsonb_array_elements(p_events) with ordinality as e(event, ord)
  ), inserted as (
    insert into public.interaction_history
      (id, user_id, interaction_type, interaction_key, interaction_value, session_id, message_id)
    select n.id, p_user_id, n.event ->> 'interaction_type',
           case when n.event ->> 'interaction_type' = 'cart_add' then n.event -> 'interaction_value' ->> 'sku'
                else n.event ->> 'interaction_key' end,
           coalesce(nullif(n.event -> 'interaction_value', 'null'::jsonb), '{}'::jsonb),
           (n.event ->> 'session_id')::uuid,
           n.event ->> 'message_id'
      from new_events as n
  )
  select array_agg(n.id order by n.ord) into v_ids from new_events as n;

  if v_has_cart_adds then
    -- Most shoppers never forgot a favourite: then no SKU needs its own evidence_since lookup.
    v_has_suppressions := exists (select from private.memory_suppressions as ms
                                   where ms.user_id = p_user_id and ms.memory_kind = 'preference'
                                     and ms.memory_type = 'favorite');
    -- Run as a one-off plan (EXECUTE), planned for this shopper and these SKUs: a cached generic plan may count
    -- through interaction_history_user_type_idx, scanning every cart add of the shopper for every SKU.
    execute $favorites$
      insert into public.customer_preferences as cp
        (user_id, preference_type, preference_key, confidence, reason, source, times_confirmed, last_confirmed_at)
      select $1, 'favorite', c.sku, private.cart_add_favorite_confidence(c.adds),
             format('Added to cart %s times', c.adds), 'inferred', c.adds, now()
        from (
          select s.sku,
                 (select count(*)::integer from public.interaction_history as ih
                   where ih.user_id = $1 and ih.interaction_type = 'cart_add' and ih.interaction_key = s.sku
                     and ih.created_at > s.since) as adds
            from (select d.sku,
                         case when $3
                              then private.evidence_since($1, 'preference', 'favorite', d.sku)
                              else '-infinity'::timestamptz end as since
                    from (select distinct e.event -> 'interaction_value' ->> 'sku' as sku
                            from jsonb_array_elements($2) as e(event)
                           where e.event ->> 'interaction_type' = 'cart_add') as d
                  -- A fence: each SKU's evidence_since is computed once, and the count becomes an index-only range
                  -- scan of interaction_history_cart_add_idx (pulled up, the call would be a filter on every row).
                  offset 0) as s
          offset 0  -- and each SKU is counted once, not once for the filter and once for the row
        ) as c
       where private.cart_add_favorite_confidence(c.adds) is not null
      on conflict on constraint customer_preferences_user_type_key_key do update
        set confidence = excluded.confidence, reason = excluded.reason, source = excluded.source,
            times_confirmed = excluded.times_confirmed, last_confirmed_at = excluded.last_confirmed_at
        -- Ours to recount; a purchase pattern only when the cart adds are stronger evidence; never what was said.
        where cp.source = 'inferred' or (cp.source = 'pattern' and excluded.confidence > cp.confidence);
    $favorites$ using p_user_id, p_events, v_has_suppressions;
  end if;
  return v_ids;
end;
$$;
revoke all on function private.insert_events(uuid, jsonb) from public, anon, authenticated, service_role;
