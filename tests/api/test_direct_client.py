"""The memory client end to end over the direct adapter, on real PostgreSQL: each contract function through
MemoryClient, as PostgREST would run it (role authenticated, the shopper's claims, one transaction per call).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID, uuid4

import pytest

from tests.conftest import Database
from worker.client import (
    CartItem,
    Checkout,
    CheckoutItem,
    Conflict,
    DirectAdapter,
    Event,
    Identity,
    InvalidInput,
    MemoryClient,
    NotAuthorized,
    NotFound,
    SwapItem,
)
from worker.client.rows import PublicCustomerPreferences, PublicInteractionHistory
from worker.db.request import set_request_context


def _preferences(db: Database, user_id: UUID) -> dict[tuple[str, str], PublicCustomerPreferences]:
    with db.connect() as conn:
        rows = conn.execute("select * from public.customer_preferences where user_id = %s", (user_id,)).fetchall()
    return {
        (row["preference_type"], row["preference_key"]): PublicCustomerPreferences.model_validate(row) for row in rows
    }


def _interactions(db: Database, user_id: UUID) -> list[PublicInteractionHistory]:
    with db.connect() as conn:
        rows = conn.execute(
            "select * from public.interaction_history where user_id = %s order by created_at, interaction_type",
            (user_id,),
        ).fetchall()
    return [PublicInteractionHistory.model_validate(row) for row in rows]


def test_cart_adds_are_logged_and_the_worker_makes_the_favourite(
    db: Database, memory: MemoryClient, alice: UUID
) -> None:
    """The API logs each add as sent (with when it happened); what the adds mean is the worker's rule, in one
    place: a SKU added on most of the shopper's recent shopping days becomes a favourite."""
    now = datetime.now(UTC)
    event_ids = [
        memory.record_cart_add(
            CartItem(
                sku="milk-1",
                name="Whole milk",
                brand="gv",
                price=3.49,
                quantity=1,
                added_at=now - timedelta(days=7 * k),
            ),
            session_id=uuid4(),
        )
        for k in range(12)
    ]
    assert _preferences(db, alice) == {}, "the API writes no favourite of its own"
    logged = {event.id: event for event in _interactions(db, alice)}
    assert set(event_ids) <= set(logged)
    assert logged[event_ids[1]].interaction_value["added_at"] == (now - timedelta(days=7)).isoformat().replace(
        "+00:00", "Z"
    )
    with db.connect() as conn, conn.transaction():
        set_request_context(conn, "service_role")
        conn.execute("select public.worker_recompute_user(%s)", (alice,))
    favorite = _preferences(db, alice)[("favorite", "milk-1")]
    assert (favorite.times_confirmed, favorite.source, favorite.preference_value) == (12, "pattern", "Whole milk")
    assert favorite.reason == "Bought on 12 of your 12 shopping days in the last 90 days"


def test_checkout_is_one_event_with_totals(db: Database, memory: MemoryClient, alice: UUID) -> None:
    checkout = Checkout(
        order_id="A-1",
        placed_at=datetime(2026, 11, 21, 18, 42, tzinfo=timezone(timedelta(hours=-6))),
        time_zone="America/Chicago",
        items=[CheckoutItem(sku="milk-1", price=4.99, quantity=2, tags=["organic"])],
    )
    first = memory.record_checkout(checkout)
    assert memory.record_checkout(checkout) == first, "a retry returns the first event"
    [event] = _interactions(db, alice)
    assert event.interaction_key == "A-1"
    assert event.interaction_value["item_count"] == 2
    assert event.interaction_value["total"] == 9.98
    assert event.interaction_value["placed_at"] == "2026-11-21T18:42:00-06:00"
    with pytest.raises(Conflict, match="already recorded with different contents"):
        memory.record_checkout(checkout.model_copy(update={"time_zone": "America/Denver"}))


def test_swaps_are_logged_as_brand_choices(db: Database, memory: MemoryClient, alice: UUID) -> None:
    tide, great_value = SwapItem(sku="tide-1", brand="Tide"), SwapItem(sku="gv-1", brand="Great Value")
    memory.record_swap(tide, great_value, accepted=True)
    memory.record_swap(tide, great_value, accepted=False, reason="Works better")
    assert _preferences(db, alice) == {}, "the worker counts swaps with the shopper's other brand choices"
    swaps = sorted((e.interaction_key, e.interaction_value["reason"]) for e in _interactions(db, alice))
    assert swaps == [("accepted", None), ("rejected", "Works better")]


def test_message_and_recipe_request(db: Database, memory: MemoryClient, alice: UUID) -> None:
    memory.record_message("Any recipes with chicken?", message_id="m-1")
    kinds = [(event.interaction_type, event.interaction_key, event.message_id) for event in _interactions(db, alice)]
    assert sorted(kinds) == [("message", "user_message", "m-1"), ("question", "recipe_request", "m-1")]


