"""The chat view's turn: the shopper's message recorded for the worker to learn from, their memory ranked for it,
the system prompt, and the assistant's
reply with the memories it cites ([m3]) explained and linked (/memories/<id>). With an Anthropic client it is
Claude's reply; without one, no reply is made up: the answer says no model is configured, lists what the assistant
would rely on from this shopper's own memory (each linked, with why) and carries the request that would be sent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import anthropic
from pydantic import BaseModel, ConfigDict, Field

from worker.client.memory import MemoryClient
from worker.prompt.chat import build_system_prompt, request_body, stream_reply
from worker.prompt.explain import MEMORY_PATH, because, explain_suggestion, item_name, references_in
from worker.prompt.offline import no_model_answer
from worker.prompt.render import RenderedMemory

MAX_MESSAGE_CHARS = 2000
MAX_HISTORY_TURNS = 20


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["user", "assistant"]
    content: str = Field(min_length=1, max_length=8 * MAX_MESSAGE_CHARS)


class ChatRequest(BaseModel):
    """POST /api/chat: the new message and the conversation so far (the page keeps it; the server keeps nothing)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    history: list[Turn] = Field(default_factory=list, max_length=2 * MAX_HISTORY_TURNS)


def chat_turn(
    memory: MemoryClient, request: ChatRequest, *, client: anthropic.Anthropic | None, model: str
) -> dict[str, Any]:
    # The shopper's words are logged first, as an app's chat logs them (record_message, as the shopper), so that the
    # worker reads them for what to remember or forget. If that is refused, the turn ends there, with its status.
    recorded = memory.record_message(request.message)
    context = memory.memory_context(query=request.message)
    system = build_system_prompt(context)
    messages: list[dict[str, Any]] = [turn.model_dump() for turn in request.history]
    messages.append({"role": "user", "content": request.message})
    answer: dict[str, Any]
    if client is not None:
        reply = "".join(stream_reply(client, system, messages, model=model))
        answer = {"mode": "claude", "reply": reply}
    else:
        reply = no_model_answer(request.message, system.memory)
        answer = {"mode": "no_model", "reply": reply, "request": request_body(system, messages, model=model)}
    cited = _citations(reply, system.memory)
    if client is None:
        cited["explanation"] = None  # nothing was suggested: each line already says why
    return {**answer, "recorded_message_id": str(recorded), "memory_block": system.memory.text, **cited}


def _citations(reply: str, rendered: RenderedMemory) -> dict[str, Any]:
    """Each memory the reply cites, with why it mattered and where to see it; references the block does not hold
    (a model may invent one) are listed apart, never linked."""
    cited: Sequence[str] = references_in(reply)
    explanation = explain_suggestion("this", rendered, cited)
    citations = [
        {
            "ref": ref,
            "memory_id": str(reference.item.id),
            "href": MEMORY_PATH.format(id=reference.item.id),
            "section": reference.section,
            "key": reference.item.key,
            "name": item_name(reference.section, reference.item),
            "because": because(reference.section, reference.item),
        }
        for ref in cited
        if (reference := rendered.references.get(ref)) is not None
    ]
    return {
        "citations": citations,
        "explanation": explanation.sentence if explanation else None,
        "unknown_references": [ref for ref in cited if ref not in rendered.references],
    }
