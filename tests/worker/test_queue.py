"""The job queue in Postgres: enqueue on events (deduplicated while pending), claim with SKIP LOCKED and a lease,
retry with backoff, park after the last attempt, requeue expired leases, periodic jobs once per interval."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from tests.conftest import Database, acting_as, create_user
from tests.worker.conftest import as_service, jobs, record_event
from worker.runtime.store import JobStore


def _messages(conn: psycopg.Connection[Any], user_id: Any, n: int) -> None:
    conn.execute(
        "insert into public.interaction_history (user_id, interaction_type, interaction_key, interaction_value)"
        " select %s, 'search', 'milk', '{}'::jsonb from generate_series(1, %s)",
        (user_id, n),
    )


def test_events_enqueue_one_pending_recompute_per_shopper(db: Database) -> None:
    with db.connect() as conn, db.connect() as listener:
        listener.execute("listen customer_memory_jobs")
        a, b = create_user(conn), create_user(conn)
        conn.execute(
            "insert into public.interaction_history (user_id, interaction_type, interaction_key)"
            " values (%s, 'search', 'x'), (%s, 'search', 'y'), (%s, 'search', 'z')",
            (a, a, b),
        )
        _messages(conn, a, 5)
        rows = jobs(conn)
        assert sorted((r["user_id"], r["kind"], r["status"]) for r in rows) == sorted(
            [(a, "recompute", "pending"), (b, "recompute", "pending")]
        )
        # One wake-up per transaction (NOTIFY folds duplicates within one): the second joined a pending job, and
        # still wakes the workers, because that job could not be claimed until it committed.
        assert [n.channel for n in listener.notifies(timeout=1, stop_after=2)] == ["customer_memory_jobs"] * 2


def test_an_event_during_a_running_job_queues_a_second_one(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        _messages(conn, user, 1)
        [job] = JobStore(conn).claim("w1", 10, 60)
        _messages(conn, user, 1)
        assert [(r["id"] == job.id, r["status"]) for r in jobs(conn)] == [(True, "running"), (False, "pending")]


def test_deleting_evidence_enqueues_and_deleting_the_account_does_not_break(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        event = record_event(conn, user, "search", "milk", {})
        conn.execute("delete from private.jobs")
        conn.execute("delete from public.interaction_history where id = %s", (event,))
        assert [r["status"] for r in jobs(conn, user)] == ["pending"]
        record_event(conn, user, "search", "eggs", {})
        conn.execute("delete from auth.users where id = %s", (user,))
        assert jobs(conn, user) == []


def test_two_workers_racing_claim_every_job_exactly_once(db: Database) -> None:
    with db.connect() as conn:
        users = [create_user(conn) for _ in range(60)]
        for user in users:
            _messages(conn, user, 1)
    claimed: dict[str, list[int]] = {"w1": [], "w2": []}
    barrier = threading.Barrier(2)

    def drain(name: str) -> None:
        with psycopg.connect(db.url(), autocommit=True) as conn:
            store = JobStore(conn)
            barrier.wait()
            while batch := store.claim(name, 3, 60):
                claimed[name] += [job.id for job in batch]

    threads = [threading.Thread(target=drain, args=(name,)) for name in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = claimed["w1"] + claimed["w2"]
    assert len(everything) == 60 and len(set(everything)) == 60
    assert claimed["w1"] and claimed["w2"]
    with db.connect() as conn:
        assert {(r["status"], r["attempts"]) for r in jobs(conn)} == {("running", 1)}


def test_failures_back_off_exponentially_then_the_job_is_parked_with_its_error(db: Database) -> None:
    with db.connect() as conn:
        store = JobStore(conn)
        user = create_user(conn)
        _messages(conn, user, 1)
        delays = []
        for attempt in (1, 2, 3):
            [job] = store.claim("w1", 1, 60)
            assert job.attempts == attempt
            status = store.fail(job, "w1", f"boom {attempt}", 3, 10)
            [row] = jobs(conn, user)
            assert row["status"] == status
            if status == "pending":
                delays.append((row["run_after"] - row["updated_at"]).total_seconds())
                assert store.claim("w1", 1, 60) == []  # not due yet
                conn.execute("update private.jobs set run_after = now()")
        assert [round(d) for d in delays] == [10, 20]
        assert (row["status"], row["attempts"], row["last_error"]) == ("failed", 3, "boom 3")
        assert store.claim("w1", 1, 60) == []
        # A parked job does not block new work for the shopper.
        _messages(conn, user, 1)
        assert [r["status"] for r in jobs(conn, user)] == ["failed", "pending"]


def test_a_failed_job_merges_into_the_pending_one_queued_while_it_ran(db: Database) -> None:
    with db.connect() as conn:
        store = JobStore(conn)
        user = create_user(conn)
        _messages(conn, user, 1)
        [job] = store.claim("w1", 1, 60)
        _messages(conn, user, 1)
        assert store.fail(job, "w1", "boom", 5, 1) == "pending"
        [row] = jobs(conn, user)
        assert (row["status"], row["attempts"], row["last_error"]) == ("pending", 1, "boom")


def test_only_the_lease_holder_completes_fails_or_releases(db: Database) -> None:
    with db.connect() as conn:
        store = JobStore(conn)
        user = create_user(conn)
        _messages(conn, user, 1)
        [job] = store.claim("w1", 1, 60)
        assert store.complete(job, "w2") is False
        assert store.fail(job, "w2", "x", 5) is None
        assert store.release(job, "w2") is False
        assert store.release(job, "w1") is True
        [row] = jobs(conn, user)
        assert (row["status"], row["attempts"], row["locked_by"]) == ("pending", 0, None)
        [job] = store.claim("w2", 1, 60)
        assert store.complete(job, "w2") is True
        assert jobs(conn, user)[0]["status"] == "done"


def test_expired_leases_are_requeued_and_parked_after_the_last_attempt(db: Database) -> None:
    with db.connect() as conn:
        store = JobStore(conn)
        a, b = create_user(conn), create_user(conn)
        _messages(conn, a, 1)
        _messages(conn, b, 1)
        claimed = store.claim("dead", 2, 60)
        assert len(claimed) == 2
        assert store.requeue_expired(5) == 0  # leases still valid
        conn.execute("update private.jobs set locked_until = now() - interval '1 second'")
        conn.execute("update private.jobs set attempts = 5 where user_id = %s", (b,))
        assert store.requeue_expired(5) == 2
        assert jobs(conn, a)[0]["status"] == "pending"
        parked = jobs(conn, b)[0]
        assert parked["status"] == "failed" and "lease ran out" in parked["last_error"]


def test_periodic_jobs_run_once_per_interval_across_workers(db: Database) -> None:
    with db.connect() as conn, db.connect() as other:
        first, second = JobStore(conn), JobStore(other)
        assert first.try_periodic("expiry", 60, "w1") is True
        assert second.try_periodic("expiry", 60, "w2") is False
        assert first.try_periodic("retention", 60, "w1") is True
        conn.execute("update private.periodic_runs set last_run_at = now() - interval '61 seconds'")
        assert second.try_periodic("expiry", 60, "w2") is True
        assert first.try_periodic("expiry", 60, "w1") is False


def test_finished_jobs_are_purged_after_a_day_but_parked_ones_stay(db: Database) -> None:
    with db.connect() as conn:
        store = JobStore(conn)
        user = create_user(conn)
        _messages(conn, user, 1)
        [job] = store.claim("w1", 1, 60)
        store.complete(job, "w1")
        assert store.purge_finished() == 0
        conn.execute("update private.jobs set finished_at = now() - interval '2 days'")
        assert store.purge_finished() == 1
        assert jobs(conn, user) == []


@pytest.mark.parametrize(
    ("call", "params", "message"),
    [
        ("select public.worker_claim_jobs(%s, %s, %s)", ("", 1, 60), "The worker name must be between 1 and 255"),
        ("select public.worker_claim_jobs(%s, %s, %s)", ("w", 0, 60), "The claim limit must be between 1 and 1000"),
        ("select public.worker_claim_jobs(%s, %s, %s)", ("w", 1, 0), "The lease must be at least one second"),
        ("select public.worker_fail_job(%s, %s, %s, %s)", (1, "w", "x", 0), "maximum number of attempts"),
        ("select public.worker_try_periodic(%s, %s, %s)", ("cleanup", 60, "w"), "must be sweep, expiry or retention"),
        ("select public.worker_recompute_user(%s, %s)", (None, None), "The user id is required"),
        ("select public.worker_archive_interactions(%s)", (0,), "at least one month"),
    ],
)
def test_bad_input_is_refused_with_a_sentence(db: Database, call: str, params: tuple[Any, ...], message: str) -> None:
    with db.connect() as conn, pytest.raises(psycopg.errors.InvalidParameterValue, match=message), as_service(conn):
        conn.execute(call, params)


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_worker_functions_are_for_the_service_role_only(db: Database, role: str) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        for call in (
            "select public.worker_claim_jobs('w', 1, 60)",
            "select public.worker_recompute_user(%s)",
            "select public.worker_expire_insights()",
            "select public.worker_enqueue_all()",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), acting_as(conn, role, user):
                conn.execute(call, (user,) if "%s" in call else None)


def test_a_backfill_enqueues_every_shopper_with_events(db: Database) -> None:
    with db.connect() as conn:
        users = [create_user(conn) for _ in range(3)]
        for user in users[:2]:
            _messages(conn, user, 2)
        conn.execute("delete from private.jobs")
        assert JobStore(conn).enqueue_all() == 2
        assert JobStore(conn).enqueue_all() == 0  # already pending
        assert {r["user_id"] for r in jobs(conn)} == set(users[:2])


def test_claim_order_is_due_time_then_age(db: Database) -> None:
    with db.connect() as conn:
        a, b = create_user(conn), create_user(conn)
        _messages(conn, a, 1)
        _messages(conn, b, 1)
        conn.execute("update private.jobs set run_after = now() - %s where user_id = %s", (timedelta(minutes=5), b))
        [first] = JobStore(conn).claim("w", 1, 60)
        assert first.user_id == b
