"""What the schema itself refuses, keeps and removes, whoever writes (here the service role, which bypasses RLS,
so only the table's own rules stand between bad input and the data)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import psycopg
import pytest
from psycopg import errors

from tests.conftest import Database, acting_as, create_user

PREFERENCE = (
    "insert into public.customer_preferences (user_id, preference_type, preference_key, confidence, source)"
    " values (%(user_id)s, %(type)s, %(key)s, %(confidence)s, %(source)s)"
)
GOOD = {"type": "favorite", "key": "milk-whole-gal", "confidence": 0.9, "source": "inferred"}


@pytest.mark.parametrize(
    ("change", "error", "names"),
    [
        ({"confidence": 1.5}, errors.CheckViolation, "customer_preferences_confidence_range"),
        ({"confidence": -0.1}, errors.CheckViolation, "customer_preferences_confidence_range"),
        ({"type": "favourite-ish"}, errors.CheckViolation, "customer_preferences_preference_type_check"),
        ({"key": "k" * 10_000}, errors.CheckViolation, "customer_preferences_preference_key_length"),
        ({"key": ""}, errors.CheckViolation, "customer_preferences_preference_key_length"),
        ({"source": "guessed"}, errors.CheckViolation, "customer_preferences_source_check"),
        ({"confidence": 1.0}, errors.CheckViolation, "customer_preferences_inferred_confidence_cap"),
        ({"key": None}, errors.NotNullViolation, 'column "preference_key"'),
    ],
    ids=[
        "confidence 1.5",
        "negative confidence",
        "unknown type",
        "10,000-character key",
        "empty key",
        "unknown source",
        "inferred at 1.00",
        "missing key",
    ],
)
def test_bad_preferences_are_refused_by_name_and_nothing_is_written(
    db: Database, change: dict[str, Any], error: type[Exception], names: str
) -> None:
    with db.connect() as conn:
        user_id = create_user(conn)
        with acting_as(conn, "service_role"):
            with pytest.raises(error, match=names), conn.transaction():
                conn.execute(PREFERENCE, {**GOOD, **change, "user_id": user_id})
            assert conn.execute("select count(*) as n from public.customer_preferences").fetchone() == {"n": 0}
            # The same row without the fault goes in: the refusal was about that one field.
            conn.execute(PREFERENCE, {**GOOD, "user_id": user_id})


@pytest.mark.parametrize(
    ("statement", "names"),
    [
        (
            "insert into public.shopping_patterns (user_id, pattern_type, pattern_key)"
            " values (%s, 'moon_phase', 'full')",
            "shopping_patterns_pattern_type_check",
        ),
        (
            "insert into public.shopping_patterns (user_id, pattern_type, pattern_key, pattern_value)"
            " values (%s, 'frequency', 'weekly', '[1, 2]')",
            "shopping_patterns_pattern_value_object",
        ),
        (
            "insert into public.interaction_history (user_id, interaction_type) values (%s, 'telepathy')",
            "interaction_history_interaction_type_check",
        ),
        (
            "insert into public.interaction_history (user_id, interaction_type, interaction_value)"
            " values (%s, 'search', '\"just a string\"')",
            "interaction_history_interaction_value_object",
        ),
        (
            "insert into public.interaction_history (user_id, interaction_type, interaction_key)"
            " values (%s, 'search', repeat('x', 10000))",
            "interaction_history_interaction_key_length",
        ),
        (
            "insert into public.memory_insights (user_id, insight_type, insight_key, insight_value)"
            " values (%s, 'horoscope', 'leo', 'Bold shopper')",
            "memory_insights_insight_type_check",
        ),
        (
            "insert into public.memory_insights (user_id, insight_type, insight_key, insight_value, confidence)"
            " values (%s, 'persona', 'budget_conscious', 'Chooses store brands', 0.99)",
            "memory_insights_inferred_confidence_cap",
        ),
    ],
    ids=[
        "unknown pattern type",
        "pattern value not an object",
        "unknown interaction type",
        "interaction value not an object",
        "10,000-character interaction key",
        "unknown insight type",
        "insight above the inference cap",
    ],
)
def test_other_tables_refuse_bad_rows_by_name(db: Database, statement: str, names: str) -> None:
    with db.connect() as conn:
        user_id = create_user(conn)
        with acting_as(conn, "service_role"), pytest.raises(errors.CheckViolation, match=names):
            conn.execute(statement, (user_id,))


def test_deleting_a_user_removes_all_their_memory_and_nobody_elses(db: Database) -> None:
    tables = [
        "public.customer_preferences",
        "public.shopping_patterns",
        "public.interaction_history",
        "public.memory_insights",
        "private.interaction_archive",
        "private.memory_suppressions",
    ]
    with db.connect() as conn:
        gone, kept = create_user(conn), create_user(conn)
        for user_id in (gone, kept):
            _one_of_everything(conn, user_id)
        conn.execute("delete from auth.users where id = %s", (gone,))
        for table in tables:
            counts = conn.execute(
                f"select count(*) filter (where user_id = %s) as gone, count(*) filter (where user_id = %s) as kept"
                f" from {table}",
                (gone, kept),
            ).fetchone()
            assert counts == {"gone": 0, "kept": 1}, table


def test_updated_at_follows_real_changes_only(db: Database) -> None:
    with db.connect() as conn:
        user_id = create_user(conn)
        conn.execute(PREFERENCE, {**GOOD, "user_id": user_id})
        before = conn.execute("select updated_at from public.customer_preferences").fetchone()
        time.sleep(0.01)
        conn.execute("update public.customer_preferences set confidence = confidence")
        unchanged = conn.execute("select updated_at from public.customer_preferences").fetchone()
        conn.execute("update public.customer_preferences set confidence = 0.80, updated_at = '2000-01-01'")
        changed = conn.execute("select updated_at, created_at from public.customer_preferences").fetchone()
    assert unchanged == before, "a no-op update leaves updated_at alone"
    assert changed is not None and before is not None
    assert changed["updated_at"] > before["updated_at"], "the database, not the writer, sets updated_at"
    assert changed["updated_at"] > changed["created_at"]


def _one_of_everything(conn: psycopg.Connection[Any], user_id: uuid.UUID) -> None:
    conn.execute(PREFERENCE, {**GOOD, "user_id": user_id})
    conn.execute(
        "insert into public.shopping_patterns (user_id, pattern_type, pattern_key) values (%s, 'frequency', 'weekly')",
        (user_id,),
    )
    conn.execute(
        "insert into public.interaction_history (user_id, interaction_type, interaction_key)"
        " values (%s, 'search', 'x')",
        (user_id,),
    )
    conn.execute(
        "insert into private.interaction_archive (id, user_id, interaction_type, created_at)"
        " values (gen_random_uuid(), %s, 'search', now() - interval '13 months')",
        (user_id,),
    )
    conn.execute(
        "insert into public.memory_insights (user_id, insight_type, insight_key, insight_value)"
        " values (%s, 'goal', 'meal_prep', 'Large orders on Sundays')",
        (user_id,),
    )
    conn.execute("select private.suppress_memory(%s, 'preference', 'favorite', 'milk-whole-gal')", (user_id,))
