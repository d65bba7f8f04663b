"""`customer-memory serve`: the shopper's memory page and its HTTP API (worker/web/app.py), until Ctrl-C.

Without SUPABASE_URL it serves the embedded default's database (started if needed), connected as `authenticator`,
with a local sign-in for the seed's shoppers, and runs the worker beside the page (unless --no-worker), so what a
shopper says in the page's chat is learned at once; with SUPABASE_URL and SUPABASE_ANON_KEY it calls the project's
PostgREST with each shopper's own token, shoppers sign in with Supabase Auth, and the worker runs on its own."""

from __future__ import annotations

import argparse

from worker.config import Settings
from worker.web.address import DEFAULT_HOST, DEFAULT_PORT, SERVER_ROLE


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("serve", help="serve the shopper's memory page and its HTTP API")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; a free one if it is taken)"
    )
    parser.add_argument(
        "--no-worker",
        dest="worker",
        action="store_false",
        help="on the embedded default, do not run the worker beside the page (by default it does, so that what a "
        "shopper says in the page's chat is learned within seconds)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from worker.web.server import serve  # only now: the server's stack is not every command's

    settings = Settings()
    worker = worker_url(settings) if args.worker else None
    return serve(settings, database_url(settings), args.host, args.port, worker_url=worker)


def worker_url(settings: Settings) -> str | None:
    """Where a worker beside the page works: the embedded default's database, as its owner (`postgres`). On a
    Supabase project or another database (CMS_SERVE_DATABASE_URL) the worker is deployed on its own."""
    if settings.supabase_url or settings.serve_database_url:
        return None
    from worker.db.local import ensure_local_database

    return ensure_local_database(settings, seed=False).url()


def database_url(settings: Settings) -> str | None:
    """Where the page reads memories from without a Supabase project: CMS_SERVE_DATABASE_URL, else the embedded
    default (started if needed, not seeded: a restart must not bring back what a shopper deleted), connected as
    authenticator, which can do nothing but become the signed-in shopper."""
    if settings.supabase_url:
        return None
    if settings.serve_database_url:
        return settings.serve_database_url
    from worker.db.local import DATABASE, ensure_local_database

    return ensure_local_database(settings, seed=False).running.url(SERVER_ROLE, DATABASE)
