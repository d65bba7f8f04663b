"""The worker process: --once, two workers sharing the queue, kill -9 mid-job, SIGTERM with a bounded shutdown,
a missed notification picked up by the sweep, NOTIFY wake-ups, and a database restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from tests.conftest import Database, Server, build_database, create_user
from tests.worker.conftest import NOW, days_ago, item, jobs, preference_candidates, preferences, record_checkout
from worker.config import PROJECT_DIR, Settings
from worker.db.server import LocalPostgres
from worker.runtime.worker import BackgroundWorker, Worker, run_until_idle

BASKET = [item("milk", "Dairy"), item("eggs", "Dairy", quantity=2)]


def _settings(**overrides: Any) -> Settings:
    return Settings().model_copy(update={"sweep_interval_seconds": 30.0, **overrides})


def _shopper(conn: psycopg.Connection[Any], orders: int = 8) -> Any:
    """A shopper with `orders` weekly orders of BASKET. The worker's probe in these tests is the favourite "milk",
    stored from 4 weekly orders on (below that its calibrated probability is under the floor)."""
    user = create_user(conn)
    with conn.transaction():  # one commit: one job, one wake-up
        for k in range(orders):
            record_checkout(conn, user, days_ago(7 * k), BASKET)
    return user


# A spawned worker first imports its libraries, which takes seconds on a loaded machine; waiting for it to reach a
# job is about that start, not about the behaviour under test, so the wait is generous.
_PROCESS_START_SECONDS = 60.0


def _until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _lock_key(user: Any) -> str:
    return f"select pg_advisory_lock(hashtextextended('customer_memory.recompute:' || '{user}', 0))"


def _spawn_worker(db: Database, *extra: str, **env: str) -> subprocess.Popen[bytes]:
    """`customer-memory worker` in its own process, as an operator would run it."""
    return subprocess.Popen(
        [sys.executable, "-m", "worker.cli", "worker", "--as-of", NOW.isoformat(), *extra],
        cwd=PROJECT_DIR,
        env={**os.environ, "DATABASE_URL": db.url(), "CMS_SWEEP_INTERVAL_SECONDS": "0.5", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_once_processes_everything_due_and_exits(db: Database) -> None:
    with db.connect() as conn:
        users = [_shopper(conn) for _ in range(3)]
    stats = run_until_idle(_settings(), db.url(), now=lambda: NOW)
    assert (stats.claimed, stats.done, stats.failed) == (3, 3, 0)
    with db.connect() as conn:
        assert {r["status"] for r in jobs(conn)} == {"done"}
        for user in users:
            assert preferences(conn, user)[("favorite", "milk")]["times_confirmed"] == 8


def test_two_workers_share_the_queue_and_do_each_job_once(db: Database) -> None:
    with db.connect() as conn:
        for _ in range(30):
            _shopper(conn)
    workers = [Worker(_settings(worker_concurrency=3), db.url(), name=f"w{i}", now=lambda: NOW) for i in (1, 2)]
    threads = [threading.Thread(target=w.run, kwargs={"once": True}) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(w.stats.done for w in workers) == 30
    assert all(w.stats.done > 0 for w in workers)
    with db.connect() as conn:
        assert {(r["status"], r["attempts"]) for r in jobs(conn)} == {("done", 1)}


def test_a_failing_job_is_retried_then_parked(db: Database) -> None:
    class Broken(Worker):
        def before_job(self, job: Any, store: Any) -> None:
            raise RuntimeError("the extractor is down")

    with db.connect() as conn:
        user = _shopper(conn)
    worker = Broken(_settings(job_max_attempts=2), db.url(), now=lambda: NOW, backoff_base_seconds=0)
    worker.run(once=True)
    with db.connect() as conn:
        [job] = jobs(conn, user)
        assert (job["status"], job["attempts"]) == ("failed", 2)
        assert job["last_error"] == "RuntimeError: the extractor is down"
        assert preferences(conn, user) == {}


def test_a_worker_killed_mid_job_loses_nothing_and_counts_nothing_twice(db: Database) -> None:
    with db.connect() as conn, db.connect() as blocker:
        user = _shopper(conn)
        blocker.execute(_lock_key(user))  # the recompute will wait here, mid-transaction
        process = _spawn_worker(db, "--concurrency", "1")
        try:
            assert _until(
                lambda: (
                    conn.execute(
                        "select count(*) as n from pg_stat_activity where wait_event_type = 'Lock'"
                        " and query like '%%worker_recompute_user%%'"
                    ).fetchone()["n"]
                    == 1
                ),
                timeout=_PROCESS_START_SECONDS,
            )
        finally:
            process.send_signal(signal.SIGKILL)
            process.communicate(timeout=10)
        blocker.execute("select pg_advisory_unlock_all()")
        [job] = jobs(conn, user)
        assert (job["status"], job["attempts"]) == ("running", 1)
        assert preferences(conn, user) == {}  # the killed transaction left nothing
        # Its lease runs out; the next worker's sweep requeues the job and does it.
        conn.execute("update private.jobs set locked_until = now() - interval '1 second'")
        run_until_idle(_settings(), db.url(), now=lambda: NOW)
        [job] = jobs(conn, user)
        assert (job["status"], job["attempts"]) == ("done", 2)
        assert preferences(conn, user)[("favorite", "milk")]["times_confirmed"] == 8
        # One event per order: neither the killed run nor the retry wrote any of their own.
        assert conn.execute(
            "select count(*) as n from public.interaction_history where user_id = %s", (user,)
        ).fetchone() == {"n": 8}


def test_sigterm_releases_a_job_it_cannot_finish_in_time(db: Database) -> None:
    with db.connect() as conn, db.connect() as blocker:
        user = _shopper(conn)
        blocker.execute(_lock_key(user))
        process = _spawn_worker(db, CMS_SHUTDOWN_TIMEOUT_SECONDS="1")
        try:
            assert _until(lambda: jobs(conn, user)[0]["status"] == "running", timeout=_PROCESS_START_SECONDS)
            time.sleep(0.2)
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=15)
            elapsed = time.monotonic() - started
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == 0, stderr.decode()
        assert elapsed < 6
        [job] = jobs(conn, user)
        assert (job["status"], job["attempts"], job["locked_by"]) == ("pending", 0, None)
        assert b'"event": "job released"' in stderr
        blocker.execute("select pg_advisory_unlock_all()")


def test_sigterm_lets_a_job_in_flight_finish(db: Database) -> None:
    with db.connect() as conn, db.connect() as blocker:
        user = _shopper(conn)
        blocker.execute(_lock_key(user))
        process = _spawn_worker(db, CMS_SHUTDOWN_TIMEOUT_SECONDS="10")
        try:
            assert _until(lambda: jobs(conn, user)[0]["status"] == "running", timeout=_PROCESS_START_SECONDS)
            process.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            blocker.execute("select pg_advisory_unlock_all()")
            process.communicate(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == 0
        assert jobs(conn, user)[0]["status"] == "done"
        assert preferences(conn, user)


def test_a_missed_notification_is_picked_up_by_the_sweep(db: Database) -> None:
    settings = _settings(sweep_interval_seconds=0.3)
    with BackgroundWorker(settings, db.url(), listen=False, now=lambda: NOW) as worker, db.connect() as conn:
        user = _shopper(conn)
        assert worker.wait_idle(10)
        assert _until(lambda: bool(preferences(conn, user)), 5)


def test_notify_wakes_the_worker_at_once(db: Database) -> None:
    with BackgroundWorker(_settings(sweep_interval_seconds=60), db.url(), now=lambda: NOW) as worker:
        with db.connect() as conn:
            time.sleep(0.3)  # let the listener connect
            started = time.monotonic()
            user = _shopper(conn)
            assert _until(lambda: bool(preferences(conn, user)), 5)
            assert time.monotonic() - started < 2
        assert worker.worker.stats.done == 1


def test_the_worker_survives_a_database_restart() -> None:
    bin_dir = Path(os.environ["CMS_PG_BIN"]) if os.environ.get("CMS_PG_BIN") else None
    with tempfile.TemporaryDirectory(prefix="cms-restart-") as tmp:
        cluster = LocalPostgres(Path(tmp) / "data", bin_dir, throwaway=True)
        running = cluster.ensure_running()
        try:
            with psycopg.connect(running.url("supabase_admin")) as admin:
                version = int(admin.execute("show server_version_num").fetchone()[0])  # type: ignore[index]
            server = Server("127.0.0.1", running.port, "supabase_admin", version)
            build_database(server, "restart", "current")
            db = Database(server, "restart", "current")
            with BackgroundWorker(_settings(sweep_interval_seconds=0.3), db.url(), now=lambda: NOW):
                with db.connect() as conn:
                    first = _shopper(conn)
                    assert _until(lambda: bool(preferences(conn, first)))
                cluster._ctl("-w", "-m", "fast", "-l", str(cluster.data_dir / "server.log"), "restart")
                with db.connect() as conn:
                    second = _shopper(conn)
                    assert _until(lambda: bool(preferences(conn, second)), 20)
        finally:
            cluster.stop("immediate")


def test_backfill_rebuilds_every_shopper_with_progress(db: Database) -> None:
    with db.connect() as conn:
        users = [_shopper(conn) for _ in range(3)]
        conn.execute("delete from private.jobs")
        conn.execute("delete from public.customer_preferences")
    result = subprocess.run(
        [sys.executable, "-m", "worker.cli", "backfill", "--as-of", NOW.isoformat()],
        cwd=PROJECT_DIR,
        env={**os.environ, "DATABASE_URL": db.url()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "3/3 shoppers" in result.stderr and "recomputed 3 shoppers" in result.stderr
    with db.connect() as conn:
        for user in users:
            assert preferences(conn, user)[("favorite", "milk")]["times_confirmed"] == 8


def test_worker_once_from_the_command_line(db: Database) -> None:
    with db.connect() as conn:
        user = _shopper(conn)
    result = subprocess.run(
        [sys.executable, "-m", "worker.cli", "worker", "--once", "--as-of", NOW.isoformat()],
        cwd=PROJECT_DIR,
        env={**os.environ, "DATABASE_URL": db.url()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stderr.splitlines()]
    assert [e["event"] for e in events if e["event"] in ("worker started", "job done", "worker stopped")] == [
        "worker started",
        "job done",
        "worker stopped",
    ]
    assert next(e for e in events if e["event"] == "job done")["user_id"] == str(user)


def test_the_demo_pattern_learns_from_events_fed_while_the_worker_runs(db: Database) -> None:
    """What `customer-memory demo` does: start a worker in-process, record events through the API as the shopper
    (real time, no injected now), wait until the queue is idle, read the memories, stop."""
    from worker.client import Checkout, DirectAdapter, Identity, MemoryClient

    with db.connect() as conn:
        user = create_user(conn)
    client = MemoryClient(DirectAdapter.from_url(db.url()), Identity.shopper(user))
    now = datetime.now(UTC)
    with BackgroundWorker(_settings(), db.url()) as worker:
        for k in range(8):
            client.record_checkout(
                Checkout.model_validate(
                    {
                        "order_id": f"demo-{k}",
                        "placed_at": (now - timedelta(days=7 * k, hours=1)).isoformat(),
                        "time_zone": "America/Chicago",
                        "items": [
                            {
                                "sku": "gv-milk",
                                "name": "Great Value Milk",
                                "category": "dairy",
                                "brand": "Great Value",
                                "price": 3.5,
                                "quantity": 1,
                                "tags": ["store_brand"],
                            }
                        ],
                    }
                )
            )
        assert worker.wait_idle(10)
        with db.connect() as conn:
            assert preferences(conn, user)[("favorite", "gv-milk")]["times_confirmed"] == 8
    assert not worker._thread.is_alive()


def test_the_worker_expires_archives_and_recomputes_after_deleted_evidence(db: Database) -> None:
    with db.connect() as conn:
        user = _shopper(conn)
        old = conn.execute(
            "insert into public.interaction_history (user_id, interaction_type, interaction_key, created_at)"
            " values (%s, 'search', 'milk', %s) returning id",
            (user, NOW - timedelta(days=400)),
        ).fetchone()["id"]
        conn.execute(
            "insert into public.memory_insights (user_id, insight_type, insight_key, insight_value, expires_at)"
            " values (%s, 'context', 'hosting_party', 'Buying for a party', %s)",
            (user, NOW - timedelta(days=1)),
        )
        run_until_idle(_settings(), db.url(), now=lambda: NOW)
        assert conn.execute(
            "select count(*) as n from public.memory_insights where insight_key = 'hosting_party'"
        ).fetchone() == {"n": 0}
        assert conn.execute("select id from private.interaction_archive").fetchall() == [{"id": old}]
        assert preferences(conn, user)[("favorite", "milk")]["times_confirmed"] == 8
        # The shopper deletes five of their checkouts: the next run recomputes what was derived from them.
        conn.execute(
            "delete from public.interaction_history where id in (select id from public.interaction_history"
            " where user_id = %s and interaction_type = 'checkout' order by created_at limit 5)",
            (user,),
        )
        run_until_idle(_settings(), db.url(), now=lambda: NOW)
        assert ("favorite", "milk") not in preferences(conn, user)  # 3 days left: under the floor
        assert preference_candidates(conn, user)[("favorite", "milk")]["times_confirmed"] == 3


def test_bad_command_line_input_is_refused_before_anything_runs(db: Database) -> None:
    with db.connect() as conn:
        _shopper(conn)
    for args in (["worker", "--concurrency", "0"], ["backfill", "--as-of", "last tuesday"]):
        result = subprocess.run(
            [sys.executable, "-m", "worker.cli", *args],
            cwd=PROJECT_DIR,
            env={**os.environ, "DATABASE_URL": db.url()},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 2 and "error: argument" in result.stderr
    with db.connect() as conn:
        assert [r["status"] for r in jobs(conn)] == ["pending"]
