"""The memory page's server configured for a Supabase project: tokens verified as Supabase Auth (GoTrue) issues
them, calls forwarded to PostgREST with the shopper's own token, PostgREST's statuses kept, the local sign-in off.

GoTrue and PostgREST cannot run here (no Docker engine, no binaries in any registry we reach). So their side is
played by an httpx transport that answers as they do, and these tests check our side of each contract: the
tokens are signed with the keys and carry the claims GoTrue's `AccessTokenClaims` has (HS256 with the legacy
project secret; ES256 and RS256 keys published as a JWKS at /auth/v1/.well-known/jwks.json, each with its kid),
the requests to PostgREST are the ones supabase-py sends (path, apikey, the shopper's bearer, the named
arguments), and PostgREST's error bodies {code, message, details, hint} come back with the status PostgREST
gave them. The same routes against the real SQL functions are tested in test_routes.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, get_args

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from starlette.testclient import TestClient

from worker.client.postgrest_adapter import PostgrestAdapter
from worker.client.responses import ExportSection
from worker.config import Settings
from worker.web.app import Backend, create_app
from worker.web.server import supabase_backend
from worker.web.signin import LOCAL_ISSUER
from worker.web.tokens import JWKS_PATH, InvalidToken, JwksKeys, TokenVerifier

PROJECT = "https://abcdefghijklmnop.supabase.co"
ISSUER = f"{PROJECT}/auth/v1"
ANON_KEY = "sb_publishable_test_key"
LEGACY_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"
SHOPPER = uuid.UUID("5f0c6d8e-1a2b-4c3d-8e9f-0a1b2c3d4e5f")
MEMORY = "c0000000-0000-4000-8000-000000000005"

EC_KEY = ec.generate_private_key(ec.SECP256R1())
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_EC_KEY = ec.generate_private_key(ec.SECP256R1())


def _jwk(private_key: Any, algorithm: str, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = jwt.get_algorithm_by_name(algorithm).to_jwk(private_key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "alg": algorithm, "use": "sig", "key_ops": ["verify"]}


JWKS = {"keys": [_jwk(EC_KEY, "ES256", "ec-key-1"), _jwk(RSA_KEY, "RS256", "rsa-key-1")]}


def gotrue_token(key: Any = EC_KEY, algorithm: str = "ES256", kid: str | None = "ec-key-1", **overrides: Any) -> str:
    """An access token as GoTrue signs one for a password sign-in (internal/tokens/service.go AccessTokenClaims)."""
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": str(SHOPPER),
        "aud": "authenticated",
        "exp": now + 3600,
        "iat": now,
        "email": "shopper@example.test",
        "phone": "",
        "app_metadata": {"provider": "email", "providers": ["email"]},
        "user_metadata": {},
        "role": "authenticated",
        "aal": "aal1",
        "amr": [{"method": "password", "timestamp": now}],
        "session_id": str(uuid.uuid4()),
        "is_anonymous": False,
        **overrides,
    }
    headers = {"kid": kid} if kid else None
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, algorithm=algorithm, headers=headers)


class Supabase:
    """GoTrue's JWKS and PostgREST, as an httpx transport: records each request and answers with `answer`."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.answer: Callable[[httpx.Request], httpx.Response] = lambda request: httpx.Response(200, json=[])

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if request.url.path == JWKS_PATH:
            return httpx.Response(200, json=JWKS)
        return self.answer(request)

    def to_postgrest(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.startswith("/rest/v1/")]


@pytest.fixture
def supabase() -> Supabase:
    return Supabase()


@pytest.fixture
def client(supabase: Supabase) -> Iterator[TestClient]:
    http = httpx.Client(transport=httpx.MockTransport(supabase.handle))
    backend = Backend(
        functions=PostgrestAdapter(PROJECT, ANON_KEY, http_client=http),
        verifier=TokenVerifier(ISSUER, secret=LEGACY_SECRET, jwks=JwksKeys(f"{PROJECT}{JWKS_PATH}", http)),
        auth_url=ISSUER,
        anon_key=ANON_KEY,
    )
    with TestClient(create_app(backend)) as test_client:
        yield test_client


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


