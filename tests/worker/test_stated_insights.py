"""Insights the shopper states in chat, as worker_apply_stated_preferences stores them: the contract between the
extractor (worker/extract/, which writes the JSON) and memory_insights. Every test here calls the function with
JSON directly, as any extractor's output reaches it, so the storage rules hold whatever the extractor reads."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest

from tests.conftest import Database, create_user
from tests.worker.conftest import NOW, as_service, recompute, record_event
from worker.prompt import calls


def _said(conn: psycopg.Connection[Any], user: UUID, content: str, statements: list[dict[str, Any]]) -> UUID:
    """The shopper's message, and what an extractor read in it, applied."""
    message = record_event(conn, user, "message", "user_message", {"content": content})
    with as_service(conn):
        row = conn.execute(
            "select public.worker_apply_stated_preferences(%s, %s, %s, 'rules') as applied",
            (user, message, json.dumps(statements)),
        ).fetchone()
    assert row is not None and row["applied"] == len(statements)
    return message


def _rows(conn: psycopg.Connection[Any], user: UUID) -> dict[tuple[str, str], dict[str, Any]]:
    rows = conn.execute(
        "select * from public.memory_insights where user_id = %s order by insight_type, insight_key", (user,)
    ).fetchall()
    return {(r["insight_type"], r["insight_key"]): r for r in rows}


def _in_prompt(conn: psycopg.Connection[Any], user: UUID) -> dict[str, Any]:
    return {item.key: item for item in calls.memory_context(conn, user).insights}


KIDS = {
    "action": "remember",
    "insight_type": "context",
    "insight_key": "children",
    "insight_value": "Two children, ages 4 and 7",
    "details": {"count": 2, "ages": [4, 7]},
    "expires_at": None,
}


