"""Chaos: the worker under everything at once, bounded (3 rounds, 8 shoppers, about a minute), loopback only.

On a throwaway embedded-default cluster, shoppers record checkouts and messages through the API, among them the
issue's poison messages and a message that makes the extractor backtrack for minutes; checkouts are held open in
transactions while the worker claims; the worker process (a real `customer-memory worker`, finding the cluster the
way the embedded default does) is killed with SIGKILL and started again; a backfill is killed with SIGKILL; the
cluster is stopped and started again on a new port while the worker runs. At the end, after one `worker --once`:
no job failed or is left, every allergy a shopper stated is stored, every checkout is counted, and each
shopper's memory equals a rebuild from the log.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.conftest import create_user
from tests.worker.conftest import snapshot
from tests.worker.test_reliability import COMPLIMENT, HATE, OLIVES
from worker.config import PROJECT_DIR, Settings
from worker.db.local import ensure_local_database
from worker.db.request import set_request_context, shopper_claims
from worker.db.server import LocalPostgres
from worker.runtime.worker import run_until_idle

ROUNDS = 3
SHOPPERS = 8
ALLERGENS = ["peanuts", "sesame", "shellfish"]
POISON = [COMPLIMENT, OLIVES, HATE, "a" * 60 + "!"]


@pytest.fixture
def cluster() -> Iterator[tuple[Settings, LocalPostgres]]:
    bin_dir = Path(os.environ["CMS_PG_BIN"]) if os.environ.get("CMS_PG_BIN") else None
    with tempfile.TemporaryDirectory(prefix="cms-chaos-") as tmp:
        settings = Settings().model_copy(
            update={"data_dir": Path(tmp) / "data", "pg_bin": bin_dir, "database_url": None}
        )
        cluster = LocalPostgres(settings.data_dir, bin_dir)
        try:
            ensure_local_database(settings, seed=False)
            yield settings, cluster
        finally:
            cluster.stop("immediate")


def _url(cluster: LocalPostgres) -> str:
    running = cluster.status()
    assert running is not None
    return running.url("postgres", "postgres")


def _spawn(settings: Settings, *command: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        CMS_DATA_DIR=str(settings.data_dir),
        CMS_SWEEP_INTERVAL_SECONDS="0.5",
        CMS_JOB_LEASE_SECONDS="5",
        CMS_EXTRACT_TIMEOUT_SECONDS="2",
        CMS_LOG_LEVEL="WARNING",
    )
    if settings.pg_bin is not None:
        env["CMS_PG_BIN"] = str(settings.pg_bin)
    return subprocess.Popen(
        [sys.executable, "-m", "worker.cli", *command],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(10)


def _call(conn: psycopg.Connection[Any], user: UUID, query: str, *params: Any) -> None:
    """One API call as the shopper, committed (as PostgREST runs it)."""
    with conn.transaction():
        set_request_context(conn, "authenticated", shopper_claims(user))
        conn.execute(query, params)


def _checkout(user: UUID, n: int, at: datetime) -> str:
    line = {"sku": "milk", "name": "Milk", "category": "dairy", "price": 4.5, "quantity": 2.0}
    return json.dumps(
        {"order_id": f"{user}-{n}", "placed_at": at.isoformat(), "time_zone": "America/Chicago", "total": 9.99,
         "items": [line]}
    )  # fmt: skip


def test_the_worker_learns_everything_through_kills_restarts_races_and_poison(
    cluster: tuple[Settings, LocalPostgres],
) -> None:
    settings, server = cluster
    rng = random.Random(12)
    started = time.monotonic()
    with psycopg.connect(_url(server), autocommit=True, row_factory=dict_row) as conn:
        users = [create_user(conn) for _ in range(SHOPPERS)]
    orders = dict.fromkeys(users, 0)
    worker = _spawn(settings, "worker")
    try:
        for round_no in range(ROUNDS):
            url = _url(server)
            now = datetime.now(UTC) - timedelta(days=7 * (ROUNDS - round_no))
            holders: list[tuple[psycopg.Connection[Any], UUID]] = []
            with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
                for user in users:
                    _call(conn, user, "select public.record_message(%s)", rng.choice(POISON))
                    _call(conn, user, "select public.record_checkout(%s::jsonb)", _checkout(user, orders[user], now))
                    orders[user] += 1
                    _call(conn, user, "select public.record_message(%s)", f"I'm allergic to {ALLERGENS[round_no]}.")
                    if rng.random() < 0.5:  # a checkout still open while the worker claims this shopper's job
                        holder = psycopg.connect(url, row_factory=dict_row)
                        with holder.cursor() as cursor:
                            set_request_context(holder, "authenticated", shopper_claims(user))
                            cursor.execute(
                                "select public.record_checkout(%s::jsonb)",
                                (_checkout(user, orders[user], now + timedelta(hours=1)),),
                            )
                        orders[user] += 1
                        holders.append((holder, user))
            time.sleep(1.0)
            for holder, _ in holders:
                holder.commit()
                holder.close()
            if round_no == 0:  # kill -9 the worker mid-work, start another
                _kill(worker)
                worker = _spawn(settings, "worker")
            elif round_no == 1:  # kill -9 a backfill mid-work
                backfill = _spawn(settings, "backfill")
                time.sleep(1.5)
                _kill(backfill)
            else:  # the cluster stops and starts again on a new port while the worker runs
                server.stop()
                server.ensure_running()
                assert _url(server) != url
            time.sleep(1.0)
    finally:
        _kill(worker)

    # One `worker --once` after the storm finishes what is left; then check everything.
    url = _url(server)
    final = settings.model_copy(update={"database_url": url, "extract_timeout_seconds": 2.0})
    run_until_idle(final, url)
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        statuses = conn.execute("select status, count(*) as n from private.jobs group by status").fetchall()
        assert {r["status"] for r in statuses} <= {"done"}, statuses
        for user in users:
            allergies = {
                r["preference_key"]
                for r in conn.execute(
                    "select preference_key from public.customer_preferences"
                    " where user_id = %s and preference_type = 'allergy'",
                    (user,),
                )
            }
            assert set(ALLERGENS) <= allergies, user
            stored = conn.execute(
                "select count(*) as n from public.interaction_history"
                " where user_id = %s and interaction_type = 'checkout'",
                (user,),
            ).fetchone()
            assert stored == {"n": orders[user]}
            before = snapshot(conn, user)
            with conn.transaction():
                set_request_context(conn, "service_role")
                conn.execute("select public.worker_recompute_user(%s, now())", (user,))
            assert snapshot(conn, user) == before, user
    elapsed = time.monotonic() - started
    print(f"chaos: {ROUNDS} rounds, {SHOPPERS} shoppers, {sum(orders.values())} checkouts in {elapsed:.1f} s")
    assert elapsed < 240
