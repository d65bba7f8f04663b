"""The prompt package's calls to the memory API, through the one client seam (worker.client): each call is one
transaction as the shopper, exactly a PostgREST request under their JWT, so it meets the grants and RLS an app
client meets, and errors arrive as worker.client.errors exceptions."""

from __future__ import annotations

from contextlib import nullcontext
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg

from worker.client.direct_adapter import DirectAdapter
from worker.client.errors import InvalidInput, MemoryApiError, NotAuthorized, NotFound
from worker.client.memory import MemoryClient
from worker.client.responses import ClearResult, ExplainedMemory, ForgetResult, MemoryContext, MemoryExport
from worker.client.rows import PublicMyMemories
from worker.client.seam import Identity

__all__ = [
    "InvalidInput",
    "MemoryApiError",
    "NotAuthorized",
    "NotFound",
]


def client(conn: psycopg.Connection[Any], user_id: UUID) -> MemoryClient:
    """The memory API as `user_id`, over this (open, autocommit) connection, which it leaves open."""
    return MemoryClient(DirectAdapter(lambda: nullcontext(conn)), Identity.shopper(user_id))


def memory_context(
    conn: psycopg.Connection[Any],
    user_id: UUID,
    *,
    min_confidence: Decimal = Decimal("0.70"),
    query: str | None = None,
) -> MemoryContext:
    return client(conn, user_id).memory_context(min_confidence=min_confidence, query=query)


def explain_memory(conn: psycopg.Connection[Any], user_id: UUID, memory_id: UUID) -> ExplainedMemory:
    return client(conn, user_id).explain_memory(memory_id)


def forget_memory(conn: psycopg.Connection[Any], user_id: UUID, memory_id: UUID) -> ForgetResult:
    return client(conn, user_id).forget_memory(memory_id)


def clear_memories(conn: psycopg.Connection[Any], user_id: UUID) -> ClearResult:
    return client(conn, user_id).clear_memories()


def export_memories(conn: psycopg.Connection[Any], user_id: UUID) -> MemoryExport:
    return client(conn, user_id).export_memories()


def my_memories(conn: psycopg.Connection[Any], user_id: UUID) -> list[PublicMyMemories]:
    """The my_memories view, read as the shopper (PostgREST's GET /rest/v1/my_memories)."""
    return client(conn, user_id).my_memories()
