"""Explanations of a suggestion from the memory references it cites ("I suggested organic milk because you usually
prefer organic dairy products." [View memory details] -> /memories/<id>), DESIGN-DOCUMENT.md "Memory
Explainability"."""

from __future__ import annotations

import re
from collections.abc import Sequence
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from worker.client.responses import MemoryItem, Section
from worker.prompt.render import RenderedMemory

MEMORY_PATH = "/memories/{id}"
LINK_LABEL = "View memory details"
_REFERENCE = re.compile(r"\[(m[0-9]+)\]")


class MemoryLink(BaseModel):
    model_config = ConfigDict(frozen=True)

    ref: str
    memory_id: UUID
    label: str = LINK_LABEL
    href: str


class Explanation(BaseModel):
    model_config = ConfigDict(frozen=True)

    sentence: str
    links: list[MemoryLink]
    unknown_references: list[str] = []


def references_in(text: str) -> list[str]:
    """The memory references a reply cites, in order, each once."""
    return list(dict.fromkeys(_REFERENCE.findall(text)))


def explain_suggestion(
    suggestion: str, rendered: RenderedMemory, references: Sequence[str] | None = None
) -> Explanation | None:
    """Why `suggestion` was made, from the references it cites (default: those found in `suggestion` itself).
    None when it cites no memory of this block: nothing to explain. References the block does not hold (a model
    may invent one) are reported, never explained."""
    cited = list(references) if references is not None else references_in(suggestion)
    known = [rendered.references[ref] for ref in cited if ref in rendered.references]
    if not known:
        return None
    subject = _REFERENCE.sub("", suggestion).strip() or "this"
    clauses = list(dict.fromkeys(because(reference.section, reference.item) for reference in known))
    links = [MemoryLink(ref=r.ref, memory_id=r.item.id, href=MEMORY_PATH.format(id=r.item.id)) for r in known]
    return Explanation(
        sentence=f"I suggested {subject} because {_join(clauses)}.",
        links=links,
        unknown_references=[ref for ref in cited if ref not in rendered.references],
    )


def item_name(section: Section, item: MemoryItem) -> str:
    """The item as the shopper knows it: a favourite by the name it was bought under (its key is a SKU, an id
    that means nothing to them), anything else by its key in words."""
    if section == "favorites" and item.value and item.value != item.key:
        return item.value
    if section == "favorites" and item.key.isdigit():
        return "an item you buy often"  # a numeric SKU and no name: never show the raw id
    return _words(item.key)


def because(section: Section, item: MemoryItem) -> str:
    """What a memory says about the shopper, as the second half of "I suggested X because ..."."""
    key = item_name(section, item)
    if section == "allergies":
        return f"you are allergic to {key}"
    if section == "dietary":
        return f"you are {key}"
    if section == "dislikes":
        return f"you don't like {key}"
    if section == "favorites":
        if item.source == "explicit" or not item.evidence_count:
            return f"{key} is one of your favorites"
        if item.source == "pattern":
            return f"you have bought {key} {item.evidence_count} times"
        return f"you have added {key} to your cart {item.evidence_count} times"
    if section == "brands":
        return f"you usually prefer {key.title()}"
    if section == "patterns":
        return {
            "category_preference": f"you usually buy {key} products",
            "time_of_day": f"you usually shop in the {key}",
            "day_of_week": f"you usually shop on {key.title()}s",
            "frequency": f"you usually shop {key}",
            "basket_size": f"your baskets are usually {key}",
        }.get(item.type, f"your {_words(item.type)} is usually {key}")
    return {
        "persona": f"you seem {key}",
        "goal": f"you seem to be planning for {key}",
        "context": f"your household looks like a {key}",
        "constraint": f"you are {key}",
    }.get(item.type, f"{item.value or key}")


def _words(key: str) -> str:
    return key.replace("_", " ").replace("-", " ")


def _join(clauses: list[str]) -> str:
    return clauses[0] if len(clauses) == 1 else ", ".join(clauses[:-1]) + " and " + clauses[-1]
