"""Helpers for the worker's tests: events written straight into the log (as the API functions would write them)
and calls to the worker_* functions as the service role."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import psycopg

from tests.conftest import acting_as

# Midnight at the end of Friday 2026-11-20 in Chicago (UTC-6 in November).
NOW = datetime.fromisoformat("2026-11-21T06:00:00+00:00")


def item(
    sku: str,
    category: str,
    *,
    brand: str = "Acme",
    price: float = 2.0,
    quantity: int = 1,
    tags: list[str] | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    return {
        "sku": sku,
        "name": name or sku.replace("-", " "),
        "category": category,
        "brand": brand,
        "price": price,
        "quantity": quantity,
        "tags": tags or [],
    }


def checkout_value(
    placed_at: datetime,
    items: list[dict[str, Any]],
    *,
    time_zone: str = "America/Chicago",
    order_id: str | None = None,
) -> dict[str, Any]:
    return {
        "order_id": order_id or f"order-{uuid.uuid4().hex[:10]}",
        "placed_at": placed_at.isoformat(),
        "time_zone": time_zone,
        "items": items,
        "item_count": sum(i["quantity"] for i in items),
        "total": round(sum(i["price"] * i["quantity"] for i in items), 2),
    }


def record_checkout(
    conn: psycopg.Connection[Any],
    user_id: uuid.UUID,
    placed_at: datetime,
    items: list[dict[str, Any]],
    *,
    time_zone: str = "America/Chicago",
    order_id: str | None = None,
    created_at: datetime | None = None,
) -> uuid.UUID:
    value = checkout_value(placed_at, items, time_zone=time_zone, order_id=order_id)
    row = conn.execute(
        "insert into public.interaction_history (user_id, interaction_type, interaction_key, interaction_value,"
        " created_at) values (%s, 'checkout', %s, %s, %s) returning id",
        (user_id, value["order_id"], json.dumps(value), created_at or placed_at),
    ).fetchone()
    assert row is not None
    return row["id"] if isinstance(row, dict) else row[0]


def record_event(
    conn: psycopg.Connection[Any],
    user_id: uuid.UUID,
    kind: str,
    key: str | None,
    value: dict[str, Any],
    created_at: datetime | None = None,
) -> uuid.UUID:
    row = conn.execute(
        "insert into public.interaction_history (user_id, interaction_type, interaction_key, interaction_value,"
        " created_at) values (%s, %s, %s, %s, coalesce(%s, now())) returning id",
        (user_id, kind, key, json.dumps(value), created_at),
    ).fetchone()
    assert row is not None
    return row["id"] if isinstance(row, dict) else row[0]


@contextmanager
def as_service(conn: psycopg.Connection[Any]) -> Iterator[psycopg.Connection[Any]]:
    """A committed transaction as the service role (acting_as rolls back; the worker's writes must stay)."""
    from worker.db.request import set_request_context

    with conn.transaction():
        set_request_context(conn, "service_role")
        yield conn


def recompute(conn: psycopg.Connection[Any], user_id: uuid.UUID, now: datetime = NOW) -> dict[str, int]:
    with as_service(conn):
        row = conn.execute("select public.worker_recompute_user(%s, %s) as summary", (user_id, now)).fetchone()
    assert row is not None
    return row["summary"]  # type: ignore[no-any-return]


def patterns(conn: psycopg.Connection[Any], user_id: uuid.UUID) -> dict[tuple[str, str], dict[str, Any]]:
    rows = conn.execute(
        "select pattern_type, pattern_key, pattern_value, confidence, occurrence_count from public.shopping_patterns"
        " where user_id = %s",
        (user_id,),
    ).fetchall()
    return {(r["pattern_type"], r["pattern_key"]): r for r in rows}


def preferences(conn: psycopg.Connection[Any], user_id: uuid.UUID) -> dict[tuple[str, str], dict[str, Any]]:
    rows = conn.execute(
        "select preference_type, preference_key, preference_value, confidence, reason, source, times_confirmed"
        " from public.customer_preferences where user_id = %s",
        (user_id,),
    ).fetchall()
    return {(r["preference_type"], r["preference_key"]): r for r in rows}


def pattern_candidates(
    conn: psycopg.Connection[Any], user_id: uuid.UUID, now: datetime = NOW
) -> dict[tuple[str, str], dict[str, Any]]:
    """Every pattern the rules propose with its figures and probability, stored or not (below its floor)."""
    rows = conn.execute("select * from private.pattern_candidates(%s, %s)", (user_id, now)).fetchall()
    return {(r["pattern_type"], r["pattern_key"]): r for r in rows}


def preference_candidates(
    conn: psycopg.Connection[Any], user_id: uuid.UUID, now: datetime = NOW
) -> dict[tuple[str, str], dict[str, Any]]:
    """Every inferred preference the rules propose with its evidence and probability, stored or not."""
    rows = conn.execute("select * from private.preference_candidates(%s, %s)", (user_id, now)).fetchall()
    return {(r["preference_type"], r["preference_key"]): r for r in rows}


def insights(conn: psycopg.Connection[Any], user_id: uuid.UUID) -> dict[tuple[str, str], dict[str, Any]]:
    rows = conn.execute(
        "select insight_type, insight_key, insight_value, confidence, supporting_data, expires_at"
        " from public.memory_insights where user_id = %s",
        (user_id,),
    ).fetchall()
    return {(r["insight_type"], r["insight_key"]): r for r in rows}


def jobs(conn: psycopg.Connection[Any], user_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    return conn.execute(
        "select * from private.jobs where %s::uuid is null or user_id = %s order by id", (user_id, user_id)
    ).fetchall()


def snapshot(conn: psycopg.Connection[Any], user_id: uuid.UUID) -> dict[str, Any]:
    """Everything derived for a shopper, without ids and timestamps of writing (for rebuild == incremental)."""
    return {
        "patterns": conn.execute(
            "select pattern_type, pattern_key, pattern_value, confidence, occurrence_count, last_occurrence"
            " from public.shopping_patterns where user_id = %s order by 1, 2",
            (user_id,),
        ).fetchall(),
        "preferences": conn.execute(
            "select preference_type, preference_key, preference_value, confidence, reason, source,"
            " times_confirmed, last_confirmed_at from public.customer_preferences where user_id = %s order by 1, 2",
            (user_id,),
        ).fetchall(),
        "insights": conn.execute(
            "select insight_type, insight_key, insight_value, confidence, supporting_data, expires_at"
            " from public.memory_insights where user_id = %s order by 1, 2",
            (user_id,),
        ).fetchall(),
    }


def days_ago(days: float, hour: int = 18, now: datetime = NOW) -> datetime:
    """`hour`:00 Chicago time on Friday 2026-11-20 (the last day before NOW), `days` days earlier."""
    friday = datetime(2026, 11, 20, tzinfo=timezone(timedelta(hours=-6)))
    return friday + timedelta(hours=hour) - timedelta(days=days)


__all__ = ["NOW", "acting_as"]
