"""The ids an evidence record names come in the same order on every derivation: where a derivation lists them
newest first, events at the same moment are put in order of their id (as explain_memory lists what it shows), not
in whatever order the rows were read. Each test reads the tied events in both orders, for two shoppers with the
same history, and expects the same record from both. Planted once: without the tie-breaks (the migration left out)
both tests fail."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import psycopg

from tests.conftest import Database, create_user
from tests.worker.conftest import NOW, checkout_value, days_ago, item, preference_candidates

MILK = item("milk-lf", "Dairy")
BREAD = item("bread", "Bakery")


def _tied_ids() -> tuple[uuid.UUID, uuid.UUID]:
    low, high = sorted((uuid.uuid4(), uuid.uuid4()))
    return low, high


def _checkout(
    conn: psycopg.Connection[Any], user: uuid.UUID, at: datetime, items: list[Any], id_: Any = None, order: str = ""
) -> Any:
    value = checkout_value(at, items, order_id=order or None)
    row = conn.execute(
        "insert into public.interaction_history (id, user_id, interaction_type, interaction_key, interaction_value,"
        " created_at) values (coalesce(%s, gen_random_uuid()), %s, 'checkout', %s, %s, %s) returning id",
        (id_, user, value["order_id"], json.dumps(value), at),
    ).fetchone()
    assert row is not None
    return row["id"]


def _shopper_with_tied_orders(
    conn: psycopg.Connection[Any], tied: tuple[uuid.UUID, uuid.UUID], tied_items: list[Any], others: list[list[Any]]
) -> uuid.UUID:
    """A shopper with an order a week for len(others) weeks, and, a week before the first of them, two orders
    placed at the same moment, read in the order `tied` gives (the worker reads orders by their order id)."""
    user = create_user(conn)
    for week, items in enumerate(others):
        _checkout(conn, user, days_ago(7 * week), items)
    for n, id_ in enumerate(tied):
        _checkout(conn, user, days_ago(7 * len(others)), tied_items, id_, f"tied-{user.hex[:8]}-{n}")
    return user


def test_a_favourites_evidence_names_the_same_order_of_a_tie_however_the_tie_was_written(db: Database) -> None:
    with db.connect() as conn:
        first, second = _tied_ids(), _tied_ids()
        # The larger id read first for one shopper, last for the other.
        users = [
            _shopper_with_tied_orders(conn, (first[1], first[0]), [MILK, BREAD], [[MILK]] * 4),
            _shopper_with_tied_orders(conn, (second[0], second[1]), [MILK, BREAD], [[MILK]] * 4),
        ]
        named = []
        for user, (low, high) in zip(users, (first, second), strict=True):
            evidence = preference_candidates(conn, user, NOW)[("favorite", "milk-lf")]["evidence"]
            ids = [uuid.UUID(i) for i in evidence["interaction_ids"]]
            assert len(ids) == 5  # one a day bought: the day of the tie names one of its two orders
            named.append(ids[-1] == low and high not in ids)
    assert named == [True, True], "the tie's day names its order with the smaller id, whatever order they came in"


def test_the_orders_a_diet_rests_on_list_a_tie_in_order_of_id_however_it_was_read(db: Database) -> None:
    with db.connect() as conn:
        first, second = _tied_ids(), _tied_ids()
        users = [
            _shopper_with_tied_orders(conn, (first[1], first[0]), [MILK, BREAD], [[MILK]] * 4),
            _shopper_with_tied_orders(conn, (second[0], second[1]), [MILK, BREAD], [[MILK]] * 4),
        ]
        listed = []
        for user, (low, high) in zip(users, (first, second), strict=True):
            # No meat in any order: the vegetarian rule lists every order, newest first.
            evidence = preference_candidates(conn, user, NOW)[("dietary", "vegetarian")]["evidence"]
            ids = [uuid.UUID(i) for i in evidence["interaction_ids"]]
            assert len(ids) == 6
            listed.append(ids[-2:] == [low, high])
    assert listed == [True, True], "the two orders of the same moment are listed by id, whatever order they came in"
