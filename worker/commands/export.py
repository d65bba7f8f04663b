"""`customer-memory export --user U [--output FILE]`: everything stored about a shopper, as export_memories'
versioned JSON document."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from worker.commands._shopper import add_user_argument, reports_errors, shopper_connection
from worker.prompt import calls


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("export", help="export everything stored about a shopper as JSON")
    add_user_argument(parser)
    parser.add_argument("--output", type=Path, help="write to this file instead of standard output")
    parser.set_defaults(handler=run)


@reports_errors
def run(args: argparse.Namespace) -> int:
    with shopper_connection(args) as (conn, user_id):
        document = calls.export_memories(conn, user_id)
    text = document.model_dump_json(indent=2) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0
