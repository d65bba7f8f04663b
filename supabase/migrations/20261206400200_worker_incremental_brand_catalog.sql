-- Incremental brand catalog: no full scan of the log on a timer. A trigger adds the (category, brand) pairs a new
-- checkout names that were not seen before (private.brand_catalog) and counts them in private.category_brands;
-- worker_refresh_brand_catalog stays as a rebuild on demand. The catalog is built once here from the live log.

create table private.brand_catalog (
  category text not null,
  brand text not null,
  first_seen_at timestamptz not null default now(),
  constraint brand_catalog_pkey primary key (category, brand),
  constraint brand_catalog_category_length check (char_length(category) between 1 and 255),
  constraint brand_catalog_brand_length check (char_length(brand) between 1 and 255)
);
comment on table private.brand_catalog is
  'Each brand seen in each category in any shopper''s checkout (no ids), kept by a trigger on interaction_history.';
revoke all on table private.brand_catalog from public, anon, authenticated, service_role;
alter table private.brand_catalog enable row level security;
comment on table private.category_brands is
  'How many brands shoppers bought in each category (all shoppers, no ids): a brand is a choice only where there '
  'were others. Kept current by a trigger as checkouts name new brands (private.brand_catalog); rebuilt from the '
  'log by worker_refresh_brand_catalog.';

create or replace function private.brand_catalog_add()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  with pairs as (
    select distinct pg_catalog.lower(pg_catalog.btrim(i ->> 'category')) as category, private.brand_key(i ->> 'brand') as brand
      from changed_rows as c
      cross join lateral pg_catalog.jsonb_array_elements(
        case when pg_catalog.jsonb_typeof(c.interaction_value -> 'items') = 'array'
             then c.interaction_value -> 'items' else '[]'::jsonb end) as i
     where c.interaction_type = 'checkout'
  ),
  fresh as (
    insert into private.brand_catalog (category, brand)
    select p.category, p.brand from pairs as p
     where p.category <> '' and p.brand is not null and char_length(p.category) <= 255
     order by p.category, p.brand
    on conflict (category, brand) do nothing
    returning category
  )
  insert into private.category_brands as cb (category, brands)
  select f.category, count(*)::integer from fresh as f group by f.category order by f.category
  on conflict (category) do update set brands = cb.brands + excluded.brands, refreshed_at = now();
  return null;
end;
$$;
revoke all on function private.brand_catalog_add() from public, anon, authenticated, service_role;

create trigger interaction_history_brand_catalog
  after insert on public.interaction_history
  referencing new table as changed_rows
  for each statement execute function private.brand_catalog_add();

create or replace function public.worker_refresh_brand_catalog()
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_count integer;
begin
  perform private.require_service_role();
  delete from private.brand_catalog where true;
  insert into private.brand_catalog (category, brand)
  select distinct l.category, l.brand
    from (select pg_catalog.lower(pg_catalog.btrim(i ->> 'category')) as category, private.brand_key(i ->> 'brand') as brand
            from public.interaction_history as ih
            cross join lateral pg_catalog.jsonb_array_elements(
              case when pg_catalog.jsonb_typeof(ih.interaction_value -> 'items') = 'array'
                   then ih.interaction_value -> 'items' else '[]'::jsonb end) as i
           where ih.interaction_type = 'checkout') as l
   where l.category <> '' and l.brand is not null and char_length(l.category) <= 255;
  delete from private.category_brands where true;
  insert into private.category_brands (category, brands)
  select bc.category, count(*)::integer from private.brand_catalog as bc group by bc.category;
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;
revoke all on function public.worker_refresh_brand_catalog() from public, anon, authenticated, service_role;
grant execute on function public.worker_refresh_brand_catalog() to service_role;
comment on function public.worker_refresh_brand_catalog() is
  'Worker only: rebuild the brands on offer in each category from every shopper''s orders (no ids kept); the '
  'catalog is otherwise kept current as checkouts arrive.';

-- The catalog as the log holds it now.
insert into private.brand_catalog (category, brand)
select distinct l.category, l.brand
  from (select pg_catalog.lower(pg_catalog.btrim(i ->> 'category')) as category, private.brand_key(i ->> 'brand') as brand
          from public.interaction_history as ih
          cross join lateral pg_catalog.jsonb_array_elements(
            case when pg_catalog.jsonb_typeof(ih.interaction_value -> 'items') = 'array'
                 then ih.interaction_value -> 'items' else '[]'::jsonb end) as i
         where ih.interaction_type = 'checkout') as l
 where l.category <> '' and l.brand is not null and char_length(l.category) <= 255;
delete from private.category_brands where true;
insert into private.category_brands (category, brands)
select bc.category, count(*)::integer from private.brand_catalog as bc group by bc.category;
