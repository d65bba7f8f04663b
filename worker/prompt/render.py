"""The CUSTOMER MEMORY block of the system prompt, in the design document's format ("Memory Context Injection"),
with a short reference after every line ([m1], [m2], ...) that maps back to the memory's id, so the assistant can
cite what a suggestion relies on and the app can explain it (explain.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from worker.client.responses import MemoryContext, MemoryItem, Section

HEADER = "## CUSTOMER MEMORY"
# The design document's headings, in its order; sections it does not show go where they read naturally.
HEADINGS: tuple[tuple[Section, str], ...] = (
    ("dietary", "Dietary Restrictions:"),
    ("allergies", "Allergies:"),
    ("dislikes", "Dislikes:"),
    ("favorites", "Favorite Items:"),
    ("brands", "Brand Preferences:"),
    ("patterns", "Shopping Patterns:"),
    ("insights", "Customer Insights:"),
    ("habits", "Shopping Habits (not restrictions: ask before assuming):"),
)
EMPTY = "No memories yet: ask rather than assume."


@dataclass(frozen=True)
class Reference:
    ref: str
    section: Section
    item: MemoryItem


@dataclass(frozen=True)
class RenderedMemory:
    text: str
    references: dict[str, Reference] = field(default_factory=dict)

    def by_memory_id(self) -> dict[str, Reference]:
        return {str(reference.item.id): reference for reference in self.references.values()}


def render_memory_block(context: MemoryContext) -> RenderedMemory:
    """The block as text, and the references it used (in reading order: m1 is the first line)."""
    lines = [HEADER]
    references: dict[str, Reference] = {}
    for section, heading in HEADINGS:
        items = context.section(section)
        if not items:
            continue
        lines += ["", heading]
        for item in items:
            ref = f"m{len(references) + 1}"
            references[ref] = Reference(ref, section, item)
            lines.append(f"- {render_item(section, item)} [{ref}]")
    if not references:
        lines += ["", EMPTY]
    return RenderedMemory("\n".join(lines) + "\n", references)


def render_item(section: Section, item: MemoryItem) -> str:
    """One line's content, without the bullet and the reference."""
    if section in ("dietary", "allergies", "brands"):
        return f"{item.key}: {item.reason or item.value or item.key} (confidence: {_confidence(item.confidence)})"
    if section == "dislikes":
        return f"{item.key}: {item.reason}" if item.reason else item.key
    if section == "habits":
        # An inferred diet in the words of a habit: what the shopper usually buys, not what they must avoid.
        return f"{item.value or item.key}: {item.reason} (confidence: {_confidence(item.confidence)})"
    if section == "favorites":
        if item.source == "explicit" or not item.evidence_count:
            return f"{item.key}: {item.reason}" if item.reason else item.key
        # An opaque SKU means nothing to the assistant: name the item, keep the key for reference.
        label = f"{item.value}, sku {item.key}" if item.value and item.value != item.key else item.key
        return f"{label} ({item.reason[:1].lower()}{item.reason[1:]})" if item.reason else label
    if section == "patterns":
        figures = _pattern_figures(item.figures or {})
        return f"{item.type}: {item.key}" + (f" ({figures})" if figures else "")
    if section == "insights":
        return _insight(item)
    return f"{item.type}: {item.value or item.key}"


# An insight's line says where it comes from: what the shopper said or confirmed, or the measured figure.
INSIGHT_SOURCE_WORDS = {"explicit": "you told us", "confirmed": "you confirmed"}
INSIGHT_TEXT_LIMIT = 120


def _insight(item: MemoryItem) -> str:
    """'context: Two children, ages 4 and 7 (you told us)'; an inferred one with its figure."""
    text = _cut(item.value or item.key, INSIGHT_TEXT_LIMIT)
    reason = item.reason or "inferred from your orders"
    source = INSIGHT_SOURCE_WORDS.get(item.source) or _cut(reason[:1].lower() + reason[1:], 160)
    return f"{item.type}: {text} ({source})"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _confidence(value: Decimal) -> str:
    return f"{value:.2f}"


def _pattern_figures(figures: dict[str, Any]) -> str:
    """The figures a reader needs, briefly: '18:00-21:00, 24 orders', 'every 7.2 days', '35% of orders'."""
    parts: list[str] = []
    if "range" in figures:
        parts.append(str(figures["range"]))
    if "avg_days" in figures:
        parts.append(f"every {figures['avg_days']} days")
    if "avg_items" in figures:
        parts.append(f"{figures['avg_items']} items")
    if "avg_total" in figures:
        parts.append(f"${float(figures['avg_total']):.2f}")
    if "percentage" in figures:
        parts.append(f"{round(float(figures['percentage']) * 100)}% of orders")
    elif "orders" in figures:
        total = f" of {figures['total_orders']}" if "total_orders" in figures else ""
        parts.append(f"{figures['orders']}{total} orders")
    return ", ".join(parts)
