"""`customer-memory db status|stop|url`: the local PostgreSQL of the embedded default."""

from __future__ import annotations

import argparse

from worker.config import Settings
from worker.db.local import DATABASE
from worker.db.server import LocalPostgres


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("db", help="status, address or stop of the local database")
    parser.add_argument("action", choices=["status", "url", "stop"])
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    cluster = LocalPostgres(settings.data_dir, settings.pg_bin)
    running = cluster.status()
    if args.action == "stop":
        cluster.stop()
        print("stopped" if running else "not running")
        return 0
    if running is None:
        print(f"not running (data: {settings.data_dir}); `customer-memory demo` starts it")
        return 1
    print(
        running.url("postgres", DATABASE) if args.action == "url" else f"running: {running.url('postgres', DATABASE)}"
    )
    return 0
