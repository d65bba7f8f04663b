"""Supabase's own tools on the project, as a user runs them: the real `supabase` CLI from npm (pinned in
package.json, installed by `make`) against a database that holds only what Supabase's image gives a project
(the stand-in).

- `supabase db reset --db-url` drops what it finds of the user's, applies every migration and loads the seed;
- the pgTAP suite then runs on that seeded database exactly as `supabase test db` runs it: pgTAP created in
  `extensions`, then `pg_prove --ext .pg --ext .sql -r supabase/tests` as postgres. `supabase test db` itself
  starts pg_prove in a Docker container (supabase/pg_prove) even with --db-url, and Docker cannot run here, so
  the same pg_prove command runs on the host (Debian's pg_prove);
- `supabase db advisors` (Supabase's splinter lints) finds nothing at WARN or ERROR outside ADVISOR_EXCLUSIONS;
- `supabase db lint` (plpgsql_check) finds nothing at warning level.

pgTAP and plpgsql_check are not trusted extensions, and the stand-in's postgres is no superuser: on Supabase,
supautils lets postgres create them, so here the superuser creates them first, in `extensions`, as Supabase
would. They exist on the PostgreSQL 15 run only (Debian's postgresql-15-pgtap and postgresql-15-plpgsql-check);
elsewhere the module is skipped, except where CMS_REQUIRE_PGTAP is set (`make test-pg15`), where a missing CLI,
pg_prove or extension is a failure."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from tests.conftest import Server
from worker.config import PROJECT_DIR
from worker.db import schema

SUPABASE_CLI = PROJECT_DIR / "node_modules" / ".bin" / "supabase"
DATABASE = "cms_supabase_cli"
EXTENSIONS = ("pgtap", "plpgsql_check")

# Advisor findings at WARN or ERROR that are intended, by cache_key, each with its reason. Today there are none:
# what `supabase db advisors` 2.117 reports is INFO only (docs/operations.md, Supabase's own tools).
ADVISOR_EXCLUSIONS: dict[str, str] = {}


@dataclass(frozen=True)
class ResetDatabase:
    server: Server
    name: str

    def url(self, user: str = "postgres") -> str:
        return self.server.url(user, self.name)

    def cli_url(self) -> str:
        # The CLI's pgx client asks for TLS by default; the local cluster has none.
        return f"{self.url()}?sslmode=disable"


def _missing(server: Server) -> str | None:
    if not SUPABASE_CLI.exists():
        return "the supabase CLI is not installed (npm ci)"
    if shutil.which("pg_prove") is None:
        return "pg_prove is not installed"
    with psycopg.connect(server.url(server.superuser, "postgres")) as conn:
        available = {
            row[0]
            for row in conn.execute(
                "select name from pg_available_extensions where name = any(%s)", (list(EXTENSIONS),)
            ).fetchall()
        }
    absent = [name for name in EXTENSIONS if name not in available]
    return f"the server lacks {', '.join(absent)}" if absent else None


def run(command: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """`command` from the project folder, with `env` added to ours."""
    return subprocess.run(
        command, cwd=PROJECT_DIR, env={**os.environ, **env}, capture_output=True, text=True, check=False, timeout=600
    )


def supabase(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI, answering yes to its prompts, with its telemetry off."""
    command = [str(SUPABASE_CLI), *args, "--yes", "--workdir", str(PROJECT_DIR)]
    return run(command, SUPABASE_TELEMETRY_DISABLED="1", DO_NOT_TRACK="1")