MY_MEMORIES_ROW = {
    "id": MEMORY,
    "memory_kind": "preference",
    "memory_type": "allergy",
    "memory_key": "peanuts",
    "summary": "peanuts",
    "confidence": 1.0,
    "source": "explicit",
    "reason": 'User said "allergic to peanuts"',
    "evidence_count": 1,
    "details": None,
    "created_at": "2026-08-30T10:00:00+00:00",
    "updated_at": "2026-08-30T10:00:00+00:00",
    "expires_at": None,
    "last_confirmed_at": "2026-08-30T10:00:00+00:00",
    "pending_change": None,
    "status": "active",
}


# What each function answers (its documented shape), for the routes to pass on.
ANSWERS: dict[str, Any] = {
    "explain_memory": {"memory": {"id": MEMORY, "memory_kind": "interaction"}, "evidence": {}},
    "forget_memory": {
        "forgotten": True,
        "id": MEMORY,
        "memory_kind": "preference",
        "memory_type": "allergy",
        "memory_key": "peanuts",
        "suppressed": True,
    },
    "clear_memories": dict.fromkeys(get_args(ExportSection), 0),  # a count per section it cleared
    "my_order_figures": {
        "window_days": 90,
        "since": "2026-09-06T10:00:00Z",
        "orders": 1,
        "by_hour": [0] * 18 + [1] + [0] * 5,
        "by_weekday": [0, 0, 1, 0, 0, 0, 0],
        "categories": [{"category": "dairy", "orders": 1}],
    },
    "reject_pending_change": {"rejected": True, "id": MEMORY, "memory_type": "allergy", "memory_key": "peanuts"},
}
ANSWERS["confirm_pending_change"] = {**ANSWERS["forget_memory"], "confirmed": True}


# -- the shopper's token goes to PostgREST ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "token",
    [
        gotrue_token(),
        gotrue_token(RSA_KEY, "RS256", "rsa-key-1"),
        gotrue_token(LEGACY_SECRET, "HS256", None),
    ],
    ids=["ES256 signing key", "RS256 signing key", "legacy HS256 secret"],
)
def test_memories_are_read_from_postgrest_with_the_shoppers_own_token(
    client: TestClient, supabase: Supabase, token: str
) -> None:
    supabase.answer = lambda request: httpx.Response(200, json=[MY_MEMORIES_ROW])
    response = client.get("/api/user/memories", headers=_bearer(token))
    assert response.status_code == 200, response.text
    assert response.json()["sections"][0]["memories"][0]["confidence_words"] == "You told us"
    [sent] = supabase.to_postgrest()
    assert sent.method == "GET" and sent.url.path == "/rest/v1/my_memories"
    assert sent.url.params["select"] == "*"
    assert sent.headers["authorization"] == f"Bearer {token}"
    assert sent.headers["apikey"] == ANON_KEY


