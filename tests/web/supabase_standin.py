"""Supabase Auth (GoTrue) and PostgREST for a real browser: a small HTTP app that answers the requests the page
and the server send to a Supabase project, on a local port, because neither can run here (test_supabase_mode.py
says why). GoTrue's side: the password and refresh-token grants of POST /auth/v1/token (refresh tokens used once
and rotated, as GoTrue does), its JWKS, and CORS for the page's origin; tokens signed ES256 with the key
test_supabase_mode publishes. PostgREST's side: the my_memories view and my_order_figures, answered with fixed
rows. Every request is recorded for the test to read."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.web.test_supabase_mode import ANON_KEY, JWKS, MY_MEMORIES_ROW, SHOPPER, gotrue_token
from worker.web.tokens import JWKS_PATH

EMAIL = "shopper@example.test"
PASSWORD = "a password for the stand-in"
NO_ORDERS = {"window_days": 90, "since": "2026-09-06T10:00:00Z", "orders": 0, "by_hour": [0] * 24,
             "by_weekday": [0] * 7, "categories": []}  # fmt: skip


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class SupabaseStandin:
    token_seconds: int
    url: str = ""  # set once it listens: the issuer is <url>/auth/v1
    requests: list[Recorded] = field(default_factory=list)
    sessions: list[dict[str, Any]] = field(default_factory=list)  # every session issued, in order
    refuse_refresh: bool = False
    _live_refresh_tokens: set[str] = field(default_factory=set)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/auth/v1/token", self._token, methods=["POST"]),
                Route(JWKS_PATH, lambda request: JSONResponse(JWKS), methods=["GET"]),
                Route("/rest/v1/my_memories", self._rest, methods=["GET"]),
                Route("/rest/v1/rpc/my_order_figures", self._rest, methods=["POST"]),
            ],
            middleware=[Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"])],
        )

    def refreshes(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == "/auth/v1/token?grant_type=refresh_token"]

    def postgrest(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.startswith("/rest/v1/")]

    async def _rest(self, request: Request) -> JSONResponse:
        body = await request.json() if request.method == "POST" else {}
        self.requests.append(Recorded(request.method, request.url.path, dict(request.headers), body))
        return JSONResponse([MY_MEMORIES_ROW] if request.url.path.endswith("/my_memories") else NO_ORDERS)

    async def _token(self, request: Request) -> JSONResponse:
        body = await request.json()
        grant = request.query_params.get("grant_type")
        self.requests.append(Recorded("POST", f"/auth/v1/token?grant_type={grant}", dict(request.headers), body))
        if request.headers.get("apikey") != ANON_KEY:
            return JSONResponse({"message": "No API key found in request"}, 401)
        if grant == "password" and (body.get("email"), body.get("password")) == (EMAIL, PASSWORD):
            return JSONResponse(self._session())
        if grant == "refresh_token":
            if not self.refuse_refresh and body.get("refresh_token") in self._live_refresh_tokens:
                self._live_refresh_tokens.discard(body["refresh_token"])  # used once
                return JSONResponse(self._session())
            refused = {"code": 400, "error_code": "refresh_token_not_found",
                       "msg": "Invalid Refresh Token: Refresh Token Not Found"}  # fmt: skip
            return JSONResponse(refused, 400)
        return JSONResponse({"code": 400, "error_code": "invalid_credentials", "msg": "Invalid login credentials"}, 400)

    def _session(self) -> dict[str, Any]:
        now = int(time.time())
        refresh_token = secrets.token_urlsafe(9)
        self._live_refresh_tokens.add(refresh_token)
        session = {
            "access_token": gotrue_token(iss=f"{self.url}/auth/v1", iat=now, exp=now + self.token_seconds),
            "token_type": "bearer",
            "expires_in": self.token_seconds,
            "expires_at": now + self.token_seconds,
            "refresh_token": refresh_token,
            "user": {"id": str(SHOPPER), "aud": "authenticated", "role": "authenticated", "email": EMAIL},
        }
        self.sessions.append(session)
        return session
