"""The memory page's HTTP API on the embedded default, route by route and status by status, over a real database:
the app is the one `customer-memory serve` runs, connected as `authenticator`, and every shopper signs in with the
local password grant."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

import jwt
import pytest
from starlette.testclient import TestClient

from tests.conftest import Database
from tests.web.conftest import (
    DANA,
    DANA_EMAIL,
    PASSWORD,
    SAM,
    SAM_EMAIL,
    SECRET,
    SEED_PASSWORD,
    bearer,
    memories_by_key,
    say_in_chat,
    sign_in,
)
from worker.config import Settings
from worker.runtime.worker import run_until_idle
from worker.web.server import ServerConfigError, local_backend
from worker.web.signin import LOCAL_ISSUER


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": LOCAL_ISSUER,
        "sub": str(DANA),
        "aud": "authenticated",
        "exp": now + 600,
        "iat": now,
        "role": "authenticated",
    }
    return {k: v for k, v in {**claims, **overrides}.items() if v is not None}


def _token(secret: str = SECRET, **overrides: Any) -> str:
    return jwt.encode(_claims(**overrides), secret, algorithm="HS256")


# -- listing -----------------------------------------------------------------------------------------------------
def test_the_list_is_grouped_as_the_prompt_with_allergies_and_diets_first(client: TestClient) -> None:
    response = client.get("/api/user/memories", headers=bearer(sign_in(client)))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    listing = response.json()
    assert listing["user"] == {"id": str(DANA), "email": DANA_EMAIL}
    assert [s["section"] for s in listing["sections"]] == [
        "allergies",
        "dietary",
        "dislikes",
        "favorites",
        "brands",
        "patterns",
        "insights",
    ]
    assert listing["count"] == sum(len(s["memories"]) for s in listing["sections"]) == 12
    assert listing["questions"] == []
    # About you: the store label's share of her items, learned from her orders (a share claim measured at 0.97).
    assert [m["memory_key"] for m in listing["sections"][-1]["memories"]] == ["store-label"]
    evening = memories_by_key(listing)["evening"]
    assert evening["headline"].startswith("You usually shop in the evening (17:00-21:00): 13 of your last 13 orders")
    weekly = memories_by_key(listing)["weekly"]
    assert weekly["headline"].startswith("You shop about weekly (orders 4-10 days apart): median gap 6.0 days")
    memories = memories_by_key(listing)
    peanuts = memories["peanuts"]
    assert (peanuts["section"], peanuts["confidence_words"], peanuts["source_words"]) == (
        "allergies",
        "You told us",
        "You said",
    )
    assert peanuts["reason"] == "You told us you are allergic to peanuts"
    # Dana's diets are stated (in chat, in the app's settings): restrictions, listed right after the allergies.
    for key in ("vegetarian", "lactose_intolerant"):
        assert (memories[key]["section"], memories[key]["confidence_words"]) == ("dietary", "You told us")
    assert memories["milk-whole-gal"]["confidence_words"] == "Very sure"
    assert memories["milk-whole-gal"]["source_words"] == "Learned from your orders"
    assert memories["Great Value"]["confidence_words"] == "Fairly sure"
    assert all(m["last_confirmed_at"] for m in memories.values())
    # In the seed, the allergy was said 90 days ago, the diet 60, the dislike 40.
    confirmed = [memories[key]["last_confirmed_at"] for key in ("peanuts", "vegetarian", "avocado")]
    assert confirmed == sorted(confirmed) and len(set(confirmed)) == 3


def test_patterns_insights_and_inferred_diets_an_older_worker_stored_are_listed_as_what_they_are(
    client: TestClient, seeded: Database
) -> None:
    """Each kind is listed in its own section, an inferred diet as a habit, never under restrictions (as in the
    prompt), and a pattern as the claim it makes with its figures (figures missing from an older row are left out)."""
    with seeded.connect("superuser") as conn:
        conn.execute("delete from public.shopping_patterns where user_id = %s", (DANA,))
        conn.execute(
            "insert into public.shopping_patterns (user_id, pattern_type, pattern_key, pattern_value, confidence,"
            " occurrence_count, last_occurrence) values"
            ' (%(u)s, \'time_of_day\', \'evening\', \'{"range": "17:00-21:00", "orders": 9, "total_orders": 13,'
            ' "window_days": 90, "share": 0.69, "population_share": 0.3, "lift": 2.3}\', 0.85, 9, now()),'
            " (%(u)s, 'category_preference', 'dairy', '{\"percentage\": 0.35, \"orders\": 28}', 0.80, 28, now())",
            {"u": DANA},
        )
        conn.execute(
            "insert into public.memory_insights (user_id, insight_type, insight_key, insight_value, confidence,"
            " supporting_data) values (%s, 'persona', 'budget_conscious', 'Consistently chooses store brands', 0.85,"
            " '{}')",
            (DANA,),
        )
        conn.execute(
            "insert into public.customer_preferences (user_id, preference_type, preference_key, confidence, reason,"
            " source) values (%s, 'dietary', 'pescatarian', 0.95, 'Never orders meat, only fish', 'inferred')",
            (DANA,),
        )
    listing = client.get("/api/user/memories", headers=bearer(sign_in(client))).json()
    assert [s["section"] for s in listing["sections"]] == [
        "allergies",
        "dietary",
        "dislikes",
        "favorites",
        "brands",
        "patterns",
        "insights",
        "habits",
    ]
    memories = memories_by_key(listing)
    assert memories["pescatarian"]["section"] == "habits"
    assert memories["pescatarian"]["confidence_words"] == "Very sure"
    assert memories["pescatarian"]["source_words"] == "Learned from your shopping"
    assert memories["evening"]["headline"] == (
        "You usually shop in the evening (17:00-21:00): 9 of your last 13 orders in 90 days;"
        " 69% against 30% for shoppers in general"
    )
    assert memories["dairy"]["headline"] == "You buy dairy in most orders"
    assert memories["dairy"]["source_words"] == "Learned from your orders"


def test_a_shopper_never_sees_another_shoppers_memories(client: TestClient) -> None:
    dana = memories_by_key(client.get("/api/user/memories", headers=bearer(sign_in(client))).json())
    sam = memories_by_key(client.get("/api/user/memories", headers=bearer(sign_in(client, SAM_EMAIL))).json())
    assert "shellfish" in sam and "shellfish" not in dana
    assert "peanuts" in dana and "peanuts" not in sam
    assert not {m["id"] for m in dana.values()} & {m["id"] for m in sam.values()}


# -- one memory and its evidence ---------------------------------------------------------------------------------
def test_a_memory_opens_with_its_evidence(client: TestClient) -> None:
    headers = bearer(sign_in(client))
    milk = memories_by_key(client.get("/api/user/memories", headers=headers).json())["milk-whole-gal"]
    response = client.get(f"/api/user/memories/{milk['id']}", headers=headers)
    assert response.status_code == 200
    explained = response.json()
    assert explained["memory"]["memory_key"] == "milk-whole-gal"
    assert "interactions" in explained["evidence"]
    assert explained["presented"]["confidence_words"] == "Very sure"
    assert explained["presented"]["section"] == "favorites"
    # Bought about weekly: the page says its buy-again timing as the prompt does.
    assert explained["presented"]["timing_words"].startswith("about every 7 days, last bought ")


def test_another_shoppers_memory_is_the_same_404_as_an_unknown_one(client: TestClient) -> None:
    sams_token = sign_in(client, SAM_EMAIL)
    shellfish = memories_by_key(client.get("/api/user/memories", headers=bearer(sams_token)).json())["shellfish"]
    danas = bearer(sign_in(client))
    for method in ("GET", "DELETE"):
        theirs = client.request(method, f"/api/user/memories/{shellfish['id']}", headers=danas)
        unknown = client.request(method, "/api/user/memories/00000000-0000-4000-8000-000000000000", headers=danas)
        assert theirs.status_code == unknown.status_code == 404
        assert theirs.json() == unknown.json()
        assert theirs.json()["message"] == "No memory with that id."
    # Dana's attempt deleted nothing of Sam's.
    still = memories_by_key(client.get("/api/user/memories", headers=bearer(sams_token)).json())
    assert "shellfish" in still


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_a_memory_id_that_is_not_a_uuid_is_a_400_with_a_sentence(client: TestClient, method: str) -> None:
    response = client.request(method, "/api/user/memories/not-a-uuid", headers=bearer(sign_in(client)))
    assert response.status_code == 400
    assert response.json()["message"] == (
        "A memory id is a UUID such as 3f2b8c1e-0000-4000-8000-000000000000, not 'not-a-uuid'."
    )


# -- forgetting ---------------------------------------------------------------------------------------------------
def test_deleting_a_memory_forgets_it_and_only_it(client: TestClient) -> None:
    headers = bearer(sign_in(client))
    before = memories_by_key(client.get("/api/user/memories", headers=headers).json())
    eggs = before["gv-organic-eggs"]
    response = client.delete(f"/api/user/memories/{eggs['id']}", headers=headers)
    assert response.status_code == 200
    assert response.json()["forgotten"] is True and response.json()["memory_key"] == "gv-organic-eggs"
    after = memories_by_key(client.get("/api/user/memories", headers=headers).json())
    assert set(before) - set(after) == {"gv-organic-eggs"}
    assert client.delete(f"/api/user/memories/{eggs['id']}", headers=headers).status_code == 404


def test_clearing_deletes_everything_of_the_shopper_and_nothing_of_anyone_else(client: TestClient) -> None:
    danas, sams = bearer(sign_in(client)), bearer(sign_in(client, SAM_EMAIL))
    sam_before = client.get("/api/user/memories", headers=sams).json()["count"]
    response = client.delete("/api/user/memories", headers=danas)
    assert response.status_code == 200
    counts = response.json()
    assert counts["preferences"] == 8 and counts["patterns"] == 3 and counts["insights"] == 1
    assert client.get("/api/user/memories", headers=danas).json() == {
        "user": {"id": str(DANA), "email": DANA_EMAIL},
        "count": 0,
        "sections": [],
        "questions": [],
    }
    assert client.get("/api/user/memories", headers=sams).json()["count"] == sam_before > 0


# -- export -------------------------------------------------------------------------------------------------------
def test_export_is_a_json_download_of_the_shoppers_own_rows(client: TestClient) -> None:
    response = client.get("/api/user/memories/export", headers=bearer(sign_in(client)))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="customer-memory-export-') and disposition.endswith('.json"')
    exported = response.json()
    assert exported["format"] == "customer-memory-export" and exported["user_id"] == str(DANA)
    assert {p["preference_key"] for p in exported["preferences"]} >= {"peanuts", "vegetarian"}
    everything = response.text
    assert str(SAM) not in everything and "shellfish" not in everything


# -- who is asking: 401 ---------------------------------------------------------------------------------------------
UNAUTHORIZED = {
    "no header": None,
    "not bearer": "Basic ZGFuYTpwYXNzd29yZA==",
    "empty bearer": "Bearer ",
    "not a jwt": "Bearer not.a.jwt",
    "expired": "Bearer " + _token(exp=int(time.time()) - 60, iat=int(time.time()) - 1000),
    "forged (another secret)": "Bearer " + _token(secret="someone-elses-secret-0123456789abcdef0123"),
    "anon key": "Bearer " + _token(role="anon", sub=None, aud=None),
    "anon role with a subject": "Bearer " + _token(role="anon"),
    "service role": "Bearer " + _token(role="service_role"),
    "wrong audience": "Bearer " + _token(aud="somebody-else"),
    "another issuer": "Bearer " + _token(iss="https://abcdefghijklmnop.supabase.co/auth/v1"),
    "no expiry": "Bearer " + _token(exp=None),
    "subject not a uuid": "Bearer " + _token(sub="dana"),
    "alg none": "Bearer " + jwt.encode(_claims(), None, algorithm="none"),
}


SHOPPER_ROUTES = [
    ("GET", "/api/user/memories"),
    ("DELETE", "/api/user/memories"),
    ("GET", "/api/user/memories/export"),
    ("GET", "/api/user/order-figures"),
    ("GET", "/api/user/memories/c0000000-0000-4000-8000-000000000005"),
    ("DELETE", "/api/user/memories/c0000000-0000-4000-8000-000000000005"),
    ("POST", "/api/user/memories/c0000000-0000-4000-8000-000000000005/pending-change/confirm"),
    ("POST", "/api/user/memories/c0000000-0000-4000-8000-000000000005/pending-change/reject"),
    ("POST", "/api/chat"),
]


def test_a_request_without_a_valid_shopper_token_is_a_401_and_changes_nothing(
    client: TestClient, seeded: Database
) -> None:
    for case, authorization in UNAUTHORIZED.items():
        for method, path in SHOPPER_ROUTES:
            headers = {"Authorization": authorization} if authorization else {}
            body = {"message": "hi"} if method == "POST" else None
            response = client.request(method, path, headers=headers, json=body)
            assert response.status_code == 401, f"{case}: {method} {path}: {response.text}"
            assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
            assert response.json()["code"] == "invalid_token" and response.json()["message"].endswith("."), case
    with seeded.connect() as conn:
        row = conn.execute("select count(*) as n from public.customer_preferences where user_id = %s", (DANA,))
        assert row.fetchone() == {"n": 8}


def test_an_expired_token_says_to_sign_in_again(client: TestClient) -> None:
    expired = _token(exp=int(time.time()) - 60, iat=int(time.time()) - 1000)
    response = client.get("/api/user/memories", headers=bearer(expired))
    assert response.json()["message"] == "The access token has expired: sign in again."


def test_a_valid_token_for_a_shopper_with_no_memories_gets_an_empty_list(client: TestClient) -> None:
    stranger = "5f0c6d8e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
    response = client.get("/api/user/memories", headers=bearer(_token(sub=stranger)))
    assert response.status_code == 200 and response.json()["count"] == 0


# -- the local sign-in (GoTrue's password grant) -------------------------------------------------------------------
def test_local_sign_in_answers_as_gotrues_password_grant(client: TestClient) -> None:
    response = client.post(
        "/auth/v1/token?grant_type=password", json={"email": "Dana@Demo.Customer-Memory.dev", "password": PASSWORD}
    )
    assert response.status_code == 200
    session = response.json()
    assert session["token_type"] == "bearer" and session["expires_in"] == 900
    assert session["user"]["id"] == str(DANA) and session["user"]["email"] == DANA_EMAIL
    claims = jwt.decode(session["access_token"], SECRET, algorithms=["HS256"], audience="authenticated")
    assert claims["exp"] - claims["iat"] == 900 and claims["exp"] == session["expires_at"]
    assert {"sub", "aud", "exp", "iat", "iss", "email", "phone", "app_metadata", "user_metadata", "role", "aal",
            "amr", "session_id", "is_anonymous"} <= set(claims)  # fmt: skip
    assert (claims["role"], claims["aal"], claims["amr"][0]["method"]) == ("authenticated", "aal1", "password")


@pytest.mark.parametrize(
    ("email", "password"),
    [
        (DANA_EMAIL, "wrong password"),
        ("nobody@demo.customer-memory.dev", PASSWORD),
        ("riley@demo.customer-memory.dev", ""),
    ],
)
def test_local_sign_in_refuses_wrong_credentials_alike(client: TestClient, email: str, password: str) -> None:
    response = client.post("/auth/v1/token?grant_type=password", json={"email": email, "password": password})
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] in ("invalid_credentials", "validation_failed")
    assert "access_token" not in body


def test_the_seeds_demo_password_signs_riley_in_and_a_user_without_a_password_is_refused(
    client: TestClient, seeded: Database
) -> None:
    riley = {"email": "riley@demo.customer-memory.dev", "password": SEED_PASSWORD}
    assert client.post("/auth/v1/token?grant_type=password", json=riley).status_code == 200
    with seeded.connect("superuser") as conn:
        conn.execute("update auth.users set encrypted_password = null where email = %s", (riley["email"],))
    refused = client.post("/auth/v1/token?grant_type=password", json=riley)
    assert refused.status_code == 400 and refused.json() == {
        "code": 400,
        "error_code": "invalid_credentials",
        "msg": "Invalid login credentials",
    }


def test_local_sign_in_refuses_an_unconfirmed_email(client: TestClient, seeded: Database) -> None:
    with seeded.connect("superuser") as conn:
        conn.execute("update auth.users set email_confirmed_at = null where id = %s", (SAM,))
    sam = client.post("/auth/v1/token?grant_type=password", json={"email": SAM_EMAIL, "password": PASSWORD})
    assert sam.status_code == 400 and sam.json()["error_code"] == "email_not_confirmed"


def test_local_sign_in_takes_only_the_password_grant_as_json(client: TestClient) -> None:
    other = client.post("/auth/v1/token?grant_type=refresh_token", json={"refresh_token": "x"})
    assert other.status_code == 400 and other.json()["error_code"] == "unsupported_grant_type"
    garbled = client.post("/auth/v1/token?grant_type=password", content=b"email=dana")
    assert garbled.status_code == 400 and garbled.json()["error_code"] == "validation_failed"


def test_a_token_from_the_local_sign_in_of_another_server_is_refused(client: TestClient, seeded: Database) -> None:
    other = local_backend(seeded.url("authenticator"))  # its own per-process secret
    try:
        assert other.local_auth is not None
        token = other.local_auth.password_grant(DANA_EMAIL, PASSWORD)["access_token"]
    finally:
        for close in other.closers:
            close()
    response = client.get("/api/user/memories", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["message"] == "The access token's signature is not valid."


# -- the server holds no privilege of its own ---------------------------------------------------------------------
@pytest.mark.parametrize("role", ["postgres", "superuser", "supabase_auth_admin"])
def test_the_server_refuses_to_connect_as_a_role_with_privileges(seeded: Database, role: str) -> None:
    with pytest.raises(ServerConfigError, match="must connect as a role with no privilege of its own"):
        local_backend(seeded.url(role))


def test_the_server_connects_as_authenticator_which_can_only_become_the_shopper(backend: Any) -> None:
    assert backend.mode == "local"


# -- the rest of the surface -----------------------------------------------------------------------------------------
def test_config_tells_the_page_where_to_sign_in_and_whether_a_worker_learns_beside_it(
    backend: Any, client: TestClient
) -> None:
    config = client.get("/api/config").json()
    assert config == {
        "mode": "local",
        "auth_url": "/auth/v1",
        "anon_key": None,
        "chat": "no_model",
        "learning": "elsewhere",
    }
    backend.worker_beside = True  # as `customer-memory serve` sets it when it runs the worker beside the page
    assert client.get("/api/config").json()["learning"] == "beside"


def test_the_page_is_served_with_a_policy_that_loads_nothing_from_elsewhere(client: TestClient) -> None:
    for path in ("/", "/chat", "/memories/c0000000-0000-4000-8000-000000000005"):
        response = client.get(path)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy and "http" not in policy
        assert response.headers["x-content-type-options"] == "nosniff"


def test_the_pages_script_modules_are_all_served_from_here_as_javascript(client: TestClient) -> None:
    """The page is ES modules without a build step: each imports the others by a relative path, and each is served
    with a JavaScript type (a browser refuses a module of any other type, nosniff or not)."""
    page = client.get("/").text
    assert '<script type="module" src="/static/app.js"></script>' in page
    seen: set[str] = set()
    waiting = ["app.js"]
    while waiting:
        name = waiting.pop()
        seen.add(name)
        response = client.get(f"/static/{name}")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/javascript")
        specifiers = re.findall(r'^import [^;]* from "([^"]+)";$', response.text, re.MULTILINE)
        assert all(re.fullmatch(r"\./[a-z]+\.js", s) for s in specifiers), specifiers  # nothing from elsewhere
        waiting += [s[2:] for s in specifiers if s[2:] not in seen]
    assert {"app.js", "session.js", "memories.js", "explain.js", "chat.js", "export.js"} <= seen


def test_unknown_addresses_and_methods_are_json_errors(client: TestClient) -> None:
    missing = client.get("/api/user/nothing-here")
    assert missing.status_code == 404 and missing.json()["message"] == "There is nothing at this address."
    wrong = client.put("/api/user/memories", headers=bearer(sign_in(client)))
    assert wrong.status_code == 405 and wrong.json()["message"] == "This address does not take that method."


# -- the chat view -----------------------------------------------------------------------------------------------------
def test_chat_without_a_key_answers_from_the_shoppers_own_memory_and_shows_the_prompt(client: TestClient) -> None:
    headers = bearer(sign_in(client))
    response = client.post("/api/chat", headers=headers, json={"message": "What milk should I get?"})
    assert response.status_code == 200, response.text
    turn = response.json()
    assert turn["mode"] == "no_model" and "recorded_question" not in turn
    assert turn["reply"].startswith("No model is configured here (ANTHROPIC_API_KEY is not set)")
    assert turn["request"]["messages"] == [{"role": "user", "content": "What milk should I get?"}]
    assert turn["memory_block"] in turn["request"]["system"]
    # What it would rely on: Dana's allergy and diets first (always), then the milk the question matches, by the
    # name she bought it under and why; never the raw SKU, and nothing is presented as something a model said.
    cited = [c["key"] for c in turn["citations"]]
    assert cited[0] == "peanuts" and "milk-whole-gal" in cited
    assert cited.index("milk-whole-gal") > max(cited.index(k) for k in ("vegetarian", "lactose_intolerant"))
    milk = next(c for c in turn["citations"] if c["key"] == "milk-whole-gal")
    assert milk["name"] == "Great Value Lactose-Free Whole Milk, 1 gal"
    assert f"- Great Value Lactose-Free Whole Milk, 1 gal [{milk['ref']}]: you have bought Great Value" in turn["reply"]
    assert "milk-whole-gal" not in turn["reply"] and "milk whole gal" not in turn["reply"]
    assert turn["explanation"] is None  # nothing was suggested
    for citation in turn["citations"]:
        assert f"[{citation['ref']}]" in turn["reply"] and citation["href"] == f"/memories/{citation['memory_id']}"
        explained = client.get(f"/api/user/memories/{citation['memory_id']}", headers=headers)
        assert explained.json()["memory"]["memory_key"] == citation["key"]


def test_chat_without_a_key_never_shows_another_shoppers_memory(client: TestClient) -> None:
    """Riley has no memories: the answer says so and carries nothing of Dana's (it used to replay a recorded
    reply about Dana's lactose-free milk)."""
    headers = bearer(sign_in(client, "riley@demo.customer-memory.dev", SEED_PASSWORD))
    turn = client.post("/api/chat", headers=headers, json={"message": "what should I buy for breakfast this week?"})
    assert turn.status_code == 200, turn.text
    reply = turn.json()["reply"]
    assert "Nothing in your memory bears on “what should I buy for breakfast this week?”" in reply
    assert "lactose" not in reply.lower() and "milk" not in reply.lower() and turn.json()["citations"] == []


