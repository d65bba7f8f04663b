-- Demo data: three shoppers, so that what one remembers and the others cannot see is visible.
--   Dana (dana@demo.customer-memory.dev), the design document's "user123": thirteen weekly orders of the last 90
--   days, a savings swap, the design document's example interactions, and what she told the assistant (a peanut
--   allergy, a dislike of avocados, that she is vegetarian) and set in the app (lactose intolerant).
--   Sam (sam@demo.customer-memory.dev): a lighter shopper: six cart adds of oat milk and a shellfish allergy.
--   Riley (riley@demo.customer-memory.dev): no memories; `customer-memory demo` teaches them from Riley's events.
-- Every memory is what the system makes of these events, so a recompute changes nothing: stated preferences are
-- stored as the worker stores what it reads in a message (the explicit preference, its `preference_stated`
-- evidence, the message marked as read with the statements the rule extractor finds in it; tests/test_seed.py
-- checks each against the extractor), and the inferred ones (favourites, brands, patterns, the store-label insight)
-- are derived at the end by the worker's own recompute.
-- Idempotent (fixed ids; events are kept as first written, stated preferences restored) and loads both on Supabase
-- (`supabase db reset`) and on the stand-in, as postgres. Times are relative to now(), so the orders are recent.
--
-- The three can sign in on a real `supabase start` with their email and the demo password `grocery-demo-2026`:
-- each auth.users row is what GoTrue writes for a confirmed email sign-up (every token column GoTrue reads as a
-- string holds '' rather than NULL, which GoTrue cannot scan: supabase/auth#1940), with the password
-- bcrypt-hashed at GoTrue's cost (10), and an `email` identity in auth.identities, without which GoTrue finds no
-- way for the user to sign in.

-- The three users, with the demo password's bcrypt hash: pgcrypto's crypt() where the server has it (in
-- `extensions`, as on Supabase); a server built without pgcrypto (the embedded PostgreSQL 18) gets the same password
-- hashed ahead of time. One statement (a DO block), so the seed works however it is run: `psql -f` (each statement
-- its own transaction), the Supabase CLI's reset, or all in one transaction.
do $seed$
declare
  v_hash text := '$2a$10$GQ3RDcEiXn1ce1xUn6XGR.7nxLtHM5b3AhTyjgGdF.vwHzmr.K1Ka';
begin
  if to_regprocedure('extensions.crypt(text, text)') is not null then
    execute 'select extensions.crypt(''grocery-demo-2026'', extensions.gen_salt(''bf'', 10))' into v_hash;
  end if;
  insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                          confirmation_token, recovery_token, email_change_token_new, email_change,
                          email_change_token_current, phone_change, phone_change_token, reauthentication_token,
                          raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
  select '00000000-0000-0000-0000-000000000000', shopper.id, 'authenticated', 'authenticated', shopper.email,
         v_hash, now(), '', '', '', '', '', '', '', '',
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
end
$seed$;

-- GoTrue's `email` identity: provider_id is the user's id, identity_data what GoTrue records at sign-up.
insert into auth.identities (provider_id, user_id, identity_data, provider, created_at, updated_at)
select u.id::text, u.id,
       jsonb_build_object('sub', u.id::text, 'email', u.email, 'email_verified', true, 'phone_verified', false),
       'email', u.created_at, now()
  from auth.users as u
 where u.id in ('d0000000-0000-4000-8000-000000000123', 'd0000000-0000-4000-8000-000000000456',
                'd0000000-0000-4000-8000-000000000789')
on conflict (provider_id, provider) do update set identity_data = excluded.identity_data, updated_at = now();

-- What the shoppers told the assistant, stored as the worker stores what it reads: the message as record_message
-- logs it, the message marked as read with the statements the rule extractor finds in it, the explicit
-- preference, and its `preference_stated` evidence (what explain_memory shows). Dana's lactose intolerance was set
-- in the app's settings (remember_preference): no message, evidence with source `settings`.
create temporary table seed_stated (
  preference_id uuid, user_id uuid, preference_type text, preference_key text, preference_value text, reason text,
  said_at timestamptz, message_id uuid, message text, stated_id uuid
);
insert into seed_stated values
  ('c0000000-0000-4000-8000-000000000005', 'd0000000-0000-4000-8000-000000000123', 'allergy', 'peanuts', 'peanuts',
   'You told us you are allergic to peanuts', now() - interval '90 days',
   'a0000000-0000-4000-8000-000000000011', 'I''m allergic to peanuts.', 'a0000000-0000-4000-8000-000000000012'),
  ('c0000000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-000000000123', 'dietary', 'vegetarian',
   'vegetarian', 'You told us you eat vegetarian', now() - interval '60 days',
   'a0000000-0000-4000-8000-000000000013', 'I''m vegetarian.', 'a0000000-0000-4000-8000-000000000014'),
  ('c0000000-0000-4000-8000-000000000004', 'd0000000-0000-4000-8000-000000000123', 'dislike', 'avocado', 'avocado',
   'You told us you dislike avocado', now() - interval '40 days',
   'a0000000-0000-4000-8000-000000000015', 'I hate avocados.', 'a0000000-0000-4000-8000-000000000016'),
  ('c0000000-0000-4000-8000-000000000006', 'd0000000-0000-4000-8000-000000000123', 'dietary', 'lactose_intolerant',
   null, 'You told us in your settings', now() - interval '30 days',
   null, null, 'a0000000-0000-4000-8000-000000000017'),
  ('c0000000-0000-4000-8000-000000000102', 'd0000000-0000-4000-8000-000000000456', 'allergy', 'shellfish', 'shellfish',
   'You told us you are allergic to shellfish', now() - interval '20 days',
   'a0000000-0000-4000-8000-000000000111', 'I''m allergic to shellfish.', 'a0000000-0000-4000-8000-000000000112');

insert into public.interaction_history
  (id, user_id, interaction_type, interaction_key, interaction_value, created_at)
select e.id::uuid, e.user_id::uuid, e.interaction_type, e.interaction_key, e.interaction_value::jsonb, e.created_at::timestamptz
  from (
select s.message_id, s.user_id, 'message', 'user_message', jsonb_build_object('content', s.message), s.said_at
  from seed_stated as s where s.message_id is not null
union all
select s.stated_id, s.user_id, 'preference_stated', s.preference_type || ':' || s.preference_key,
       jsonb_build_object('preference_type', s.preference_type, 'preference_key', s.preference_key,
                          'preference_value', s.preference_value, 'reason', s.reason)
         || case when s.message_id is null then '{"source": "settings"}'::jsonb
                 else jsonb_build_object('source', 'message', 'interaction_id', s.message_id) end,
       s.said_at
  from seed_stated as s
) as e (id, user_id, interaction_type, interaction_key, interaction_value, created_at)
-- Idempotent: an event is kept as first written (the log's key is (id, created_at), and created_at moves with now()).
 where not exists (select from public.interaction_history as ih where ih.id = e.id::uuid);

insert into private.extracted_messages (interaction_id, user_id, extractor, statements, extracted_at)
select s.message_id, s.user_id, 'rules',
       jsonb_build_array(jsonb_build_object('action', 'remember', 'preference_type', s.preference_type,
                                            'preference_key', s.preference_key,
                                            'preference_value', s.preference_value, 'reason', s.reason,
                                            'household_member', null)),
       s.said_at
  from seed_stated as s where s.message_id is not null
on conflict (interaction_id) do nothing;

insert into public.customer_preferences
  (id, user_id, preference_type, preference_key, preference_value, confidence, reason, source, last_confirmed_at,
   times_confirmed)
select s.preference_id, s.user_id, s.preference_type, s.preference_key, s.preference_value, 1.00, s.reason,
       'explicit', s.said_at, 1
  from seed_stated as s
on conflict (user_id, preference_type, preference_key) do update set
  preference_value = excluded.preference_value, confidence = 1.00, reason = excluded.reason, source = 'explicit',
  last_confirmed_at = excluded.last_confirmed_at, times_confirmed = excluded.times_confirmed, evidence = null,
  pending_removal = null;
drop table seed_stated;

-- Dana's orders: about weekly, in the evening, the last three days ago (thirteen in 90 days), as record_checkout
-- stores them. Her lactose-free milk and organic eggs (Great Value, the store brand) nearly every week, Chobani
-- Greek yogurt most weeks; once other eggs, and a savings swap from Lactaid milk (below), so the store brand is a
-- choice among rivals; two of nine other items each week, none of them often enough to be a favourite.
insert into public.interaction_history
  (id, user_id, interaction_type, interaction_key, interaction_value, created_at)
select e.id::uuid, e.user_id::uuid, e.interaction_type, e.interaction_key, e.interaction_value::jsonb, e.created_at::timestamptz
  from (
select ('a1000000-0000-4000-8000-' || lpad(o.n::text, 12, '0'))::uuid, 'd0000000-0000-4000-8000-000000000123',
       'checkout', o.order_id,
       jsonb_build_object('order_id', o.order_id, 'placed_at', o.placed_at, 'time_zone', 'America/Chicago',
                          'items', t.items, 'item_count', t.item_count, 'items_total', t.items_total,
                          'total', t.items_total),
       o.placed_at
  from (select n, 'dana-order-' || lpad(n::text, 2, '0') as order_id,
               (((now() at time zone 'America/Chicago')::date - (3 + 7 * n + (5 * n) % 3)
                 + time '17:30' + (7 * n) % 4 * interval '1 hour') at time zone 'America/Chicago') as placed_at
          from generate_series(0, 12) as n) as o
  cross join lateral (
    select jsonb_agg(i.item order by i.position) as items, sum((i.item ->> 'quantity')::integer) as item_count,
           sum((i.item ->> 'price')::numeric * (i.item ->> 'quantity')::integer) as items_total
      from (
        select 1 as position,
               '{"sku": "milk-whole-gal", "name": "Great Value Lactose-Free Whole Milk, 1 gal", "category": "milk", "brand": "Great Value", "price": 3.98, "quantity": 1, "tags": ["store_brand", "lactose_free"]}'::jsonb
        union all
        select 2, case when o.n = 5
          then '{"sku": "egglands-best-eggs", "name": "Eggland''s Best Large Eggs, 12 ct", "category": "eggs", "brand": "Eggland''s Best", "price": 4.12, "quantity": 1, "tags": []}'::jsonb
          else '{"sku": "gv-organic-eggs", "name": "Great Value Organic Large Eggs, 12 ct", "category": "eggs", "brand": "Great Value", "price": 3.87, "quantity": 1, "tags": ["store_brand", "organic"]}'::jsonb end
        union all
        select 3, '{"sku": "chobani-greek-yogurt", "name": "Chobani Greek Yogurt, Plain, 32 oz", "category": "yogurt", "brand": "Chobani", "price": 5.97, "quantity": 1, "tags": []}'::jsonb
         where o.n % 4 <> 3
        union all
        select 4 + f.k, (array[
          '{"sku": "bananas", "name": "Bananas, each", "category": "produce", "price": 0.27, "quantity": 6, "tags": []}',
          '{"sku": "baby-spinach", "name": "Marketside Baby Spinach, 10 oz", "category": "produce", "brand": "Marketside", "price": 2.98, "quantity": 1, "tags": []}',
          '{"sku": "firm-tofu", "name": "Nasoya Organic Firm Tofu, 14 oz", "category": "tofu", "brand": "Nasoya", "price": 2.48, "quantity": 2, "tags": ["organic"]}',
          '{"sku": "whole-wheat-bread", "name": "Nature''s Own 100% Whole Wheat Bread", "category": "bread", "brand": "Nature''s Own", "price": 3.48, "quantity": 1, "tags": []}',
          '{"sku": "chickpeas-can", "name": "Goya Chick Peas, 15.5 oz", "category": "canned beans", "brand": "Goya", "price": 1.28, "quantity": 3, "tags": []}',
          '{"sku": "gala-apples", "name": "Gala Apples, 3 lb bag", "category": "produce", "price": 3.97, "quantity": 1, "tags": []}',
          '{"sku": "penne-pasta", "name": "Barilla Penne, 16 oz", "category": "pasta", "brand": "Barilla", "price": 1.78, "quantity": 2, "tags": []}',
          '{"sku": "rolled-oats", "name": "Quaker Old Fashioned Oats, 42 oz", "category": "cereal", "brand": "Quaker", "price": 4.98, "quantity": 1, "tags": []}',
          '{"sku": "almond-butter", "name": "Justin''s Classic Almond Butter, 12 oz", "category": "nut butters", "brand": "Justin''s", "price": 8.98, "quantity": 1, "tags": []}'
        ]::jsonb[])[(2 * o.n + f.k) % 9 + 1]
          from generate_series(0, 1) as f (k)
      ) as i (position, item)
  ) as t
) as e (id, user_id, interaction_type, interaction_key, interaction_value, created_at)
-- Idempotent: an event is kept as first written (the log's key is (id, created_at), and created_at moves with now()).
 where not exists (select from public.interaction_history as ih where ih.id = e.id::uuid);

-- Sam's six cart adds of oat milk in the last month, as record_cart_add stores them.
insert into public.interaction_history
  (id, user_id, interaction_type, interaction_key, interaction_value, created_at)
select e.id::uuid, e.user_id::uuid, e.interaction_type, e.interaction_key, e.interaction_value::jsonb, e.created_at::timestamptz
  from (
select ('a1000000-0000-4000-8000-0000000001' || lpad(n::text, 2, '0'))::uuid, 'd0000000-0000-4000-8000-000000000456',
       'cart_add', 'oat-milk-64oz',
       '{"sku": "oat-milk-64oz", "name": "Oatly Oat Milk, 64 oz", "category": "milk alternatives", "brand": "Oatly", "price": 4.98, "quantity": 1}'::jsonb
         || jsonb_build_object('added_at', now() - (2 + 5 * n) * interval '1 day'),
       now() - (2 + 5 * n) * interval '1 day'
  from generate_series(0, 5) as n
) as e (id, user_id, interaction_type, interaction_key, interaction_value, created_at)
-- Idempotent: an event is kept as first written (the log's key is (id, created_at), and created_at moves with now()).
 where not exists (select from public.interaction_history as ih where ih.id = e.id::uuid);

-- DESIGN-DOCUMENT.md, interaction_history example rows (the recipe request one a vegetarian would make; the swaps
-- with the categories record_swap's items carry), and Dana's swap to the store brand's milk
insert into public.interaction_history
  (id, user_id, interaction_type, interaction_key, interaction_value, session_id, created_at)
select e.id::uuid, e.user_id::uuid, e.interaction_type, e.interaction_key, e.interaction_value::jsonb, e.session_id::uuid, e.created_at::timestamptz
  from (
values
  ('a0000000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-000000000123', 'question', 'recipe_request',
   '{"query": "recipes with chickpeas"}', 'e0000000-0000-4000-8000-000000000001', now() - interval '2 days'),
  ('a0000000-0000-4000-8000-000000000002', 'd0000000-0000-4000-8000-000000000123', 'view_item', 'milk-whole-gal',
   '{"sku": "milk-whole-gal", "context": "browsing dairy"}', 'e0000000-0000-4000-8000-000000000001',
   now() - interval '2 days'),
  ('a0000000-0000-4000-8000-000000000003', 'd0000000-0000-4000-8000-000000000123', 'swap', 'accepted',
   '{"original": {"sku": "tide-detergent", "brand": "Tide", "category": "laundry"}, "replacement": {"sku": "great-value-detergent", "brand": "Great Value", "category": "laundry"}, "accepted": true, "reason": null}',
   'e0000000-0000-4000-8000-000000000001', now() - interval '2 days'),
  ('a0000000-0000-4000-8000-000000000004', 'd0000000-0000-4000-8000-000000000123', 'swap', 'rejected',
   '{"original": {"sku": "heinz-ketchup", "brand": "Heinz", "category": "condiments"}, "replacement": {"sku": "gv-ketchup", "brand": "Great Value", "category": "condiments"}, "accepted": false, "reason": null}',
   'e0000000-0000-4000-8000-000000000001', now() - interval '2 days'),
  ('a0000000-0000-4000-8000-000000000006', 'd0000000-0000-4000-8000-000000000123', 'swap', 'accepted',
   '{"original": {"sku": "lactaid-whole-milk", "name": "Lactaid Whole Milk, 96 oz", "brand": "Lactaid", "category": "milk"}, "replacement": {"sku": "milk-whole-gal", "name": "Great Value Lactose-Free Whole Milk, 1 gal", "brand": "Great Value", "category": "milk"}, "accepted": true, "reason": null}',
   null, ((now() at time zone 'America/Chicago')::date - 9 + time '12:00') at time zone 'America/Chicago'),
  ('a0000000-0000-4000-8000-000000000005', 'd0000000-0000-4000-8000-000000000123', 'voice_used', 'stt_input',
   '{"duration_seconds": 8, "success": true}', 'e0000000-0000-4000-8000-000000000001', now() - interval '2 days'),
  ('a0000000-0000-4000-8000-000000000101', 'd0000000-0000-4000-8000-000000000456', 'search', 'oat milk',
   '{"query": "oat milk"}', null, now() - interval '1 day')
) as e (id, user_id, interaction_type, interaction_key, interaction_value, session_id, created_at)
-- Idempotent: an event is kept as first written (the log's key is (id, created_at), and created_at moves with now()).
 where not exists (select from public.interaction_history as ih where ih.id = e.id::uuid);

-- The inferred memories: what the worker's recompute derives from the events above (favourites and brands with
-- their calibrated confidence and evidence, patterns with their figures, insights), run here as the worker runs it,
-- as the service role. It also removes what an older seed stored that the system no longer derives.
do $$
begin
  perform set_config('request.jwt.claims', '{"role": "service_role"}', true);
  perform public.worker_recompute_user(u.id)
     from unnest(array['d0000000-0000-4000-8000-000000000123', 'd0000000-0000-4000-8000-000000000456',
                       'd0000000-0000-4000-8000-000000000789']::uuid[]) as u (id)
    where exists (select from auth.users where auth.users.id = u.id);
  perform set_config('request.jwt.claims', '', true);
end
$$;

-- The recomputations these events queued are done: drop them (a worker would find nothing to change).
delete from private.jobs
 where user_id in ('d0000000-0000-4000-8000-000000000123', 'd0000000-0000-4000-8000-000000000456')
   and status = 'pending';
