"""Pydantic models of what the memory API's functions return (memory_context, explain_memory, forget_memory,
clear_memories, export_memories): MemoryClient returns these. The requests are in worker.client.models beside
this module. Unknown keys are kept out of the models but tolerated, so the SQL side may add fields without
breaking readers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

Section = Literal["allergies", "dietary", "dislikes", "favorites", "brands", "patterns", "insights", "habits"]
SECTIONS: tuple[Section, ...] = (
    "allergies",
    "dietary",
    "dislikes",
    "favorites",
    "brands",
    "patterns",
    "insights",
    "habits",
)
# Always in the block whatever the floor or the query. They carry only what the shopper said, or an inference whose
# measured precision is >= 0.95; a weaker inferred diet is a habit ("usually buys no meat"), never a restriction.
SAFETY_SECTIONS: tuple[Section, ...] = ("allergies", "dietary")


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class MemoryItem(_Model):
    """One memory as memory_context returns it."""

    id: UUID
    type: str
    key: str
    value: str | None = None
    confidence: Decimal
    reason: str | None = None
    source: str
    evidence_count: int = 0
    updated_at: datetime
    last_seen_at: datetime | None = None
    relevance: int = 0
    figures: dict[str, Any] | None = None
    expires_at: datetime | None = None


class MemoryContext(_Model):
    """The memory_context document: one list per section, ranked, within the size budget."""

    generated_at: datetime
    min_confidence: Decimal
    query: str | None = None
    query_terms: list[str] = Field(default_factory=list)
    allergies: list[MemoryItem] = Field(default_factory=list)
    dietary: list[MemoryItem] = Field(default_factory=list)
    dislikes: list[MemoryItem] = Field(default_factory=list)
    favorites: list[MemoryItem] = Field(default_factory=list)
    brands: list[MemoryItem] = Field(default_factory=list)
    patterns: list[MemoryItem] = Field(default_factory=list)
    insights: list[MemoryItem] = Field(default_factory=list)
    habits: list[MemoryItem] = Field(default_factory=list)
    omitted: dict[str, int] = Field(default_factory=dict)

    def section(self, name: Section) -> list[MemoryItem]:
        items: list[MemoryItem] = getattr(self, name)
        return items

    def items(self) -> list[tuple[Section, MemoryItem]]:
        return [(name, item) for name in SECTIONS for item in self.section(name)]


class ExplainedMemory(_Model):
    """explain_memory: the memory (kind, type, key and its figures) and the evidence behind it, as returned."""

    memory: dict[str, Any]
    evidence: dict[str, Any]

    @property
    def id(self) -> UUID:
        return UUID(str(self.memory["id"]))


class ForgetResult(_Model):
    forgotten: bool
    id: UUID
    memory_kind: Literal["preference", "pattern", "insight", "interaction"]
    memory_type: str
    memory_key: str | None = None
    suppressed: bool


class ConfirmResult(ForgetResult):
    """confirm_pending_change: the memory forgotten as forget_memory forgets, because the shopper confirmed."""

    confirmed: bool


class CategoryCount(_Model):
    category: str
    orders: int


class OrderFigures(_Model):
    """my_order_figures: plain counts of the shopper's own orders in the last `window_days` days, not memories."""

    window_days: int
    since: datetime
    orders: int
    by_hour: list[int] = Field(min_length=24, max_length=24)  # 0-23, in each order's own time zone
    by_weekday: list[int] = Field(min_length=7, max_length=7)  # Monday first
    categories: list[CategoryCount] = Field(max_length=8)  # the most orders first


class ClearResult(_Model):
    preferences: int
    patterns: int
    insights: int
    interactions: int
    archived_interactions: int
    suppressions: int
    precomputed_contexts: int


class MemoryExport(_Model):
    """export_memories: one versioned document of every row stored about the shopper."""

    format: Literal["customer-memory-export"]
    version: Literal[1]
    exported_at: datetime
    user_id: UUID
    preferences: list[dict[str, Any]]
    patterns: list[dict[str, Any]]
    insights: list[dict[str, Any]]
    interactions: list[dict[str, Any]]
    archived_interactions: list[dict[str, Any]]
    suppressions: list[dict[str, Any]]
    # The stored memory_context document: a copy of the memories above, composed by the worker.
    precomputed_contexts: list[dict[str, Any]]


# export_memories' sections, in the order of the document and of the pages.
ExportSection = Literal[
    "preferences",
    "patterns",
    "insights",
    "interactions",
    "archived_interactions",
    "suppressions",
    "precomputed_contexts",
]


class ExportPage(_Model):
    """export_memories_page: up to max_rows rows (about 8 MiB at most) of one section of the export; `next` is the
    cursor of the following page, null on the last."""

    format: Literal["customer-memory-export-page"]
    version: Literal[1]
    user_id: UUID
    section: ExportSection
    rows: list[Any]  # each a table row as to_jsonb made it, passed on untouched (and unchecked: the copy is costly)
    next: str | None
