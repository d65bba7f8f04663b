"""`customer-memory demo`: the main job on the embedded default, for now: start (or reuse) the local database,
bring it up to date (stand-in, migrations, seed) and print the demo shopper's memories as that shopper sees them."""

from __future__ import annotations

import argparse

from worker.config import Settings


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("demo", help="set up the local database and show the demo shopper's memories")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    raise NotImplementedError(settings)
