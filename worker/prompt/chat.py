"""The chat path: the system prompt for a shopper (instructions + their CUSTOMER MEMORY block) and a streamed
conversation with Claude through the anthropic package."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import anthropic

from worker.client.responses import MemoryContext
from worker.prompt.render import RenderedMemory, render_memory_block
from worker.prompt.tokens import estimate_tokens

BASE_SYSTEM_PROMPT = """You are a friendly grocery-shopping assistant. Help the customer plan meals, find products \
and save money.

Use the customer memory below to personalise your help. Never suggest anything that conflicts with an allergy or a \
dietary restriction, and avoid what they dislike. Customer insights (their household, goals and constraints) \
shape portions and suggestions but never override an allergy or a dietary restriction. When a suggestion relies \
on a memory, cite it with its reference in square brackets, e.g. [m2], so the customer can see why. If the memory \
does not settle a question, ask."""


@dataclass(frozen=True)
class SystemPrompt:
    text: str
    memory: RenderedMemory

    @property
    def memory_tokens(self) -> int:
        return estimate_tokens(self.memory.text)


def build_system_prompt(context: MemoryContext, base: str = BASE_SYSTEM_PROMPT) -> SystemPrompt:
    memory = render_memory_block(context)
    return SystemPrompt(f"{base}\n\n{memory.text}", memory)


def request_body(
    system: SystemPrompt, messages: Sequence[dict[str, Any]], *, model: str, max_tokens: int = 1024
) -> dict[str, Any]:
    """What is sent to the Messages API (printed as is when there is no API key)."""
    return {"model": model, "max_tokens": max_tokens, "system": system.text, "messages": list(messages), "stream": True}


def stream_reply(
    client: anthropic.Anthropic,
    system: SystemPrompt,
    messages: Sequence[dict[str, Any]],
    *,
    model: str,
    max_tokens: int = 1024,
) -> Iterator[str]:
    """The assistant's reply, streamed: text fragments as they arrive."""
    with client.messages.stream(
        model=model,
        max_tokens=max_tokens,
        system=system.text,
        messages=list(messages),  # type: ignore[arg-type]
    ) as stream:
        yield from stream.text_stream
