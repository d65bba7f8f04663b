"""The worker and the memory API together: events recorded through the API's functions (which write cart-add
favourites and swap brands incrementally) and then the worker, give what a rebuild from the log gives; a message
recorded through record_message becomes an explicit preference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import Database, create_user
from tests.worker.conftest import preferences, snapshot
from worker.client import CartItem, Checkout, DirectAdapter, Identity, MemoryClient, SwapItem
from worker.config import Settings
from worker.runtime.store import JobStore
from worker.runtime.worker import run_until_idle


def test_api_increments_then_worker_equal_a_rebuild_from_the_log(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
    memory = MemoryClient(DirectAdapter.from_url(db.url()), Identity.shopper(user))
    now = datetime.now(UTC)
    yogurt = {"sku": "yog-1", "name": "Greek Yogurt", "category": "dairy", "brand": "Chobani", "price": 1.5}
    for k in range(8):
        memory.record_checkout(
            Checkout.model_validate(
                {
                    "order_id": f"o-{k}",
                    "placed_at": (now - timedelta(days=7 * k, hours=2)).isoformat(),
                    "time_zone": "America/Chicago",
                    "items": [
                        {**yogurt, "quantity": 2, "tags": ["lactose_free"]},
                        {
                            "sku": "gv-bread",
                            "name": "Bread",
                            "category": "bakery",
                            "brand": "Great Value",
                            "price": 2.0,
                            "quantity": 1,
                            "tags": ["store_brand"],
                        },
                    ],
                }
            )
        )
        run_until_idle(Settings(), db.url())
    for _ in range(7):
        memory.record_cart_add(CartItem.model_validate({**yogurt, "quantity": 1, "added_at": now - timedelta(hours=2)}))
    for accepted in (True, False, True):
        memory.record_swap(
            SwapItem.model_validate({"sku": "yog-1", "brand": "Chobani"}),
            SwapItem.model_validate({"sku": "gv-yog", "brand": "Great Value"}),
            accepted,
        )
    run_until_idle(Settings(), db.url())
    with db.connect() as conn:
        incremental = snapshot(conn, user)
        prefs = preferences(conn, user)
        # Eight weekly orders, the adds made with the newest one: eight days, whatever the API logged.
        assert prefs[("favorite", "yog-1")]["times_confirmed"] == 8
        conn.execute(
            "delete from public.shopping_patterns; delete from public.memory_insights;"
            " delete from public.customer_preferences where source <> 'explicit'"
        )
        JobStore(conn).enqueue_all()
    run_until_idle(Settings(), db.url())
    with db.connect() as conn:
        assert snapshot(conn, user) == incremental


def test_a_message_through_the_api_becomes_an_explicit_preference(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
    memory = MemoryClient(DirectAdapter.from_url(db.url()), Identity.shopper(user))
    memory.record_message("Just so you know, my daughter is allergic to tree nuts.")
    run_until_idle(Settings(), db.url())
    with db.connect() as conn:
        row = preferences(conn, user)[("allergy", "tree-nuts")]
        assert (row["confidence"], row["source"]) == (1, "explicit")


def test_a_memory_forgotten_through_the_api_is_not_relearned_from_old_evidence(db: Database) -> None:
    from worker.db.request import set_request_context, shopper_claims

    with db.connect() as conn:
        user = create_user(conn)
    memory = MemoryClient(DirectAdapter.from_url(db.url()), Identity.shopper(user))
    now = datetime.now(UTC)
    for k in range(8):
        memory.record_checkout(
            Checkout.model_validate(
                {
                    "order_id": f"o-{k}",
                    "placed_at": (now - timedelta(days=7 * k, hours=1)).isoformat(),
                    "time_zone": "UTC",
                    "items": [
                        {
                            "sku": "milk",
                            "name": "Milk",
                            "category": "dairy",
                            "brand": "Acme",
                            "price": 1.0,
                            "quantity": 1,
                            "tags": [],
                        }
                    ],
                }
            )
        )
    run_until_idle(Settings(), db.url())
    with db.connect() as conn:
        [memory_id] = [
            r["id"]
            for r in conn.execute(
                "select id from public.customer_preferences where user_id = %s and preference_type = 'favorite'",
                (user,),
            )
        ]
        with conn.transaction():
            set_request_context(conn, "authenticated", shopper_claims(user))
            conn.execute("select public.forget_memory(%s)", (memory_id,))
    memory.record_message("hello")  # any new event: the worker recomputes this shopper
    run_until_idle(Settings(), db.url())
    with db.connect() as conn:
        favorites = conn.execute(
            "select count(*) as n from public.customer_preferences where user_id = %s and preference_type = 'favorite'",
            (user,),
        ).fetchone()
    assert favorites == {"n": 0}, "the forgotten favourite is not relearned from the orders recorded before"
