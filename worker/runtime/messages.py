"""Read a shopper's new messages with an extractor (worker.extract) and apply what they state through the job
store, one message per transaction (so a crash in the middle re-reads only the messages not yet applied, and each
is applied once). A message the extractor cannot read (worker.extract.boundary) is recorded as unreadable and
skipped: it never blocks the shopper's later messages."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg

from worker.config import Settings
from worker.extract.boundary import ContainedExtractor, unreadable
from worker.extract.model import Extractor
from worker.extract.rules import RuleExtractor
from worker.runtime.store import JobStore

log = logging.getLogger("worker.extract")

# Messages fetched at a time (each is then read and marked read, so the next batch starts after it).
BATCH = 100


def extractor_for(settings: Settings) -> Extractor:
    """Claude when ANTHROPIC_API_KEY is set, otherwise the deterministic rules."""
    if settings.anthropic_api_key is not None:
        from worker.extract.claude import ClaudeExtractor  # the Anthropic SDK is loaded only when it is used

        return ClaudeExtractor(settings.anthropic_api_key.get_secret_value(), settings.anthropic_model)
    return RuleExtractor()


@dataclass
class Applied:
    statements: int = 0
    messages: int = 0
    unreadable: int = 0


def apply_pending_messages(conn: psycopg.Connection[Any], user_id: UUID, extractor: ContainedExtractor) -> Applied:
    """Extract and apply every message of `user_id` not yet read."""
    store = JobStore(conn)
    applied = Applied()
    while pending := store.pending_messages(user_id, BATCH):
        for interaction_id, content in pending:
            reading = extractor.read(content or "")
            if reading.readable:
                try:
                    payload = json.dumps([s.model_dump(mode="json") for s in reading.statements])
                    applied.statements += store.apply_stated_preferences(
                        user_id, interaction_id, payload, reading.source
                    )
                    applied.messages += 1
                    continue
                except psycopg.errors.InvalidParameterValue as error:  # 22023: the database refused the statements
                    reading = unreadable(reading.source, f"The database refused the statements: {error}")
            store.skip_message(user_id, interaction_id, reading.source, reading.problem or "")
            applied.unreadable += 1
            log.warning(
                "message unreadable; skipped",
                extra={"user_id": str(user_id), "interaction_id": str(interaction_id), "problem": reading.problem},
            )
    return applied
