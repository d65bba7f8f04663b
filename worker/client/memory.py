"""MemoryClient: one typed method per function of the memory API contract (docs/api.md), written
once over the seam, so it runs the same through PostgREST or a direct connection."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from worker.client.models import CartItem, Checkout, Event, PreferenceType, SwapItem
from worker.client.responses import (
    ClearResult,
    ConfirmResult,
    ExplainedMemory,
    ExportPage,
    ForgetResult,
    MemoryContext,
    MemoryExport,
    OrderFigures,
)
from worker.client.rows import PublicCustomerPreferences, PublicMyMemories
from worker.client.seam import DatabaseFunctions, Identity, Role


@dataclass(frozen=True)
class FunctionSpec:
    """A database function the Python side calls: its argument names (in order) and the one role that may."""

    args: tuple[str, ...]
    role: Role


# Every function this client calls. A test holds the database to it (names, argument names, who may execute).
CONTRACT: dict[str, FunctionSpec] = {
    "record_interaction": FunctionSpec(
        ("interaction_type", "interaction_key", "interaction_value", "session_id", "message_id"),
        "authenticated",
    ),
    "record_interactions": FunctionSpec(("events",), "authenticated"),
    "record_cart_add": FunctionSpec(("item", "session_id"), "authenticated"),
    "record_checkout": FunctionSpec(("checkout",), "authenticated"),
    "record_swap": FunctionSpec(("original", "replacement", "accepted", "reason"), "authenticated"),
    "record_message": FunctionSpec(("content", "session_id", "message_id"), "authenticated"),
    "remember_preference": FunctionSpec(
        ("preference_type", "preference_key", "preference_value", "reason"), "authenticated"
    ),
    "memory_context": FunctionSpec(("min_confidence", "query"), "authenticated"),
    "explain_memory": FunctionSpec(("memory_id",), "authenticated"),
    "forget_memory": FunctionSpec(("memory_id",), "authenticated"),
    "confirm_pending_change": FunctionSpec(("memory_id",), "authenticated"),
    "reject_pending_change": FunctionSpec(("memory_id",), "authenticated"),
    "answer_insight_question": FunctionSpec(("memory_id", "answer"), "authenticated"),
    "my_order_figures": FunctionSpec((), "authenticated"),
    "clear_memories": FunctionSpec((), "authenticated"),
    "export_memories": FunctionSpec((), "authenticated"),
    "export_memories_page": FunctionSpec(("after", "max_rows"), "authenticated"),
}
# The views this client reads (GET /rest/v1/<view>), as the shopper, under their RLS.
VIEWS: tuple[str, ...] = ("my_memories",)
# The tables this client reads (GET /rest/v1/<table>), as the shopper, under their row-level security: the page's
# server reads the evidence records of the shopper's favourites for their buy-again timing.
TABLES: tuple[str, ...] = ("customer_preferences",)
MAX_BATCH = 1000  # record_interactions' bound, stated in its error when exceeded


class MemoryClient:
    """The memory API as one shopper (`identity`) sees it."""

    def __init__(self, functions: DatabaseFunctions, identity: Identity) -> None:
        self._functions, self._identity = functions, identity

    def _call(self, function: str, **args: Any) -> Any:
        spec = CONTRACT[function]
        unknown = set(args) - set(spec.args)
        if unknown:
            raise TypeError(f"{function} has no argument(s) {', '.join(sorted(unknown))}")
        # Unset optional arguments are left out, so the function's own defaults apply.
        named = {name: _json_ready(value) for name, value in args.items() if value is not None}
        return self._functions.call(function, named, self._identity)

    def record_interaction(self, event: Event) -> UUID:
        return UUID(str(self._call("record_interaction", **event.payload())))

    def record_interactions(self, events: Sequence[Event]) -> int:
        """Log up to MAX_BATCH events atomically; returns how many were logged."""
        return int(self._call("record_interactions", events=[event.payload() for event in events]))

    def record_cart_add(self, item: CartItem, session_id: UUID | None = None) -> UUID:
        return UUID(str(self._call("record_cart_add", item=item.payload(), session_id=session_id)))

    def record_checkout(self, checkout: Checkout) -> UUID:
        return UUID(str(self._call("record_checkout", checkout=checkout.payload())))

    def record_swap(self, original: SwapItem, replacement: SwapItem, accepted: bool, reason: str | None = None) -> UUID:
        return UUID(
            str(
                self._call(
                    "record_swap",
                    original=original.payload(),
                    replacement=replacement.payload(),
                    accepted=accepted,
                    reason=reason,
                )
            )
        )

    def record_message(self, content: str, session_id: UUID | None = None, message_id: str | None = None) -> UUID:
        return UUID(str(self._call("record_message", content=content, session_id=session_id, message_id=message_id)))

    def remember_preference(
        self,
        preference_type: PreferenceType,
        preference_key: str,
        preference_value: str | None = None,
        reason: str | None = None,
    ) -> UUID:
        return UUID(
            str(
                self._call(
                    "remember_preference",
                    preference_type=preference_type,
                    preference_key=preference_key,
                    preference_value=preference_value,
                    reason=reason,
                )
            )
        )

    # The memory in the prompt, and the shopper's control over it: each function's JSON document, read into its
    # model (worker.client.responses).
    def memory_context(self, min_confidence: Decimal | None = None, query: str | None = None) -> MemoryContext:
        return MemoryContext.model_validate(self._call("memory_context", min_confidence=min_confidence, query=query))

    def explain_memory(self, memory_id: UUID) -> ExplainedMemory:
        return ExplainedMemory.model_validate(self._call("explain_memory", memory_id=memory_id))

    def forget_memory(self, memory_id: UUID) -> ForgetResult:
        return ForgetResult.model_validate(self._call("forget_memory", memory_id=memory_id))

    def confirm_pending_change(self, memory_id: UUID) -> ConfirmResult:
        """Confirm a removal asked for in chat (an allergy or a diet): the memory is forgotten."""
        return ConfirmResult.model_validate(self._call("confirm_pending_change", memory_id=memory_id))

    def reject_pending_change(self, memory_id: UUID) -> dict[str, Any]:
        """Reject a removal read from chat: the memory stays."""
        result: dict[str, Any] = self._call("reject_pending_change", memory_id=memory_id)
        return result

    def answer_insight_question(self, memory_id: UUID, answer: bool) -> dict[str, Any]:
        """Answer a question suggested from the shopper's orders: Yes makes it theirs (confirmed, used by the
        assistant), No dismisses it for good."""
        result: dict[str, Any] = self._call("answer_insight_question", memory_id=memory_id, answer=answer)
        return result

    def my_order_figures(self) -> OrderFigures:
        """The shopper's orders of the last 90 days as plain counts (by hour, weekday, category), for charts."""
        return OrderFigures.model_validate(self._call("my_order_figures"))

    def clear_memories(self) -> ClearResult:
        return ClearResult.model_validate(self._call("clear_memories"))

    def export_memories(self) -> MemoryExport:
        """The whole export as one document: refused past 128 MiB (worker.client.export streams it at any size)."""
        return MemoryExport.model_validate(self._call("export_memories"))

    def export_memories_page(self, after: str | None = None, max_rows: int | None = None) -> ExportPage:
        """One page of the export ({section, rows, next}); pass `next` back as `after` until it is None."""
        return ExportPage.model_validate(self._call("export_memories_page", after=after, max_rows=max_rows))

    def my_memories(self) -> list[PublicMyMemories]:
        """Every memory of the shopper, one row each (the my_memories view: GET /rest/v1/my_memories), in a stable
        order: by kind and type, the most confident first."""
        rows = [PublicMyMemories.model_validate(row) for row in self._functions.select(VIEWS[0], {}, self._identity)]
        return sorted(
            rows, key=lambda m: (m.memory_kind or "", m.memory_type or "", -(m.confidence or 0), m.memory_key or "")
        )

    def customer_preferences(self, preference_type: PreferenceType | None = None) -> list[PublicCustomerPreferences]:
        """The shopper's own preferences with their evidence records (GET /rest/v1/customer_preferences, under
        their row-level security), of one type when given."""
        equal = {"preference_type": preference_type} if preference_type else {}
        rows = self._functions.select(TABLES[0], equal, self._identity)
        return [PublicCustomerPreferences.model_validate(row) for row in rows]


def _json_ready(value: Any) -> Any:
    """What both adapters can send: PostgREST takes JSON, so a UUID or a Decimal travels as its text (a float would
    not do: the direct path would then look for a double precision argument, which numeric ones do not accept)."""
    return str(value) if isinstance(value, UUID | Decimal) else value
