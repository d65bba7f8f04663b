"""`customer-memory context --user U [--query Q] [--min-confidence C] [--json]`: the memory a shopper's assistant
would see, as the prompt block (with references and a token estimate) or as memory_context's JSON."""

from __future__ import annotations

import argparse
import json
from decimal import Decimal

from worker.commands._shopper import add_user_argument, reports_errors, shopper_connection
from worker.prompt import calls
from worker.prompt.render import render_memory_block
from worker.prompt.tokens import estimate_tokens


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("context", help="show the memory block a shopper's assistant would get")
    add_user_argument(parser)
    parser.add_argument("--query", help="what the shopper is asking, to rank memories by relevance")
    parser.add_argument("--min-confidence", type=Decimal, default=Decimal("0.70"))
    parser.add_argument("--json", action="store_true", help="print memory_context's JSON instead of the block")
    parser.set_defaults(handler=run)


@reports_errors
def run(args: argparse.Namespace) -> int:
    with shopper_connection(args) as (conn, user_id):
        context = calls.memory_context(conn, user_id, min_confidence=args.min_confidence, query=args.query)
    if args.json:
        print(json.dumps(context.model_dump(mode="json"), indent=2))
        return 0
    rendered = render_memory_block(context)
    print(rendered.text)
    for ref, reference in rendered.references.items():
        print(f"[{ref}] {reference.item.id}")
    print(f"\n~{estimate_tokens(rendered.text)} tokens (estimate)")
    return 0
