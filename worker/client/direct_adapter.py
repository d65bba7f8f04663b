"""The seam over a direct PostgreSQL connection, doing per transaction exactly what PostgREST does per request
(worker.db.request.set_request_context: role, request.jwt.claims, search_path, request.*), then `select
public.<fn>(name => value, ...)` with named arguments, as PostgREST's RPC does."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row
from psycopg.types.json import Jsonb

from worker.client.errors import MemoryApiError, ServiceUnavailable, error_from
from worker.client.seam import Identity
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

    def select(self, relation: str, equal: Mapping[str, Any], identity: Identity) -> list[dict[str, Any]]:
        # Each row as PostgREST sends it, a JSON object (to_jsonb), so both adapters return the same values.
        query = sql.SQL("select to_jsonb(r) from {}.{} as r").format(sql.Identifier("public"), sql.Identifier(relation))
        if equal:
            query += sql.SQL(" where ") + sql.SQL(" and ").join(
                sql.SQL("r.{} = {}").format(sql.Identifier(column), sql.Placeholder()) for column in equal
            )
        try:
            with self._connect() as conn, conn.transaction():
                set_request_context(conn, identity.role, identity.claims(), method="GET", path=f"/{relation}")
                rows = conn.cursor(row_factory=tuple_row).execute(query, list(equal.values())).fetchall()
        except psycopg.Error as exc:
            raise _translate(exc, identity) from exc
        return [row[0] for row in rows]


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
