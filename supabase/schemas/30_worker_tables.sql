-- Worker: the job queue in Postgres, and what the worker keeps about messages it has read.
--
-- Recording (or deleting) an event enqueues one 'recompute' job for its shopper, deduplicated while pending, and
-- wakes the workers with NOTIFY. Workers claim due jobs with FOR UPDATE SKIP LOCKED and a lease, shoppers first:
-- by priority (0: a shopper's own event; 1: a recompute maintenance asked for, a backfill or retention's moves;
-- 2: maintenance itself), then by when they are due. A job whose lease runs out (its worker died) is claimed
-- again; a failing job is retried with exponential backoff and parked as 'failed', with its last error, after the
-- maximum number of attempts. Maintenance (retention, expiry, the precomputed documents) is a job of its own
-- (no shopper), enqueued once per interval across every worker through a last-run row taken under a row lock,
-- and run in short slices, so that it never runs before a shopper's job that is due.
-- The queue is the truth: a missed wake-up only delays work until the next sweep.
-- Grants, RLS and the Realtime publication are in 31_worker_rls_grants.sql.

-- Tables ---------------------------------------------------------------------------------------------------------
create table private.jobs (
  id bigint generated always as identity primary key,
  user_id uuid references auth.users (id) on delete cascade,
  kind text not null default 'recompute',
  status text not null default 'pending',
  attempts integer not null default 0,
  run_after timestamptz not null default now(),
  locked_by text,
  locked_until timestamptz,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz,
  locked_pid integer,
  priority smallint not null default 0,
  constraint jobs_kind_check check (kind = 'recompute' or kind = any (private.maintenance_kinds())),
  constraint jobs_recompute_has_shopper check ((kind = 'recompute') = (user_id is not null)),
  constraint jobs_priority_range check (priority between 0 and 2),
  constraint jobs_status_check check (status in ('pending', 'running', 'done', 'failed')),
  constraint jobs_attempts_nonnegative check (attempts >= 0),
  constraint jobs_running_has_lease check (status <> 'running' or (locked_by is not null and locked_until is not null)),
  constraint jobs_last_error_length check (char_length(last_error) <= 4000),
  constraint jobs_locked_by_length check (char_length(locked_by) <= 255)
);

-- At most one pending job per shopper and kind: a burst of events is one recompute.
create unique index jobs_pending_dedup_idx on private.jobs (user_id, kind) where status = 'pending';
-- And at most one pending maintenance job of each kind.
create unique index jobs_pending_maintenance_idx on private.jobs (kind) where status = 'pending' and user_id is null;
-- Claims read this in order: shoppers first (priority), then due first.
create index jobs_due_idx on private.jobs (priority, run_after, id) where status = 'pending';
create index jobs_lease_idx on private.jobs (locked_until) where status = 'running';
create index jobs_finished_idx on private.jobs (finished_at) where status = 'done';
-- The cascade from auth.users finds a shopper's jobs of any status through this one: a partial index cannot serve it.
create index jobs_user_idx on private.jobs (user_id);

comment on table private.jobs is
  'Work for the worker: one recompute per shopper with new or deleted evidence, and maintenance (no shopper); '
  'pending, running (leased), done or failed (parked).';
comment on column private.jobs.priority is
  '0: a shopper''s own event; 1: a recompute maintenance asked for (backfill, retention); 2: maintenance. Lower runs first.';
comment on column private.jobs.locked_pid is
  'The backend pid of the connection the leasing worker keeps open while it lives; gone means the worker is gone.';

create table private.periodic_runs (
  name text primary key,
  last_run_at timestamptz not null,
  last_run_by text,
  constraint periodic_runs_name_check check (name = any (private.periodic_run_names()))
);
comment on table private.periodic_runs is 'When each periodic job last ran, so that it runs once per interval across all workers.';

-- The chat messages read for stated preferences: the worker extracts what the shopper states (in Python) and
-- applies it once per message (worker_apply_stated_preferences).
create table private.extracted_messages (
  -- No foreign key (the log is partitioned, its key is (id, created_at)): a trigger on the log deletes the row
  -- with its message, and retention with its month.
  interaction_id uuid primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  extractor text not null,
  statements jsonb not null,
  extracted_at timestamptz not null default now(),
  outcome text not null default 'applied',
  problem text,
  constraint extracted_messages_extractor_length check (char_length(extractor) between 1 and 100),
  constraint extracted_messages_statements_array check (jsonb_typeof(statements) = 'array'),
  constraint extracted_messages_outcome_check check (outcome in ('applied', 'unreadable')),
  constraint extracted_messages_problem_length check (char_length(problem) <= 1000),
  constraint extracted_messages_unreadable_has_problem check (outcome = 'applied' or problem is not null)
);
create index extracted_messages_user_idx on private.extracted_messages (user_id);
comment on table private.extracted_messages is
  'Chat messages the worker has read for stated preferences, with what it found; each message is applied once.';
