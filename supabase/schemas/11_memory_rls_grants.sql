-- Memory: who may touch the memory tables. One pattern for every table: revoke everything from every API role
-- (explicit under both grant regimes: the legacy default grants ALL on a new table to anon and authenticated),
-- then grant each role exactly what it needs; RLS on every table; one policy per table, command and role.
--
-- Shoppers read and delete their own rows; they add events only through the API functions and never write what
-- was inferred about them. The service role (the worker) reads and writes everything. Private tables are reached
-- only through security definer functions: no API role may use the schema, and RLS with no policy is the second
-- lock on the door.

-- Grants ---------------------------------------------------------------------------------------------------------
revoke all on table public.customer_preferences from public, anon, authenticated, service_role;
grant select, delete on table public.customer_preferences to authenticated;
grant select, insert, update, delete on table public.customer_preferences to service_role;

revoke all on table public.shopping_patterns from public, anon, authenticated, service_role;
grant select, delete on table public.shopping_patterns to authenticated;
grant select, insert, update, delete on table public.shopping_patterns to service_role;

revoke all on table public.interaction_history from public, anon, authenticated, service_role;
grant select, delete on table public.interaction_history to authenticated;
grant select, insert, update, delete on table public.interaction_history to service_role;

revoke all on table public.memory_insights from public, anon, authenticated, service_role;
grant select, delete on table public.memory_insights to authenticated;
grant select, insert, update, delete on table public.memory_insights to service_role;

revoke all on table private.interaction_history_default from public, anon, authenticated, service_role;
revoke all on table private.interaction_archive from public, anon, authenticated, service_role;
revoke all on table private.retention_moves from public, anon, authenticated, service_role;
revoke all on table private.memory_suppressions from public, anon, authenticated, service_role;
revoke all on table private.shopper_volume from public, anon, authenticated, service_role;

-- RLS and policies -----------------------------------------------------------------------------------------------
alter table public.customer_preferences enable row level security;

create policy "Shoppers can view their own preferences"
  on public.customer_preferences for select to authenticated
  using ((select auth.uid()) = user_id);

create policy "Shoppers can delete their own preferences"
  on public.customer_preferences for delete to authenticated
  using ((select auth.uid()) = user_id);

alter table public.shopping_patterns enable row level security;

create policy "Shoppers can view their own patterns"
  on public.shopping_patterns for select to authenticated
  using ((select auth.uid()) = user_id);

create policy "Shoppers can delete their own patterns"
  on public.shopping_patterns for delete to authenticated
  using ((select auth.uid()) = user_id);

alter table public.interaction_history enable row level security;

create policy "Shoppers can view their own interactions"
  on public.interaction_history for select to authenticated
  using ((select auth.uid()) = user_id);

create policy "Shoppers can delete their own interactions"
  on public.interaction_history for delete to authenticated
  using ((select auth.uid()) = user_id);

-- Every partition of the log (the default one here; the monthly ones as private.ensure_interaction_partitions makes
-- them) has RLS and the log's two policies, and no grant: a client reaches the log through the parent only.
alter table private.interaction_history_default enable row level security;

create policy "Shoppers can view their own interactions"
  on private.interaction_history_default for select to authenticated
  using ((select auth.uid()) = user_id);

create policy "Shoppers can delete their own interactions"
  on private.interaction_history_default for delete to authenticated
  using ((select auth.uid()) = user_id);

alter table public.memory_insights enable row level security;

create policy "Shoppers can view their own insights"
  on public.memory_insights for select to authenticated
  using ((select auth.uid()) = user_id);

create policy "Shoppers can delete their own insights"
  on public.memory_insights for delete to authenticated
  using ((select auth.uid()) = user_id);

alter table private.interaction_archive enable row level security;
alter table private.retention_moves enable row level security;
alter table private.memory_suppressions enable row level security;
alter table private.shopper_volume enable row level security;
