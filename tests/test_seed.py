"""supabase/seed.sql: the design document's example shopper and two more, loaded idempotently as postgres; every memory
of theirs is what the system makes of their events, so the worker changes none of it."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from decimal import Decimal

import bcrypt
import pytest

from tests.conftest import Database, acting_as
from worker.config import Settings
from worker.db import schema
from worker.db.schema import SEED_FILE
from worker.extract.rules import RuleExtractor
from worker.runtime.worker import run_until_idle

DANA = uuid.UUID("d0000000-0000-4000-8000-000000000123")
SAM = uuid.UUID("d0000000-0000-4000-8000-000000000456")
RILEY = uuid.UUID("d0000000-0000-4000-8000-000000000789")
SHOPPER_IDS = (DANA, SAM, RILEY)
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
    # Dana: 4 stated + 3 favourites + 1 brand, the store-label persona (25 of her 62 items of the last 90 days)
    # and 3 patterns (she shops in the evening, weekly, in small baskets); Sam: 1 stated + 1 favourite.
    # Events: 13 orders, 6 cart adds, 7 other events, 4 messages, 5 preference_stated.
    assert first == {
        "customer_preferences": 10,
        "shopping_patterns": 3,
        "interaction_history": 35,
        "memory_insights": 1,
    }


Memories = dict[tuple[str, str, str], tuple[str, Decimal | None]]


def _memories(db: Database, shopper: uuid.UUID) -> Memories:
    """What the shopper sees (my_memories): (kind, type, key) -> (source, confidence)."""
    with db.connect() as conn, acting_as(conn, "authenticated", shopper):
        rows = conn.execute("select * from public.my_memories").fetchall()
    return {(r["memory_kind"], r["memory_type"], r["memory_key"]): (r["source"], r["confidence"]) for r in rows}


def test_the_demo_shoppers_memories_are_what_their_events_say(db: Database) -> None:
    with db.connect() as conn:
        schema.apply_seed(conn)
    dana, sam = _memories(db, DANA), _memories(db, SAM)
    stated = ("explicit", Decimal("1.00"))
    assert {key: value for key, value in dana.items() if value[0] == "explicit"} == {
        ("preference", "allergy", "peanuts"): stated,
        ("preference", "dietary", "vegetarian"): stated,
        ("preference", "dietary", "lactose_intolerant"): stated,
        ("preference", "dislike", "avocado"): stated,
    }
    # Learned from her thirteen orders and the swap, at the confidence the calibrated model gives them; she shops in
    # the evening, weekly and in small baskets far more than shoppers in general (the population's default shares).
    assert {key for key, value in dana.items() if value[0] != "explicit"} == {
        ("preference", "favorite", "milk-whole-gal"),
        ("preference", "favorite", "gv-organic-eggs"),
        ("preference", "favorite", "chobani-greek-yogurt"),
        ("preference", "brand", "Great Value"),
        ("pattern", "time_of_day", "evening"),
        ("pattern", "frequency", "weekly"),
        ("pattern", "basket_size", "small"),
        ("insight", "persona", "store-label"),
    }
    assert all(value[1] is not None and value[1] >= Decimal("0.80") for value in dana.values())
    assert set(sam) == {("preference", "allergy", "shellfish"), ("preference", "favorite", "oat-milk-64oz")}


def test_a_recompute_of_every_seed_shopper_changes_none_of_their_memories(db: Database) -> None:
    """The worker, run over every seed shopper (each recomputed, every message read), keeps what the seed holds:
    the same memories, types and sources, confidence within rounding."""
    with db.connect() as conn:
        schema.apply_seed(conn)
    before = {shopper: _memories(db, shopper) for shopper in SHOPPER_IDS}
    with db.connect("superuser") as conn:  # as worker_enqueue_all (a rebuild) queues them
        conn.execute(
            "insert into private.jobs (user_id, kind) select unnest(%s::uuid[]), 'recompute'"
            " on conflict (user_id, kind) where status = 'pending' do nothing",
            (list(SHOPPER_IDS),),
        )
    stats = run_until_idle(Settings(), db.url())
    assert stats.failed == 0
    with db.connect("superuser") as conn:
        done = conn.execute(
            "select count(*) as n from private.jobs where status = 'done' and user_id = any(%s)", (list(SHOPPER_IDS),)
        ).fetchone()
    assert done is not None and done["n"] == len(SHOPPER_IDS), "every seed shopper was recomputed"
    after = {shopper: _memories(db, shopper) for shopper in SHOPPER_IDS}
    for shopper in SHOPPER_IDS:
        assert set(after[shopper]) == set(before[shopper]), shopper
        for key, (source, confidence) in before[shopper].items():
            assert after[shopper][key][0] == source
            assert abs((after[shopper][key][1] or 0) - (confidence or 0)) <= Decimal("0.01"), key


def test_the_seeds_stated_preferences_are_what_the_extractor_reads_in_its_messages(db: Database) -> None:
    """Each seed message is marked as read with exactly the statements the rule extractor finds in it, and each
    statement is an explicit preference with its `preference_stated` evidence, as the worker stores them."""
    with db.connect() as conn:
        schema.apply_seed(conn)
    with db.connect("superuser") as conn:
        read = conn.execute(
            "select e.user_id, e.extractor, e.statements, ih.interaction_value ->> 'content' as content, ih.id"
            " from private.extracted_messages as e join public.interaction_history as ih on ih.id = e.interaction_id"
        ).fetchall()
        preferences = {
            (r["user_id"], r["preference_type"], r["preference_key"]): r
            for r in conn.execute("select * from public.customer_preferences where source = 'explicit'").fetchall()
        }
        stated = {
            (r["user_id"], r["interaction_key"]): r["interaction_value"]
            for r in conn.execute(
                "select * from public.interaction_history where interaction_type = 'preference_stated'"
            ).fetchall()
        }
    assert len(read) == 4
    extractor = RuleExtractor()
    for message in read:
        statements, name = extractor.extract(message["content"])
        assert message["extractor"] == name
        assert message["statements"] == [s.model_dump(mode="json") for s in statements], message["content"]
        for statement in message["statements"]:
            key = (message["user_id"], statement["preference_type"], statement["preference_key"])
            assert preferences[key]["reason"] == statement["reason"]
            assert preferences[key]["preference_value"] == statement["preference_value"]
            evidence = stated[(message["user_id"], f"{statement['preference_type']}:{statement['preference_key']}")]
            assert evidence["source"] == "message" and evidence["interaction_id"] == str(message["id"])
    # The one set in the app's settings, as remember_preference stores it.
    assert stated[(DANA, "dietary:lactose_intolerant")]["source"] == "settings"
    assert set(preferences) == {
        *((m["user_id"], s["preference_type"], s["preference_key"]) for m in read for s in m["statements"]),
        (DANA, "dietary", "lactose_intolerant"),
    }


def test_each_demo_shopper_sees_only_their_own(db: Database) -> None:
    with db.connect() as conn:
        schema.apply_seed(conn)
        for shopper in (DANA, SAM):
            with acting_as(conn, "authenticated", shopper):
                for table in TABLES:
                    owners = conn.execute(f"select distinct user_id from public.{table}").fetchall()
                    # Dana's store-label habit is an insight and her evening shopping a pattern; Sam has neither.
                    held = table in ("customer_preferences", "interaction_history") or (
                        table in ("memory_insights", "shopping_patterns") and shopper == DANA
                    )
                    assert owners == ([{"user_id": shopper}] if held else []), table


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


def _statements(text: str) -> list[str]:
    """The seed's statements, as psql sends them one by one (PostgreSQL's own parser splits them)."""
    from pglast import split

    return [statement for statement in split(text, with_parser=True) if statement.strip()]


@pytest.mark.parametrize("runner", ["statement by statement", "psql -f"])
def test_the_seed_run_statement_by_statement_gives_the_same_signed_in_users(db: Database, runner: str) -> None:
    """`psql -f supabase/seed.sql` runs each statement in its own transaction (no single transaction, as many
    people apply a seed). A setting local to one transaction does not reach the next statement, so every user must
    still get the demo password's hash, which bcrypt accepts as GoTrue's sign-in would (GoTrue cannot run here)."""
    if runner == "psql -f":
        psql = shutil.which("psql")
        if psql is None:
            pytest.skip("psql is not installed")
        result = subprocess.run(
            [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db.url(), "-f", str(SEED_FILE)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
    else:
        with db.connect() as conn:  # autocommit: each statement commits on its own
            for statement in _statements(SEED_FILE.read_text()):
                conn.execute(statement.encode())
    with db.connect() as conn:
        users = conn.execute(
            "select email, encrypted_password from auth.users where email like '%@demo.customer-memory.dev'"
        ).fetchall()
        stated = conn.execute(
            "select count(*) as n from public.customer_preferences where user_id = any(%s)", (list(SHOPPER_IDS),)
        ).fetchone()
    assert len(users) == SHOPPERS
    for user in users:
        assert user["encrypted_password"], user["email"]
        assert bcrypt.checkpw(DEMO_PASSWORD.encode(), user["encrypted_password"].encode()), user["email"]
    assert stated == {"n": 10}  # the same memories as the one-transaction load (test_seed_is_idempotent)
