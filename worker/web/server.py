"""Building the memory page's server from the settings, and running it on uvicorn.

- With SUPABASE_URL (and SUPABASE_ANON_KEY): routes call PostgREST with the shopper's own token; tokens are
  verified with the project's JWKS (and SUPABASE_JWT_SECRET, if set); the page signs in with Supabase Auth; the
  local sign-in is refused.
- Otherwise (the embedded default): routes call the database directly, connected as a role that holds no
  privilege of its own over memory rows and can only switch into the API roles, as PostgREST's `authenticator`
  (checked at start); the local sign-in signs the seed's shoppers in with tokens of a per-process secret.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import anthropic
import psycopg
import uvicorn
from psycopg.conninfo import make_conninfo
from psycopg_pool import ConnectionPool

from worker.client.direct_adapter import DirectAdapter
from worker.client.postgrest_adapter import PostgrestAdapter
from worker.config import Settings
from worker.runtime.worker import BackgroundWorker
from worker.web.address import DEFAULT_HOST, DEFAULT_PORT, SERVER_ROLE
from worker.web.app import Backend, create_app
from worker.web.signin import LOCAL_ISSUER, LocalAuth
from worker.web.tokens import JWKS_PATH, JwksKeys, TokenVerifier

AUTH_ROLE = "supabase_auth_admin"  # GoTrue's own database role: the local sign-in reads auth.users as it
MEMORY_TABLES = ("customer_preferences", "shopping_patterns", "interaction_history", "memory_insights")
POOL_SIZE = 10


class ServerConfigError(RuntimeError):
    """The server cannot start as configured; the message says what to change."""


def backend_from_settings(settings: Settings, database_url: str | None) -> Backend:
    """On Supabase when SUPABASE_URL is set; otherwise over `database_url` (the local tooling finds it: the
    embedded default, as authenticator, or CMS_SERVE_DATABASE_URL)."""
    claude = _claude(settings)
    if settings.supabase_url:
        return supabase_backend(settings, claude)
    if database_url is None:
        raise ServerConfigError("Without SUPABASE_URL the memory page needs a database URL to serve from.")
    return local_backend(database_url, claude=claude, model=settings.anthropic_model)


def supabase_backend(settings: Settings, claude: anthropic.Anthropic | None = None) -> Backend:
    url = (settings.supabase_url or "").rstrip("/")
    if settings.supabase_anon_key is None:
        raise ServerConfigError("SUPABASE_URL is set but SUPABASE_ANON_KEY is not: the page needs the anon key.")
    anon_key = settings.supabase_anon_key.get_secret_value()
    secret = settings.supabase_jwt_secret.get_secret_value() if settings.supabase_jwt_secret else None
    verifier = TokenVerifier(f"{url}/auth/v1", secret=secret, jwks=JwksKeys(f"{url}{JWKS_PATH}"))
    return Backend(
        functions=PostgrestAdapter(url, anon_key),
        verifier=verifier,
        auth_url=f"{url}/auth/v1",
        anon_key=anon_key,
        anthropic=claude,
        model=settings.anthropic_model,
    )


def local_backend(
    url: str, *, claude: anthropic.Anthropic | None = None, model: str = "claude-sonnet-4-6", secret: str | None = None
) -> Backend:
    """Routes over a pool of connections at `url` (a role like `authenticator`); the local sign-in reads auth.users
    as `supabase_auth_admin` on the same server."""
    with psycopg.connect(url, connect_timeout=10) as conn:  # fails at once, where a pool would retry for 30 s
        check_holds_no_privilege(conn)
    pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
        url, min_size=1, max_size=POOL_SIZE, kwargs={"autocommit": True}, open=True, name="memory-page"
    )
    secret = secret or secrets.token_urlsafe(32)
    auth_url = make_conninfo(url, user=AUTH_ROLE, password="")
    connect: Callable[[], AbstractContextManager[psycopg.Connection[Any]]] = lambda: psycopg.connect(auth_url)  # noqa: E731
    return Backend(
        functions=DirectAdapter(pool.connection),
        verifier=TokenVerifier(LOCAL_ISSUER, secret=secret),
        auth_url="/auth/v1",
        local_auth=LocalAuth(connect, secret),
        anthropic=claude,
        model=model,
        closers=[pool.close],
    )


def check_holds_no_privilege(conn: psycopg.Connection[Any]) -> None:
    """The server's login role must be like PostgREST's authenticator: no superuser, no BYPASSRLS, no inherited
    privileges, no grant of its own on a memory table; all it can do is become `authenticated` for a request."""
    row = conn.execute(
        "select r.rolname, r.rolsuper, r.rolbypassrls, r.rolinherit,"
        " pg_has_role(current_user, 'authenticated', 'MEMBER'),"
        " (select array_agg(t) from unnest(%s::text[]) as t"
        "   where has_table_privilege(current_user, 'public.' || t, 'select, insert, update, delete'))"
        " from pg_roles as r where r.rolname = current_user",
        (list(MEMORY_TABLES),),
    ).fetchone()
    assert row is not None
    name, superuser, bypassrls, inherit, can_become_shopper, tables = row
    problems = [
        *(["is a superuser"] if superuser else []),
        *(["bypasses row-level security"] if bypassrls else []),
        *(["inherits the privileges of the roles it belongs to"] if inherit else []),
        *([f"has privileges of its own on {', '.join(tables)}"] if tables else []),
        *(["cannot switch to the authenticated role"] if not can_become_shopper else []),
    ]
    if problems:
        raise ServerConfigError(
            f"The memory page must connect as a role with no privilege of its own (like {SERVER_ROLE}), but "
            f"{name} {' and '.join(problems)}. Set CMS_SERVE_DATABASE_URL to connect as {SERVER_ROLE}."
        )


def _claude(settings: Settings) -> anthropic.Anthropic | None:
    key = settings.anthropic_api_key.get_secret_value() if settings.anthropic_api_key is not None else ""
    return anthropic.Anthropic(api_key=key) if key else None  # an empty ANTHROPIC_API_KEY counts as unset


def listening_socket(host: str, port: int) -> socket.socket:
    """Bound to `port`, or to a free port when that one is taken (another copy may be running)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit it. Without it, Nagle holds a response's body until the client acknowledges
    # its headers, and the client's delayed ACK makes that 40 ms per request (uvicorn sets it only on sockets
    # it binds itself).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.bind((host, 0))
    sock.listen(128)
    return sock


