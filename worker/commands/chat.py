"""`customer-memory chat --user U [--message M]`: talk to the assistant as a shopper. Builds the system prompt
with the shopper's memory (ranked for each message) and, with ANTHROPIC_API_KEY, streams Claude's reply, then
says which memories the reply relied on ("View memory details: /memories/<id>"). Without a key it says that no
model is configured, lists what the assistant would rely on from the shopper's own memory (each with why), and
prints the request it would send."""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from typing import Any, TextIO
from uuid import UUID

import anthropic
import psycopg

from worker.commands._shopper import add_user_argument, reports_errors, shopper_connection
from worker.config import Settings
from worker.prompt import calls
from worker.prompt.chat import build_system_prompt, request_body, stream_reply
from worker.prompt.explain import MEMORY_PATH, explain_suggestion, references_in
from worker.prompt.offline import no_model_answer


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("chat", help="chat with the assistant as a shopper (Claude, with their memory)")
    add_user_argument(parser)
    parser.add_argument("--message", "-m", help="one message, then exit (default: read messages from stdin)")
    parser.add_argument("--min-confidence", type=Decimal, default=Decimal("0.70"))
    parser.set_defaults(handler=run)


@reports_errors
def run(args: argparse.Namespace) -> int:
    settings = Settings()
    key = settings.anthropic_api_key.get_secret_value() if settings.anthropic_api_key is not None else ""
    client = anthropic.Anthropic(api_key=key) if key else None  # an empty ANTHROPIC_API_KEY counts as unset
    with shopper_connection(args) as (conn, user_id):
        if args.message is not None:
            chat_turn(
                conn,
                user_id,
                [],
                args.message,
                client=client,
                model=settings.anthropic_model,
                min_confidence=args.min_confidence,
            )
            return 0
        history: list[dict[str, Any]] = []
        print("Type a message (an empty line or end of input quits).", file=sys.stderr)
        for line in sys.stdin:
            if not line.strip():
                break
            history = chat_turn(
                conn,
                user_id,
                history,
                line.strip(),
                client=client,
                model=settings.anthropic_model,
                min_confidence=args.min_confidence,
            )
    return 0


def chat_turn(
    conn: psycopg.Connection[Any],
    user_id: UUID,
    history: list[dict[str, Any]],
    message: str,
    *,
    client: anthropic.Anthropic | None,
    model: str,
    min_confidence: Decimal = Decimal("0.70"),
    out: TextIO | None = None,
) -> list[dict[str, Any]]:
    """One turn: the memory ranked for this message, the system prompt, and either Claude's streamed reply with
    its explanation (client given) or, with no model, what the assistant would rely on and the request that
    would be sent. Returns the history after it."""
    out = out or sys.stdout
    context = calls.memory_context(conn, user_id, min_confidence=min_confidence, query=message)
    system = build_system_prompt(context)
    messages = [*history, {"role": "user", "content": message}]
    if client is None:
        answer = no_model_answer(message, system.memory)
        out.write(answer + "\n")
        for ref in references_in(answer):
            out.write(f"  [{ref}] {MEMORY_PATH.format(id=system.memory.references[ref].item.id)}\n")
        out.write("\nThe request that would be sent:\n")
        out.write(json.dumps(request_body(system, messages, model=model), indent=2) + "\n")
        out.write(system.text + "\n")
        return messages
    reply = ""
    for fragment in stream_reply(client, system, messages, model=model):
        reply += fragment
        out.write(fragment)
        out.flush()
    out.write("\n")
    explanation = explain_suggestion("this", system.memory, references_in(reply))
    if explanation is not None:
        out.write(f"\n{explanation.sentence}\n")
        for link in explanation.links:
            out.write(f"  [{link.ref}] {link.label}: {link.href}\n")
    return [*messages, {"role": "assistant", "content": reply}]
