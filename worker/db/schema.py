"""Building a database the way `supabase db reset` does, on plain PostgreSQL: the stand-in (as the superuser),
then every migration in order (as `postgres`, recorded in supabase_migrations.schema_migrations like the CLI
records them), then the seed (as `postgres`).

The same database can be built from the declarative schema files instead (supabase/schemas/*.sql in lexicographic
order, as the CLI applies them): the drift test builds both and compares them object by object."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import psycopg
from psycopg import sql

from worker.config import PROJECT_DIR

SUPABASE_DIR = PROJECT_DIR / "supabase"
MIGRATIONS_DIR = SUPABASE_DIR / "migrations"
SCHEMAS_DIR = SUPABASE_DIR / "schemas"
SEED_FILE = SUPABASE_DIR / "seed.sql"
STANDIN_FILE = PROJECT_DIR / "standin" / "supabase.sql"
PGTAP_DIR = SUPABASE_DIR / "tests"

# The CLI's parser: <timestamp>_<name>.sql (pkg/migration/file.go).
_MIGRATION_NAME = re.compile(r"^([0-9]+)_(.*)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path

    def text(self) -> str:
        return self.path.read_text()


def migrations() -> list[Migration]:
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if match is None:
            raise ValueError(f"{path.name} is not named <timestamp>_<name>.sql; the Supabase CLI would skip it")
        found.append(Migration(version=match.group(1), name=match.group(2), path=path))
    return found


def apply_standin(superuser: psycopg.Connection, regime: str = "current") -> None:
    """Give this database what Supabase's image gives a project. `regime` picks the default privileges:
    'legacy' (new public tables open to the API roles) or 'current' (nothing granted by default)."""
    with superuser.transaction():
        superuser.execute("select set_config('standin.grant_regime', %s, true)", (regime,))
        superuser.execute(STANDIN_FILE.read_text().encode())


def apply_migrations(as_postgres: psycopg.Connection) -> list[str]:
    """Apply the migrations not yet recorded, each in its own transaction; return the versions applied."""
    with as_postgres.transaction():
        as_postgres.execute(
            "create schema if not exists supabase_migrations;"
            "create table if not exists supabase_migrations.schema_migrations"
            " (version text primary key, statements text[], name text)"
        )
        done = {row[0] for row in as_postgres.execute("select version from supabase_migrations.schema_migrations")}
    applied = []
    for migration in migrations():
        if migration.version in done:
            continue
        text = migration.text()
        with as_postgres.transaction():
            as_postgres.execute("set local lock_timeout = '4s'")
            as_postgres.execute(text.encode())
            as_postgres.execute(
                "insert into supabase_migrations.schema_migrations (version, statements, name) values (%s, %s, %s)",
                (migration.version, [text], migration.name),
            )
        applied.append(migration.version)
    return applied


def recorded_migrations(as_postgres: psycopg.Connection) -> list[str]:
    """The versions recorded as applied, in order ([] when nothing was ever applied)."""
    if as_postgres.execute("select to_regclass('supabase_migrations.schema_migrations')").fetchone() == (None,):
        return []
    return [
        row[0] for row in as_postgres.execute("select version from supabase_migrations.schema_migrations order by 1")
    ]


def history_is_current(as_postgres: psycopg.Connection) -> bool:
    """Whether the recorded migrations are a prefix of supabase/migrations (so that applying the rest brings the
    database up to date). False for a database built before the migrations were squashed into baselines."""
    recorded = recorded_migrations(as_postgres)
    return recorded == [m.version for m in migrations()][: len(recorded)]


def schema_files() -> list[Path]:
    """The declarative schema files, in the order the Supabase CLI applies them (lexicographic)."""
    return sorted(SCHEMAS_DIR.glob("*.sql"))


def apply_schema_files(as_postgres: psycopg.Connection, files: list[Path] | None = None) -> None:
    """Apply the schema files (or `files`, for a test that plants a difference) in one transaction."""
    with as_postgres.transaction():
        as_postgres.execute("set local lock_timeout = '4s'")
        for path in schema_files() if files is None else files:
            as_postgres.execute(path.read_bytes())


def build_database(
    superuser_url: str,
    name: str,
    regime: str = "current",
    *,
    source: Literal["migrations", "schemas"] = "migrations",
    schema_paths: list[Path] | None = None,
) -> str:
    """(Re)create database `name` on the server `superuser_url` reaches as a superuser, and build it as `supabase db
    reset` does, without the seed: the stand-in as that superuser, then every migration as `postgres` (or, with
    source="schemas", the declarative schema files, or `schema_paths`). Returns the new database's connection
    string as `postgres`."""
    with psycopg.connect(superuser_url, autocommit=True) as admin:
        create_database(admin, name)
    with psycopg.connect(psycopg.conninfo.make_conninfo(superuser_url, dbname=name)) as superuser:
        apply_standin(superuser, regime)
    as_postgres = psycopg.conninfo.make_conninfo(superuser_url, dbname=name, user="postgres")
    with psycopg.connect(as_postgres) as conn:
        if source == "schemas":
            apply_schema_files(conn, schema_paths)
        else:
            apply_migrations(conn)
    return as_postgres


def apply_seed(as_postgres: psycopg.Connection) -> None:
    with as_postgres.transaction():
        as_postgres.execute(SEED_FILE.read_text().encode())


def create_database(superuser: psycopg.Connection, name: str, template: str | None = None) -> None:
    """(Re)create a database; `superuser` must be in autocommit mode."""
    superuser.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
    if template is None:
        superuser.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    else:
        superuser.execute(
            sql.SQL("create database {} template {} strategy file_copy").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )
        # A copy gets default database privileges, not the template's: grant again what the stand-in granted.
        superuser.execute(
            sql.SQL("grant connect, create, temporary on database {} to postgres").format(sql.Identifier(name))
        )


def database_exists(superuser: psycopg.Connection, name: str) -> bool:
    return superuser.execute("select exists (select from pg_database where datname = %s)", (name,)).fetchone() == (
        True,
    )
