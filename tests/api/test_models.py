"""The client's payload models refuse, before a round trip, what the database would refuse, and serialise to
the shapes the API functions take."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from worker.client import CartItem, Checkout, CheckoutItem, Event, SwapItem


def test_checkout_serialises_to_the_contract_shape() -> None:
    checkout = Checkout(
        order_id="A-1",
        placed_at=datetime(2026, 11, 21, 18, 42, tzinfo=timezone(timedelta(hours=-6))),
        time_zone="America/Chicago",
        items=[CheckoutItem(sku="milk-1", name="Milk", price=4.99, quantity=2, tags=["organic"])],
    )
    assert checkout.payload() == {
        "order_id": "A-1",
        "placed_at": "2026-11-21T18:42:00-06:00",
        "time_zone": "America/Chicago",
        "items": [{"sku": "milk-1", "name": "Milk", "price": 4.99, "quantity": 2, "tags": ["organic"]}],
    }


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        pytest.param(CartItem, {"name": "milk"}, id="missing sku"),
        pytest.param(CartItem, {"sku": "  "}, id="blank sku"),
        pytest.param(CartItem, {"sku": "a", "quantity": -1}, id="negative quantity"),
        pytest.param(CartItem, {"sku": "a", "quantity": 1.5}, id="fractional quantity"),
        pytest.param(CartItem, {"sku": "a", "price": "cheap"}, id="price not a number"),
        pytest.param(CartItem, {"sku": "a", "colour": "red"}, id="unknown field"),
        pytest.param(CheckoutItem, {"sku": "a", "quantity": 1}, id="checkout line without price"),
        pytest.param(SwapItem, {"sku": "a"}, id="swap side without brand"),
        pytest.param(Event, {"interaction_type": "checkout"}, id="typed event through the generic path"),
        pytest.param(
            Event, {"interaction_type": "cart_add", "interaction_value": {"name": "x"}}, id="cart_add w/o sku"
        ),
    ],
)
def test_payload_models_refuse_bad_shapes(model: type[CartItem | Event], fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(fields)


def test_checkout_needs_an_offset_and_a_real_time_zone() -> None:
    item = CheckoutItem(sku="a", price=1.0, quantity=1)
    with pytest.raises(ValidationError, match="timezone"):
        Checkout(order_id="A", placed_at=datetime(2026, 11, 21, 18, 42), time_zone="UTC", items=[item])
    with pytest.raises(ValidationError, match="not an IANA time zone"):
        Checkout(order_id="A", placed_at=datetime.now(UTC), time_zone="Mars/Olympus", items=[item])
