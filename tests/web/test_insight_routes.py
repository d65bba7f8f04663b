"""The page's routes for insights: questions listed apart (not counted as remembered), answered Yes or No by their
shopper only; an ended insight listed with what ended it, out of use."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from tests.conftest import Database
from tests.web.conftest import DANA, SAM_EMAIL, bearer, memories_by_key, sign_in

QUESTION_ID = "00000000-0000-4000-8000-0000000000c1"


def _ask_dana(seeded: Database) -> None:
    with seeded.connect() as conn:
        conn.execute(
            "insert into public.memory_insights (id, user_id, insight_type, insight_key, insight_value, confidence,"
            " supporting_data, source, status) values (%s, %s, 'context', 'children', 'Shopping for young children',"
            " 0.63, %s, 'inferred', 'question')",
            (
                QUESTION_ID,
                DANA,
                json.dumps({"question": "Are you shopping for young children?", "because": "We noticed baby food"}),
            ),
        )


def test_a_question_is_asked_apart_and_answered_by_its_shopper_only(client: TestClient, seeded: Database) -> None:
    _ask_dana(seeded)
    danas, sams = bearer(sign_in(client)), bearer(sign_in(client, SAM_EMAIL))
    listing = client.get("/api/user/memories", headers=danas).json()
    assert [(q["id"], q["question"], q["because"]) for q in listing["questions"]] == [
        (QUESTION_ID, "Are you shopping for young children?", "We noticed baby food")
    ]
    assert "children" not in memories_by_key(listing)
    assert listing["count"] == sum(len(s["memories"]) for s in listing["sections"])
    # Sam cannot answer it (the same 404 as an unknown id), nor can a request without a token.
    assert client.post(f"/api/user/memories/{QUESTION_ID}/answer/yes", headers=sams).status_code == 404
    assert client.post(f"/api/user/memories/{QUESTION_ID}/answer/yes").status_code == 401
    assert client.post("/api/user/memories/not-a-uuid/answer/no", headers=danas).status_code == 400
    answered = client.post(f"/api/user/memories/{QUESTION_ID}/answer/yes", headers=danas)
    assert answered.status_code == 200 and answered.json()["status"] == "active"
    listing = client.get("/api/user/memories", headers=danas).json()
    assert listing["questions"] == []
    children = memories_by_key(listing)["children"]
    assert (children["section"], children["source_words"], children["confidence_words"]) == (
        "insights",
        "You confirmed",
        "You confirmed",
    )
    assert client.post(f"/api/user/memories/{QUESTION_ID}/answer/no", headers=danas).status_code == 404


def test_no_dismisses_a_question(client: TestClient, seeded: Database) -> None:
    _ask_dana(seeded)
    danas = bearer(sign_in(client))
    answered = client.post(f"/api/user/memories/{QUESTION_ID}/answer/no", headers=danas)
    assert answered.status_code == 200 and answered.json()["status"] == "dismissed"
    listing = client.get("/api/user/memories", headers=danas).json()
    assert listing["questions"] == [] and "children" not in memories_by_key(listing)


def test_an_ended_insight_is_listed_with_what_ended_it(client: TestClient, seeded: Database) -> None:
    with seeded.connect() as conn:
        conn.execute(
            "insert into public.memory_insights (user_id, insight_type, insight_key, insight_value, confidence,"
            " source, status, ended) values (%s, 'context', 'pet-dog', 'Has a dog', 1, 'explicit', 'ended',"
            ' \'{"message": "our dog died last week"}\')',
            (DANA,),
        )
    dog = memories_by_key(client.get("/api/user/memories", headers=bearer(sign_in(client))).json())["pet-dog"]
    assert dog["status"] == "ended" and dog["reason"] == 'You told us this no longer holds: "our dog died last week"'
    assert dog["ended_words"].startswith("No longer true")
