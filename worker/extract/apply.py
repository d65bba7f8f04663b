"""Read a shopper's new messages and apply what they state, one message per transaction (so a crash in the
middle re-reads only the messages not yet applied, and each is applied once). A message the extractor cannot read
(worker.extract.boundary) is recorded as unreadable and skipped: it never blocks the shopper's later messages."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg

from worker.config import Settings
from worker.db.request import set_request_context
from worker.extract.boundary import ContainedExtractor, Reading, unreadable
from worker.extract.model import Extractor
from worker.extract.rules import RuleExtractor

log = logging.getLogger("worker.extract")

# Messages fetched at a time (each is then read and marked read, so the next batch starts after it).
BATCH = 100


def extractor_for(settings: Settings) -> Extractor:
    """Claude when ANTHROPIC_API_KEY is set, otherwise the deterministic rules."""
    if settings.anthropic_api_key is not None:
        from worker.extract.claude import ClaudeExtractor

        return ClaudeExtractor(settings.anthropic_api_key.get_secret_value(), settings.anthropic_model)
    return RuleExtractor()


@dataclass
class Applied:
    statements: int = 0
    messages: int = 0
    unreadable: int = 0


def apply_pending_messages(conn: psycopg.Connection[Any], user_id: UUID, extractor: ContainedExtractor) -> Applied:
    """Extract and apply every message of `user_id` not yet read."""
    applied = Applied()
    while pending := _pending(conn, user_id):
        for row in pending:
            _read_one(conn, user_id, row, extractor, applied)
    return applied


def _pending(conn: psycopg.Connection[Any], user_id: UUID) -> list[Any]:
    with conn.transaction():
        set_request_context(conn, "service_role", path="/worker")
        return conn.execute(
            "select interaction_id, content from public.worker_pending_messages(%s, %s)", (user_id, BATCH)
        ).fetchall()


def _read_one(
    conn: psycopg.Connection[Any], user_id: UUID, row: Any, extractor: ContainedExtractor, applied: Applied
) -> None:
    interaction_id, content = (row["interaction_id"], row["content"]) if isinstance(row, dict) else row
    reading = extractor.read(content or "")
    if reading.readable:
        try:
            applied.statements += _apply(conn, user_id, interaction_id, reading)
            applied.messages += 1
            return
        except psycopg.errors.InvalidParameterValue as error:  # 22023: the database refused the statements
            reading = unreadable(reading.source, f"The database refused the statements: {error}")
    _skip(conn, user_id, interaction_id, reading)
    applied.unreadable += 1
    log.warning(
        "message unreadable; skipped",
        extra={"user_id": str(user_id), "interaction_id": str(interaction_id), "problem": reading.problem},
    )


def _apply(conn: psycopg.Connection[Any], user_id: UUID, interaction_id: UUID, reading: Reading) -> int:
    payload = json.dumps([s.model_dump(mode="json") for s in reading.statements])
    with conn.transaction():
        set_request_context(conn, "service_role", path="/worker")
        result = conn.execute(
            "select public.worker_apply_stated_preferences(%s, %s, %s::jsonb, %s)",
            (user_id, interaction_id, payload, reading.source),
        ).fetchone()
    return int((next(iter(result.values())) if isinstance(result, dict) else result[0]) or 0) if result else 0


def _skip(conn: psycopg.Connection[Any], user_id: UUID, interaction_id: UUID, reading: Reading) -> None:
    with conn.transaction():
        set_request_context(conn, "service_role", path="/worker")
        conn.execute(
            "select public.worker_skip_message(%s, %s, %s, %s)",
            (user_id, interaction_id, reading.source, reading.problem),
        )
