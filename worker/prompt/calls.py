"""Every SQL call of the prompt package, in one module: when the shared client seam (worker/client/) lands, this is
the one file to switch. Each call runs in its own transaction as the shopper, exactly as a PostgREST request under
their JWT (worker.db.request.set_request_context), so it meets the same grants and RLS an app client meets.
Driver errors become this module's exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from worker.config import Settings
from worker.db.request import set_request_context, shopper_claims
from worker.db.server import LocalPostgres
from worker.prompt.models import ClearResult, ExplainedMemory, ForgetResult, MemoryContext, MemoryExport


class MemoryCallError(RuntimeError):
    """A memory function refused the call; the message is the database's sentence."""


class MemoryNotFoundError(MemoryCallError):
    """PT404: no memory with that id for this shopper (unknown, or someone else's)."""


class MemoryInputError(MemoryCallError):
    """22023: an argument was out of range or missing."""


class MemoryAccessError(MemoryCallError):
    """42501: not signed in, or not allowed."""


class UnknownShopperError(MemoryCallError):
    """No shopper with that id or email."""


_ERRORS: dict[str, type[MemoryCallError]] = {
    "PT404": MemoryNotFoundError,
    "22023": MemoryInputError,
    "42501": MemoryAccessError,
}


def operator_database_url(settings: Settings) -> str:
    """DATABASE_URL if set (a `postgres` connection), else the embedded default's cluster, started if need be."""
    if settings.database_url:
        return settings.database_url
    return LocalPostgres(settings.data_dir, settings.pg_bin).ensure_running().url("postgres", "postgres")


def connect(settings: Settings) -> psycopg.Connection[Any]:
    return psycopg.connect(operator_database_url(settings), autocommit=True)


@contextmanager
def as_shopper(conn: psycopg.Connection[Any], user_id: UUID) -> Iterator[psycopg.Connection[Any]]:
    """One request's transaction as this shopper; database errors come out as MemoryCallError."""
    try:
        with conn.transaction():
            set_request_context(conn, "authenticated", shopper_claims(user_id))
            yield conn
    except psycopg.Error as error:
        raise _translate(error) from error


def _translate(error: psycopg.Error) -> MemoryCallError:
    code = error.sqlstate or ""
    message = error.diag.message_primary or str(error)
    return _ERRORS.get(code, MemoryCallError)(message)


def _call(conn: psycopg.Connection[Any], user_id: UUID, sql: str, params: tuple[Any, ...] = ()) -> Any:
    with as_shopper(conn, user_id):
        row = conn.execute(sql.encode(), params).fetchone()
    assert row is not None
    return row[0] if isinstance(row, tuple) else next(iter(row.values()))


def memory_context(
    conn: psycopg.Connection[Any],
    user_id: UUID,
    *,
    min_confidence: Decimal = Decimal("0.70"),
    query: str | None = None,
) -> MemoryContext:
    raw = _call(
        conn, user_id, "select public.memory_context(min_confidence => %s, query => %s)", (min_confidence, query)
    )
    return MemoryContext.model_validate(raw)


def explain_memory(conn: psycopg.Connection[Any], user_id: UUID, memory_id: UUID) -> ExplainedMemory:
    return ExplainedMemory.model_validate(
        _call(conn, user_id, "select public.explain_memory(memory_id => %s)", (memory_id,))
    )


def forget_memory(conn: psycopg.Connection[Any], user_id: UUID, memory_id: UUID) -> ForgetResult:
    return ForgetResult.model_validate(
        _call(conn, user_id, "select public.forget_memory(memory_id => %s)", (memory_id,))
    )


def clear_memories(conn: psycopg.Connection[Any], user_id: UUID) -> ClearResult:
    return ClearResult.model_validate(_call(conn, user_id, "select public.clear_memories()"))


def export_memories(conn: psycopg.Connection[Any], user_id: UUID) -> MemoryExport:
    return MemoryExport.model_validate(_call(conn, user_id, "select public.export_memories()"))


def my_memories(conn: psycopg.Connection[Any], user_id: UUID) -> list[dict[str, Any]]:
    with as_shopper(conn, user_id):
        cursor = conn.cursor(row_factory=dict_row)
        return cursor.execute(
            "select * from public.my_memories order by memory_kind, memory_type, confidence desc, memory_key"
        ).fetchall()


def resolve_shopper(conn: psycopg.Connection[Any], who: str) -> UUID:
    """An operator names a shopper by id or email; the lookup runs as the operator (postgres), not as a shopper."""
    try:
        user_id: UUID | None = UUID(who)
    except ValueError:
        user_id = None
    row = conn.execute("select id from auth.users where id = %s or lower(email) = lower(%s)", (user_id, who)).fetchone()
    if row is None:
        raise UnknownShopperError(f"No shopper with the id or email {who!r}.")
    found = row[0] if isinstance(row, tuple) else next(iter(row.values()))
    return found if isinstance(found, UUID) else UUID(str(found))