def serve(
    settings: Settings,
    database_url: str | None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    worker_url: str | None = None,
    log_level: str = "warning",
) -> int:
    """Run the page and its API until Ctrl-C / SIGTERM; prints its address first. With `worker_url` (a database URL
    the worker may use), a worker runs beside it in this process, so what a shopper says in the page's chat is
    learned within seconds; without, learning waits for a worker run elsewhere (`customer-memory worker`)."""
    try:
        backend = backend_from_settings(settings, database_url)
    except (ServerConfigError, psycopg.Error) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    backend.worker_beside = worker_url is not None
    sock = listening_socket(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    print(f"The memory page: http://{bound_host}:{bound_port}/  (Ctrl-C stops it)", flush=True)
    if backend.local_auth is not None:
        print("Sign in as a seed shopper: dana@demo.customer-memory.dev, password grocery-demo-2026.", flush=True)
    if worker_url is None:
        print("No worker runs beside it: start `customer-memory worker` to learn from what shoppers say.", flush=True)
    config = uvicorn.Config(create_app(backend), log_level=log_level, access_log=False, lifespan="on")
    with (
        # The page answers at once; the worker starts its extractor processes beside it.
        BackgroundWorker(settings, worker_url, ready_timeout=0) if worker_url is not None else contextlib.nullcontext(),
        contextlib.suppress(KeyboardInterrupt),  # uvicorn shuts down gracefully on SIGINT, then raises it again
    ):
        uvicorn.Server(config).run(sockets=[sock])
    print("The memory page stopped.", flush=True)
    return 0
