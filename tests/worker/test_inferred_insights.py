"""Insights the worker infers from orders (private.derive_insights): the store-label share claim, measured at 0.97
on the learning benchmark's holdout, goes into the prompt with its figure; young children are only ever a
question until the shopper says Yes, and a No is never asked again from the orders it was asked from."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg

from tests.conftest import Database, create_user
from tests.worker.conftest import NOW, days_ago, item, recompute, record_checkout
from worker.prompt import calls
from worker.prompt.render import render_memory_block


def _orders(conn: psycopg.Connection[Any], user: UUID, count: int, *, baby_every: int = 0, store: int = 0) -> None:
    """`count` weekly orders of 10 items, `store` of them store label; baby food in every `baby_every`-th order."""
    for n in range(count):
        items = [
            item(
                f"sku-{k}",
                "produce",
                brand="store brand" if k < store else "Acme",
                tags=["store_brand"] if k < store else [],
            )
            for k in range(10)
        ]
        if baby_every and n % baby_every == 0:
            items.append(item("baby-food-jar", "baby foods"))
        record_checkout(conn, user, days_ago(7 * n + 1), items)


def _insights(conn: psycopg.Connection[Any], user: UUID) -> dict[str, dict[str, Any]]:
    rows = conn.execute("select * from public.memory_insights where user_id = %s", (user,)).fetchall()
    return {r["insight_key"]: r for r in rows}


def test_the_store_label_share_is_claimed_as_measured_and_shown_with_its_figure(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        _orders(conn, user, 8, store=5)  # 80 items, half store label: "at least 30%"
        recompute(conn, user, NOW)
        row = _insights(conn, user)["store-label"]
        assert (row["insight_type"], row["source"], row["status"], row["confidence"]) == (
            "persona",
            "inferred",
            "active",
            Decimal("0.95"),
        )
        assert row["insight_value"] == "Often chooses the store label (at least 30% of items)"
        assert row["supporting_data"]["store_label_items"] == 40 and row["supporting_data"]["items"] == 80
        text = render_memory_block(calls.memory_context(conn, user)).text
        assert (
            "- persona: Often chooses the store label (at least 30% of items) (the store label on 40 of the 80 items"
            " you bought in the last 90 days) [m" in text
        )


def test_too_few_items_or_a_small_share_claims_nothing(db: Database) -> None:
    with db.connect() as conn:
        few, small = create_user(conn), create_user(conn)
        _orders(conn, few, 4, store=10)  # 40 items: too few
        _orders(conn, small, 8, store=3)  # 30%: "at least 15%" is under the 20% floor
        recompute(conn, few, NOW)
        recompute(conn, small, NOW)
        assert _insights(conn, few) == {} and _insights(conn, small) == {}


def test_children_are_a_question_and_yes_makes_them_the_shoppers_own(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        _orders(conn, user, 10, baby_every=2)  # baby food in 5 of the last 10 orders
        recompute(conn, user, NOW)
        row = _insights(conn, user)["children"]
        assert (row["source"], row["status"]) == ("inferred", "question")
        assert (
            row["supporting_data"]["because"] == "We noticed baby food, formula or diapers in 5 of your last 10 orders"
        )
        assert calls.memory_context(conn, user).insights == []  # never in the prompt on inference alone
        calls.client(conn, user).answer_insight_question(row["id"], True)
        recompute(conn, user, NOW)  # a recompute never takes back what the shopper confirmed
        row = _insights(conn, user)["children"]
        assert (row["source"], row["status"], row["confidence"]) == ("confirmed", "active", 1)
        assert [i.key for i in calls.memory_context(conn, user).insights] == ["children"]


def test_no_is_never_asked_again_from_the_same_orders(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        _orders(conn, user, 10, baby_every=2)
        recompute(conn, user, NOW)
        calls.client(conn, user).answer_insight_question(_insights(conn, user)["children"]["id"], False)
        assert "children" not in _insights(conn, user)
        recompute(conn, user, NOW)
        assert "children" not in _insights(conn, user)
        # A forgotten store-label claim is not relearned from the same orders either.
        thrifty = create_user(conn)
        _orders(conn, thrifty, 8, store=5)
        recompute(conn, thrifty, NOW)
        calls.forget_memory(conn, thrifty, _insights(conn, thrifty)["store-label"]["id"])
        recompute(conn, thrifty, NOW)
        assert _insights(conn, thrifty) == {}
