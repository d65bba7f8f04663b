"""What the operator commands share: `--user` (a shopper's id or email) and the database connection they act
through (DATABASE_URL, else the embedded default). Every command then acts as that shopper, through the same SQL
functions the shopper's app calls; finding the shopper is the operator's one query outside the memory API."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import anthropic
import psycopg
from psycopg.rows import tuple_row

from worker.config import Settings
from worker.db.local import database_url
from worker.prompt import calls


class UnknownShopperError(calls.NotFound):
    """No shopper with that id or email (an operator's lookup)."""


def add_user_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", required=True, help="the shopper: their user id (uuid) or email")


@contextmanager
def shopper_connection(args: argparse.Namespace) -> Iterator[tuple[psycopg.Connection[Any], UUID]]:
    with psycopg.connect(database_url(Settings()), autocommit=True) as conn:
        yield conn, find_shopper(conn, args.user)


def find_shopper(conn: psycopg.Connection[Any], who: str) -> UUID:
    """The id of the shopper whose id or email (any case) is `who`, from GoTrue's auth.users, read as the operator's
    connection (postgres), not as a shopper."""
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


Handler = Callable[[argparse.Namespace], int]


def reports_errors(handler: Handler) -> Handler:
    """A refused call (unknown memory or shopper, bad input) or an unreachable Claude is one line on stderr and
    exit status 1, not a traceback."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except calls.MemoryApiError as error:
            print(f"error: {error}", file=sys.stderr)
        except anthropic.APIError as error:
            print(f"error: Claude could not be reached or refused the request: {error}", file=sys.stderr)
        return 1

    return run
