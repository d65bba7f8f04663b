"""The operator's one query outside the memory API: which shopper an id or email names (GoTrue's auth.users),
run as the operator's connection (postgres), not as a shopper. The commands then act as that shopper through the
client seam."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import tuple_row

from worker.client.errors import NotFound


class UnknownShopperError(NotFound):
    """No shopper with that id or email (an operator's lookup)."""


def find_shopper(conn: psycopg.Connection[Any], who: str) -> UUID:
    """The id of the shopper whose id or email (any case) is `who`."""
    try:
        user_id: UUID | None = UUID(who)
    except ValueError:
        user_id = None
    query = "select id from auth.users where id = %s or lower(email) = lower(%s)"
    row = conn.cursor(row_factory=tuple_row).execute(query, (user_id, who)).fetchone()
    if row is None:
        raise UnknownShopperError(f"No shopper with the id or email {who!r}.")
    found: UUID = row[0]
    return found
