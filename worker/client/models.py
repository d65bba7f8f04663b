"""Pydantic models at the edges of the memory API: the event payloads a client sends, in the shapes the API
functions accept (public.record_interaction, record_cart_add, record_checkout, record_swap in
supabase/schemas/21_api_functions.sql). They check on the client what the database checks again (the database is the
authority; these catch mistakes before a round trip). The memory rows a client reads back are generated from the
database by Supabase's generator: worker/client/rows.py (`make types`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

Sku = Annotated[str, Field(min_length=1, max_length=255, pattern=r"\S")]
Label = Annotated[str, Field(min_length=1, max_length=255, pattern=r"\S")]
Tag = Annotated[str, Field(min_length=1, max_length=100)]
Price = Annotated[float, Field(ge=0, le=100_000)]
Quantity = Annotated[int, Field(ge=1, le=1000)]

# The memory types, as private.preference_types() and private.insight_types() list them in
# supabase/schemas/00_constants.sql (tests/test_type_lists.py holds them equal). Every Python module that names
# these types imports them from here.
PreferenceType = Literal["dietary", "allergy", "dislike", "favorite", "brand"]
InsightType = Literal["persona", "goal", "context", "constraint"]
PREFERENCE_TYPES: tuple[PreferenceType, ...] = get_args(PreferenceType)
INSIGHT_TYPES: tuple[InsightType, ...] = get_args(InsightType)
PreferenceSource = Literal["explicit", "inferred", "pattern"]
PlainEventType = Literal["question", "search", "view_item", "voice_used", "cart_add"]
InteractionType = Literal[
    "question",
    "search",
    "view_item",
    "cart_add",
    "checkout",
    "swap",
    "reject_swap",
    "message",
    "preference_stated",
    "voice_used",
]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def payload(self) -> dict[str, Any]:
        """The JSON the database function receives (unset optional fields left out)."""
        return self.model_dump(mode="json", exclude_none=True)


class CartItem(_Payload):
    """An item added to the cart: {sku, name, category, department, brand, price, quantity, tags, added_at}.
    `added_at` is when it was added, for a history sent later (the worker never dates it after its arrival)."""

    sku: Sku
    name: Label | None = None
    category: Label | None = None
    department: Label | None = None
    brand: Label | None = None
    price: Price | None = None
    quantity: Quantity | None = None
    tags: Annotated[list[Tag], Field(max_length=50)] | None = None
    added_at: AwareDatetime | None = None


class CheckoutItem(CartItem):
    """A line of an order: price (per unit) and quantity are required."""

    price: Price
    quantity: Quantity


class SwapItem(CartItem):
    """One side of a savings swap: the brand is what the swap teaches, so it is required."""

    brand: Label


class Checkout(_Payload):
    """An order, as public.record_checkout takes it. item_count and items_total are computed by the database; total is
    what the shopper paid (tax, fees and coupons included), the items' sum when left out; without time_zone the
    shopper's profile time zone applies."""

    order_id: Annotated[str, Field(min_length=1, max_length=255, pattern=r"\S")]
    placed_at: AwareDatetime
    time_zone: str | None = None
    items: Annotated[list[CheckoutItem], Field(min_length=1, max_length=500)]
    total: Annotated[float, Field(ge=0, le=1_000_000)] | None = None

    @field_validator("time_zone")
    @classmethod
    def _known_time_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone name such as America/Chicago") from exc
        return value


class Event(_Payload):
    """One event for record_interaction(s); a cart_add carries its item as value and is keyed by its SKU."""

    interaction_type: PlainEventType
    interaction_key: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    interaction_value: dict[str, Any] | None = None
    session_id: UUID | None = None
    message_id: Annotated[str, Field(min_length=1, max_length=255)] | None = None

    @classmethod
    def cart_add(cls, item: CartItem, session_id: UUID | None = None) -> Event:
        return cls(interaction_type="cart_add", interaction_value=item.payload(), session_id=session_id)

    @model_validator(mode="after")
    def _cart_add_is_an_item(self) -> Event:
        if self.interaction_type == "cart_add":
            CartItem.model_validate(self.interaction_value)
        return self
