"""supabase/seed.sql: the design document's example shopper and a second one, loaded idempotently as postgres."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.conftest import Database, acting_as
from worker.db import schema
from worker.db.schema import SEED_FILE

DANA = uuid.UUID("d0000000-0000-4000-8000-000000000123")
SAM = uuid.UUID("d0000000-0000-4000-8000-000000000456")
TABLES = ["customer_preferences", "shopping_patterns", "interaction_history", "memory_insights"]


def _counts(db: Database) -> dict[str, int]:
    with db.connect() as conn:
        return {t: conn.execute(f"select count(*) as n from public.{t}").fetchone()["n"] for t in TABLES}  # type: ignore[index]


def test_seed_is_idempotent(db: Database) -> None:
    with db.connect() as conn:
        schema.apply_seed(conn)
    first = _counts(db)
    with db.connect() as conn:
        schema.apply_seed(conn)
    assert _counts(db) == first
    assert first == {"customer_preferences": 11, "shopping_patterns": 6, "interaction_history": 6, "memory_insights": 6}


def test_the_demo_shopper_holds_the_design_documents_example_rows(db: Database) -> None:
    with db.connect() as conn:
        schema.apply_seed(conn)
        with acting_as(conn, "authenticated", DANA):
            preferences = {
                (r["preference_type"], r["preference_key"]): (str(r["confidence"]), r["reason"], r["source"])
                for r in conn.execute("select * from public.customer_preferences").fetchall()
            }
            patterns = {
                (r["pattern_type"], r["pattern_key"]): (r["pattern_value"], str(r["confidence"]), r["occurrence_count"])
                for r in conn.execute("select * from public.shopping_patterns").fetchall()
            }
            insights = {
                (r["insight_type"], r["insight_key"]): r["supporting_data"]
                for r in conn.execute("select * from public.memory_insights").fetchall()
            }
    assert preferences[("dietary", "vegetarian")] == ("0.95", "Never orders meat products", "inferred")
    assert preferences[("brand", "great-value")] == ("0.75", "Chooses GV 80% of time", "pattern")
    assert preferences[("favorite", "milk-whole-gal")] == ("0.90", "Purchased 15 times", "pattern")
    assert preferences[("dislike", "avocado")] == ("1.00", 'User said "I hate avocados"', "explicit")
    assert preferences[("allergy", "peanuts")] == ("1.00", 'User said "allergic to peanuts"', "explicit")
    assert patterns == {
        ("time_of_day", "evening"): ({"range": "18:00-21:00", "orders": 24}, "0.85", 24),
        ("day_of_week", "saturday"): ({"orders": 18, "total_orders": 30}, "0.60", 18),
        ("frequency", "weekly"): ({"avg_days": 7.2, "orders": 30}, "0.75", 30),
        ("basket_size", "medium"): ({"avg_items": 15, "avg_total": 85.50}, "0.70", 30),
        ("category_preference", "dairy"): ({"percentage": 0.35, "orders": 28}, "0.80", 28),
    }
    assert set(insights) == {
        ("persona", "budget_conscious"),
        ("persona", "health_focused"),
        ("goal", "meal_prep"),
        ("context", "family_of_four"),
        ("constraint", "lactose_intolerant"),
    }
    assert insights[("persona", "budget_conscious")] == {"swaps_accepted": 12, "gv_percentage": 0.75}


def test_each_demo_shopper_sees_only_their_own(db: Database) -> None:
    with db.connect() as conn:
        schema.apply_seed(conn)
        for shopper in (DANA, SAM):
            with acting_as(conn, "authenticated", shopper):
                for table in TABLES:
                    owners = conn.execute(f"select distinct user_id from public.{table}").fetchall()
                    assert owners == [{"user_id": shopper}], table


# The auth.users columns GoTrue reads into Go strings: a NULL in any of them fails every sign-in (supabase/auth#1940).
GOTRUE_STRING_COLUMNS = (
    "confirmation_token",
    "recovery_token",
    "email_change_token_new",
    "email_change",
    "email_change_token_current",
    "phone_change",
    "phone_change_token",
    "reauthentication_token",
)
DEMO_PASSWORD = "grocery-demo-2026"  # the README's demo password
SHOPPERS = 3


def test_demo_shoppers_have_gotrue_valid_rows_and_an_email_identity(db: Database) -> None:
    """GoTrue cannot run here, so this checks what it needs of the rows it reads at sign-in: no NULL in the columns
    it scans as strings, a confirmed email, a bcrypt hash at its cost, and an `email` identity for the user."""
    with db.connect() as conn:
        schema.apply_seed(conn)
        schema.apply_seed(conn)  # idempotent here too
        users = conn.execute(
            "select u.*, i.provider_id, i.identity_data, i.email as identity_email from auth.users as u"
            " left join auth.identities as i on i.user_id = u.id and i.provider = 'email'"
            " where u.email like '%@demo.customer-memory.dev' order by u.email"
        ).fetchall()
    assert len(users) == SHOPPERS
    for user in users:
        assert {column: user[column] for column in GOTRUE_STRING_COLUMNS} == dict.fromkeys(GOTRUE_STRING_COLUMNS, "")
        assert user["email_confirmed_at"] is not None and user["aud"] == "authenticated"
        assert user["encrypted_password"].startswith("$2a$10$")
        assert user["provider_id"] == str(user["id"]) and user["identity_email"] == user["email"]
        assert user["identity_data"]["sub"] == str(user["id"]) and user["identity_data"]["email_verified"] is True


def test_the_demo_password_is_what_the_seed_stores(db: Database) -> None:
    """Checked with pgcrypto's crypt(), as GoTrue's bcrypt compare would: the hash computed at seed time, and the
    one stored for servers without pgcrypto. Needs pgcrypto (PostgreSQL 15 run; the embedded 18 lacks it)."""
    fallback = re.search(r"'(\$2a\$10\$[./A-Za-z0-9]{53})'", SEED_FILE.read_text())
    assert fallback is not None
    with db.connect() as conn:
        if conn.execute("select to_regprocedure('extensions.crypt(text, text)') as f").fetchone() == {"f": None}:
            pytest.skip("this server has no pgcrypto")
        schema.apply_seed(conn)
        rows = conn.execute(
            "select extensions.crypt(%(password)s, encrypted_password) = encrypted_password as matches"
            " from auth.users where email like '%%@demo.customer-memory.dev'"
            " union all select extensions.crypt(%(password)s, %(fallback)s) = %(fallback)s",
            {"password": DEMO_PASSWORD, "fallback": fallback.group(1)},
        ).fetchall()
    assert rows == [{"matches": True}] * (SHOPPERS + 1)