@pytest.mark.parametrize(
    ("method", "path", "function", "body"),
    [
        ("GET", f"/api/user/memories/{MEMORY}", "explain_memory", {"memory_id": MEMORY}),
        ("DELETE", f"/api/user/memories/{MEMORY}", "forget_memory", {"memory_id": MEMORY}),
        ("DELETE", "/api/user/memories", "clear_memories", {}),
        ("GET", "/api/user/order-figures", "my_order_figures", {}),
        *[
            (
                "POST",
                f"/api/user/memories/{MEMORY}/pending-change/{answer}",
                f"{answer}_pending_change",
                {"memory_id": MEMORY},
            )
            for answer in ("confirm", "reject")
        ],
    ],
)
def test_each_route_calls_its_function_as_an_rpc(
    client: TestClient, supabase: Supabase, method: str, path: str, function: str, body: dict[str, Any]
) -> None:
    supabase.answer = lambda request: httpx.Response(200, json=ANSWERS[function])
    token = gotrue_token()
    response = client.request(method, path, headers=_bearer(token))
    assert response.status_code == 200, response.text
    if function != "explain_memory":  # it adds the words the page shows
        assert response.json() == ANSWERS[function], "the function's answer is passed on as it came"
    [sent] = supabase.to_postgrest()
    assert (sent.method, sent.url.path) == ("POST", f"/rest/v1/rpc/{function}")
    assert json.loads(sent.content or b"{}") == body
    assert sent.headers["authorization"] == f"Bearer {token}"


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (404, "PT404", "No memory with that id."),
        (400, "22023", "memory_id is required: pass the id of one of your memories (see my_memories)."),
        (403, "42501", "permission denied for function explain_memory"),
        (409, "23505", "duplicate key value violates unique constraint"),
        (503, "PGRST000", "Could not connect with the database due to an incorrect db-uri."),
        (401, "PGRST301", "JWSError JWSInvalidSignature"),
    ],
)  # fmt: skip
def test_postgrest_errors_keep_their_status_and_body(
    client: TestClient, supabase: Supabase, status: int, code: str, message: str
) -> None:
    error = {"code": code, "message": message, "details": None, "hint": "List your memories with my_memories."}
    supabase.answer = lambda request: httpx.Response(status, json=error)
    response = client.get(f"/api/user/memories/{MEMORY}", headers=_bearer(gotrue_token()))
    assert response.status_code == status
    assert response.json() == error


def test_a_chat_message_is_recorded_through_postgrest_with_the_shoppers_token_before_the_memory_is_read(
    client: TestClient, supabase: Supabase
) -> None:
    recorded = "a0000000-0000-4000-8000-00000000c4a7"
    answers = {
        "/rest/v1/rpc/record_message": recorded,
        "/rest/v1/rpc/memory_context": {"generated_at": "2026-12-05T10:00:00Z", "min_confidence": 0.7},
    }
    supabase.answer = lambda request: httpx.Response(200, json=answers[request.url.path])
    token = gotrue_token()
    response = client.post("/api/chat", headers=_bearer(token), json={"message": "I'm allergic to sesame"})
    assert response.status_code == 200, response.text
    assert response.json()["recorded_message_id"] == recorded
    record, context = supabase.to_postgrest()
    assert (record.method, record.url.path) == ("POST", "/rest/v1/rpc/record_message")
    assert json.loads(record.content)["content"] == "I'm allergic to sesame"
    assert context.url.path == "/rest/v1/rpc/memory_context"
    assert {r.headers["authorization"] for r in (record, context)} == {f"Bearer {token}"}


@pytest.mark.parametrize(("status", "code"), [(400, "22023"), (503, "PGRST000")])
def test_a_chat_message_postgrest_refuses_keeps_its_status_and_nothing_else_is_asked(
    client: TestClient, supabase: Supabase, status: int, code: str
) -> None:
    error = {"code": code, "message": "It could not be recorded.", "details": None, "hint": None}
    supabase.answer = lambda request: httpx.Response(status, json=error)
    response = client.post("/api/chat", headers=_bearer(gotrue_token()), json={"message": "I'm allergic to sesame"})
    assert response.status_code == status and response.json() == error
    assert [r.url.path for r in supabase.to_postgrest()] == ["/rest/v1/rpc/record_message"]


EXPORT_SECTIONS = ("preferences", "patterns", "insights", "interactions", "archived_interactions", "suppressions",
                   "precomputed_contexts")  # fmt: skip


def _export_page(request: httpx.Request) -> httpx.Response:
    """export_memories_page as PostgREST answers it: one section per page, two pages of interactions."""
    after = json.loads(request.content).get("after")
    at = json.loads(after) if after else {"section": "preferences", "position": []}
    section, second = at["section"], at["position"] == ["page-2"]
    rows = [{"section": section, "page": 2 if second else 1}] if section != "suppressions" else []
    if section == "interactions" and not second:
        following: dict[str, Any] | None = {"section": section, "position": ["page-2"]}
    elif section != EXPORT_SECTIONS[-1]:
        following = {"section": EXPORT_SECTIONS[EXPORT_SECTIONS.index(section) + 1], "position": []}
    else:
        following = None
    page = {"format": "customer-memory-export-page", "version": 1, "user_id": str(SHOPPER), "section": section,
            "rows": rows, "next": json.dumps(following) if following else None}  # fmt: skip
    return httpx.Response(200, json=page)