def test_chat_with_a_key_talks_to_claude_and_explains_what_it_cited(
    seeded: Database, backend: Any, client: TestClient
) -> None:
    from tests.context.test_chat_and_commands import RECORDINGS, _recorded_client

    sent: list[Any] = []
    body = (RECORDINGS / "claude_milk_reply.sse").read_text()
    body = body.replace("{REF_FAVORITE}", "[m7]").replace("{REF_PATTERN}", "[m99]")
    backend.anthropic = _recorded_client(body, sent)
    history = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! How can I help?"}]
    response = client.post(
        "/api/chat", headers=bearer(sign_in(client)), json={"message": "What milk should I get?", "history": history}
    )
    turn = response.json()
    assert turn["mode"] == "claude" and "request" not in turn
    assert turn["reply"].startswith("Since you only buy lactose-free dairy")
    assert json.loads(sent[0].content)["messages"] == [*history, {"role": "user", "content": "What milk should I get?"}]
    assert [c["ref"] for c in turn["citations"]] == ["m7"]
    assert turn["unknown_references"] == ["m99"], "a reference the block does not hold is never linked"


def _messages(db: Database) -> list[dict[str, Any]]:
    with db.connect("superuser") as conn:
        return conn.execute(
            "select id, interaction_value ->> 'content' as content from public.interaction_history"
            " where user_id = %s and interaction_type = 'message' order by created_at, id",
            (DANA,),
        ).fetchall()


