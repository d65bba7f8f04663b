"""Stated preferences from messages: the rules extractor's sentences, the Claude extractor against recorded
Messages API responses (httpx mock transport: the API cannot be reached from here), and the worker applying
them: explicit preferences with their evidence, forgetting with suppression, only the shopper's own words, once."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import psycopg
import pytest

from tests.conftest import Database, create_user
from tests.worker.conftest import NOW, as_service, preferences, record_event
from worker.config import Settings
from worker.extract import RuleExtractor
from worker.extract.claude import TOOL_NAME, ClaudeExtractor
from worker.extract.model import Statement
from worker.runtime.worker import run_until_idle


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("I'm vegetarian.", [("remember", "dietary", "vegetarian")]),
        ("I'm not vegetarian anymore", [("forget", "dietary", "vegetarian")]),
        ("my son is allergic to peanuts", [("remember", "allergy", "peanuts")]),
        ("I used to hate avocados", [("forget", "dislike", "avocado")]),
        ("I hate cilantro", [("remember", "dislike", "cilantro")]),
        ("I don't like mushrooms.", [("remember", "dislike", "mushroom")]),
        (
            "I'm allergic to shellfish and I hate olives.",
            [("remember", "allergy", "shellfish"), ("remember", "dislike", "olive")],
        ),
        ("We only buy Great Value brand", [("remember", "brand", "Great Value")]),
        ("Please forget that I am vegan", [("forget", "dietary", "vegan")]),
        ("I might go vegan next year", []),
        ("Thinking about going vegetarian, any recipes?", []),
        ("Can you find me a recipe for dinner?", []),
        ("I'm not allergic to milk", [("forget", "allergy", "milk")]),
        (
            "My son is allergic to peanuts, so please keep them out of everything.",
            [("remember", "allergy", "peanuts")],
        ),
        (
            "I'm allergic to peanuts, tree nuts, and sesame",
            [
                ("remember", "allergy", "peanuts"),
                ("remember", "allergy", "tree-nuts"),
                ("remember", "allergy", "sesame"),
            ],
        ),
    ],
)
def test_rules_read_what_the_shopper_states(message: str, expected: list[tuple[str, str, str]]) -> None:
    statements, source = RuleExtractor().extract(message)
    preferences = [s for s in statements if isinstance(s, Statement)]  # insights: test_insights_extractor.py
    assert [(s.action, s.preference_type, s.preference_key) for s in preferences] == expected
    assert source == "rules"


def _message(conn: psycopg.Connection[Any], user: Any, content: str, key: str = "user_message") -> Any:
    return record_event(conn, user, "message", key, {"content": content})


def test_the_worker_applies_stated_preferences_as_explicit_with_evidence(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        message = _message(conn, user, "My son is allergic to peanuts. I hate cilantro.")
        _message(conn, user, "I am vegetarian and allergic to sesame", key="assistant_message")  # not theirs
        run_until_idle(Settings(), db.url(), now=lambda: NOW)
        prefs = preferences(conn, user)
        assert {k: (r["confidence"], r["source"]) for k, r in prefs.items()} == {
            ("allergy", "peanuts"): (1, "explicit"),
            ("dislike", "cilantro"): (1, "explicit"),
        }
        assert prefs[("allergy", "peanuts")]["reason"] == "You told us your son is allergic to peanuts"
        evidence = conn.execute(
            "select interaction_key, interaction_value from public.interaction_history"
            " where user_id = %s and interaction_type = 'preference_stated' order by interaction_key",
            (user,),
        ).fetchall()
        assert [e["interaction_key"] for e in evidence] == ["allergy:peanuts", "dislike:cilantro"]
        assert evidence[0]["interaction_value"]["source"] == "message"
        assert evidence[0]["interaction_value"]["interaction_id"] == str(message)
        # Applied once: running again (the worker's own evidence queued a job) changes nothing.
        run_until_idle(Settings(), db.url(), now=lambda: NOW)
        assert preferences(conn, user)[("allergy", "peanuts")]["times_confirmed"] == 1


def test_forgetting_in_a_message_deletes_and_suppresses(db: Database) -> None:
    """A dislike taken back is removed (an allergy or a diet waits for the shopper: test_pending_removals)."""
    with db.connect() as conn:
        user = create_user(conn)
        _message(conn, user, "I hate olives")
        run_until_idle(Settings(), db.url(), now=lambda: NOW)
        assert preferences(conn, user)[("dislike", "olive")]["source"] == "explicit"
        _message(conn, user, "I don't hate olives anymore")
        run_until_idle(Settings(), db.url(), now=lambda: NOW)
        assert ("dislike", "olive") not in preferences(conn, user)
        assert conn.execute(
            "select memory_type, memory_key from private.memory_suppressions where user_id = %s", (user,)
        ).fetchall() == [{"memory_type": "dislike", "memory_key": "olive"}]
        # Saying it again lifts the suppression.
        _message(conn, user, "Actually I do hate olives again")
        run_until_idle(Settings(), db.url(), now=lambda: NOW)
        assert preferences(conn, user)[("dislike", "olive")]["confidence"] == 1
        assert conn.execute("select count(*) as n from private.memory_suppressions").fetchone() == {"n": 0}


def test_applying_refuses_bad_statements_and_changes_nothing(db: Database) -> None:
    with db.connect() as conn:
        user, stranger = create_user(conn), create_user(conn)
        message = _message(conn, user, "I hate olives")
        bad = [
            {"action": "remember", "preference_type": "dislike", "preference_key": "olives"},
            {"action": "remember", "preference_type": "mood", "preference_key": "happy"},
        ]
        with (
            pytest.raises(psycopg.errors.InvalidParameterValue, match="Statement 2: preference_type"),
            as_service(conn),
        ):
            conn.execute(
                "select public.worker_apply_stated_preferences(%s, %s, %s, 'rules')", (user, message, json.dumps(bad))
            )
        with (
            pytest.raises(psycopg.errors.InvalidParameterValue, match="not a message this shopper wrote"),
            as_service(conn),
        ):
            conn.execute("select public.worker_apply_stated_preferences(%s, %s, '[]', 'rules')", (stranger, message))
        assert preferences(conn, user) == {}
        assert conn.execute("select count(*) as n from private.extracted_messages").fetchone() == {"n": 0}


# -- Claude, against recorded responses -------------------------------------------------------------------------
def _response(content: list[dict[str, Any]], stop_reason: str = "tool_use") -> dict[str, Any]:
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 512, "output_tokens": 96},
    }


TOOL_USE = _response(
    [
        {
            "type": "tool_use",
            "id": "toolu_01A09q90qw90lq917835lq9",
            "name": TOOL_NAME,
            "input": {
                "statements": [
                    {
                        "action": "remember",
                        "preference_type": "allergy",
                        "preference_key": "peanuts",
                        "preference_value": "peanuts",
                        "reason": "Their son is allergic to peanuts",
                    },
                    {
                        "action": "forget",
                        "preference_type": "dietary",
                        "preference_key": "vegetarian",
                        "preference_value": None,
                        "reason": None,
                    },
                ]
            },
        }
    ]
)
REFUSAL = _response([{"type": "text", "text": ""}], stop_reason="refusal")
MALFORMED = _response(
    [
        {
            "type": "tool_use",
            "id": "toolu_01",
            "name": TOOL_NAME,
            "input": {
                "statements": [
                    {"action": "remember", "preference_type": "allergy", "preference_key": "", "mood": "cheerful"}
                ]
            },
        }
    ]
)
RATE_LIMITED = {
    "type": "error",
    "error": {
        "type": "rate_limit_error",
        "message": "Number of request tokens has exceeded your per-minute rate limit",
    },
}


class Recorded:
    """A transport replaying responses in order; each is a (status, body) pair or an exception to raise."""

    def __init__(self, *replies: tuple[int, dict[str, Any]] | Exception) -> None:
        self.replies, self.requests = list(replies), []  # type: ignore[var-annotated]

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(json.loads(request.content))
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        status, body = reply
        return httpx2.Response(status, json=body, headers={"retry-after-ms": "5", "request-id": "req_01"})


def _claude(recorded: Recorded) -> ClaudeExtractor:
    client = httpx2.Client(transport=httpx2.MockTransport(recorded))
    return ClaudeExtractor("sk-ant-test", "claude-sonnet-4-6", http_client=client, max_retries=2)


def test_claude_tool_use_is_validated_and_returned() -> None:
    recorded = Recorded((200, TOOL_USE))
    statements, source = _claude(recorded).extract("My son is allergic to peanuts, and I'm not vegetarian anymore")
    assert source == "claude"
    assert statements == [
        Statement(
            action="remember",
            preference_type="allergy",
            preference_key="peanuts",
            preference_value="peanuts",
            reason="Their son is allergic to peanuts",
        ),
        Statement(action="forget", preference_type="dietary", preference_key="vegetarian"),
    ]
    [sent] = recorded.requests
    assert sent["tool_choice"] == {"type": "tool", "name": TOOL_NAME}
    assert sent["tools"][0]["input_schema"]["additionalProperties"] is False
    assert sent["messages"] == [
        {"role": "user", "content": "My son is allergic to peanuts, and I'm not vegetarian anymore"}
    ]


@pytest.mark.parametrize("reply", [REFUSAL, MALFORMED], ids=["refusal", "malformed"])
def test_claude_refusal_or_malformed_output_falls_back_to_the_rules(reply: dict[str, Any]) -> None:
    statements, source = _claude(Recorded((200, reply))).extract("I hate cilantro")
    assert [(s.action, s.preference_key) for s in statements] == [("remember", "cilantro")]
    assert source == "rules (claude: ExtractionUnusable)"


def test_claude_rate_limit_and_timeout_are_retried() -> None:
    recorded = Recorded((429, RATE_LIMITED), httpx2.ReadTimeout("timed out"), (200, TOOL_USE))
    statements, source = _claude(recorded).extract("My son is allergic to peanuts")
    assert source == "claude" and len(statements) == 2
    assert len(recorded.requests) == 3


def test_claude_errors_that_outlast_the_retries_fall_back_to_the_rules() -> None:
    recorded = Recorded(*[(429, RATE_LIMITED)] * 3)
    statements, source = _claude(recorded).extract("I'm vegetarian")
    assert [(s.action, s.preference_key) for s in statements] == [("remember", "vegetarian")]
    assert source == "rules (claude: RateLimitError)"
    assert len(recorded.requests) == 3


def test_the_worker_uses_claude_when_configured(db: Database) -> None:
    recorded = Recorded((200, TOOL_USE))
    with db.connect() as conn:
        user = create_user(conn)
        _message(conn, user, "My son is allergic to peanuts")
        run_until_idle(Settings(), db.url(), now=lambda: NOW, extractor=_claude(recorded))
        assert preferences(conn, user)[("allergy", "peanuts")]["reason"] == "Their son is allergic to peanuts"
        assert conn.execute("select extractor from private.extracted_messages").fetchone() == {"extractor": "claude"}


def _tool_use(*statements: dict[str, Any]) -> dict[str, Any]:
    return _response(
        [
            {"type": "text", "text": "Recording the preferences stated in the message."},
            {
                "type": "tool_use",
                "id": "toolu_01D7FLrfh4GYq7yT1ULFeyMV",
                "name": TOOL_NAME,
                "input": {"statements": list(statements)},
            },
        ]
    )


def _stated(action: str, kind: str, key: str, member: str | None = None) -> dict[str, Any]:
    return {
        "action": action,
        "preference_type": kind,
        "preference_key": key,
        "preference_value": key if action == "remember" else None,
        "reason": None,
        "household_member": member,
    }


def test_claude_is_held_to_the_vocabulary() -> None:
    """The same bar as the rules: canonical keys, and no non-food, sentence-long or unknown keys."""
    reply = _tool_use(
        _stated("remember", "allergy", "Tree Nuts", "Son"),
        _stated("remember", "dislike", "olives"),
        _stated("remember", "dislike", "traffic"),
        _stated("remember", "dislike", "Sweet stuff"),
        _stated("remember", "dislike", "bacon on my pizza thanks a lot"),
        _stated("remember", "dietary", "Vegan"),
        _stated("remember", "dietary", "being healthy"),
        _stated("remember", "brand", "Great Value"),
    )
    statements, source = _claude(Recorded((200, reply))).extract("...")
    assert source == "claude"
    assert [(s.preference_type, s.preference_key, s.household_member) for s in statements] == [
        ("allergy", "tree-nuts", "son"),
        ("dislike", "olive", None),
        ("dislike", "sweets", None),
        ("dietary", "vegan", None),
        ("brand", "Great Value", None),
    ]


def test_a_claude_request_to_forget_an_allergy_waits_for_the_shopper(db: Database) -> None:
    """The safety rule applies to Claude's output as to the rules': the allergy stays, pending confirmation."""
    with db.connect() as conn:
        user = create_user(conn)
        _message(conn, user, "I'm allergic to peanuts and I hate olives")
        run_until_idle(Settings(), db.url(), now=lambda: NOW)
        _message(conn, user, "forget the peanut thing, and the olives")
        reply = _tool_use(_stated("forget", "allergy", "peanuts"), _stated("forget", "dislike", "olives"))
        run_until_idle(Settings(), db.url(), now=lambda: NOW, extractor=_claude(Recorded((200, reply))))
        prefs = preferences(conn, user)
        assert ("allergy", "peanuts") in prefs and ("dislike", "olive") not in prefs
        pending = conn.execute(
            "select pending_removal from public.customer_preferences where user_id = %s and preference_key = 'peanuts'",
            (user,),
        ).fetchone()
        assert pending is not None and pending["pending_removal"]["extractor"] == "claude"


def test_a_stated_intolerance_reaches_the_block_whatever_the_number_of_dislikes(db: Database) -> None:
    """Six dislikes, then "I can't have lactose", then five more dislikes (the block carries at most five): the
    intolerance is a dietary restriction, always carried, in the shopper's words; explained by its message,
    exported, and deletable like any memory."""
    from worker.prompt import calls
    from worker.prompt.render import render_memory_block

    foods = ["olives", "anchovies", "beets", "liver", "okra", "radishes"]
    later = ["sardines", "turnips", "tofu", "kale", "celery"]
    with db.connect() as conn:
        user = create_user(conn)
        for food in foods:
            _message(conn, user, f"I hate {food}")
        said = _message(conn, user, "I can't have lactose, it makes me bloated")
        for food in later:
            _message(conn, user, f"I really dislike {food}")
        run_until_idle(Settings(), db.url(), now=lambda: NOW)
        prefs = preferences(conn, user)
        assert sum(1 for kind, _ in prefs if kind == "dislike") == 11
        assert ("dislike", "lactose") not in prefs
        assert prefs[("dietary", "lactose-free")]["reason"] == (
            'You told us: "I can\'t have lactose, it makes me bloated"'
        )

        context = calls.memory_context(conn, user, query="what should I cook tonight")
        block = render_memory_block(context).text
        assert len(context.section("dislikes")) == 5 and context.omitted.get("dislikes") == 6
        restrictions = block.split("Dietary Restrictions:")[1].split("\n\n")[0]
        assert 'lactose-free: You told us: "I can\'t have lactose, it makes me bloated"' in restrictions

        (item,) = context.section("dietary")
        # On the page (my_memories, as the page reads it): the restriction in the shopper's own words.
        (shown,) = [m for m in calls.my_memories(conn, user) if m.memory_type == "dietary"]
        assert (shown.memory_key, shown.reason) == (
            "lactose-free",
            'You told us: "I can\'t have lactose, it makes me bloated"',
        )
        explained = calls.explain_memory(conn, user, item.id)
        assert str(said) in json.dumps(explained.evidence)
        exported = calls.export_memories(conn, user)
        assert [p["preference_key"] for p in exported.preferences if p["preference_type"] == "dietary"] == [
            "lactose-free"
        ]
        assert calls.forget_memory(conn, user, item.id).forgotten
        assert ("dietary", "lactose-free") not in preferences(conn, user)


def _insights(conn: psycopg.Connection[Any], user: Any) -> dict[tuple[str, str], dict[str, Any]]:
    rows = conn.execute(
        "select * from public.memory_insights where user_id = %s order by insight_type, insight_key", (user,)
    ).fetchall()
    return {(r["insight_type"], r["insight_key"]): r for r in rows}


def test_a_message_in_an_insight_row_out(db: Database) -> None:
    """What the shopper says of their household, goals and constraints is stored by the worker as stated insights,
    the message as evidence; other people's facts, wishes and the past store nothing; "the dog died" ends one."""
    from worker.prompt import calls

    with db.connect() as conn:
        user = create_user(conn)
        said = _message(conn, user, "I have two kids, ages 4 and 7, and a dog. I meal prep on Sundays.")
        _message(conn, user, "My sister has three cats. We used to have a rabbit. I want a parrot someday.")
        _message(conn, user, "My budget is $120 a week and I don't have an oven")
        run_until_idle(Settings(), db.url(), now=lambda: NOW)
        rows = _insights(conn, user)
        assert set(rows) == {
            ("context", "children"),
            ("context", "pet-dog"),
            ("goal", "meal-prep"),
            ("constraint", "budget"),
            ("constraint", "no-oven"),
        }
        kids = rows[("context", "children")]
        assert (kids["source"], kids["status"], kids["insight_value"]) == (
            "explicit",
            "active",
            "Two children, ages 4 and 7",
        )
        assert kids["supporting_data"]["details"] == {"count": 2, "ages": [4, 7]}
        assert kids["supporting_data"]["interaction_ids"] == [str(said)]
        assert rows[("constraint", "budget")]["supporting_data"]["details"] == {"amount": 120, "period": "week"}
        assert "children" in {item.key for item in calls.memory_context(conn, user).insights}

        _message(conn, user, "Sad news, our dog died last week")
        run_until_idle(Settings(), db.url(), now=lambda: NOW)
        dog = _insights(conn, user)[("context", "pet-dog")]
        assert dog["status"] == "ended" and dog["ended"]["message"] == "Sad news, our dog died last week"
        assert "pet-dog" not in {item.key for item in calls.memory_context(conn, user).insights}


