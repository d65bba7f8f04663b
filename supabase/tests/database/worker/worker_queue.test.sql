-- The job queue: events enqueue one pending recompute per shopper; claim, complete, fail with backoff, park.
begin;
select plan(12);

select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');

-- Enqueue ----------------------------------------------------------------------------------------------------------
insert into public.interaction_history (user_id, interaction_type, interaction_key)
select tests.get_supabase_uid(u), 'search', 'milk' from (values ('alice'), ('alice'), ('bob')) as v (u);
insert into public.interaction_history (user_id, interaction_type, interaction_key)
values (tests.get_supabase_uid('alice'), 'search', 'eggs');
select results_eq(
  $$ select kind, status, count(*)::integer from private.jobs group by 1, 2 $$,
  $$ values ('recompute', 'pending', 2) $$,
  'events enqueue one pending recompute per shopper, however many events');

-- Only the service role -------------------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select throws_ok($$ select public.worker_claim_jobs('w', 10, 60) $$, '42501', null,
  'a shopper cannot claim jobs');
select tests.authenticate_as_anon();
select throws_ok($$ select public.worker_recompute_user(tests.get_supabase_uid('alice')) $$, '42501', null,
  'anon cannot recompute');

-- Claim, complete -------------------------------------------------------------------------------------------------
select tests.authenticate_as_service_role();
select is((select count(*)::integer from public.worker_claim_jobs('w1', 10, 60)), 2,
  'the service role claims both due jobs');
select is((select count(*)::integer from public.worker_claim_jobs('w2', 10, 60)), 0,
  'a claimed job is not claimed again while its lease holds');
select ok(public.worker_complete_job((select min(id) from private.jobs), 'w1'), 'the lease holder completes it');
select ok(not public.worker_complete_job((select max(id) from private.jobs), 'w2'), 'another worker cannot');
select throws_ok($$ select public.worker_claim_jobs('w', 0, 60) $$, '22023',
  'The claim limit must be between 1 and 1000.', 'a bad limit is refused with a sentence');

-- Fail, back off, park --------------------------------------------------------------------------------------------
select is(public.worker_fail_job((select max(id) from private.jobs), 'w1', 'boom', 2, 10), 'pending',
  'a first failure goes back to the queue');
select ok((select run_after >= now() + interval '10 seconds' from private.jobs where id = (select max(id) from private.jobs)),
  'after the backoff');
select tests.clear_authentication();
update private.jobs set run_after = now() where status = 'pending';
select tests.authenticate_as_service_role();
select is((select attempts from public.worker_claim_jobs('w1', 10, 60)), 2, 'the retry is the second attempt');
select is(public.worker_fail_job((select max(id) from private.jobs), 'w1', 'boom again', 2, 10), 'failed',
  'the last attempt parks the job with its error');

select * from finish();
rollback;
