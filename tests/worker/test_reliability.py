"""What real failures bring to the worker (issue 12): messages the extractor cannot read, an event whose
transaction is still open when its shopper's job is claimed, the worker's own statements re-enqueueing the
shopper, a job longer than its lease, a killed backfill, an unreachable database and a cluster that moved."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from tests.conftest import Database, create_user
from tests.worker.conftest import NOW, days_ago, item, jobs, preferences, record_checkout
from tests.worker.test_runtime import _until
from worker.client import DirectAdapter, Identity, MemoryClient
from worker.config import PROJECT_DIR, Settings
from worker.db import local
from worker.db.request import set_request_context, shopper_claims
from worker.db.server import LocalPostgres
from worker.extract.model import Statement
from worker.extract.rules import RuleExtractor
from worker.runtime.store import JobStore
from worker.runtime.worker import BackgroundWorker, Worker, run_until_idle

PEANUTS = "My son is allergic to peanuts"

# The reproductions: each made the extractor's output fail validation and parked the shopper's job.
COMPLIMENT = (
    "I LOVE YOUR STORE AND "
    + " AND ".join(["THE DELI", "THE BAKERY", "THE PRODUCE", "THE FLOWERS", "THE CHEESE COUNTER", "THE BUTCHER"] * 12)
    + " AND EVERYTHING ELSE YOU HAVE"
)
OLIVES = " ".join(f"I don't like {food}." for food in [
    "olives", "anchovies", "capers", "beets", "okra", "tofu", "liver", "kale", "celery", "radishes", "turnips",
    "sardines", "mushrooms", "eggplant", "cilantro", "mayonnaise", "pickles", "licorice", "raisins", "figs",
    "quinoa",
])  # fmt: skip
HATE = "I hate " + "abcdefghijklmnopqrstuvwxyz" * 11 + "abcdefghijklmn"  # 300 letters


def _settings(**overrides: Any) -> Settings:
    return Settings().model_copy(update={"sweep_interval_seconds": 30.0, **overrides})


def _shopper(db: Database) -> tuple[UUID, MemoryClient]:
    with db.connect() as conn:
        user = create_user(conn)
    return user, MemoryClient(DirectAdapter.from_url(db.url()), Identity.shopper(user))


def _read_outcomes(conn: psycopg.Connection[Any], user: UUID) -> list[tuple[str, str | None]]:
    rows = conn.execute(
        "select e.outcome, e.problem from private.extracted_messages as e"
        " join public.interaction_history as ih on ih.id = e.interaction_id"
        " where e.user_id = %s order by ih.created_at",
        (user,),
    ).fetchall()
    return [(r["outcome"], r["problem"]) for r in rows]


# -- extractors that misbehave (module level: they read in a child process, which imports them) ----------------------
class RaisingExtractor:
    name = "raising"

    def extract(self, message: str) -> tuple[list[Statement], str]:
        if message == PEANUTS:
            return RuleExtractor().extract(message)
        raise RuntimeError("the extractor cannot parse this")


class OversizeExtractor:
    """Returns what the issue's reproductions made the old extractor return: a key over 255 characters, then more
    than 20 statements."""

    name = "oversize"

    def extract(self, message: str) -> tuple[list[Statement], str]:
        if message == PEANUTS:
            return RuleExtractor().extract(message)
        if message.startswith("I hate"):
            key = "x" * 300
            return [Statement.model_construct(action="remember", preference_type="dislike", preference_key=key)], "o"
        dislikes = [Statement(action="remember", preference_type="dislike", preference_key=f"f{k}") for k in range(21)]
        return dislikes, "oversize"


class BacktrackingExtractor:
    """A regular expression that backtracks for minutes, holding the GIL: only a process can be stopped."""

    name = "backtracking"

    def extract(self, message: str) -> tuple[list[Statement], str]:
        if message == PEANUTS:
            return RuleExtractor().extract(message)
        re.match(r"(a+)+$", "a" * 40 + "b")
        return [], self.name


class SlowExtractor:
    """Takes 7 seconds per message: longer than a 5-second lease."""

    name = "slow"

    def extract(self, message: str) -> tuple[list[Statement], str]:
        time.sleep(7)
        return RuleExtractor().extract(message)


@pytest.mark.parametrize(
    "extractor", [None, RaisingExtractor(), OversizeExtractor()], ids=["rules", "raising", "oversize"]
)
def test_a_message_the_extractor_cannot_read_is_skipped_and_never_blocks_the_shopper(
    db: Database, extractor: Any
) -> None:
    user, memory = _shopper(db)
    for poison in (COMPLIMENT, OLIVES, HATE):
        memory.record_message(poison)
        run_until_idle(_settings(), db.url(), extractor=extractor)
    memory.record_message(PEANUTS)
    stats = run_until_idle(_settings(), db.url(), extractor=extractor)
    assert stats.failed == 0
    with db.connect() as conn:
        assert {r["status"] for r in jobs(conn, user)} == {"done"}
        assert preferences(conn, user)[("allergy", "peanuts")]["source"] == "explicit"
        outcomes = _read_outcomes(conn, user)
    assert len(outcomes) == 4 and outcomes[-1] == ("applied", None)
    if extractor is not None:  # the misbehaving ones: the three are recorded as unreadable, with why
        assert [o for o, _ in outcomes[:3]] == ["unreadable"] * 3
        assert all(problem for _, problem in outcomes[:3])
        if isinstance(extractor, OversizeExtractor):
            assert "at most 20" in str(outcomes[1][1]) and "255" in str(outcomes[2][1])


def test_a_message_the_extractor_hangs_on_is_stopped_at_the_time_limit(db: Database) -> None:
    user, memory = _shopper(db)
    memory.record_message("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab")
    memory.record_message(PEANUTS)
    started = time.monotonic()
    stats = run_until_idle(_settings(extract_timeout_seconds=1.5), db.url(), extractor=BacktrackingExtractor())
    assert time.monotonic() - started < 20
    assert stats.failed == 0
    with db.connect() as conn:
        assert _read_outcomes(conn, user) == [
            ("unreadable", "The extractor took longer than 1.5 s."),
            ("applied", None),
        ]
        assert ("allergy", "peanuts") in preferences(conn, user)


def test_one_message_is_one_recompute_job(db: Database) -> None:
    user, memory = _shopper(db)
    memory.record_message("I'm vegetarian and my son is allergic to peanuts.")
    run_until_idle(_settings(), db.url())
    with db.connect() as conn:
        assert len(preferences(conn, user)) == 2
        assert [r["status"] for r in jobs(conn, user)] == ["done"]


def test_an_event_committed_after_its_pending_job_was_claimable_is_never_lost(db: Database) -> None:
    """The lost wake-up: the shopper has a pending job; a checkout's transaction is still open when the worker
    looks for work. The job must not run without the checkout and leave nothing behind to run after it."""
    with db.connect() as conn, db.connect(autocommit=False) as holder:
        user = create_user(conn)
        for k in range(_WEEKS_TO_A_FAVOURITE):
            record_checkout(conn, user, days_ago(7 * k), [item("milk", "Dairy")])
        # One more order, not committed yet.
        record_checkout(holder, user, days_ago(7 * _WEEKS_TO_A_FAVOURITE), [item("milk", "Dairy")])
        run_until_idle(_settings(), db.url(), now=lambda: NOW)
        holder.commit()
        run_until_idle(_settings(), db.url(), now=lambda: NOW)
        milk = preferences(conn, user)[("favorite", "milk")]
        assert milk["times_confirmed"] == _WEEKS_TO_A_FAVOURITE + 1


def test_a_stated_allergy_in_an_open_transaction_is_learned_once_it_commits(db: Database) -> None:
    user, memory = _shopper(db)
    memory.record_message("I'm vegetarian.")
    with db.connect(autocommit=False) as holder:
        with holder.transaction():
            set_request_context(holder, "authenticated", shopper_claims(user))
            holder.execute("select public.record_message(%s)", (PEANUTS,))
            run_until_idle(_settings(), db.url())
        holder.commit()
    run_until_idle(_settings(), db.url())
    with db.connect() as conn:
        assert {("dietary", "vegetarian"), ("allergy", "peanuts")} <= set(preferences(conn, user))


def test_a_job_longer_than_its_lease_keeps_it_and_runs_once(db: Database) -> None:
    user, memory = _shopper(db)
    memory.record_message(PEANUTS)
    settings = _settings(job_lease_seconds=5, extract_timeout_seconds=30)
    worker = Worker(settings, db.url(), extractor=SlowExtractor(), listen=False)
    thread = threading.Thread(target=worker.run, kwargs={"once": True})
    thread.start()
    try:
        time.sleep(6.5)  # past the lease the job was claimed with
        with db.connect() as conn:
            assert JobStore(conn).requeue_expired(5) == 0
    finally:
        thread.join(30)
    with db.connect() as conn:
        [job] = jobs(conn, user)
        assert (job["status"], job["attempts"]) == ("done", 1)
    assert worker.stats.done == 1


def test_a_killed_backfill_leaves_no_lease_behind(db: Database) -> None:
    with db.connect() as conn, db.connect() as blocker:
        user = create_user(conn)
        _weekly_milk(conn, user)
        conn.execute("delete from private.jobs")
        blocker.execute(
            "select pg_advisory_lock(hashtextextended('customer_memory.recompute:' || %s::text, 0))", (user,)
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "worker.cli", "backfill", "--as-of", NOW.isoformat()],
            cwd=PROJECT_DIR,
            env={**os.environ, "DATABASE_URL": db.url()},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and [r["status"] for r in jobs(conn, user)] != ["running"]:
                time.sleep(0.05)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
        blocker.execute("select pg_advisory_unlock_all()")
        assert [r["status"] for r in jobs(conn, user)] == ["running"]
        # No waiting for the 60-second lease: the next run reclaims the job at once and does it.
        started = time.monotonic()
        run_until_idle(_settings(), db.url(), now=lambda: NOW)
        assert time.monotonic() - started < 15
        assert [r["status"] for r in jobs(conn, user)] == ["done"]
        assert ("favorite", "milk") in preferences(conn, user)


@pytest.mark.parametrize("wait_seconds", [2, 8])
def test_worker_once_with_the_database_unreachable_gives_up_after_the_wait_it_is_given(wait_seconds: int) -> None:
    port = _closed_port()
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "worker.cli", "worker", "--once"],
        cwd=PROJECT_DIR,
        env={
            **os.environ,
            "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/postgres",
            "CMS_DATABASE_WAIT_SECONDS": str(wait_seconds),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert time.monotonic() - started < 45  # the wait, plus starting Python on a busy machine
    lines = result.stderr.splitlines()
    assert lines
    events = [json.loads(line) for line in lines]  # every line is JSON, psycopg_pool's and APScheduler's included
    assert any(event["event"] == "cannot reach the database; giving up" for event in events)
    # From the worker's start to giving up: CMS_DATABASE_WAIT_SECONDS, not the 5-second connection waits on top.
    began = next(e["ts"] for e in events if e["event"] == "worker started")
    gave_up = next(e["ts"] for e in events if e["event"] == "cannot reach the database; giving up")
    waited = (datetime.fromisoformat(gave_up) - datetime.fromisoformat(began)).total_seconds()
    assert wait_seconds - 0.5 <= waited <= wait_seconds + 1.5, waited


def test_a_running_worker_follows_the_embedded_default_to_its_new_port() -> None:
    bin_dir = Path(os.environ["CMS_PG_BIN"]) if os.environ.get("CMS_PG_BIN") else None
    with tempfile.TemporaryDirectory(prefix="cms-moved-") as tmp:
        settings = _settings(sweep_interval_seconds=0.5, data_dir=Path(tmp) / "data", pg_bin=bin_dir, database_url=None)
        cluster = LocalPostgres(settings.data_dir, bin_dir)
        try:
            # As the `worker` command starts it on the embedded default: its address now, and where to look again.
            url, relocate = local.database_url(settings), local.locate(settings)
            with BackgroundWorker(settings, url, relocate=relocate, now=lambda: NOW) as running:
                first_url = running.worker.url
                with psycopg.connect(first_url, autocommit=True, row_factory=psycopg.rows.dict_row) as conn:
                    first = create_user(conn)
                    _weekly_milk(conn, first)
                    assert _until(lambda: bool(preferences(conn, first)))
                cluster.stop()  # `customer-memory db stop`
                moved = cluster.ensure_running()  # the next start picks a free port
                assert moved.url("postgres") != first_url
                with psycopg.connect(moved.url("postgres"), autocommit=True, row_factory=psycopg.rows.dict_row) as conn:
                    second = create_user(conn)
                    _weekly_milk(conn, second)
                    assert _until(lambda: bool(preferences(conn, second)), 30)
        finally:
            cluster.stop("immediate")


# The probe of "the worker recomputed this shopper": the favourite "milk", which the calibrated rule stores from
# this many weekly orders on (patterns are no longer stored: none beat counting in the learning benchmark).
_WEEKS_TO_A_FAVOURITE = 7


def _weekly_milk(conn: psycopg.Connection[Any], user: UUID) -> None:
    with conn.transaction():  # one commit: one job
        for k in range(_WEEKS_TO_A_FAVOURITE):
            record_checkout(conn, user, days_ago(7 * k), [item("milk", "Dairy")])


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
