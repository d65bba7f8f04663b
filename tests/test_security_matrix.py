"""Who may do what to which memory table, under both of Supabase's grant regimes.

Every table x select/insert/update/delete x anon, another shopper, the owner and the service role, with the
outcome the design requires: shoppers read and delete their own rows and nothing else; nobody but the service
role writes (clients record events through the API functions only); anon gets nothing. Each case runs in a
transaction that is rolled back, on one database per regime.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import errors

from tests.conftest import REGIMES, Database, Server, _database_copy, create_user
from worker.db.request import set_request_context, shopper_claims

# A valid row per table, for a given user id and key.
ROWS: dict[str, str] = {
    "customer_preferences": "insert into public.customer_preferences (user_id, preference_type, preference_key)"
    " values (%(user_id)s, 'favorite', %(key)s)",
    "shopping_patterns": "insert into public.shopping_patterns (user_id, pattern_type, pattern_key, pattern_value)"
    " values (%(user_id)s, 'day_of_week', %(key)s, '{\"orders\": 3, \"total_orders\": 5}')",
    "interaction_history": "insert into public.interaction_history (user_id, interaction_type, interaction_key)"
    " values (%(user_id)s, 'search', %(key)s)",
    "memory_insights": "insert into public.memory_insights (user_id, insight_type, insight_key, insight_value)"
    " values (%(user_id)s, 'persona', %(key)s, 'Consistently chooses store brands')",
}
# The column each table's update case changes.
UPDATES = {
    "customer_preferences": "confidence = 0.60",
    "shopping_patterns": "confidence = 0.60",
    "interaction_history": "interaction_key = 'changed'",
    "memory_insights": "confidence = 0.60",
}

DENIED = "permission denied"
# actor -> operation -> DENIED, or (the owner's rows, the other shopper's rows) that an unfiltered statement
# (`select/update/delete ... from table` with no where clause, as a curious client would send) sees or affects.
EXPECTED: dict[str, dict[str, str | tuple[int, int]]] = {
    "anon": {"select": DENIED, "insert": DENIED, "update": DENIED, "delete": DENIED},
    "other shopper": {"select": (0, 1), "insert": DENIED, "update": DENIED, "delete": (0, 1)},
    "owner": {"select": (1, 0), "insert": DENIED, "update": DENIED, "delete": (1, 0)},
    "service role": {"select": (1, 1), "insert": (1, 0), "update": (1, 1), "delete": (1, 1)},
}
CASES = [(table, op, actor) for table in ROWS for op in ("select", "insert", "update", "delete") for actor in EXPECTED]


@pytest.fixture(scope="module", params=REGIMES)
def regime_db(request: pytest.FixtureRequest, server: Server, templates: dict[str, str]) -> Iterator[Database]:
    with _database_copy(server, templates, request.param) as database:
        yield database


@pytest.fixture(scope="module")
def shoppers(regime_db: Database) -> dict[str, uuid.UUID]:
    with regime_db.connect() as conn:
        return {"owner": create_user(conn), "other": create_user(conn)}


def _become(conn: psycopg.Connection[Any], actor: str, shoppers: dict[str, uuid.UUID]) -> None:
    if actor == "anon":
        set_request_context(conn, "anon")
    elif actor == "service role":
        set_request_context(conn, "service_role")
    else:
        who = shoppers["owner"] if actor == "owner" else shoppers["other"]
        set_request_context(conn, "authenticated", shopper_claims(who))


def _attempt(conn: psycopg.Connection[Any], table: str, op: str, owner: uuid.UUID) -> list[Any]:
    """Run the operation with no where clause (the insert: a new row of the owner's); the user ids it touched."""
    if op == "select":
        cursor = conn.execute(f"select user_id from public.{table}")
    elif op == "insert":
        cursor = conn.execute(ROWS[table] + " returning user_id", {"user_id": owner, "key": "new"})
    elif op == "update":
        cursor = conn.execute(f"update public.{table} set {UPDATES[table]} returning user_id")
    else:
        cursor = conn.execute(f"delete from public.{table} returning user_id")
    return [row["user_id"] for row in cursor.fetchall()]


@pytest.mark.parametrize(("table", "op", "actor"), CASES, ids=[f"{t}-{o}-{a}" for t, o, a in CASES])
def test_access(regime_db: Database, shoppers: dict[str, uuid.UUID], table: str, op: str, actor: str) -> None:
    expected = EXPECTED[actor][op]
    owner, other = shoppers["owner"], shoppers["other"]
    with regime_db.connect() as conn, conn.transaction(force_rollback=True):
        # One row of each shopper's, written as postgres (bypassing the API).
        for user_id in (owner, other):
            conn.execute(ROWS[table], {"user_id": user_id, "key": "existing"})
        _become(conn, actor, shoppers)
        if expected == DENIED:
            refused = pytest.raises(errors.InsufficientPrivilege, match=f"permission denied for table {table}")
            with refused, conn.transaction():
                _attempt(conn, table, op, owner)
            conn.execute("reset role")
            remaining = conn.execute(f"select count(*) as n from public.{table}").fetchone()
            assert remaining == {"n": 2}, "a refused statement changed nothing"
            return
        touched = _attempt(conn, table, op, owner)
        assert (touched.count(owner), touched.count(other)) == expected
        assert len(touched) == sum(expected), "no rows but the two shoppers' were touched"
