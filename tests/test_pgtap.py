"""The pgTAP suite under supabase/tests/database, run with pg_prove exactly as `supabase test db` runs it (as
`postgres`, pgTAP in the `extensions` schema), one pytest case per file, each on a fresh database copy with the
helpers file (000-*) run first. Needs pg_prove and the pgtap extension on the server (Debian's
postgresql-15-pgtap); skipped without them (the embedded PostgreSQL 18 has no pgTAP), except where
CMS_REQUIRE_PGTAP is set, as `make test` sets it for the PostgreSQL 15 run, where their absence is a failure."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import Database
from worker.db.schema import PGTAP_DIR

DATABASE_TESTS = PGTAP_DIR / "database"
SETUP_FILE = next(DATABASE_TESTS.glob("000-*.sql"))
TEST_FILES = sorted(path for path in DATABASE_TESTS.rglob("*.sql") if path != SETUP_FILE)


def _missing(db: Database) -> str | None:
    if shutil.which("pg_prove") is None:
        return "pg_prove is not installed"
    with db.connect("superuser") as conn:
        if conn.execute("select from pg_available_extensions where name = 'pgtap'").fetchone() is None:
            return "the pgtap extension is not available on this server"
    return None


@pytest.mark.pgtap
@pytest.mark.parametrize("test_file", TEST_FILES, ids=lambda path: str(path.relative_to(DATABASE_TESTS)))
def test_pgtap_file(db: Database, test_file: Path) -> None:
    missing = _missing(db)
    if missing is not None:
        if os.environ.get("CMS_REQUIRE_PGTAP"):
            pytest.fail(f"CMS_REQUIRE_PGTAP is set, but {missing}")
        pytest.skip(missing)
    # The CLI creates pgTAP itself before running the files (on Supabase, supautils lets postgres do it).
    with db.connect("superuser") as conn:
        conn.execute("create extension if not exists pgtap with schema extensions")
    server = db.server
    result = subprocess.run(
        [
            "pg_prove",
            "--host",
            server.host,
            "--port",
            str(server.port),
            "--username",
            "postgres",
            "--dbname",
            db.name,
            "--verbose",
            "--failures",
            str(SETUP_FILE),
            str(test_file),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, f"pg_prove failed:\n{result.stdout}\n{result.stderr}"
    assert "Result: PASS" in result.stdout


def test_every_pgtap_file_plans_and_rolls_back() -> None:
    """A file that commits would leak rows into the next one; one without a plan could pass by saying nothing."""
    for path in TEST_FILES:
        text = path.read_text().lower()
        assert "select plan(" in text or "select * from no_plan()" in text, f"{path.name} has no plan"
        assert text.rstrip().endswith("rollback;"), f"{path.name} must end with rollback;"
