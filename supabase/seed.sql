-- Demo data: three shoppers, so that what one remembers and the others cannot see is visible.
--   Dana (dana@demo.customer-memory.dev), the design document's "user123": every example row of its four tables,
--   plus the rows its example prompt block shows (lactose-free dairy, three favorites, two brands).
--   Sam (sam@demo.customer-memory.dev): a lighter shopper with a few memories of their own.
--   Riley (riley@demo.customer-memory.dev): no memories; `customer-memory demo` teaches them from Riley's events.
-- Idempotent (on conflict with each table's natural key, do update) and loads both on Supabase
-- (`supabase db reset`) and on the stand-in, as postgres. Times are relative to now() so patterns stay "recent"
-- and insights unexpired.
--
-- The three can sign in on a real `supabase start` with their email and the demo password `grocery-demo-2026`:
-- each auth.users row is what GoTrue writes for a confirmed email sign-up (every token column GoTrue reads as a
-- string holds '' rather than NULL, which GoTrue cannot scan: supabase/auth#1940), with the password
-- bcrypt-hashed at GoTrue's cost (10), and an `email` identity in auth.identities, without which GoTrue finds no
-- way for the user to sign in.

-- The demo password's bcrypt hash: pgcrypto's crypt() where the server has it (in `extensions`, as on Supabase);
-- a server built without pgcrypto (the embedded PostgreSQL 18) gets the same password hashed ahead of time.
do $$
begin
  if to_regprocedure('extensions.crypt(text, text)') is not null then
    execute 'select set_config(''seed.password_hash'','
            ' extensions.crypt(''grocery-demo-2026'', extensions.gen_salt(''bf'', 10)), true)';
  else
    perform set_config('seed.password_hash', '$2a$10$GQ3RDcEiXn1ce1xUn6XGR.7nxLtHM5b3AhTyjgGdF.vwHzmr.K1Ka', true);
  end if;
end
$$;

insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                        confirmation_token, recovery_token, email_change_token_new, email_change,
                        email_change_token_current, phone_change, phone_change_token, reauthentication_token,
                        raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
select '00000000-0000-0000-0000-000000000000', shopper.id, 'authenticated', 'authenticated', shopper.email,
       current_setting('seed.password_hash'), now(), '', '', '', '', '', '', '', '',
       '{"provider": "email", "providers": ["email"]}', shopper.metadata, now() - shopper.age, now()
  from (values
    ('d0000000-0000-4000-8000-000000000123'::uuid, 'dana@demo.customer-memory.dev',
     '{"display_name": "Dana", "time_zone": "America/Chicago"}'::jsonb, interval '200 days'),
    ('d0000000-0000-4000-8000-000000000456', 'sam@demo.customer-memory.dev',
     '{"display_name": "Sam", "time_zone": "Europe/London"}', interval '30 days'),
    ('d0000000-0000-4000-8000-000000000789', 'riley@demo.customer-memory.dev',
     '{"display_name": "Riley", "time_zone": "America/New_York"}', interval '120 days')
  ) as shopper (id, email, metadata, age)
on conflict (id) do update set
  email = excluded.email, encrypted_password = excluded.encrypted_password,
  email_confirmed_at = coalesce(auth.users.email_confirmed_at, excluded.email_confirmed_at),
  confirmation_token = '', recovery_token = '', email_change_token_new = '', email_change = '',
  email_change_token_current = '', phone_change = '', phone_change_token = '', reauthentication_token = '',
  raw_app_meta_data = excluded.raw_app_meta_data, raw_user_meta_data = excluded.raw_user_meta_data;

-- GoTrue's `email` identity: provider_id is the user's id, identity_data what GoTrue records at sign-up.
insert into auth.identities (provider_id, user_id, identity_data, provider, created_at, updated_at)
select u.id::text, u.id,
       jsonb_build_object('sub', u.id::text, 'email', u.email, 'email_verified', true, 'phone_verified', false),
       'email', u.created_at, now()
  from auth.users as u
 where u.id in ('d0000000-0000-4000-8000-000000000123', 'd0000000-0000-4000-8000-000000000456',
                'd0000000-0000-4000-8000-000000000789')
on conflict (provider_id, provider) do update set identity_data = excluded.identity_data, updated_at = now();

insert into public.customer_preferences
  (id, user_id, preference_type, preference_key, preference_value, confidence, reason, source,
   last_confirmed_at, times_confirmed)
values
  -- DESIGN-DOCUMENT.md, customer_preferences example rows
  ('c0000000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-000000000123', 'dietary', 'vegetarian', null,
   0.95, 'Never orders meat products', 'inferred', now() - interval '3 days', 30),
  ('c0000000-0000-4000-8000-000000000002', 'd0000000-0000-4000-8000-000000000123', 'brand', 'great-value', null,
   0.75, 'Chooses GV 80% of time', 'pattern', now() - interval '3 days', 24),
  ('c0000000-0000-4000-8000-000000000003', 'd0000000-0000-4000-8000-000000000123', 'favorite', 'milk-whole-gal',
   null, 0.90, 'Purchased 15 times', 'pattern', now() - interval '3 days', 15),
  ('c0000000-0000-4000-8000-000000000004', 'd0000000-0000-4000-8000-000000000123', 'dislike', 'avocado', null,
   1.00, 'User said "I hate avocados"', 'explicit', now() - interval '40 days', 1),
  ('c0000000-0000-4000-8000-000000000005', 'd0000000-0000-4000-8000-000000000123', 'allergy', 'peanuts', null,
   1.00, 'User said "allergic to peanuts"', 'explicit', now() - interval '90 days', 1),
  -- The example prompt block ("Example Injected Context") shows these too
  ('c0000000-0000-4000-8000-000000000006', 'd0000000-0000-4000-8000-000000000123', 'dietary', 'lactose_intolerant',
   null, 0.90, 'Only orders lactose-free dairy', 'inferred', now() - interval '3 days', 30),
  ('c0000000-0000-4000-8000-000000000007', 'd0000000-0000-4000-8000-000000000123', 'favorite', 'gv-organic-eggs',
   null, 0.90, 'Purchased 12 times', 'pattern', now() - interval '10 days', 12),
  ('c0000000-0000-4000-8000-000000000008', 'd0000000-0000-4000-8000-000000000123', 'favorite',
   'chobani-greek-yogurt', null, 0.85, 'Purchased 10 times', 'pattern',
   now() - interval '10 days', 10),
  ('c0000000-0000-4000-8000-000000000009', 'd0000000-0000-4000-8000-000000000123', 'brand', 'chobani', null,
   0.85, 'Strong preference for Chobani yogurt', 'pattern', now() - interval '10 days', 10),
  -- Sam
  ('c0000000-0000-4000-8000-000000000101', 'd0000000-0000-4000-8000-000000000456', 'favorite', 'oat-milk-64oz',
   'Oatly Oat Milk, 64 oz', 0.80, 'Added to cart 6 times', 'inferred', now() - interval '2 days', 6),
  ('c0000000-0000-4000-8000-000000000102', 'd0000000-0000-4000-8000-000000000456', 'allergy', 'shellfish', null,
   1.00, 'User said "I''m allergic to shellfish"', 'explicit', now() - interval '20 days', 1)
on conflict (user_id, preference_type, preference_key) do update set
  preference_value = excluded.preference_value, confidence = excluded.confidence, reason = excluded.reason,
  source = excluded.source, last_confirmed_at = excluded.last_confirmed_at,
  times_confirmed = excluded.times_confirmed;

-- DESIGN-DOCUMENT.md, shopping_patterns example rows
insert into public.shopping_patterns
  (id, user_id, pattern_type, pattern_key, pattern_value, confidence, occurrence_count, last_occurrence)
values
  ('b0000000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-000000000123', 'time_of_day', 'evening',
   '{"range": "18:00-21:00", "orders": 24}', 0.85, 24, now() - interval '3 days'),
  ('b0000000-0000-4000-8000-000000000002', 'd0000000-0000-4000-8000-000000000123', 'day_of_week', 'saturday',
   '{"orders": 18, "total_orders": 30}', 0.60, 18, now() - interval '3 days'),
  ('b0000000-0000-4000-8000-000000000003', 'd0000000-0000-4000-8000-000000000123', 'frequency', 'weekly',
   '{"avg_days": 7.2, "orders": 30}', 0.75, 30, now() - interval '3 days'),
  ('b0000000-0000-4000-8000-000000000004', 'd0000000-0000-4000-8000-000000000123', 'basket_size', 'medium',
   '{"avg_items": 15, "avg_total": 85.50}', 0.70, 30, now() - interval '3 days'),
  ('b0000000-0000-4000-8000-000000000005', 'd0000000-0000-4000-8000-000000000123', 'category_preference', 'dairy',
   '{"percentage": 0.35, "orders": 28}', 0.80, 28, now() - interval '3 days'),
  ('b0000000-0000-4000-8000-000000000101', 'd0000000-0000-4000-8000-000000000456', 'time_of_day', 'morning',
   '{"range": "06:00-12:00", "orders": 4}', 0.40, 4, now() - interval '2 days')
on conflict (user_id, pattern_type, pattern_key) do update set
  pattern_value = excluded.pattern_value, confidence = excluded.confidence,
  occurrence_count = excluded.occurrence_count, last_occurrence = excluded.last_occurrence;

-- DESIGN-DOCUMENT.md, interaction_history example rows
insert into public.interaction_history
  (id, user_id, interaction_type, interaction_key, interaction_value, session_id, created_at)
values
  ('a0000000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-000000000123', 'question', 'recipe_request',
   '{"query": "recipes with chicken"}', 'e0000000-0000-4000-8000-000000000001', now() - interval '2 days'),
  ('a0000000-0000-4000-8000-000000000002', 'd0000000-0000-4000-8000-000000000123', 'view_item', 'milk-whole-gal',
   '{"sku": "milk-whole-gal", "context": "browsing dairy"}', 'e0000000-0000-4000-8000-000000000001',
   now() - interval '2 days'),
  ('a0000000-0000-4000-8000-000000000003', 'd0000000-0000-4000-8000-000000000123', 'swap', 'accepted',
   '{"original": {"sku": "tide-detergent", "brand": "tide"}, "replacement": {"sku": "great-value-detergent", "brand": "great-value"}, "accepted": true, "reason": null}',
   'e0000000-0000-4000-8000-000000000001', now() - interval '2 days'),
  ('a0000000-0000-4000-8000-000000000004', 'd0000000-0000-4000-8000-000000000123', 'swap', 'rejected',
   '{"original": {"sku": "heinz-ketchup", "brand": "heinz"}, "replacement": {"sku": "gv-ketchup", "brand": "great-value"}, "accepted": false, "reason": null}',
   'e0000000-0000-4000-8000-000000000001', now() - interval '2 days'),
  ('a0000000-0000-4000-8000-000000000005', 'd0000000-0000-4000-8000-000000000123', 'voice_used', 'stt_input',
   '{"duration_seconds": 8, "success": true}', 'e0000000-0000-4000-8000-000000000001', now() - interval '2 days'),
  ('a0000000-0000-4000-8000-000000000101', 'd0000000-0000-4000-8000-000000000456', 'search', 'oat milk',
   '{"query": "oat milk"}', null, now() - interval '1 day')
on conflict (id) do nothing;

-- DESIGN-DOCUMENT.md, memory_insights example rows (and one of Sam's)
insert into public.memory_insights
  (id, user_id, insight_type, insight_key, insight_value, confidence, supporting_data, expires_at)
values
  ('f0000000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-000000000123', 'persona', 'budget_conscious',
   'Consistently chooses store brands', 0.85, '{"swaps_accepted": 12, "gv_percentage": 0.75}', null),
  ('f0000000-0000-4000-8000-000000000002', 'd0000000-0000-4000-8000-000000000123', 'persona', 'health_focused',
   'Prioritizes organic, low-sugar items', 0.70, '{"organic_count": 24, "rejection_of_sugary": 8}', null),
  ('f0000000-0000-4000-8000-000000000003', 'd0000000-0000-4000-8000-000000000123', 'goal', 'meal_prep',
   'Large orders on Sundays with recipe ingredients', 0.80, '{"sunday_orders": 8, "avg_items": 35}',
   now() + interval '60 days'),
  ('f0000000-0000-4000-8000-000000000004', 'd0000000-0000-4000-8000-000000000123', 'context', 'family_of_four',
   'Basket size and quantities suggest family', 0.65, '{"bulk_deals": 18, "avg_dairy_qty": 3}', null),
  ('f0000000-0000-4000-8000-000000000005', 'd0000000-0000-4000-8000-000000000123', 'constraint',
   'lactose_intolerant', 'Never orders dairy with lactose', 0.90,
   '{"lactose_free_percentage": 1.0, "orders": 30}', null),
  ('f0000000-0000-4000-8000-000000000101', 'd0000000-0000-4000-8000-000000000456', 'goal', 'quick_weeknight_meals',
   'Searches for meals ready in under 30 minutes', 0.55, '{"quick_recipe_searches": 5}', now() + interval '30 days')
on conflict (user_id, insight_type, insight_key) do update set
  insight_value = excluded.insight_value, confidence = excluded.confidence,
  supporting_data = excluded.supporting_data, expires_at = excluded.expires_at;

-- Dana's and Sam's memories above are the design document's examples as written, not what the worker would derive
-- from the few events above (they are not the evidence of those memories). Drop the recomputations those events
-- queued, so the examples stay as written until these shoppers record real events or a backfill rebuilds them.
delete from private.jobs
 where user_id in ('d0000000-0000-4000-8000-000000000123', 'd0000000-0000-4000-8000-000000000456')
   and status = 'pending';