@pytest.fixture(scope="module")
def reset_database(server: Server) -> Iterator[ResetDatabase]:
    """A database with the stand-in only, then `supabase db reset --db-url` on it."""
    missing = _missing(server)
    if missing is not None:
        if os.environ.get("CMS_REQUIRE_PGTAP"):
            pytest.fail(f"CMS_REQUIRE_PGTAP is set, but {missing}")
        pytest.skip(missing)
    superuser_url = server.url(server.superuser, "postgres")
    with psycopg.connect(superuser_url, autocommit=True) as admin:
        schema.create_database(admin, DATABASE)
    database = ResetDatabase(server, DATABASE)
    with psycopg.connect(database.url(server.superuser)) as superuser:
        schema.apply_standin(superuser)
    result = supabase("db", "reset", "--db-url", database.cli_url())
    assert result.returncode == 0, f"supabase db reset failed:\n{result.stdout}\n{result.stderr}"
    # What supautils lets postgres do on Supabase, done by the superuser here (after the reset, which drops every
    # extension it does not know): plpgsql_check, which `supabase db lint` creates if missing.
    with psycopg.connect(database.url(server.superuser), autocommit=True) as superuser:
        superuser.execute("create extension if not exists plpgsql_check with schema extensions")
    try:
        yield database
    finally:
        with psycopg.connect(superuser_url, autocommit=True) as admin:
            admin.execute(f"drop database if exists {DATABASE} with (force)")


def test_db_reset_applies_every_migration_and_the_seed(reset_database: ResetDatabase) -> None:
    with psycopg.connect(reset_database.url()) as conn:
        versions = [row[0] for row in conn.execute("select version from supabase_migrations.schema_migrations")]
        shoppers = conn.execute(
            "select count(*) from auth.users as u"
            " join auth.identities as i on i.user_id = u.id and i.provider = 'email'"
            " where u.email like '%@demo.customer-memory.dev'"
        ).fetchone()
    assert sorted(versions) == [migration.version for migration in schema.migrations()]
    assert shoppers == (3,)


def test_pgtap_suite_passes_with_the_seed_loaded(reset_database: ResetDatabase) -> None:
    """What `supabase test db` runs, on the database `supabase db reset` left (the seed's shoppers included): pgTAP
    created in `extensions` for the run and dropped after it, pg_prove over supabase/tests."""
    superuser_url = reset_database.url(reset_database.server.superuser)
    with psycopg.connect(superuser_url, autocommit=True) as superuser:
        superuser.execute("create extension if not exists pgtap with schema extensions")
    server = reset_database.server
    try:
        result = run(
            ["pg_prove", "--ext", ".pg", "--ext", ".sql", "-r", str(schema.PGTAP_DIR)],
            PGHOST=server.host,
            PGPORT=str(server.port),
            PGUSER="postgres",
            PGDATABASE=reset_database.name,
        )
    finally:
        with psycopg.connect(superuser_url, autocommit=True) as superuser:
            superuser.execute("drop extension if exists pgtap")
    assert result.returncode == 0, f"pg_prove failed:\n{result.stdout}\n{result.stderr}"
    assert "Result: PASS" in result.stdout


def _json(result: subprocess.CompletedProcess[str], command: str) -> Any:
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return json.loads(result.stdout or "[]")


def test_advisors_find_nothing_at_warn_or_error_outside_the_exclusions(reset_database: ResetDatabase) -> None:
    findings = _json(
        supabase("db", "advisors", "--db-url", reset_database.cli_url(), "--level", "info", "-o", "json"),
        "supabase db advisors",
    )
    serious = [
        f"{finding['level']} {finding['name']}: {finding['detail']}"
        for finding in findings
        if finding["level"] in ("WARN", "ERROR") and finding["cache_key"] not in ADVISOR_EXCLUSIONS
    ]
    assert serious == []
    # An exclusion that no longer matches anything is a stale record of an intent: drop it.
    assert set(ADVISOR_EXCLUSIONS) <= {finding["cache_key"] for finding in findings}


def test_db_lint_with_plpgsql_check_is_clean_at_warning_level(reset_database: ResetDatabase) -> None:
    issues = _json(
        supabase("db", "lint", "--db-url", reset_database.cli_url(), "--level", "warning", "-o", "json"),
        "supabase db lint",
    )
    assert issues == []