def test_the_export_pages_through_postgrest_with_the_shoppers_token(client: TestClient, supabase: Supabase) -> None:
    supabase.answer = _export_page
    token = gotrue_token()
    response = client.get("/api/user/memories/export", headers=_bearer(token))
    assert response.status_code == 200, response.text
    document = response.json()
    assert [k for k in document if k not in EXPORT_SECTIONS] == ["format", "version", "exported_at", "user_id"]
    assert document["interactions"] == [{"section": "interactions", "page": 1}, {"section": "interactions", "page": 2}]
    assert document["suppressions"] == [] and document["precomputed_contexts"][0]["section"] == "precomputed_contexts"
    sent = supabase.to_postgrest()
    assert [r.url.path for r in sent] == ["/rest/v1/rpc/export_memories_page"] * 8
    assert all(r.headers["authorization"] == f"Bearer {token}" for r in sent)
    assert json.loads(sent[0].content) == {"max_rows": 10000}, "the first page: no cursor"
    assert json.loads(sent[4].content)["after"] == json.dumps({"section": "interactions", "position": ["page-2"]})


def test_an_export_postgrest_refuses_at_once_keeps_its_status(client: TestClient, supabase: Supabase) -> None:
    error = {"code": "PGRST000", "message": "Could not connect with the database.", "details": None, "hint": None}
    supabase.answer = lambda request: httpx.Response(503, json=error)
    response = client.get("/api/user/memories/export", headers=_bearer(gotrue_token()))
    assert (response.status_code, response.json()) == (503, error)


@pytest.mark.parametrize("answer", ["confirm", "reject"])
@pytest.mark.parametrize(("status", "code"), [(404, "PT404"), (403, "42501"), (503, "PGRST000")])
def test_answering_a_pending_change_keeps_postgrests_status(
    client: TestClient, supabase: Supabase, answer: str, status: int, code: str
) -> None:
    error = {"code": code, "message": "No pending change with that id.", "details": None, "hint": None}
    supabase.answer = lambda request: httpx.Response(status, json=error)
    response = client.post(f"/api/user/memories/{MEMORY}/pending-change/{answer}", headers=_bearer(gotrue_token()))
    assert (response.status_code, response.json()) == (status, error)
    [sent] = supabase.to_postgrest()
    assert sent.url.path == f"/rest/v1/rpc/{answer}_pending_change"


# -- tokens that are not a signed-in shopper's ---------------------------------------------------------------------
NOT_A_SHOPPER = "Sign in first: this is not a signed-in shopper's token (its role is not authenticated)."
ANOTHER_PROJECT = "The access token was issued by another project."
NOW = int(time.time())
REFUSED = {
    "expired": (gotrue_token(exp=NOW - 60), "The access token has expired: sign in again."),
    "not yet valid": (
        gotrue_token(iat=NOW + 3600),
        "The access token is not valid: The token is not yet valid (iat).",
    ),
    "anon key": (
        gotrue_token(LEGACY_SECRET, "HS256", None, role="anon", sub=None, aud=None, iss="supabase"),
        NOT_A_SHOPPER,
    ),
    "anonymous role": (gotrue_token(role="anon"), NOT_A_SHOPPER),
    "service role key": (gotrue_token(LEGACY_SECRET, "HS256", None, role="service_role", aud=None), NOT_A_SHOPPER),
    "another project": (gotrue_token(iss="https://zyxwvutsrqponmlk.supabase.co/auth/v1"), ANOTHER_PROJECT),
    "the local sign-in's": (gotrue_token(LEGACY_SECRET, "HS256", None, iss=LOCAL_ISSUER), ANOTHER_PROJECT),
    "unknown signing key": (
        gotrue_token(OTHER_EC_KEY, "ES256", "ec-key-2"),
        "The access token was signed with a key this project does not publish.",
    ),
    "forged with a published kid": (
        gotrue_token(OTHER_EC_KEY, "ES256", "ec-key-1"),
        "The access token's signature is not valid.",
    ),
    "algorithm of another key": (
        gotrue_token(EC_KEY, "ES256", "rsa-key-1"),
        "The access token's algorithm does not match its signing key.",
    ),
    "wrong audience": (gotrue_token(aud="somebody"), "The access token is not meant for signed-in users (audience)."),
}


