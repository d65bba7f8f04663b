"""What the worker derives from hand-made events, with exact expected figures, and the properties of a projection:
idempotent, rebuild == incremental, evidence gone means memory gone, explicit rows and suppressions respected."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg

from tests.conftest import Database, create_user
from tests.worker.conftest import (
    NOW,
    as_service,
    days_ago,
    insights,
    item,
    patterns,
    preferences,
    recompute,
    record_checkout,
    record_event,
    snapshot,
)


def _weekly_orders(conn: psycopg.Connection[Any], user: Any, n: int = 6, **kwargs: Any) -> list[Any]:
    """n Friday-evening orders a week apart (18:00 Chicago), the newest 0 days before NOW."""
    basket = [
        item("milk-lf", "Dairy", price=4.5, quantity=2, tags=["lactose_free"]),
        item("apples", "Produce", price=3.0, quantity=3, tags=["organic"], brand="Great Value"),
        item("bread", "Bakery", price=2.5, quantity=1, tags=["store_brand"], brand="Great Value"),
    ]
    return [record_checkout(conn, user, days_ago(7 * k), basket, **kwargs) for k in range(n)]


def test_patterns_from_weekly_evening_orders(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        _weekly_orders(conn, user)
        # One Tuesday-morning order in Tokyo (09:30 local = 00:30 UTC), and one outside the 90-day window.
        tokyo = datetime.fromisoformat("2026-11-17T09:30:00+09:00")
        record_checkout(conn, user, tokyo, [item("natto", "Deli", price=1.0)], time_zone="Asia/Tokyo")
        record_checkout(conn, user, NOW - timedelta(days=91), [item("old", "Dairy")])
        recompute(conn, user)
        found = {
            key: (row["pattern_value"], row["confidence"], row["occurrence_count"])
            for key, row in patterns(conn, user).items()
        }
    # 7 orders in the window: 6 Friday evenings, 1 Tuesday morning. Confidence = k / (n + 2).
    assert found == {
        ("time_of_day", "evening"): ({"range": "17:00-21:00", "orders": 6}, Decimal("0.67"), 6),
        ("time_of_day", "morning"): ({"range": "05:00-12:00", "orders": 1}, Decimal("0.11"), 1),
        ("day_of_week", "friday"): ({"orders": 6, "total_orders": 7}, Decimal("0.67"), 6),
        ("day_of_week", "tuesday"): ({"orders": 1, "total_orders": 7}, Decimal("0.11"), 1),
        # 35 days from first to last order over 6 gaps.
        ("frequency", "weekly"): ({"avg_days": 5.8, "orders": 7}, Decimal("0.75"), 7),
        # items: 6 x 6 + 1 = 37 / 7 = 5.3; totals: 6 x 20.5 + 1 = 124 / 7 = 17.71.
        ("basket_size", "small"): ({"avg_items": 5.3, "avg_total": 17.71}, Decimal("0.78"), 7),
        ("category_preference", "dairy"): ({"percentage": 0.86, "orders": 6}, Decimal("0.67"), 6),
        ("category_preference", "produce"): ({"percentage": 0.86, "orders": 6}, Decimal("0.67"), 6),
        ("category_preference", "bakery"): ({"percentage": 0.86, "orders": 6}, Decimal("0.67"), 6),
    }


def test_few_orders_give_low_confidence(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        record_checkout(conn, user, days_ago(1), [item("milk", "Dairy")])
        recompute(conn, user)
        found = patterns(conn, user)
    assert found[("time_of_day", "evening")]["confidence"] == Decimal("0.33")
    assert ("frequency", "weekly") not in found and not any(t == "frequency" for t, _ in found)
    assert not any(t == "category_preference" for t, _ in found)  # one order is no preference


def test_inferred_preferences_and_insights(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        ids = _weekly_orders(conn, user, n=8)
        recompute(conn, user)
        prefs = {key: (row["confidence"], row["source"], row["reason"]) for key, row in preferences(conn, user).items()}
        found = insights(conn, user)
    assert prefs == {
        ("favorite", "milk-lf"): (Decimal("0.90"), "pattern", "Bought in 8 of the last 8 orders"),
        ("favorite", "apples"): (Decimal("0.90"), "pattern", "Bought in 8 of the last 8 orders"),
        ("favorite", "bread"): (Decimal("0.90"), "pattern", "Bought in 8 of the last 8 orders"),
        ("brand", "Great Value"): (Decimal("0.80"), "pattern", "Chosen in 8 of the last 8 orders"),
        ("brand", "Acme"): (Decimal("0.80"), "pattern", "Chosen in 8 of the last 8 orders"),
        ("dietary", "vegetarian"): (Decimal("0.70"), "pattern", "No meat in the last 8 orders"),
    }
    assert set(found) == {
        ("persona", "health_focused"),
        ("constraint", "lactose_free"),
        ("context", "family_household"),
    }
    family = found[("context", "family_household")]
    assert family["supporting_data"]["avg_quantity_per_item"] == 2.0  # 6 items over 3 lines
    assert (family["confidence"], family["expires_at"]) == (Decimal("0.64"), days_ago(0) + timedelta(days=90))
    health = found[("persona", "health_focused")]["supporting_data"]
    assert (health["organic_count"], health["organic_percentage"], health["orders"]) == (8, 0.33, 8)
    assert sorted(health["checkout_ids"]) == sorted(str(i) for i in ids)
    assert found[("constraint", "lactose_free")]["supporting_data"]["lactose_free_percentage"] == 1.0
    assert found[("constraint", "lactose_free")]["expires_at"] is None


def test_a_meat_order_breaks_the_vegetarian_run(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        _weekly_orders(conn, user, n=9)
        record_checkout(conn, user, days_ago(0, hour=20), [item("steak", "Meat", tags=["meat"])])
        recompute(conn, user)
        assert ("dietary", "vegetarian") not in preferences(conn, user)


def test_meal_prep_goal_is_time_bound_and_expires(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        big = [item("rice", "Pantry", quantity=30)]
        for k in range(3):
            record_checkout(conn, user, days_ago(7 * k + 5, hour=10), big)  # Sundays
        recompute(conn, user)
        goal = insights(conn, user)[("goal", "meal_prep")]
        assert goal["supporting_data"]["day"] == "sunday" and goal["supporting_data"]["orders"] == 3
        assert goal["expires_at"] == days_ago(5, hour=10) + timedelta(days=30)
        # Expiry removes it once the date has passed, and a recompute then does not bring it back.
        with as_service(conn):
            assert conn.execute("select public.worker_expire_insights(%s)", (goal["expires_at"],)).fetchone()
        assert ("goal", "meal_prep") not in insights(conn, user)
        recompute(conn, user, goal["expires_at"] + timedelta(seconds=1))
        assert ("goal", "meal_prep") not in insights(conn, user)


def test_recompute_is_idempotent_and_writes_nothing_the_second_time(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        _weekly_orders(conn, user)
        recompute(conn, user)
        first = snapshot(conn, user)
        stamps = conn.execute(
            "select max(updated_at) as p, (select max(updated_at) from public.customer_preferences) as c"
            " from public.shopping_patterns"
        ).fetchone()
        recompute(conn, user)
        assert snapshot(conn, user) == first
        assert (
            conn.execute(
                "select max(updated_at) as p, (select max(updated_at) from public.customer_preferences) as c"
                " from public.shopping_patterns"
            ).fetchone()
            == stamps
        )


def test_rebuild_from_the_log_equals_incremental_updates(db: Database) -> None:
    with db.connect() as conn:
        incremental, rebuilt = create_user(conn), create_user(conn)
        events = []
        for k in range(10):
            basket = [item("oat-milk", "Dairy", quantity=k % 3 + 1), item(f"sku-{k % 4}", "Produce", brand="Acme")]
            events.append((days_ago(9 * k, hour=8 + k), basket))
        for when, basket in events:
            record_checkout(conn, incremental, when, basket, order_id=f"o-{when:%j}")
            recompute(conn, incremental)
        record_event(
            conn,
            incremental,
            "swap",
            "accepted",
            {"original": {"brand": "Acme"}, "replacement": {"brand": "Store"}, "accepted": True},
        )
        recompute(conn, incremental)
        for when, basket in events:
            record_checkout(conn, rebuilt, when, basket, order_id=f"o-{when:%j}")
        record_event(
            conn,
            rebuilt,
            "swap",
            "accepted",
            {"original": {"brand": "Acme"}, "replacement": {"brand": "Store"}, "accepted": True},
        )
        recompute(conn, rebuilt)
        a, b = snapshot(conn, incremental), snapshot(conn, rebuilt)
    for part in ("patterns", "preferences", "insights"):
        for row in a[part] + b[part]:
            if "supporting_data" in row:
                row["supporting_data"].pop("checkout_ids", None)
                row["supporting_data"].pop("swap_ids", None)
            row.pop("last_confirmed_at", None)  # the swap's own timestamp differs between the two shoppers
    assert a == b
    assert a["patterns"]


def test_deleted_evidence_removes_what_was_derived_from_it(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        ids = _weekly_orders(conn, user, n=4)
        recompute(conn, user)
        assert ("favorite", "bread") in preferences(conn, user)
        conn.execute("delete from public.interaction_history where id = any(%s)", (ids[:2],))
        recompute(conn, user)
        prefs = preferences(conn, user)
        assert ("favorite", "bread") not in prefs  # 2 purchases left, under the threshold of 3
        assert patterns(conn, user)[("day_of_week", "friday")]["pattern_value"] == {"orders": 2, "total_orders": 2}
        conn.execute("delete from public.interaction_history where user_id = %s", (user,))
        recompute(conn, user)
        assert patterns(conn, user) == {} and preferences(conn, user) == {} and insights(conn, user) == {}


def test_explicit_preferences_are_never_touched(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        conn.execute(
            "insert into public.customer_preferences (user_id, preference_type, preference_key, preference_value,"
            " confidence, source, reason) values (%s, 'favorite', 'bread', 'my bread', 1.00, 'explicit', 'said so'),"
            " (%s, 'brand', 'nobody', null, 1.00, 'explicit', 'said so')",
            (user, user),
        )
        _weekly_orders(conn, user, n=5)
        recompute(conn, user)
        prefs = preferences(conn, user)
    assert (prefs[("favorite", "bread")]["confidence"], prefs[("favorite", "bread")]["preference_value"]) == (
        Decimal("1.00"),
        "my bread",
    )
    assert prefs[("brand", "nobody")]["source"] == "explicit"


def test_forgotten_memories_stay_forgotten_until_new_evidence(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        _weekly_orders(conn, user, n=5)
        recompute(conn, user)
        conn.execute("delete from public.customer_preferences where user_id = %s and preference_key = 'bread'", (user,))
        conn.execute("delete from public.shopping_patterns where user_id = %s and pattern_type = 'frequency'", (user,))
        conn.execute("select private.suppress_memory(%s, 'preference', 'favorite', 'bread')", (user,))
        conn.execute("select private.suppress_memory(%s, 'pattern', 'frequency', 'weekly')", (user,))
        recompute(conn, user)
        assert ("favorite", "bread") not in preferences(conn, user)
        assert not any(t == "frequency" for t, _ in patterns(conn, user))
        # Three new purchases recorded after the suppression bring the favorite back, counted from then.
        basket = [item("bread", "Bakery", tags=["store_brand"], brand="Great Value")]
        later = datetime.now().astimezone()
        for k in range(3):
            record_checkout(conn, user, NOW - timedelta(hours=k + 1), basket, created_at=later + timedelta(seconds=k))
        recompute(conn, user)
        assert preferences(conn, user)[("favorite", "bread")]["times_confirmed"] == 3


def test_cart_adds_and_swaps_follow_the_contract_rules(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        for _ in range(7):
            record_event(
                conn,
                user,
                "cart_add",
                "yogurt",
                {"sku": "yogurt", "name": "Greek yogurt"},
                created_at=NOW - timedelta(days=1),
            )
        for accepted in (True, True):
            record_event(
                conn,
                user,
                "swap",
                "accepted" if accepted else "rejected",
                {"original": {"brand": "Chobani"}, "replacement": {"brand": "Great Value"}, "accepted": accepted},
                created_at=NOW - timedelta(days=1),
            )
        record_event(
            conn,
            user,
            "swap",
            "rejected",
            {"original": {"brand": "Tillamook"}, "replacement": {"brand": "Great Value"}, "accepted": False},
            created_at=NOW - timedelta(days=1),
        )
        # Purchases in 3 orders (0.65) are weaker than 7 cart adds (0.85): the cart-add row stands.
        for k in range(3):
            record_checkout(conn, user, days_ago(k + 1), [item("yogurt", "Dairy", name="Yogurt")])
        recompute(conn, user)
        prefs = {
            key: (row["confidence"], row["source"], row["reason"], row["times_confirmed"])
            for key, row in preferences(conn, user).items()
        }
    assert prefs[("favorite", "yogurt")] == (Decimal("0.85"), "inferred", "Added to cart 7 times", 7)
    assert prefs[("brand", "Great Value")] == (Decimal("0.70"), "inferred", "Accepted savings swap", 2)
    assert prefs[("brand", "Tillamook")] == (Decimal("0.65"), "inferred", "Rejected swap - brand loyalty", 1)


def test_bad_payloads_do_not_stop_a_recompute(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        value = {"order_id": "x", "placed_at": "yesterday-ish", "time_zone": "Mars/Olympus", "items": "none"}
        conn.execute(
            "insert into public.interaction_history (user_id, interaction_type, interaction_key, interaction_value,"
            " created_at) values (%s, 'checkout', 'x', %s, %s)",
            (user, json.dumps(value), NOW - timedelta(hours=1)),
        )
        recompute(conn, user)
        assert patterns(conn, user)[("basket_size", "small")]["pattern_value"] == {"avg_items": 0, "avg_total": 0}


def test_a_retried_checkout_counts_once(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        for _ in range(2):
            record_checkout(conn, user, days_ago(1), [item("milk", "Dairy")], order_id="same-order")
        recompute(conn, user)
        assert patterns(conn, user)[("time_of_day", "evening")]["occurrence_count"] == 1


def test_retention_moves_old_interactions_to_the_archive(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        old = record_event(conn, user, "search", "milk", {}, created_at=NOW - timedelta(days=400))
        new = record_event(conn, user, "search", "eggs", {}, created_at=NOW - timedelta(days=10))
        with as_service(conn):
            moved = conn.execute("select public.worker_archive_interactions(12, %s) as n", (NOW,)).fetchone()
        assert moved == {"n": 1}
        assert [
            r["id"] for r in conn.execute("select id from public.interaction_history where user_id = %s", (user,))
        ] == [new]
        archived = conn.execute("select id, user_id, interaction_key from private.interaction_archive").fetchall()
        assert archived == [{"id": old, "user_id": user, "interaction_key": "milk"}]
