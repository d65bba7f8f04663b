-- private.jobs.user_id cascades from auth.users, but its only index on user_id was partial (pending jobs), which a
-- cascading delete cannot use: deleting an account scanned the whole queue. A plain index lets the cascade find a
-- shopper's jobs directly (the audit "foreign keys without a covering index" holds every foreign key to this).
create index jobs_user_idx on private.jobs (user_id);
