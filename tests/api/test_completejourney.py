"""The Complete Journey conversion produces what the memory API accepts: real baskets as checkouts and real
lines as cart adds, through the client's models and the database's own validation."""

from __future__ import annotations

import itertools

import pytest

from tests.conftest import Database
from worker.client import CartItem, Checkout, DirectAdapter, Identity, MemoryClient
from worker.datasets import completejourney


@pytest.fixture(scope="module")
def data() -> completejourney.CompleteJourney:
    return completejourney.load()


def test_baskets_and_lines_are_accepted_by_the_api(
    data: completejourney.CompleteJourney, db: Database, direct: DirectAdapter
) -> None:
    [household] = completejourney.busiest_households(data, 1)
    shopper = completejourney.shopper_id(household)
    assert shopper == completejourney.shopper_id(household), "the same household is always the same shopper"
    with db.connect() as conn:
        conn.execute(
            "insert into auth.users (id, aud, role, email) values (%s, 'authenticated', 'authenticated', %s)",
            (shopper, f"household-{household}@example.test"),
        )
    memory = MemoryClient(direct, Identity.shopper(shopper))
    checkouts = list(itertools.islice(completejourney.checkouts(data, [household]), 3))
    for owner, payload in checkouts:
        assert owner == shopper
        memory.record_checkout(Checkout.model_validate(payload))
    for _, item in itertools.islice(completejourney.cart_adds(data, [household]), 50):
        memory.record_cart_add(CartItem.model_validate(item))
    with db.connect() as conn:
        stored = conn.execute(
            "select interaction_value from public.interaction_history"
            " where user_id = %s and interaction_type = 'checkout'"
            " order by interaction_value ->> 'placed_at'",
            (shopper,),
        ).fetchall()
        adds = conn.execute(
            "select count(*) as n from public.interaction_history where interaction_type = 'cart_add'"
        ).fetchone()
    assert [row["interaction_value"]["order_id"] for row in stored] == [p["order_id"] for _, p in checkouts]
    first = stored[0]["interaction_value"]
    assert first["item_count"] == sum(item["quantity"] for item in checkouts[0][1]["items"])
    assert first["time_zone"] == "America/New_York"
    assert first["placed_at"].endswith(("-05:00", "-04:00"))
    assert adds == {"n": 50}