comment on column private.extracted_messages.outcome is
  'applied: its statements were applied; unreadable: the extractor could not read it (see problem), nothing stored.';

-- Which brands are on offer in a category: a brand preference means choosing a brand where others were on offer
-- in the same category. Counted over every shopper's orders by the worker (no shopper is named here).
create table private.category_brands (
  category text primary key,
  brands integer not null,
  refreshed_at timestamptz not null default now(),
  constraint category_brands_category_length check (char_length(category) between 1 and 255),
  constraint category_brands_brands_positive check (brands >= 1)
);
comment on table private.category_brands is
  'How many brands shoppers bought in each category (all shoppers, no ids): a brand is a choice only where there '
  'were others. Kept current by a trigger as checkouts name new brands (private.brand_catalog); rebuilt from the '
  'log by worker_refresh_brand_catalog.';

-- The brands seen in each category (no shopper, no time but the first sighting): a checkout naming a pair not seen
-- before adds it and counts it in private.category_brands, so the catalog is current without a scan of the log.
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

-- How shoppers in general shop: for each pattern bucket, the mean over shoppers (with at least three orders in the
-- pattern window) of the share of their orders in it (for frequency, of the gaps between their orders). A
-- shopper's pattern is stored only when its share is well above this (the lift). Refreshed by
-- worker_refresh_pattern_population; no shopper is named here.
create table private.pattern_population (
  pattern_type text not null,
  pattern_key text not null,
  share numeric not null,
  shoppers integer not null,
  refreshed_at timestamptz not null default now(),
  constraint pattern_population_pkey primary key (pattern_type, pattern_key),
  constraint pattern_population_pattern_key_length check (char_length(pattern_key) between 1 and 255),
  constraint pattern_population_share_range check (share >= 0 and share <= 1),
  constraint pattern_population_shoppers_positive check (shoppers >= 1)
);
comment on table private.pattern_population is
  'The mean share of shoppers'' orders in each pattern bucket (all shoppers, no ids): a pattern is stored only '
  'where the shopper''s share is at least private.pattern_min_lift() times this. Refreshed by '
  'worker_refresh_pattern_population.';

-- How long shoppers in general go between buying the same item (days between the days they bought it), per SKU,
-- per category and over everything: the prior of a favourite's buy-again interval when its own gaps are few.
create table private.repeat_intervals (
  scope text not null,
  key text not null,
  median_days numeric not null,
  q25_days numeric not null,
  q75_days numeric not null,
  gaps integer not null,
  refreshed_at timestamptz not null default now(),
  constraint repeat_intervals_pkey primary key (scope, key),
  constraint repeat_intervals_scope_known check (scope in ('sku', 'category', 'all')),
  constraint repeat_intervals_key_length check (char_length(key) between 1 and 255),
  constraint repeat_intervals_days_positive check (q25_days > 0 and median_days >= q25_days and q75_days >= median_days),
  constraint repeat_intervals_gaps_positive check (gaps >= 1)
);
comment on table private.repeat_intervals is
  'Days between the days shoppers bought the same item (all shoppers, no ids): median and quartiles per SKU, per '
  'category and over all items. Refreshed by worker_refresh_pattern_population.';

-- Until the shoppers are a population (worker_refresh_pattern_population replaces these once 200 of them have three
-- orders in the window): Complete Journey's 2,469 households as of 2017-07-01 (their shares per bucket; the median
-- and quartiles of the days between buying the same item again). Categories are named differently in every store,
-- so none is assumed: a category pattern waits for this store's own shoppers.
insert into private.pattern_population (pattern_type, pattern_key, share, shoppers) values
  ('time_of_day', 'morning', 0.029, 425), ('time_of_day', 'afternoon', 0.218, 1600),
  ('time_of_day', 'evening', 0.296, 1807), ('time_of_day', 'night', 0.457, 1881),
  ('day_of_week', 'monday', 0.139, 1518), ('day_of_week', 'tuesday', 0.132, 1495),
  ('day_of_week', 'wednesday', 0.130, 1481), ('day_of_week', 'thursday', 0.135, 1505),
  ('day_of_week', 'friday', 0.139, 1529), ('day_of_week', 'saturday', 0.151, 1547),
  ('day_of_week', 'sunday', 0.174, 1578),
  ('frequency', 'several_per_week', 0.446, 1781), ('frequency', 'weekly', 0.295, 1777),
  ('frequency', 'biweekly', 0.163, 1440), ('frequency', 'monthly', 0.095, 709),
  ('basket_size', 'small', 0.553, 1949), ('basket_size', 'medium', 0.253, 1730),
  ('basket_size', 'large', 0.194, 1431);
insert into private.repeat_intervals (scope, key, median_days, q25_days, q75_days, gaps) values
  ('all', 'all', 20, 9, 42, 234963);
