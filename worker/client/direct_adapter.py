"""The seam over a direct PostgreSQL connection, doing per transaction exactly what PostgREST does per request
(worker.db.request.set_request_context: role, request.jwt.claims, search_path, request.*), then `select
public.<fn>(name => value, ...)` with named arguments, as PostgREST's RPC does."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row
from psycopg.types.json import Jsonb

from worker.client.errors import MemoryApiError, ServiceUnavailable, error_from
from worker.client.seam import Identity, OrderBy
from worker.db.request import set_request_context

Connect = Callable[[], AbstractContextManager[psycopg.Connection[Any]]]


class DirectAdapter:
    """`connect` gives a connection as `postgres` (or any role that may SET ROLE to the API roles), e.g.
    `lambda: psycopg.connect(url)` or a psycopg_pool.ConnectionPool's `connection`."""

    def __init__(self, connect: Connect) -> None:
        self._connect = connect

    @classmethod
    def from_url(cls, url: str) -> DirectAdapter:
        return cls(lambda: psycopg.connect(url))

    def call(self, function: str, args: Mapping[str, Any], identity: Identity) -> Any:
        query = sql.SQL("select {}.{}({})").format(
            sql.Identifier("public"),
            sql.Identifier(function),
            sql.SQL(", ").join(sql.SQL("{} => {}").format(sql.Identifier(name), sql.Placeholder()) for name in args),
        )
        params = [Jsonb(value) if isinstance(value, dict | list) else value for value in args.values()]
        try:
            with self._connect() as conn, conn.transaction():
                set_request_context(conn, identity.role, identity.claims(), path=f"/rpc/{function}")
                row = conn.cursor(row_factory=tuple_row).execute(query, params).fetchone()
        except psycopg.Error as exc:
            raise _translate(exc, identity) from exc
        return None if row is None else row[0]

    def read(self, view: str, identity: Identity, *, order: Sequence[OrderBy], limit: int) -> list[dict[str, Any]]:
        """As PostgREST's GET: a read-only transaction, the rows aggregated to JSON in the database (so values
        arrive as PostgREST sends them: numbers, ISO timestamps, nested JSON)."""
        sorting = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(column), sql.SQL("desc" if descending else "asc"))
            for column, descending in order
        )
        query = sql.SQL(
            "select coalesce(jsonb_agg(to_jsonb(v)), '[]') from (select * from {}.{} {} limit %s) as v"
        ).format(
            sql.Identifier("public"),
            sql.Identifier(view),
            sql.SQL("order by ") + sorting if order else sql.SQL(""),
        )
        try:
            with self._connect() as conn, conn.transaction():
                set_request_context(conn, identity.role, identity.claims(), method="GET", path=f"/{view}")
                conn.execute("set transaction read only")
                row = conn.cursor(row_factory=tuple_row).execute(query, [limit]).fetchone()
        except psycopg.Error as exc:
            raise _translate(exc, identity) from exc
        return [] if row is None else list(row[0])


def _translate(exc: psycopg.Error, identity: Identity) -> MemoryApiError:
    if exc.sqlstate is None:  # no answer from the server: the connection failed or broke
        return ServiceUnavailable(f"the database could not be reached: {exc}")
    diag = exc.diag
    return error_from(
        exc.sqlstate,
        diag.message_primary or str(exc),
        details=diag.message_detail,
        hint=diag.message_hint,
        anonymous=identity.anonymous_caller,
    )
