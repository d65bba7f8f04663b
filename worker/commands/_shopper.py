"""What the operator commands share: `--user` (a shopper's id or email) and the database connection they act
through (DATABASE_URL, else the embedded default). Every command then acts as that shopper, through the same SQL
functions the shopper's app calls."""

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

from worker.config import Settings
from worker.db.accounts import find_shopper
from worker.db.local import database_url
from worker.prompt import calls


def add_user_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", required=True, help="the shopper: their user id (uuid) or email")


@contextmanager
def shopper_connection(args: argparse.Namespace) -> Iterator[tuple[psycopg.Connection[Any], UUID]]:
    with psycopg.connect(database_url(Settings()), autocommit=True) as conn:
        yield conn, find_shopper(conn, args.user)


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
