"""The embedded default: one local cluster in the data folder, with a database built like `supabase db reset`
builds one (stand-in, migrations, seed), brought up to date on every start without losing what it holds.

One exception: a database whose recorded migrations are not a prefix of supabase/migrations (one built before the
migrations were squashed into baselines, or on a branch whose migrations were renamed) cannot be brought up to date
by applying the rest, so it is dropped and built afresh. The project is unreleased and this database holds demo
data only; a deployed database would get a new migration instead."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from worker.config import Settings
from worker.db import schema
from worker.db.server import SUPERUSER, LocalPostgres, Running

DATABASE = "postgres"  # Supabase's database name


@dataclass(frozen=True)
class LocalDatabase:
    running: Running
    applied_migrations: list[str]
    version: str
    rebuilt: bool = False

    def url(self, user: str = "postgres") -> str:
        return self.running.url(user, DATABASE)


def ensure_local_database(settings: Settings, *, seed: bool = True) -> LocalDatabase:
    """Start or reuse the local cluster, apply the stand-in once, any new migrations, and the (idempotent) seed."""
    cluster = LocalPostgres(settings.data_dir, settings.pg_bin)
    running = cluster.ensure_running()
    rebuilt = _rebuild_if_history_diverged(running)
    with psycopg.connect(running.url(SUPERUSER, DATABASE)) as superuser:
        # The stand-in is idempotent: a database built before its newest object (auth.identities) gets it again.
        has_standin = superuser.execute("select to_regclass('auth.identities') is not null").fetchone() == (True,)
        if not has_standin:
            schema.apply_standin(superuser, settings.grant_regime)
    with psycopg.connect(running.url("postgres", DATABASE)) as as_postgres:
        applied = schema.apply_migrations(as_postgres)
        if seed:
            schema.apply_seed(as_postgres)
    return LocalDatabase(running=running, applied_migrations=applied, version=cluster.version(), rebuilt=rebuilt)


def _rebuild_if_history_diverged(running: Running) -> bool:
    """Drop and recreate the database when its recorded migrations are not a prefix of the current ones."""
    with psycopg.connect(running.url(SUPERUSER, DATABASE)) as superuser:
        if schema.history_is_current(superuser):
            return False
    with psycopg.connect(running.url(SUPERUSER, "template1"), autocommit=True) as admin:
        schema.create_database(admin, DATABASE)
    return True


def database_url(settings: Settings) -> str:
    """Where the worker and the operator commands connect as `postgres`: DATABASE_URL if set, else the embedded
    default, started and brought up to date (the seed is the demo's business, not theirs)."""
    if settings.database_url:
        return settings.database_url
    return ensure_local_database(settings, seed=False).url()


def locate(settings: Settings) -> Callable[[], str | None] | None:
    """For a process that outlives a restart of the embedded default: where its cluster listens now (a cluster
    started again listens on a new port), or None while it is stopped. None with DATABASE_URL, which never moves."""
    if settings.database_url:
        return None
    cluster = LocalPostgres(settings.data_dir, settings.pg_bin)

    def current() -> str | None:
        running = cluster.status()
        return running.url("postgres", DATABASE) if running else None

    return current