def test_remember_preference_is_explicit_and_survives_inference(
    db: Database, memory: MemoryClient, alice: UUID
) -> None:
    preference_id = memory.remember_preference("favorite", "eggs-12", reason="Only these")
    for _ in range(8):
        memory.record_cart_add(CartItem(sku="eggs-12"))
    stated = _preferences(db, alice)[("favorite", "eggs-12")]
    assert (stated.id, stated.confidence, stated.source, stated.reason) == (
        preference_id,
        1.00,
        "explicit",
        "Only these",
    )


def test_stating_an_inferred_preference_drops_the_inference_record(
    db: Database, memory: MemoryClient, alice: UUID
) -> None:
    """The worker never updates an explicit row, so an inference's record kept on it would go stale: explain would
    show the inference and the block its frozen buy-again figures, not what the shopper said."""
    with db.connect() as conn:  # as the worker writes an inferred favourite, with its evidence record
        conn.execute(
            "insert into public.customer_preferences (user_id, preference_type, preference_key, preference_value,"
            " confidence, source, evidence) values (%s, 'favorite', 'eggs-12', 'Eggs', 0.90, 'inferred',"
            ' \'{"rule": "favorite", "usual_interval_days": 7}\')',
            (alice,),
        )
    preference_id = memory.remember_preference("favorite", "eggs-12", reason="Only these")
    stated = _preferences(db, alice)[("favorite", "eggs-12")]
    assert (stated.id, stated.source, stated.evidence) == (preference_id, "explicit", None)
    explained = memory.explain_memory(preference_id)
    assert "Only these" in str(explained.evidence), "explained by the statement"
    assert "usual_interval_days" not in str(explained.evidence)


def test_batch_is_atomic(db: Database, memory: MemoryClient, alice: UUID) -> None:
    events = [Event(interaction_type="search", interaction_key=f"q{i}") for i in range(3)]
    assert memory.record_interactions(events) == 3
    # The client's model would refuse this; the database is the authority, so send it past the model.
    bad = [*(event.payload() for event in events), {"interaction_type": "cart_add", "interaction_value": {}}]
    with pytest.raises(InvalidInput) as caught:
        memory._call("record_interactions", events=bad)
    assert caught.value.message == "events[3].interaction_value.sku is required: every item needs its SKU."
    assert (caught.value.code, caught.value.status) == ("22023", 400)
    assert len(_interactions(db, alice)) == 3, "the failed batch left no rows"


def test_invalid_input_names_the_field(memory: MemoryClient) -> None:
    with pytest.raises(InvalidInput, match=r"^item\.quantity must be a whole number from 1 to 1000, not -2\.$"):
        memory._call("record_cart_add", item={"sku": "milk-1", "quantity": -2})


def test_anonymous_caller_is_401_and_tokenless_shopper_is_403(direct: DirectAdapter) -> None:
    with pytest.raises(NotAuthorized) as anon:
        MemoryClient(direct, Identity.anonymous()).record_message("hello")
    assert (anon.value.status, anon.value.message) == (401, "permission denied for function record_message")
    with pytest.raises(NotAuthorized) as tokenless:
        MemoryClient(direct, Identity("authenticated")).record_message("hello")
    assert tokenless.value.status == 403
    assert tokenless.value.message == (
        "record_message needs a signed-in shopper, but the request carries no JWT with a sub claim."
    )


def test_a_shopper_who_does_not_exist_is_refused(direct: DirectAdapter) -> None:
    ghost = uuid4()
    with pytest.raises(NotAuthorized, match=f"shopper {ghost} does not exist"):
        MemoryClient(direct, Identity.shopper(ghost)).record_message("hello")


def test_unknown_function_is_not_found(direct: DirectAdapter, alice: UUID) -> None:
    with pytest.raises(NotFound):
        direct.call("record_teleport", {"where": "mars"}, Identity.shopper(alice))


def test_shoppers_are_kept_apart(db: Database, direct: DirectAdapter, new_shopper: Callable[[], UUID]) -> None:
    alice, bob = new_shopper(), new_shopper()
    now = datetime.now(UTC)
    for k in range(12):
        item = CartItem(sku="milk-1", added_at=now - timedelta(days=7 * k))
        MemoryClient(direct, Identity.shopper(alice)).record_cart_add(item)
    MemoryClient(direct, Identity.shopper(bob)).record_cart_add(CartItem(sku="milk-1"))
    with db.connect() as conn, conn.transaction():
        set_request_context(conn, "service_role")
        for shopper in (alice, bob):
            conn.execute("select public.worker_recompute_user(%s)", (shopper,))
    assert list(_preferences(db, alice)) == [("favorite", "milk-1")]
    assert _preferences(db, bob) == {}
    assert len(_interactions(db, bob)) == 1
