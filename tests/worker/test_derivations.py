"""The properties of the worker's projection on hand-made events: idempotent, rebuild == incremental, evidence gone
means memory gone, explicit rows and suppressions respected. The rules themselves (issue 10) are in
test_learning_rules.py."""

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
    pattern_candidates,
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
    assert a["preferences"], "the comparison is not of two empty memories"


def test_deleted_evidence_removes_what_was_derived_from_it(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        ids = _weekly_orders(conn, user, n=12)
        recompute(conn, user)
        assert ("favorite", "bread") in preferences(conn, user)
        conn.execute("delete from public.interaction_history where id = any(%s)", (ids[:10],))
        recompute(conn, user)
        assert ("favorite", "bread") not in preferences(conn, user)  # bought on 2 days: too little to claim
        friday = pattern_candidates(conn, user)[("day_of_week", "friday")]["pattern_value"]
        assert (friday["orders"], friday["total_orders"]) == (2, 2)
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
        # Purchases recorded after the suppression bring the favorite back, counted from then: twelve days, not
        # the five before it.
        basket = [item("bread", "Bakery", tags=["store_brand"], brand="Great Value")]
        later = datetime.now().astimezone()
        for k in range(12):
            record_checkout(conn, user, days_ago(k + 1), basket, created_at=later + timedelta(seconds=k))
        recompute(conn, user)
        assert preferences(conn, user)[("favorite", "bread")]["times_confirmed"] == 12


def test_bad_payloads_do_not_stop_a_recompute(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        value = {"order_id": "x", "placed_at": "yesterday-ish", "time_zone": "Mars/Olympus", "items": "none"}
        conn.execute(
            "insert into public.interaction_history (user_id, interaction_type, interaction_key, interaction_value,"
            " created_at) values (%s, 'checkout', 'x', %s, %s)",
            (user, json.dumps(value), NOW - timedelta(hours=1)),
        )
        recompute(conn, user)  # does not fail
        figures = pattern_candidates(conn, user)[("basket_size", "small")]["pattern_value"]
        assert (figures["avg_items"], figures["avg_total"]) == (0, 0)


def test_a_retried_checkout_counts_once(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        for _ in range(2):
            record_checkout(conn, user, days_ago(1), [item("milk", "Dairy")], order_id="same-order")
        assert pattern_candidates(conn, user)[("time_of_day", "evening")]["occurrence_count"] == 1


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
