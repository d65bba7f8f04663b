"""What the operator commands share: `--user` (a shopper's id or email) and the database connection they act
through (DATABASE_URL, else the embedded default). Every command then acts as that shopper, through the same SQL
functions the shopper's app calls."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg

from worker.config import Settings
from worker.prompt import calls


def add_user_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", required=True, help="the shopper: their user id (uuid) or email")


@contextmanager
def shopper_connection(args: argparse.Namespace) -> Iterator[tuple[psycopg.Connection[Any], UUID]]:
    with calls.connect(Settings()) as conn:
        yield conn, calls.resolve_shopper(conn, args.user)