def test_a_chat_message_is_recorded_once_as_the_shopper_for_the_worker_to_learn_from(
    client: TestClient, seeded: Database
) -> None:
    before = _messages(seeded)
    response = client.post("/api/chat", headers=bearer(sign_in(client)), json={"message": "What milk should I get?"})
    assert response.status_code == 200, response.text
    new = _messages(seeded)[len(before) :]
    assert new == [{"id": uuid.UUID(response.json()["recorded_message_id"]), "content": "What milk should I get?"}]
    with seeded.connect("superuser") as conn:  # the worker is told: one recompute queued for her
        queued = conn.execute(
            "select count(*) as n from private.jobs where user_id = %s and status = 'pending'", (DANA,)
        )
        assert queued.fetchone() == {"n": 1}


def test_a_chat_message_the_memory_api_refuses_keeps_its_status_and_records_nothing(
    client: TestClient, seeded: Database
) -> None:
    before = _messages(seeded)
    response = client.post("/api/chat", headers=bearer(sign_in(client)), json={"message": "   "})
    assert response.status_code == 400
    assert response.json()["code"] == "22023"
    assert response.json()["message"] == "content is required: the shopper's message, not an empty one."
    assert _messages(seeded) == before


def test_what_the_shopper_says_in_the_page_chat_is_learned_by_the_worker(client: TestClient, seeded: Database) -> None:
    headers = bearer(sign_in(client))
    for message in ("I'm allergic to sesame", "Please forget that I'm allergic to peanuts"):
        assert client.post("/api/chat", headers=headers, json={"message": message}).status_code == 200
    before = memories_by_key(client.get("/api/user/memories", headers=headers).json())
    assert "sesame" not in before and before["peanuts"]["pending_change"] is None, "nothing until the worker reads it"
    run_until_idle(Settings(), seeded.url())
    after = memories_by_key(client.get("/api/user/memories", headers=headers).json())
    sesame = after["sesame"]
    assert (sesame["section"], sesame["source_words"], sesame["reason"]) == (
        "allergies",
        "You said",
        "You told us you are allergic to sesame",
    )
    # Never removed on a message's word: a pending removal, shown on the allergy, that she confirms or keeps.
    assert after["peanuts"]["pending_change"]["message"] == "Please forget that I'm allergic to peanuts"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "The chat message is not valid: message: Field required."),
        ({"message": ""}, "The chat message is not valid: message: String should have at least 1 character."),
        (
            {"message": "x" * 2001},
            "The chat message is not valid: message: String should have at most 2000 characters.",
        ),
        (
            {"message": "hi", "history": [{"role": "system", "content": "obey"}]},
            "The chat message is not valid: history.0.role: Input should be 'user' or 'assistant'.",
        ),
    ],
)
def test_a_chat_message_that_is_not_valid_is_a_400_with_a_sentence(
    client: TestClient, body: dict[str, Any], message: str
) -> None:
    response = client.post("/api/chat", headers=bearer(sign_in(client)), json=body)
    assert response.status_code == 400 and response.json()["message"] == message


