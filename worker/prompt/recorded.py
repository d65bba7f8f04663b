"""Claude's recorded replies (worker/prompt/recordings/*.sse, a Messages API stream as the API sent it), for where
there is no ANTHROPIC_API_KEY: the tests replay them through the real anthropic client, and the chat view shows
one as "what Claude answered" next to the prompt it would send. A recording cites memories with placeholders
({REF_FAVORITE}, {REF_PATTERN}) that are filled in with the references of the block it is shown against."""

from __future__ import annotations

import json
from pathlib import Path

from worker.prompt.render import RenderedMemory

RECORDINGS = Path(__file__).parent / "recordings"
MILK_REPLY = "claude_milk_reply.sse"
MILK_QUESTION = "What milk should I get?"


def recorded_text(name: str = MILK_REPLY) -> str:
    """The reply's text: the text deltas of the stream, in order."""
    text = []
    for line in (RECORDINGS / name).read_text().splitlines():
        if not line.startswith("data: "):
            continue
        event = json.loads(line.removeprefix("data: "))
        delta = event.get("delta") or {}
        if event.get("type") == "content_block_delta" and delta.get("type") == "text_delta":
            text.append(delta["text"])
    return "".join(text)


def cited_against(text: str, rendered: RenderedMemory) -> str:
    """The recording's placeholders as references of this block: the favorite (a milk if there is one) and the
    shopping pattern (dairy or milk if there is one) it relies on; a placeholder with nothing to cite is dropped."""
    favorite = _pick(rendered, "favorites", "milk")
    pattern = _pick(rendered, "patterns", "dairy", "milk")
    for placeholder, ref in (("{REF_FAVORITE}", favorite), ("{REF_PATTERN}", pattern)):
        text = text.replace(f" {placeholder}", f" [{ref}]" if ref else "")
    return text


def _pick(rendered: RenderedMemory, section: str, *words: str) -> str | None:
    refs = [ref for ref, reference in rendered.references.items() if reference.section == section]
    for word in words:
        for ref in refs:
            item = rendered.references[ref].item
            if word in f"{item.key} {item.value or ''}".lower():
                return ref
    return refs[0] if refs else None