def test_a_stated_insight_is_explicit_with_the_message_as_evidence(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        message = _said(conn, user, "I have two kids, 4 and 7", [KIDS])
        row = _rows(conn, user)[("context", "children")]
        assert (row["source"], row["status"], row["confidence"], row["ended"]) == ("explicit", "active", 1, None)
        assert row["insight_value"] == "Two children, ages 4 and 7"
        evidence = row["supporting_data"]
        assert evidence["message"] == "I have two kids, 4 and 7"
        assert evidence["interaction_ids"] == [str(message)] and evidence["extractor"] == "rules"
        assert evidence["details"] == {"count": 2, "ages": [4, 7]}
        # In the prompt, saying where it comes from; explained by the message it was said in.
        item = _in_prompt(conn, user)["children"]
        assert (item.source, item.reason, item.value) == ("explicit", "You told us", "Two children, ages 4 and 7")
        assert item.figures == {"count": 2, "ages": [4, 7]}
        explained = calls.explain_memory(conn, user, row["id"])
        assert explained.memory["source"] == "explicit"
        assert [i["id"] for i in explained.evidence["interactions"]] == [str(message)]
        assert explained.evidence["supporting_data"]["message"] == "I have two kids, 4 and 7"
        assert explained.evidence["interactions"][0]["detail"]["content"] == "I have two kids, 4 and 7"
        assert explained.memory["reason"] == 'You told us: "I have two kids, 4 and 7"'


def test_a_later_statement_with_the_same_key_updates_it_and_keeps_what_it_said_before(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        _said(
            conn,
            user,
            "we're a family of three",
            [
                {
                    "action": "remember",
                    "insight_type": "context",
                    "insight_key": "household-size",
                    "insight_value": "A household of three",
                    "details": {"size": 3},
                },
            ],
        )
        _said(
            conn,
            user,
            "the baby arrived, we are four now",
            [
                {
                    "action": "remember",
                    "insight_type": "context",
                    "insight_key": "household-size",
                    "insight_value": "A household of four",
                    "details": {"size": 4},
                },
            ],
        )
        rows = _rows(conn, user)
        assert list(rows) == [("context", "household-size")]
        row = rows[("context", "household-size")]
        assert row["insight_value"] == "A household of four" and row["supporting_data"]["details"] == {"size": 4}
        assert row["supporting_data"]["previous"]["value"] == "A household of three"
        assert _in_prompt(conn, user)["household-size"].value == "A household of four"


def test_forget_ends_an_insight_without_deleting_it(db: Database) -> None:
    """ "The dog died": out of the prompt at once, kept on the page and in the export with what ended it; the
    shopper deletes it (forget_memory) if they want it gone. Saying it again brings it back."""
    with db.connect() as conn:
        user = create_user(conn)
        dog = {"action": "remember", "insight_type": "context", "insight_key": "pet-dog", "insight_value": "Has a dog"}
        _said(conn, user, "I have a dog", [dog])
        assert "pet-dog" in _in_prompt(conn, user)
        message = _said(
            conn,
            user,
            "our dog died last week",
            [
                {"action": "forget", "insight_type": "context", "insight_key": "pet-dog"},
            ],
        )
        row = _rows(conn, user)[("context", "pet-dog")]
        assert row["status"] == "ended" and row["insight_value"] == "Has a dog"
        assert row["ended"]["message"] == "our dog died last week"
        assert row["ended"]["interaction_id"] == str(message)
        assert "pet-dog" not in _in_prompt(conn, user)
        assert [m.memory_key for m in calls.my_memories(conn, user) if m.memory_kind == "insight"] == ["pet-dog"]
        exported = calls.export_memories(conn, user).insights
        assert [(i["insight_key"], i["status"], i["source"]) for i in exported] == [("pet-dog", "ended", "explicit")]
        # A recompute never touches what the shopper said, ended or not.
        recompute(conn, user, NOW)
        assert _rows(conn, user)[("context", "pet-dog")]["status"] == "ended"
        _said(conn, user, "we got a new puppy", [dog])
        row = _rows(conn, user)[("context", "pet-dog")]
        assert (row["status"], row["ended"]) == ("active", None)
        assert "pet-dog" in _in_prompt(conn, user)


def test_forget_dismisses_an_unanswered_question_and_suppresses_it(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        conn.execute(
            "insert into public.memory_insights (user_id, insight_type, insight_key, insight_value, confidence,"
            " source, status) values (%s, 'context', 'children', 'Shopping for young children', 0.6,"
            " 'inferred', 'question')",
            (user,),
        )
        assert "children" not in _in_prompt(conn, user)  # a question never reaches the prompt
        _said(
            conn,
            user,
            "we don't have kids",
            [
                {"action": "forget", "insight_type": "context", "insight_key": "children"},
            ],
        )
        assert _rows(conn, user) == {}
        suppressed = conn.execute(
            "select memory_kind, memory_type, memory_key from private.memory_suppressions where user_id = %s", (user,)
        ).fetchall()
        assert suppressed == [{"memory_kind": "insight", "memory_type": "context", "memory_key": "children"}]
        # Saying it lifts the suppression, as for preferences.
        _said(conn, user, "I have two kids", [KIDS])
        assert conn.execute(
            "select count(*) as n from private.memory_suppressions where user_id = %s", (user,)
        ).fetchone() == {"n": 0}


def test_a_time_bound_goal_expires_on_schedule(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        until = NOW + timedelta(days=30)
        _said(
            conn,
            user,
            "this month I'm doing keto",
            [
                {
                    "action": "remember",
                    "insight_type": "goal",
                    "insight_key": "diet-goal-keto",
                    "insight_value": "Doing keto this month",
                    "expires_at": until.isoformat(),
                },
            ],
        )
        row = _rows(conn, user)[("goal", "diet-goal-keto")]
        assert row["expires_at"] == until
        with as_service(conn):
            assert conn.execute(
                "select public.worker_expire_insights(%s) as n", (until - timedelta(seconds=1),)
            ).fetchone() == {"n": 0}
            assert conn.execute("select public.worker_expire_insights(%s) as n", (until,)).fetchone() == {"n": 1}
        assert _rows(conn, user) == {}


def test_preferences_and_insights_in_one_message_are_both_applied(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        _said(
            conn,
            user,
            "I'm vegetarian and I cook for one",
            [
                {"action": "remember", "preference_type": "dietary", "preference_key": "vegetarian"},
                {
                    "action": "remember",
                    "insight_type": "context",
                    "insight_key": "cooking-for-one",
                    "insight_value": "Cooks for one",
                },
            ],
        )
        assert set(_rows(conn, user)) == {("context", "cooking-for-one")}
        context = calls.memory_context(conn, user)
        assert [d.key for d in context.dietary] == ["vegetarian"]
        assert [i.key for i in context.insights] == ["cooking-for-one"]


def test_a_recompute_keeps_what_the_shopper_said(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        _said(conn, user, "I have two kids, 4 and 7", [KIDS])
        summary = recompute(conn, user, NOW)
        assert summary["insights"] == 0  # inferred ones only
        assert ("context", "children") in _rows(conn, user)


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        ({**KIDS, "insight_type": "family"}, "Statement 2: insight_type must be persona, goal, context or constraint"),
        ({**KIDS, "insight_key": "Two Kids"}, "Statement 2: insight_key must be a canonical lowercase key"),
        ({**KIDS, "insight_key": "k" * 65}, "Statement 2: insight_key must be a canonical lowercase key"),
        ({**KIDS, "insight_value": " "}, "Statement 2: insight_value must say the insight in words"),
        ({**KIDS, "insight_value": "x" * 201}, "Statement 2: insight_value must say the insight in words"),
        ({**KIDS, "details": [2]}, "Statement 2: details must be an object"),
        ({**KIDS, "details": {"note": "x" * 1000}}, "Statement 2: details must be an object"),
        ({**KIDS, "expires_at": "next month"}, "Statement 2: expires_at must be an ISO-8601 timestamp"),
        ({**KIDS, "expires_at": 20261231}, "Statement 2: expires_at must be an ISO-8601 timestamp"),
        ({**KIDS, "preference_type": "dietary"}, "Statement 2 names both an insight and a preference"),
        ({**KIDS, "action": "keep"}, "Statement 2 must be an object whose action is remember or forget"),
    ],
)
def test_a_bad_statement_is_refused_with_a_sentence_and_nothing_changes(
    db: Database, statement: dict[str, Any], problem: str
) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        message = record_event(conn, user, "message", "user_message", {"content": "I have two kids"})
        good = {
            "action": "remember",
            "insight_type": "goal",
            "insight_key": "meal-prep",
            "insight_value": "Meal preps on Sundays",
        }
        with pytest.raises(psycopg.errors.InvalidParameterValue, match=problem), as_service(conn):
            conn.execute(
                "select public.worker_apply_stated_preferences(%s, %s, %s, 'rules')",
                (user, message, json.dumps([good, statement])),
            )
        assert _rows(conn, user) == {}
        assert conn.execute("select count(*) as n from private.extracted_messages").fetchone() == {"n": 0}


def test_stated_insights_are_bounded_per_shopper(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        conn.execute(
            "insert into public.memory_insights (user_id, insight_type, insight_key, insight_value, confidence, source)"
            " select %s, 'persona', 'key-' || n, 'Something said', 1, 'explicit' from generate_series(1, 100) as n",
            (user,),
        )
        message = record_event(conn, user, "message", "user_message", {"content": "I have two kids"})
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="100 stated insights"), as_service(conn):
            conn.execute(
                "select public.worker_apply_stated_preferences(%s, %s, %s, 'rules')",
                (user, message, json.dumps([KIDS])),
            )
        # Updating one already stated is not a new one.
        with as_service(conn):
            conn.execute(
                "select public.worker_apply_stated_preferences(%s, %s, %s, 'rules')",
                (user, message, json.dumps([{**KIDS, "insight_type": "persona", "insight_key": "key-1"}])),
            )
        assert _rows(conn, user)[("persona", "key-1")]["insight_value"] == "Two children, ages 4 and 7"


def test_a_stated_insight_never_enters_the_safety_sections(db: Database) -> None:
    """An insight is context: it never adds, lowers or removes an allergy or a diet."""
    with db.connect() as conn:
        user = create_user(conn)
        _said(
            conn,
            user,
            "I'm allergic to peanuts",
            [
                {"action": "remember", "preference_type": "allergy", "preference_key": "peanuts"},
            ],
        )
        _said(
            conn,
            user,
            "I'm trying to eat more protein, peanut butter is great",
            [
                {
                    "action": "remember",
                    "insight_type": "goal",
                    "insight_key": "more-protein",
                    "insight_value": "Wants more protein",
                },
            ],
        )
        context = calls.memory_context(conn, user)
        assert [a.key for a in context.allergies] == ["peanuts"] and context.dietary == []
        assert [i.key for i in context.insights] == ["more-protein"]


def test_the_prompt_says_where_each_insight_comes_from_capped_and_cut(db: Database) -> None:
    """The "Customer Insights:" lines: each with its reference and its source in words; five at most (the rest
    counted as omitted), each text cut; a question never there, a confirmed one is."""
    from worker.prompt.render import render_memory_block

    with db.connect() as conn:
        user = create_user(conn)
        _said(conn, user, "I have two kids, 4 and 7", [KIDS])
        long_goal = "Wants to eat healthier " + "and more vegetables " * 8
        _said(
            conn,
            user,
            "lots of goals",
            [
                {"action": "remember", "insight_type": "goal", "insight_key": f"goal-{n}", "insight_value": long_goal}
                for n in range(6)
            ],
        )
        conn.execute(
            "insert into public.memory_insights (user_id, insight_type, insight_key, insight_value, confidence,"
            " supporting_data, source, status) values (%s, 'context', 'pet-dog', 'Has a dog', 0.6,"
            " '{\"question\": \"Do you have a dog?\"}', 'inferred', 'question')",
            (user,),
        )
        context = calls.memory_context(conn, user)
        rendered = render_memory_block(context)
        lines = rendered.text.split("Customer Insights:\n", 1)[1].split("\n\n", 1)[0].splitlines()
        assert len(lines) == 5 and context.omitted["insights"] == 2
        assert all(len(line) < 200 and line.endswith("]") for line in lines)
        assert all("(you told us) [m" in line for line in lines)
        # The newest five are kept (ranked by relevance, confidence, recency); their texts cut at 120 characters.
        assert all(line.startswith("- goal: Wants to eat healthier") and "… (you told us)" in line for line in lines)
        assert "dog" not in rendered.text
        question = conn.execute("select id from public.memory_insights where insight_key = 'pet-dog'").fetchone()
        assert question is not None
        client = calls.client(conn, user)
        assert client.answer_insight_question(question["id"], True)["status"] == "active"
        rendered = render_memory_block(calls.memory_context(conn, user, query="dog food"))
        assert "- context: Has a dog (you confirmed) [m" in rendered.text


def test_the_worker_reads_insights_from_chat_end_to_end(db: Database) -> None:
    """The real path: the shopper's messages, the worker's extractor (the rules), this function, the prompt."""
    from worker.config import Settings
    from worker.prompt.render import render_memory_block
    from worker.runtime.worker import run_until_idle

    with db.connect() as conn:
        user = create_user(conn)
        for content in ("I have two kids, ages 4 and 7", "I have a dog", "my sister has three cats"):
            record_event(conn, user, "message", "user_message", {"content": content})
        run_until_idle(Settings(), db.url(), now=lambda: NOW)
        rows = _rows(conn, user)
        assert {key for _, key in rows} >= {"children", "pet-dog"} and "pet-cat" not in {key for _, key in rows}
        assert all(r["source"] == "explicit" and r["status"] == "active" for r in rows.values())
        assert "(you told us) [m" in render_memory_block(calls.memory_context(conn, user)).text
        record_event(conn, user, "message", "user_message", {"content": "our dog died last week"})
        run_until_idle(Settings(), db.url(), now=lambda: NOW)
        dog = _rows(conn, user)[("context", "pet-dog")]
        assert dog["status"] == "ended" and dog["ended"]["message"] == "our dog died last week"
        assert "pet-dog" not in _in_prompt(conn, user) and "children" in _in_prompt(conn, user)