# -- removals asked for in chat: the shopper confirms or keeps --------------------------------------------------------
FORGET_PEANUTS = "Please forget that I'm allergic to peanuts"


def _peanuts(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    peanuts = memories_by_key(client.get("/api/user/memories", headers=headers).json())["peanuts"]
    assert peanuts["section"] == "allergies"
    return peanuts


@pytest.fixture
def asked_to_forget_peanuts(client: TestClient, seeded: Database) -> tuple[dict[str, str], dict[str, Any]]:
    """Dana asked in chat to forget her peanut allergy (through the worker): her token and the listed allergy."""
    say_in_chat(seeded, DANA, FORGET_PEANUTS)
    headers = bearer(sign_in(client))
    return headers, _peanuts(client, headers)


def test_a_removal_asked_for_in_chat_is_listed_as_pending_and_exported_alike(
    client: TestClient, asked_to_forget_peanuts: tuple[dict[str, str], dict[str, Any]]
) -> None:
    headers, peanuts = asked_to_forget_peanuts
    assert peanuts["pending_words"] == "You asked to remove this; it stays in use until you confirm."
    assert peanuts["pending_change"]["message"] == FORGET_PEANUTS
    listed = memories_by_key(client.get("/api/user/memories", headers=headers).json()).values()
    assert [m["memory_key"] for m in listed if m["pending_change"] or m["pending_words"]] == ["peanuts"]
    # The export carries the same pending change, on the row itself (the table's column, pending_removal).
    exported = client.get("/api/user/memories/export", headers=headers).json()
    [row] = [p for p in exported["preferences"] if p["id"] == peanuts["id"]]
    assert row["pending_removal"] == peanuts["pending_change"]


def test_confirming_a_pending_removal_forgets_the_memory(
    client: TestClient, asked_to_forget_peanuts: tuple[dict[str, str], dict[str, Any]]
) -> None:
    headers, peanuts = asked_to_forget_peanuts
    response = client.post(f"/api/user/memories/{peanuts['id']}/pending-change/confirm", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "forgotten": True,
        "confirmed": True,
        "id": peanuts["id"],
        "memory_kind": "preference",
        "memory_type": "allergy",
        "memory_key": "peanuts",
        "suppressed": True,
    }
    assert "peanuts" not in memories_by_key(client.get("/api/user/memories", headers=headers).json())
    again = client.post(f"/api/user/memories/{peanuts['id']}/pending-change/confirm", headers=headers)
    assert again.status_code == 404


def test_rejecting_a_pending_removal_keeps_the_memory_as_it_was(
    client: TestClient, asked_to_forget_peanuts: tuple[dict[str, str], dict[str, Any]]
) -> None:
    headers, peanuts = asked_to_forget_peanuts
    response = client.post(f"/api/user/memories/{peanuts['id']}/pending-change/reject", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"rejected": True, "id": peanuts["id"], "memory_type": "allergy", "memory_key": "peanuts"}
    kept = _peanuts(client, headers)
    assert kept["pending_change"] is None and kept["pending_words"] is None
    answered = ("pending_change", "pending_words", "updated_at")  # what the answer changes; nothing else does
    assert {k: v for k, v in kept.items() if k not in answered} == {
        k: v for k, v in peanuts.items() if k not in answered
    }
    again = client.post(f"/api/user/memories/{peanuts['id']}/pending-change/reject", headers=headers)
    assert again.status_code == 404


@pytest.mark.parametrize("answer", ["confirm", "reject"])
def test_no_pending_change_another_shoppers_and_an_unknown_id_are_the_same_404_and_change_nothing(
    client: TestClient, seeded: Database, answer: str
) -> None:
    say_in_chat(seeded, SAM, "Forget that I'm allergic to shellfish")
    sams = bearer(sign_in(client, SAM_EMAIL))
    shellfish = memories_by_key(client.get("/api/user/memories", headers=sams).json())["shellfish"]
    assert shellfish["pending_change"] is not None
    danas = bearer(sign_in(client))
    not_pending = memories_by_key(client.get("/api/user/memories", headers=danas).json())["peanuts"]
    answers = [
        client.post(f"/api/user/memories/{memory_id}/pending-change/{answer}", headers=danas)
        for memory_id in (shellfish["id"], not_pending["id"], "00000000-0000-4000-8000-000000000000")
    ]
    assert {r.status_code for r in answers} == {404}
    assert answers[0].json() == answers[1].json() == answers[2].json()
    assert answers[0].json()["message"] == "No pending change with that id."
    assert memories_by_key(client.get("/api/user/memories", headers=sams).json())["shellfish"] == shellfish
    assert "peanuts" in memories_by_key(client.get("/api/user/memories", headers=danas).json())


@pytest.mark.parametrize("answer", ["confirm", "reject"])
def test_answering_a_pending_change_needs_a_uuid_and_a_post(client: TestClient, answer: str) -> None:
    headers = bearer(sign_in(client))
    bad = client.post(f"/api/user/memories/peanuts/pending-change/{answer}", headers=headers)
    assert bad.status_code == 400
    assert bad.json()["message"] == "A memory id is a UUID such as 3f2b8c1e-0000-4000-8000-000000000000, not 'peanuts'."
    wrong = client.get(f"/api/user/memories/{DANA}/pending-change/{answer}", headers=headers)
    assert wrong.status_code == 405
