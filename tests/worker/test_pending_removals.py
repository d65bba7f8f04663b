"""The safety rule, enforced in worker_apply_stated_preferences for every extractor: chat never removes an allergy
or a diet on its own. A request to forget one (or a misreading that looks like one) becomes a pending removal
that the shopper sees in my_memories and the export, and confirms or rejects; until then the memory stays in
memory_context. Dislikes, favourites and brands are removed on a request to forget."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import psycopg
import pytest

from tests.conftest import Database, create_user
from tests.worker.conftest import NOW, as_service, preferences, record_event
from worker.client.errors import NotFound
from worker.client.rows import PublicMyMemories
from worker.config import Settings
from worker.extract.model import Statement
from worker.prompt import calls
from worker.runtime.worker import run_until_idle


def _say(conn: psycopg.Connection[Any], user: UUID, db: Database, *messages: str) -> None:
    for content in messages:
        record_event(conn, user, "message", "user_message", {"content": content})
    run_until_idle(Settings(), db.url(), now=lambda: NOW)


def _pending(conn: psycopg.Connection[Any], user: UUID) -> dict[tuple[str | None, str | None], PublicMyMemories]:
    return {(r.memory_type, r.memory_key): r for r in calls.my_memories(conn, user) if r.pending_change}


def _change(conn: psycopg.Connection[Any], user: UUID, kind: str, key: str) -> dict[str, Any]:
    change = _pending(conn, user)[(kind, key)].pending_change
    assert isinstance(change, dict)
    return change


def _context_restrictions(conn: psycopg.Connection[Any], user: UUID) -> set[str]:
    context = calls.memory_context(conn, user)
    return {item.key for item in [*context.allergies, *context.dietary]}


@pytest.mark.parametrize(
    ("stated", "retraction", "kind", "key"),
    [
        ("I'm allergic to peanuts", "Forget that I'm allergic to peanuts", "allergy", "peanuts"),
        ("I'm allergic to peanuts", "I'm not allergic to peanuts anymore", "allergy", "peanuts"),
        ("I am vegetarian", "I'm not vegetarian anymore", "dietary", "vegetarian"),
        ("I follow a vegan diet", "please forget that I am vegan", "dietary", "vegan"),
        ("My son is allergic to peanuts", "forget that my son is allergic to peanuts", "allergy", "peanuts"),
    ],
)
def test_a_request_to_forget_an_allergy_or_diet_waits_for_the_shopper(
    db: Database, stated: str, retraction: str, kind: str, key: str
) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        _say(conn, user, db, stated)
        assert (kind, key) in preferences(conn, user)
        _say(conn, user, db, retraction)
        # Still there, still in the prompt, and shown to the shopper as a pending change with what they said.
        assert preferences(conn, user)[(kind, key)]["confidence"] == 1
        assert key in _context_restrictions(conn, user)
        pending = _change(conn, user, kind, key)
        assert pending["message"] == retraction and pending["extractor"] == "rules"
        exported = calls.export_memories(conn, user)
        assert [p["pending_removal"]["message"] for p in exported.preferences if p["pending_removal"]] == [retraction]


def test_the_quoted_misreadings_remove_nothing_and_ask_nothing(db: Database) -> None:
    """The sentences of issue 11 that the old extractor turned into deletions."""
    with db.connect() as conn:
        user = create_user(conn)
        _say(conn, user, db, "I'm allergic to peanuts", "I am vegan")
        _say(conn, user, db, "its not bad, i enjoy eating veggies and allergic to peanut products")
        _say(conn, user, db, "no i am vegan so i do not eat sausage")
        prefs = preferences(conn, user)
        assert {("allergy", "peanuts"), ("dietary", "vegan"), ("dislike", "sausage")} <= set(prefs)
        assert _pending(conn, user) == {}


def test_confirming_forgets_and_rejecting_keeps(db: Database) -> None:
    with db.connect() as conn:
        user, stranger = create_user(conn), create_user(conn)
        _say(conn, user, db, "I'm allergic to peanuts and I'm vegetarian")
        _say(conn, user, db, "forget that I'm allergic to peanuts", "I'm not vegetarian anymore")
        pending = _pending(conn, user)
        peanuts, vegetarian = pending[("allergy", "peanuts")].id, pending[("dietary", "vegetarian")].id
        assert peanuts is not None and vegetarian is not None

        with pytest.raises(NotFound, match="No pending change"):
            calls.client(conn, stranger).confirm_pending_change(peanuts)  # someone else's: as unknown
        assert calls.client(conn, user).confirm_pending_change(peanuts).forgotten is True
        assert calls.client(conn, user).reject_pending_change(vegetarian)["rejected"] is True

        prefs = preferences(conn, user)
        assert ("allergy", "peanuts") not in prefs and ("dietary", "vegetarian") in prefs
        assert _context_restrictions(conn, user) == {"vegetarian"}
        assert _pending(conn, user) == {}
        with pytest.raises(NotFound, match="No pending change"):
            calls.client(conn, user).reject_pending_change(vegetarian)  # answered already
        # Confirmed is forgotten as forget_memory forgets: suppressed against older evidence.
        assert conn.execute(
            "select memory_type, memory_key from private.memory_suppressions where user_id = %s", (user,)
        ).fetchall() == [{"memory_type": "allergy", "memory_key": "peanuts"}]


def test_saying_it_again_answers_the_pending_removal(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        _say(conn, user, db, "I'm allergic to sesame", "forget my sesame allergy")
        assert _pending(conn, user)
        _say(conn, user, db, "Actually I am allergic to sesame, keep it")
        assert _pending(conn, user) == {}
        assert ("allergy", "sesame") in preferences(conn, user)


def test_other_memories_are_removed_on_a_request_to_forget(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        _say(conn, user, db, "I hate olives")
        _say(conn, user, db, "forget that I hate olives")
        assert ("dislike", "olive") not in preferences(conn, user)
        assert _pending(conn, user) == {}


def test_no_extractor_can_bypass_the_rule(db: Database) -> None:
    """Whatever an extractor returns (here: forget statements as Claude might send them), the database applies
    the rule; a forget of an allergy the shopper never had changes nothing."""
    with db.connect() as conn:
        user = create_user(conn)
        _say(conn, user, db, "I'm allergic to milk")
        message = record_event(conn, user, "message", "user_message", {"content": "whatever"})
        statements = [
            Statement(action="forget", preference_type="allergy", preference_key="milk"),
            Statement(action="forget", preference_type="allergy", preference_key="eggs"),
        ]
        payload = json.dumps([s.model_dump(mode="json") for s in statements])
        with as_service(conn):
            conn.execute(
                "select public.worker_apply_stated_preferences(%s, %s, %s, 'claude')", (user, message, payload)
            )
        assert set(preferences(conn, user)) == {("allergy", "milk")}
        assert _change(conn, user, "allergy", "milk")["extractor"] == "claude"
        # A shopper cannot set a pending removal themselves (no update grant), only answer one.
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            from worker.db.request import set_request_context, shopper_claims

            set_request_context(conn, "authenticated", shopper_claims(user))
            conn.execute("update public.customer_preferences set pending_removal = null")


def test_a_household_members_allergy_is_kept_with_who_it_is(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        _say(conn, user, db, "my daughter has a severe peanut allergy")
        assert preferences(conn, user)[("allergy", "peanuts")]["reason"] == (
            "You told us your daughter is allergic to peanuts"
        )
        evidence = conn.execute(
            "select interaction_value from public.interaction_history where user_id = %s"
            " and interaction_type = 'preference_stated'",
            (user,),
        ).fetchone()
        assert evidence is not None and evidence["interaction_value"]["household_member"] == "daughter"
