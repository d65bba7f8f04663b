"""What the shopper's page shows of each memory, in words: which group it belongs to (the prompt's sections,
safety first), how sure the system is, where it came from, when it was last confirmed, and a one-line headline.
The API returns these next to the raw row so that every client says the same thing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from worker.client.responses import SECTIONS, Section
from worker.prompt.render import buy_again, is_due, pattern_sentence

TITLES: dict[Section, str] = {
    "allergies": "Allergies",
    "dietary": "Diets and restrictions",
    "dislikes": "Dislikes",
    "favorites": "Favourite items",
    "brands": "Brands you prefer",
    "patterns": "What your assistant knows about how you shop",
    "insights": "About you",
    "habits": "Shopping habits (not restrictions)",
}
_PREFERENCE_SECTIONS: dict[str, Section] = {
    "allergy": "allergies",
    "dietary": "dietary",
    "dislike": "dislikes",
    "favorite": "favorites",
    "brand": "brands",
}
# Confidence in words, strongest first: the first floor a memory reaches names it.
CONFIDENCE_WORDS: tuple[tuple[float, str], ...] = (
    (0.90, "Very sure"),
    (0.75, "Fairly sure"),
    (0.60, "Somewhat sure"),
    (0.0, "Not sure yet"),
)
SOURCE_WORDS = {
    "explicit": "You said",
    "confirmed": "You confirmed",
    "pattern": "Learned from your orders",
    "inferred": "Learned from your shopping",
}
TOLD_US = "You told us"
# A removal asked for in chat (allergies and diets): the memory is still used until the shopper answers.
PENDING_REMOVAL_WORDS = "You asked to remove this; it stays in use until you confirm."
# An insight the shopper said no longer holds: kept here with what they said, no longer used.
ENDED_WORDS = "No longer true, you told us: your assistant no longer uses it. Delete it to remove it for good."


def section_of(row: dict[str, Any]) -> Section:
    kind = row["memory_kind"]
    if kind == "preference":
        # The page says what the prompt says: a diet the shopper did not state is a habit, never a restriction
        # (memory_context's rule, private.inferred_diet_is_restriction, holds no inferred diet to that bar today).
        if row["memory_type"] == "dietary" and row["source"] != "explicit":
            return "habits"
        return _PREFERENCE_SECTIONS.get(row["memory_type"], "insights")
    return "patterns" if kind == "pattern" else "insights"


def confidence_words(confidence: float, source: str) -> str:
    """What a shopper reads instead of 0.85: something they said is not a guess."""
    if source == "explicit":
        return TOLD_US
    if source == "confirmed":
        return "You confirmed"
    return next(words for floor, words in CONFIDENCE_WORDS if confidence >= floor)


def headline(row: dict[str, Any]) -> str:
    """The memory in a few words: "peanuts", "Oatly Oat Milk, 64 oz"; a pattern as the claim it makes, with its
    figures: "You usually shop on Wednesdays: 9 of your last 13 orders in 90 days; ..." (as the prompt says it)."""
    key = _words(str(row["memory_key"] or ""))
    details = row.get("details") or {}
    if row["memory_kind"] == "preference":
        summary = row.get("summary")
        return summary if summary and summary != row["memory_key"] else key.capitalize()
    if row["memory_kind"] == "insight":
        return str(row.get("summary") or key)
    return pattern_sentence(row["memory_type"], str(row["memory_key"] or ""), details, you=True)


def buy_again_timing(memory: dict[str, Any], record: Any, now: datetime | None = None) -> dict[str, Any]:
    """A favourite bought repeatedly: its buy-again timing in the prompt line's words (render.buy_again: "about every
    7 days, last bought 6 days ago (due now)") and whether it is due now, from its evidence record; as in the
    prompt, none for a favourite the shopper stated."""
    timed = (
        memory.get("memory_type") == "favorite"
        and memory.get("memory_kind") == "preference"
        and memory.get("source") != "explicit"
        and isinstance(record, dict)
    )
    moment = now or datetime.now(UTC)  # one moment for the words and the badge
    words = buy_again(record, moment) if timed else ""
    return {"timing_words": words or None, "due_now": bool(words) and is_due(record, moment)}


def presented(row: dict[str, Any], record: Any = None, now: datetime | None = None) -> dict[str, Any]:
    """A my_memories row with the words the page shows; `record`: a favourite's evidence record (its timing)."""
    reason = row.get("reason")
    if row["memory_kind"] == "insight" and reason:  # an inferred one's figure is written to follow a line in the prompt
        row = {**row, "reason": reason[:1].upper() + reason[1:]}
    return {**row, **_words_for(row), **buy_again_timing(row, record, now)}


def presented_explained(explained: dict[str, Any]) -> dict[str, Any]:
    """The same words for explain_memory's `memory` (its value is my_memories' summary, its figures the details)."""
    memory = explained.get("memory") or {}
    if memory.get("memory_kind") not in ("preference", "pattern", "insight"):
        return {}  # a logged event explains itself
    evidence = explained.get("evidence") or {}
    figures = evidence.get("figures")
    words = _words_for({**memory, "summary": memory.get("value"), "details": memory.get("details") or figures})
    return {**words, **buy_again_timing(memory, evidence.get("record"))}


def _words_for(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "section": section_of(row),
        "headline": headline(row),
        "confidence_words": confidence_words(float(row["confidence"]), row["source"]),
        "source_words": SOURCE_WORDS.get(row["source"], "Learned from your shopping"),
        "last_confirmed_at": row.get("last_confirmed_at") or row.get("last_occurrence") or row.get("updated_at"),
        "pending_words": PENDING_REMOVAL_WORDS if row.get("pending_change") else None,
        "ended_words": ENDED_WORDS if row.get("status") == "ended" else None,
    }


def grouped(
    rows: Iterable[dict[str, Any]], records: Mapping[str, Any] | None = None, now: datetime | None = None
) -> list[dict[str, Any]]:
    """The shopper's memories in the prompt's sections, allergies and diets first; empty sections left out.
    `records`: the evidence records of favourites by id, for their buy-again timing."""
    by_section: dict[Section, list[dict[str, Any]]] = {section: [] for section in SECTIONS}
    for row in rows:
        if row.get("status") == "question":
            continue  # asked above the sections (questions), never shown as something known
        item = presented(row, (records or {}).get(str(row["id"])), now)
        by_section[item["section"]].append(item)
    return [
        {"section": section, "title": TITLES[section], "memories": items}
        for section, items in by_section.items()
        if items
    ]


def questions(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The questions inference asks (insights with status question), each with its question and what suggested it:
    {"question": "Are you shopping for young children?", "because": "We noticed baby food ... in 6 of your last 10
    orders"}. The assistant uses none of them until the shopper answers Yes."""
    return [
        {
            **row,
            "question": str((row.get("details") or {}).get("question") or f"{row.get('summary')}?"),
            "because": row.get("reason"),
        }
        for row in rows
        if row.get("status") == "question"
    ]


def _words(key: str) -> str:
    return key.replace("_", " ").replace("-", " ")
