"""`customer-memory forget --user U MEMORY_ID` (one memory, never inferred again from old evidence) or
`customer-memory forget --user U --all` (everything, with counts), as the shopper would through the app."""

from __future__ import annotations

import argparse
import json
from uuid import UUID

from worker.commands._shopper import add_user_argument, reports_errors, shopper_connection
from worker.prompt import calls


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("forget", help="forget one memory of a shopper, or all of them")
    add_user_argument(parser)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("memory_id", nargs="?", type=UUID)
    target.add_argument("--all", action="store_true", help="clear every memory of the shopper (clear_memories)")
    parser.set_defaults(handler=run)


@reports_errors
def run(args: argparse.Namespace) -> int:
    with shopper_connection(args) as (conn, user_id):
        result = calls.clear_memories(conn, user_id) if args.all else calls.forget_memory(conn, user_id, args.memory_id)
    print(json.dumps(result.model_dump(mode="json"), indent=2))
    return 0
