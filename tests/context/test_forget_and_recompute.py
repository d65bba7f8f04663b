"""A forgotten memory stays gone when the worker recomputes from the whole log, through the real functions: the
API's record_* to log evidence, public.worker_recompute_user (the worker's rebuild, as service_role), forget_memory,
and remember_preference to bring one back. (test_privacy.py holds the rule underneath, private.evidence_since,
with a stand-in recompute.) And what explain_memory relies on: every inferred preference the worker writes carries
its evidence record, a stated one none."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg

from tests.conftest import Database, create_user
from worker.prompt import calls

OAT_MILK = {"sku": "oat-milk", "name": "Oat Milk", "category": "dairy", "brand": "Oatly", "price": 4.5, "quantity": 1}


def _recompute(conn: psycopg.Connection[Any], user_id: UUID) -> None:
    with conn.transaction():
        conn.execute(
            "select set_config('role', 'service_role', true),"
            " set_config('request.jwt.claims', '{\"role\": \"service_role\"}', true)"
        )
        conn.execute("select public.worker_recompute_user(%s)", (user_id,))


def _memories(conn: psycopg.Connection[Any], user_id: UUID) -> set[tuple[str, str, str]]:
    return {(m.memory_kind, m.memory_type, m.memory_key) for m in calls.my_memories(conn, user_id)}


def _as_shopper(conn: psycopg.Connection[Any], user_id: UUID) -> None:
    conn.execute(
        "select set_config('role', 'authenticated', true), set_config('request.jwt.claims', %s, true)",
        (json.dumps({"sub": str(user_id), "role": "authenticated"}),),
    )


def _shop_for_oat_milk(conn: psycopg.Connection[Any], user_id: UUID) -> None:
    """Eight cart adds of oat milk and eight weekly orders of it, through the API."""
    with conn.transaction():
        _as_shopper(conn, user_id)
        for _ in range(8):
            conn.execute("select public.record_cart_add(%s::jsonb)", (json.dumps(OAT_MILK),))
        start = datetime(2026, 9, 5, 18, 30, tzinfo=UTC)
        for week in range(8):
            conn.execute(
                "select public.record_checkout(%s::jsonb)",
                (
                    json.dumps(
                        {
                            "order_id": f"order-{week}",
                            "placed_at": (start + timedelta(weeks=week)).isoformat(),
                            "time_zone": "America/Chicago",
                            "items": [{**OAT_MILK, "tags": ["lactose_free"]}],
                            "item_count": 1,
                            "total": 4.5,
                        }
                    ),
                ),
            )


def forget_survives_recompute(conn: psycopg.Connection[Any]) -> None:
    """The scenario."""
    user_id = create_user(conn)
    _shop_for_oat_milk(conn, user_id)
    _recompute(conn, user_id)
    derived = calls.my_memories(conn, user_id)
    assert derived, "the worker derived nothing from eight orders and eight cart adds"
    assert ("preference", "favorite", "oat-milk") in _memories(conn, user_id)

    for memory in derived:
        calls.forget_memory(conn, user_id, memory.id)  # type: ignore[arg-type]
    assert _memories(conn, user_id) == set()
    _recompute(conn, user_id)
    assert _memories(conn, user_id) == set(), "old evidence brought forgotten memories back"

    # A new explicit statement brings it back, and it survives the next rebuild.
    with conn.transaction():
        _as_shopper(conn, user_id)
        conn.execute("select public.remember_preference('favorite', 'oat-milk', null, 'I love oat milk')")
    _recompute(conn, user_id)
    assert ("preference", "favorite", "oat-milk") in _memories(conn, user_id)


def test_a_forgotten_memory_stays_gone_after_the_workers_recompute(db: Database) -> None:
    with db.connect() as conn:
        forget_survives_recompute(conn)


def _recorded(conn: psycopg.Connection[Any], user_id: UUID) -> dict[tuple[str, str], tuple[str, bool]]:
    """Each preference: its source, and whether it holds an evidence record."""
    rows = conn.execute(
        "select preference_type, preference_key, source, evidence is not null as recorded"
        " from public.customer_preferences where user_id = %s",
        (user_id,),
    ).fetchall()
    return {(row["preference_type"], row["preference_key"]): (row["source"], row["recorded"]) for row in rows}


def test_the_worker_writes_every_inferred_preference_with_its_record(db: Database) -> None:
    """What explain_memory relies on (43_context_explain.sql): an inferred preference is explained by the evidence
    record it was written with, a stated one by the shopper's words. So every preference the worker infers carries
    a record, and one the shopper stated none, also one that was inferred before."""
    with db.connect() as conn:
        user_id = create_user(conn)
        _shop_for_oat_milk(conn, user_id)
        _recompute(conn, user_id)
        inferred = _recorded(conn, user_id)
        assert ("favorite", "oat-milk") in inferred
        assert all(source != "explicit" and recorded for source, recorded in inferred.values()), inferred

        with conn.transaction():
            _as_shopper(conn, user_id)
            conn.execute("select public.remember_preference('favorite', 'oat-milk', null, 'I love oat milk')")
        _recompute(conn, user_id)
        after = _recorded(conn, user_id)
        assert after.pop(("favorite", "oat-milk")) == ("explicit", False)
        assert all(recorded for _, recorded in after.values()), after

        row = conn.execute(
            "select id from public.customer_preferences where user_id = %s and preference_key = 'oat-milk'", (user_id,)
        ).fetchone()
        assert row is not None
        stated = calls.explain_memory(conn, user_id, row["id"])
        assert [event["interaction_type"] for event in stated.evidence["interactions"]][:1] == ["preference_stated"]
