"""`customer-memory explain --user U MEMORY_ID`: one memory of a shopper with the evidence behind it (JSON)."""

from __future__ import annotations

import argparse
import json
from uuid import UUID

from worker.commands._shopper import add_user_argument, reports_errors, shopper_connection
from worker.prompt import calls


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("explain", help="show one memory of a shopper and its evidence")
    add_user_argument(parser)
    parser.add_argument("memory_id", type=UUID)
    parser.set_defaults(handler=run)


@reports_errors
def run(args: argparse.Namespace) -> int:
    with shopper_connection(args) as (conn, user_id):
        explained = calls.explain_memory(conn, user_id, args.memory_id)
    print(json.dumps(explained.model_dump(mode="json"), indent=2, default=str))
    return 0