@pytest.mark.parametrize(("token", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_tokens_that_are_not_a_signed_in_shoppers_are_401_and_never_reach_postgrest(
    client: TestClient, supabase: Supabase, token: str, message: str
) -> None:
    response = client.get("/api/user/memories", headers=_bearer(token))
    assert response.status_code == 401
    assert response.json()["message"] == message
    assert supabase.to_postgrest() == []


def test_a_public_key_used_as_an_hmac_secret_is_refused(client: TestClient, supabase: Supabase) -> None:
    """The algorithm-confusion attack: HS256 "signed" with the published RSA public key as the HMAC secret."""
    public_pem = RSA_KEY.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    claims = jwt.decode(gotrue_token(), options={"verify_signature": False})
    segments = [
        _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa-key-1"}).encode()),
        _b64(json.dumps(claims).encode()),
    ]
    signature = hmac.new(public_pem, ".".join(segments).encode(), hashlib.sha256).digest()
    forged = ".".join([*segments, _b64(signature)])
    response = client.get("/api/user/memories", headers=_bearer(forged))
    assert response.status_code == 401
    assert response.json()["message"] == "The access token's signature is not valid."
    jwks_only = TokenVerifier(ISSUER, jwks=JwksKeys(f"{PROJECT}{JWKS_PATH}", httpx.Client()))
    with pytest.raises(InvalidToken, match=r"Access tokens signed with 'HS256' are not accepted here\."):
        jwks_only.verify(forged)
    assert supabase.to_postgrest() == []


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_the_jwks_is_fetched_once_and_refetched_for_a_new_kid_at_most_every_30_seconds(supabase: Supabase) -> None:
    keys = JwksKeys(f"{PROJECT}{JWKS_PATH}", httpx.Client(transport=httpx.MockTransport(supabase.handle)))
    verifier = TokenVerifier(ISSUER, jwks=keys)
    for _ in range(3):
        verifier.verify(gotrue_token())
    for _ in range(3):
        with pytest.raises(InvalidToken, match="does not publish"):
            verifier.verify(gotrue_token(OTHER_EC_KEY, "ES256", "rotated-in-later"))
    assert [r.url.path for r in supabase.requests] == [JWKS_PATH]


# -- the local sign-in is off ------------------------------------------------------------------------------------------
def test_the_local_sign_in_is_refused_on_a_supabase_project(client: TestClient) -> None:
    response = client.post(
        "/auth/v1/token?grant_type=password",
        json={"email": "dana@demo.customer-memory.dev", "password": "anything"},
    )
    assert response.status_code == 403
    assert response.json()["error_code"] == "local_sign_in_disabled"
    assert "access_token" not in response.json()


def test_a_server_built_from_supabase_settings_has_no_local_sign_in_and_sends_the_page_to_supabase_auth() -> None:
    settings = Settings(SUPABASE_URL=PROJECT + "/", SUPABASE_ANON_KEY=ANON_KEY)  # type: ignore[call-arg]
    backend = supabase_backend(settings)
    assert backend.local_auth is None and backend.mode == "supabase"
    with TestClient(create_app(backend)) as test_client:
        config = test_client.get("/api/config")
        refused = test_client.post("/auth/v1/token?grant_type=password", json={"email": "a@b.c", "password": "x"})
    assert config.json() == {
        "mode": "supabase",
        "auth_url": ISSUER,
        "anon_key": ANON_KEY,
        "chat": "no_model",
        "learning": "elsewhere",  # the project's worker runs on its own
    }
    assert f"connect-src 'self' {PROJECT};" in config.headers["content-security-policy"]
    assert refused.status_code == 403
