"""record_checkout with orders as real shops send them (issue 12): a total that carries tax, fees or coupons,
`quantity: 2.0`, an order too large to store, and no time zone when the shopper's profile has one."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import psycopg
import pytest

from tests.conftest import Database, acting_as, create_user

ORDER: dict[str, Any] = {
    "order_id": "R-1",
    "placed_at": "2026-11-21T18:42:00-06:00",
    "time_zone": "America/Chicago",
    "items": [
        {"sku": "milk-1", "name": "Organic milk", "category": "dairy", "price": 4.99, "quantity": 2},
        {"sku": "pb-1", "name": "Peanut butter", "category": "pantry", "price": 2.5, "quantity": 1},
    ],
}


def _record(conn: psycopg.Connection[Any], user: UUID, order: dict[str, Any]) -> dict[str, Any]:
    """Record as the shopper (rolled back after) and return the stored event's value."""
    with acting_as(conn, "authenticated", user):
        event = conn.execute("select public.record_checkout(%s) as id", (json.dumps(order),)).fetchone()
        assert event is not None
        row = conn.execute("select interaction_value from public.interaction_history where id = %s", (event["id"],))
        return row.fetchone()["interaction_value"]  # type: ignore[index]


def _refusal(conn: psycopg.Connection[Any], user: UUID, order: Any) -> tuple[str | None, str]:
    """The SQLSTATE and sentence a refused checkout gets."""
    with pytest.raises(psycopg.Error) as caught, acting_as(conn, "authenticated", user):
        conn.execute("select public.record_checkout(%s)", (json.dumps(order),))
    return caught.value.sqlstate, str(caught.value.diag.message_primary)


def test_a_total_with_tax_fees_or_coupons_is_stored_next_to_the_items_total(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        for paid in (13.71, 9.0, 0):  # tax and a fee; a coupon; fully paid by a gift card
            value = _record(conn, user, {**ORDER, "total": paid})
            assert (value["total"], value["items_total"], value["item_count"]) == (paid, 12.48, 3)
        assert _record(conn, user, ORDER)["total"] == 12.48  # no total sent: what the items add up to
        for insane in (-0.01, 1_000_001, "12.48"):
            state, message = _refusal(conn, user, {**ORDER, "total": insane})
            assert state == "22023"
            assert message.startswith("checkout.total must be the amount paid, a number from 0 to 1000000")


def test_a_whole_quantity_written_as_a_float_is_accepted(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        order = json.loads(json.dumps(ORDER))
        order["items"][0]["quantity"] = 2.0
        value = _record(conn, user, {**order, "item_count": 3.0})
        assert (value["item_count"], value["items_total"]) == (3, 12.48)
        order["items"][0]["quantity"] = 2.5
        assert _refusal(conn, user, order) == (
            "22023",
            "checkout.items[0].quantity must be a whole number from 1 to 1000, not 2.5.",
        )


def test_an_order_too_large_to_store_is_refused_with_a_sentence(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        lines = [
            {"sku": f"sku-{k:03d}-" + "x" * 200, "name": f"{k} " + "y" * 250, "price": 1, "quantity": 1,
             "tags": [f"{k}-{t}-" + "z" * 90 for t in range(10)]}
            for k in range(400)
        ]  # fmt: skip
        state, message = _refusal(conn, user, {**ORDER, "items": lines})
        assert state == "22023"
        assert message.startswith("checkout has ") and "at most 262144 (256 KiB) are accepted" in message
        assert conn.execute("select count(*) as n from public.interaction_history").fetchone() == {"n": 0}


def test_a_checkout_without_a_time_zone_uses_the_shoppers_profile(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        conn.execute(
            'update auth.users set raw_user_meta_data = \'{"time_zone": "Europe/London"}\' where id = %s', (user,)
        )
        order = {k: v for k, v in ORDER.items() if k != "time_zone"}
        assert _record(conn, user, order)["time_zone"] == "Europe/London"
        assert _record(conn, user, {**order, "time_zone": None})["time_zone"] == "Europe/London"
        assert _record(conn, user, {**order, "time_zone": "Asia/Tokyo"})["time_zone"] == "Asia/Tokyo"

        nobody = create_user(conn)  # no profile time zone, or a broken one: refused, with a sentence
        for meta in ("{}", '{"time_zone": "Mars/Olympus"}'):
            conn.execute("update auth.users set raw_user_meta_data = %s where id = %s", (meta, nobody))
            state, message = _refusal(conn, nobody, order)
            assert state == "22023" and message.startswith("checkout.time_zone is required")


def test_the_client_sends_a_paid_total_and_may_leave_the_time_zone_to_the_profile(db: Database) -> None:
    from worker.client import Checkout, DirectAdapter, Identity, MemoryClient

    with db.connect() as conn:
        user = create_user(conn)
        conn.execute(
            'update auth.users set raw_user_meta_data = \'{"time_zone": "America/Denver"}\' where id = %s', (user,)
        )
    memory = MemoryClient(DirectAdapter.from_url(db.url()), Identity.shopper(user))
    order = {k: v for k, v in ORDER.items() if k != "time_zone"}
    memory.record_checkout(Checkout.model_validate({**order, "total": 13.71}))
    with db.connect() as conn:
        value = conn.execute("select interaction_value from public.interaction_history").fetchone()
    assert value is not None
    stored = value["interaction_value"]
    assert (stored["time_zone"], stored["total"], stored["items_total"]) == ("America/Denver", 13.71, 12.48)
