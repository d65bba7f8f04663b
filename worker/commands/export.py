"""`customer-memory export --user U [--output FILE]`: everything stored about a shopper as one versioned JSON
document (export_memories' shape), read and written a page at a time (worker.client.export), so it works at any
size. With --output the document is written beside FILE and moved into place only when complete."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from worker.client.export import export_document
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
        pieces = export_document(calls.client(conn, user_id))
        if args.output is None:
            sys.stdout.writelines(pieces)
            return 0
        partial = args.output.with_name(args.output.name + ".partial")
        try:
            with partial.open("w", encoding="utf-8") as out:
                out.writelines(pieces)
            partial.replace(args.output)
        finally:
            partial.unlink(missing_ok=True)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0
