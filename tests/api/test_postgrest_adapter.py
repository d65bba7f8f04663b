"""The PostgREST adapter, checked on the HTTP requests it sends and on how it reads PostgREST's answers.

PostgREST cannot run here (no Docker engine, no PostgREST binary in any registry we reach; docs/security.md,
the Supabase stand-in), so these tests put an httpx.MockTransport under supabase-py and check the contract instead: the
request (POST /rest/v1/rpc/<name>, the apikey header, the caller's JWT as the bearer, the named arguments as a
JSON object) and PostgREST's error bodies {code, message, details, hint} mapped to the project's exceptions
with the HTTP status PostgREST gives them. That the functions exist with these argument names and grants is
checked on the database by test_contract.py; that they behave is checked end to end by the direct adapter's
tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from uuid import UUID, uuid4

import httpx
import pytest

from worker.client import (
    CartItem,
    Conflict,
    Event,
    Identity,
    InvalidInput,
    MemoryApiError,
    MemoryClient,
    NotAuthorized,
    NotFound,
    ServiceUnavailable,
)
from worker.client.postgrest_adapter import PostgrestAdapter

URL = "https://abcdefghijklmnop.supabase.co"
ANON_KEY = "sb_publishable_test_key"
SHOPPER_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzaG9wcGVyIn0.c2lnbmF0dXJl"  # never verified here
SHOPPER = UUID("5f0c6d8e-1a2b-4c3d-8e9f-0a1b2c3d4e5f")

Handler = Callable[[httpx.Request], httpx.Response]


def _adapter(handler: Handler) -> PostgrestAdapter:
    return PostgrestAdapter(URL, ANON_KEY, http_client=httpx.Client(transport=httpx.MockTransport(handler)))


def _recording(response: httpx.Response, sent: list[httpx.Request]) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        request.read()
        sent.append(request)
        return response

    return handle


def test_record_cart_add_is_a_post_to_the_rpc_path_with_the_shoppers_jwt() -> None:
    sent: list[httpx.Request] = []
    event_id = uuid4()
    memory = MemoryClient(
        _adapter(_recording(httpx.Response(200, json=str(event_id)), sent)),
        Identity.shopper(SHOPPER, SHOPPER_JWT),
    )
    session = uuid4()
    assert memory.record_cart_add(CartItem(sku="milk-1", price=3.49, quantity=2), session_id=session) == event_id
    [request] = sent
    assert request.method == "POST"
    assert request.url.path == "/rest/v1/rpc/record_cart_add"
    assert request.url.host == "abcdefghijklmnop.supabase.co"
    assert request.headers["apikey"] == ANON_KEY
    assert request.headers["authorization"] == f"Bearer {SHOPPER_JWT}"
    assert request.headers["content-type"].startswith("application/json")
    assert json.loads(request.content) == {
        "item": {"sku": "milk-1", "price": 3.49, "quantity": 2},
        "session_id": str(session),
    }


def test_a_batch_sends_the_events_as_one_named_argument_and_returns_the_count() -> None:
    sent: list[httpx.Request] = []
    memory = MemoryClient(
        _adapter(_recording(httpx.Response(200, json=2), sent)), Identity.shopper(SHOPPER, SHOPPER_JWT)
    )
    events = [Event(interaction_type="search", interaction_key="oat milk"), Event.cart_add(CartItem(sku="m"))]
    assert memory.record_interactions(events) == 2
    assert sent[0].url.path == "/rest/v1/rpc/record_interactions"
    assert json.loads(sent[0].content) == {
        "events": [
            {"interaction_type": "search", "interaction_key": "oat milk"},
            {"interaction_type": "cart_add", "interaction_value": {"sku": "m"}},
        ]
    }


def test_optional_arguments_left_unset_are_not_sent() -> None:
    sent: list[httpx.Request] = []
    memory = MemoryClient(
        _adapter(_recording(httpx.Response(200, json=str(uuid4())), sent)),
        Identity.shopper(SHOPPER, SHOPPER_JWT),
    )
    memory.remember_preference("allergy", "peanuts")
    assert sent[0].url.path == "/rest/v1/rpc/remember_preference"
    assert json.loads(sent[0].content) == {"preference_type": "allergy", "preference_key": "peanuts"}


def test_an_anonymous_call_carries_the_anon_key_as_bearer() -> None:
    sent: list[httpx.Request] = []
    adapter = _adapter(_recording(httpx.Response(200, json=str(uuid4())), sent))
    MemoryClient(adapter, Identity.anonymous()).record_message("hello")
    assert sent[0].headers["authorization"] == f"Bearer {ANON_KEY}"


def test_each_caller_gets_their_own_bearer_from_one_adapter() -> None:
    sent: list[httpx.Request] = []
    adapter = _adapter(_recording(httpx.Response(200, json=str(uuid4())), sent))
    MemoryClient(adapter, Identity.shopper(SHOPPER, "jwt-of-alice")).record_message("hi")
    MemoryClient(adapter, Identity.shopper(uuid4(), "jwt-of-bob")).record_message("hi")
    MemoryClient(adapter, Identity.shopper(SHOPPER, "jwt-of-alice")).record_message("hi")
    assert [r.headers["authorization"] for r in sent] == [
        "Bearer jwt-of-alice",
        "Bearer jwt-of-bob",
        "Bearer jwt-of-alice",
    ]


def test_a_shopper_without_a_jwt_cannot_call_postgrest() -> None:
    adapter = _adapter(_recording(httpx.Response(200, json=None), []))
    with pytest.raises(ValueError, match="needs that caller's access token"):
        MemoryClient(adapter, Identity.shopper(SHOPPER)).record_message("hello")


def _body(code: str, message: str, hint: str | None = None) -> dict[str, str | None]:
    return {"code": code, "message": message, "details": None, "hint": hint}


AS_SHOPPER = Identity.shopper(SHOPPER, SHOPPER_JWT)
# What PostgREST answers (HTTP status, JSON body) -> the exception the client raises, and its status.
ERROR_CASES = {
    "22023": (AS_SHOPPER, 400, _body("22023", "item.sku is required."), InvalidInput, 400),
    "P0001": (AS_SHOPPER, 400, _body("P0001", "raised without a code"), InvalidInput, 400),
    "42501-anon": (Identity.anonymous(), 401, _body("42501", "permission denied"), NotAuthorized, 401),
    "42501-shopper": (AS_SHOPPER, 403, _body("42501", "f needs a signed-in shopper."), NotAuthorized, 403),
    "PGRST301": (AS_SHOPPER, 401, _body("PGRST301", "JWT expired"), NotAuthorized, 401),
    "23505": (AS_SHOPPER, 409, _body("23505", "order A-1 was already recorded."), Conflict, 409),
    "PGRST202": (AS_SHOPPER, 404, _body("PGRST202", "Could not find the function"), NotFound, 404),
    "PT402": (AS_SHOPPER, 402, _body("PT402", "Payment required"), InvalidInput, 402),
    "57P01": (AS_SHOPPER, 503, _body("57P01", "terminating connection"), ServiceUnavailable, 503),
    "XX000": (AS_SHOPPER, 500, _body("XX000", "internal error"), MemoryApiError, 500),
}


@pytest.mark.parametrize(
    ("identity", "status", "body", "expected", "expected_status"),
    ERROR_CASES.values(),
    ids=ERROR_CASES.keys(),
)
def test_postgrest_error_bodies_become_the_projects_exceptions(
    identity: Identity,
    status: int,
    body: dict[str, str | None],
    expected: type[MemoryApiError],
    expected_status: int,
) -> None:
    adapter = _adapter(lambda _: httpx.Response(status, json=body))
    with pytest.raises(expected) as caught:
        MemoryClient(adapter, identity).record_message("hello")
    assert type(caught.value) is expected
    assert (caught.value.status, caught.value.code, caught.value.message) == (
        expected_status,
        body["code"],
        body["message"],
    )


def test_a_gateway_error_without_a_json_body_is_service_unavailable() -> None:
    adapter = _adapter(lambda _: httpx.Response(503, text="upstream connect error"))
    with pytest.raises(ServiceUnavailable):
        MemoryClient(adapter, Identity.shopper(SHOPPER, SHOPPER_JWT)).record_message("hello")


def test_an_unreachable_postgrest_is_service_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(ServiceUnavailable, match="PostgREST could not be reached"):
        MemoryClient(_adapter(refuse), Identity.shopper(SHOPPER, SHOPPER_JWT)).record_message("hello")


def test_my_memories_is_a_get_of_the_view_with_the_shoppers_jwt_read_into_the_generated_rows() -> None:
    sent: list[httpx.Request] = []
    row = {
        "id": str(uuid4()),
        "memory_kind": "preference",
        "memory_type": "allergy",
        "memory_key": "peanuts",
        "summary": "peanuts",
        "confidence": 1.0,
        "source": "explicit",
        "reason": "You told us",
        "evidence_count": 1,
        "details": None,
        "created_at": "2026-11-28T10:00:00+00:00",
        "updated_at": "2026-11-28T10:00:00+00:00",
        "expires_at": None,
        "last_confirmed_at": "2026-11-20T10:00:00+00:00",
        "pending_change": None,
        "status": "active",
    }
    memory = MemoryClient(
        _adapter(_recording(httpx.Response(200, json=[row]), sent)), Identity.shopper(SHOPPER, SHOPPER_JWT)
    )
    [memory_row] = memory.my_memories()
    assert (memory_row.memory_key, memory_row.confidence, str(memory_row.id)) == ("peanuts", 1.0, row["id"])
    [request] = sent
    assert (request.method, request.url.path, request.url.params.get("select")) == ("GET", "/rest/v1/my_memories", "*")
    assert request.headers["authorization"] == f"Bearer {SHOPPER_JWT}"
