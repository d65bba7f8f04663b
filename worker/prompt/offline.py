"""The chat without a model: with no ANTHROPIC_API_KEY nothing writes a reply, so the answer says so plainly and
shows, from the shopper's own memory only, what the assistant would rely on for the question (ranked as
memory_context ranks it for the question: safety first, then by how many of the question's words each memory
matches, then the block's order), each with why; the prompt that would be sent goes beside it."""

from __future__ import annotations

from worker.prompt.explain import because, item_name
from worker.prompt.render import Reference, RenderedMemory

NO_MODEL = "No model is configured here (ANTHROPIC_API_KEY is not set), so no assistant wrote this answer."
SAFETY = ("allergies", "dietary")
MAX_LINES = 8


def relied_on(rendered: RenderedMemory, limit: int = MAX_LINES) -> tuple[list[Reference], int]:
    """The memories the assistant would rely on for the question the block was ranked for: every allergy and
    diet, then the others that match the question, most matches first; and how many others the block holds."""
    references = list(rendered.references.values())
    safety = [r for section in SAFETY for r in references if r.section == section]  # allergies, then diets
    matching = sorted(
        (r for r in references if r.section not in SAFETY and r.item.relevance > 0),
        key=lambda r: -r.item.relevance,  # stable: within a relevance, the block's order (confidence, recency)
    )
    chosen = safety + matching[: max(0, limit - len(safety))]
    return chosen, len(references) - len(chosen)


def no_model_answer(question: str, rendered: RenderedMemory) -> str:
    """The answer without a model: the plain statement, then each memory relied on with its reference and why."""
    chosen, others = relied_on(rendered)
    if not chosen:
        return f"{NO_MODEL} Nothing in your memory bears on “{question}”: the assistant would ask rather than assume."
    lines = [f"{NO_MODEL} From your own memory, this is what it would rely on for “{question}”:"]
    lines += [
        f"- {_capitalised(item_name(r.section, r.item))} [{r.ref}]: {because(r.section, r.item)}." for r in chosen
    ]
    if not any(r.section not in SAFETY for r in chosen):
        lines.append("Nothing else in your memory matches this question: the assistant would ask rather than assume.")
    elif others:
        lines.append(f"{others} other memories did not match this question.")
    return "\n".join(lines)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]