def test_a_time_bound_goal_is_stored_with_its_end_not_as_a_diet(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        _message(conn, user, "This month I'm doing keto")
        run_until_idle(Settings(), db.url(), now=lambda: NOW)
        goal = _insights(conn, user)[("goal", "diet-goal-keto")]
        assert goal["expires_at"] is not None and goal["expires_at"] > NOW
        assert ("dietary", "keto") not in preferences(conn, user)


def test_claude_insights_are_held_to_the_rules_vocabulary() -> None:
    def insight(kind: str, key: str, value: str | None, details: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "action": "remember",
            "insight_type": kind,
            "insight_key": key,
            "insight_value": value,
            "details": details,
            "expires_at": None,
        }

    figures = {"count": 2, "ages": [4, 7], "size": None, "amount": None, "period": None}
    reply = _response(
        [
            {
                "type": "tool_use",
                "id": "toolu_01",
                "name": TOOL_NAME,
                "input": {
                    "statements": [_stated("remember", "dislike", "olives")],
                    "insights": [
                        insight("context", "Children", "Two children, ages 4 and 7", figures),
                        insight("context", "pet-dog", "Has a dog"),
                        insight("persona", "likes-jazz", "Likes jazz"),
                        insight("goal", "pet-dog", "Has a dog"),
                    ],
                },
            }
        ]
    )
    statements, source = _claude(Recorded((200, reply))).extract("...")
    assert source == "claude"
    dumped = [s.model_dump(mode="json", exclude_none=True) for s in statements]
    assert [d.get("insight_key") or d["preference_key"] for d in dumped] == ["olive", "children", "pet-dog"]
    assert dumped[1]["details"] == {"count": 2, "ages": [4, 7]}
