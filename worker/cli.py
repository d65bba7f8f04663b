"""`customer-memory`: the command line of the memory system.

Each command lives in its own module with `add_parser(subparsers)`, which registers it and sets `handler`;
COMMANDS lists those modules, in the order `--help` shows them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from worker.commands import backfill, chat, context, db, demo, explain, export, forget, serve, worker

COMMANDS = [demo, serve, db, chat, context, explain, export, forget, worker, backfill]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="customer-memory", description=__doc__.splitlines()[0].replace("`", ""))
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
