"""Read a shopper's new messages and apply what they state, one message per transaction (so a crash in the
middle re-reads only the messages not yet applied, and each is applied once)."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import psycopg

from worker.config import Settings
from worker.db.request import set_request_context
from worker.extract.model import Extractor
from worker.extract.rules import RuleExtractor


def extractor_for(settings: Settings) -> Extractor:
    """Claude when ANTHROPIC_API_KEY is set, otherwise the deterministic rules."""
    if settings.anthropic_api_key is not None:
        from worker.extract.claude import ClaudeExtractor

        return ClaudeExtractor(settings.anthropic_api_key.get_secret_value(), settings.anthropic_model)
    return RuleExtractor()


def apply_pending_messages(conn: psycopg.Connection[Any], user_id: UUID, extractor: Extractor) -> int:
    """Extract and apply every message of `user_id` not yet read; returns how many statements were applied."""
    with conn.transaction():
        set_request_context(conn, "service_role", path="/worker")
        pending = conn.execute(
            "select interaction_id, content from public.worker_pending_messages(%s, 1000)", (user_id,)
        ).fetchall()
    applied = 0
    for row in pending:
        interaction_id, content = (row["interaction_id"], row["content"]) if isinstance(row, dict) else row
        statements, source = extractor.extract(content or "")
        payload = json.dumps([s.model_dump(mode="json") for s in statements])
        with conn.transaction():
            set_request_context(conn, "service_role", path="/worker")
            result = conn.execute(
                "select public.worker_apply_stated_preferences(%s, %s, %s::jsonb, %s)",
                (user_id, interaction_id, payload, source[:100]),
            ).fetchone()
        applied += int((next(iter(result.values())) if isinstance(result, dict) else result[0]) or 0) if result else 0
    return applied
