"""The HTTP side of the shopper's memory: the design document's routes ("Privacy & Transparency"), the page that
uses them, and the chat view.

    GET    /api/user/memories           every memory, grouped as the prompt groups them (my_memories; a
                                        favourite's buy-again timing from its evidence record, customer_preferences)
    GET    /api/user/memories/export    everything stored about the shopper, as a JSON download streamed a page at
                                        a time (export_memories_page)
    GET    /api/user/order-figures      the shopper's orders of the last 90 days as plain counts, for the charts
                                        (my_order_figures)
    GET    /api/user/memories/:id       one memory with its evidence (explain_memory)
    DELETE /api/user/memories/:id       forget it (forget_memory)
    POST   /api/user/memories/:id/pending-change/confirm   the removal the shopper asked for in chat is done
                                        (confirm_pending_change)
    POST   /api/user/memories/:id/pending-change/reject    it is not: the memory stays (reject_pending_change)
    POST   /api/user/memories/:id/answer/yes   a question suggested from the orders is true: the shopper's own now
    POST   /api/user/memories/:id/answer/no    it is not: dismissed, never asked again from older evidence
                                        (answer_insight_question)
    DELETE /api/user/memories           forget everything (clear_memories)
    POST   /api/chat                    one chat turn: the message recorded for the worker (record_message), the
                                        reply's cited memories explained (memory_context)
    GET    /api/config                  what the page needs to sign in (public)
    POST   /auth/v1/token               the local sign-in (embedded default only; worker/web/signin.py)
    GET    /, /memories/:id, /chat      the page

Identity comes only from `Authorization: Bearer <access token>` (worker/web/tokens.py). Each route calls the
memory API's SQL function through the client seam as that shopper: on Supabase the PostgREST adapter with the
shopper's own token, locally the direct adapter, connected as a role that can do nothing but become the shopper.
Errors: 401 without a valid shopper token, 400 with a sentence for bad input, and the memory API's own status
otherwise (404 for an unknown memory or someone else's, or one with no pending change: the same answer), as
`{code, message, details, hint}`, PostgREST's error body.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from itertools import chain
from typing import Any
from uuid import UUID

import anthropic
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from worker.client.errors import MemoryApiError
from worker.client.export import PAGE_ROWS, export_document
from worker.client.memory import MemoryClient
from worker.client.seam import DatabaseFunctions, Identity
from worker.web import present
from worker.web.chat import ChatRequest, chat_turn
from worker.web.signin import LocalAuth, SignInRefused
from worker.web.tokens import InvalidToken, Shopper, TokenVerifier, bearer_token

STATIC = resources.files("worker.web") / "static"
MAX_BODY_BYTES = 256 * 1024  # a chat turn with its history, or a sign-in; nothing else takes a body


class BadRequest(Exception):
    """Input the API cannot take: 400 with this sentence."""


@dataclass
class Backend:
    """Everything the routes need: how to reach the memory API, whose tokens to trust, how the page signs in."""

    functions: DatabaseFunctions
    verifier: TokenVerifier
    # The page signs in here: the project's Auth (https://<ref>.supabase.co/auth/v1) or this server's /auth/v1.
    auth_url: str
    local_auth: LocalAuth | None = None
    anon_key: str | None = None
    anthropic: anthropic.Anthropic | None = None
    model: str = "claude-sonnet-4-6"
    export_page_rows: int = PAGE_ROWS  # rows per export_memories_page call (smaller in tests, to see it stream)
    # Whether a worker runs in this process beside the page (`customer-memory serve` on the embedded default, `make
    # run`): then what a shopper says in the chat is learned within seconds, and the page says so.
    worker_beside: bool = False
    # Called when the app shuts down (connection pools).
    closers: list[Callable[[], None]] = field(default_factory=list)

    @property
    def mode(self) -> str:
        return "local" if self.local_auth is not None else "supabase"


Handler = Callable[[Request, MemoryClient, Shopper, bytes], Any]


def create_app(backend: Backend) -> Starlette:
    def shopper_route(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """A route acting as the signed-in shopper: the token verified and the database called off the event loop
        (both may block), the result sent as JSON unless the handler made its own response."""

        async def endpoint(request: Request) -> Response:
            body = await request.body()

            def run() -> Any:
                shopper = backend.verifier.verify(bearer_token(request.headers.get("authorization")))
                return handler(request, MemoryClient(backend.functions, _identity(shopper)), shopper, body)

            result = await run_in_threadpool(run)
            return result if isinstance(result, Response) else _json(result)

        return endpoint

    async def config(request: Request) -> Response:
        return _json(
            {
                "mode": backend.mode,
                "auth_url": backend.auth_url,
                "anon_key": backend.anon_key,
                "chat": "claude" if backend.anthropic is not None else "no_model",
                "learning": "beside" if backend.worker_beside else "elsewhere",
            }
        )

    async def sign_in(request: Request) -> Response:
        if backend.local_auth is None:
            refused = SignInRefused(
                "local_sign_in_disabled",
                f"Local sign-in is off: this server is configured for a Supabase project; sign in with Supabase "
                f"Auth at {backend.auth_url}.",
                status=403,
            )
            return _json(refused.body(), refused.status)
        local_auth = backend.local_auth
        if request.query_params.get("grant_type") != "password":
            refused = SignInRefused("unsupported_grant_type", "Only grant_type=password is supported here.")
            return _json(refused.body(), refused.status)
        try:
            credentials = json.loads(await request.body() or b"{}")
            email, password = str(credentials.get("email") or ""), str(credentials.get("password") or "")
        except (ValueError, AttributeError):
            refused = SignInRefused("validation_failed", "Send your email and password as a JSON object.")
            return _json(refused.body(), refused.status)
        try:
            session = await run_in_threadpool(local_auth.password_grant, email, password)
        except SignInRefused as refused:
            return _json(refused.body(), refused.status)
        return _json(session)

    async def page(request: Request) -> Response:
        return FileResponse(str(STATIC / "index.html"), headers={"Cache-Control": "no-cache"})

    routes = [
        Route("/api/config", config, methods=["GET"]),
        Route("/auth/v1/token", sign_in, methods=["POST"]),
        Route("/api/user/memories", shopper_route(list_memories), methods=["GET"]),
        Route("/api/user/memories", shopper_route(clear_memories), methods=["DELETE"]),
        Route("/api/user/memories/export", shopper_route(_export(backend)), methods=["GET"]),
        Route("/api/user/order-figures", shopper_route(order_figures), methods=["GET"]),
        Route("/api/user/memories/{memory_id}", shopper_route(explain_memory), methods=["GET"]),
        Route("/api/user/memories/{memory_id}", shopper_route(forget_memory), methods=["DELETE"]),
        Route(
            "/api/user/memories/{memory_id}/pending-change/confirm",
            shopper_route(confirm_pending_change),
            methods=["POST"],
        ),
        Route(
            "/api/user/memories/{memory_id}/pending-change/reject",
            shopper_route(reject_pending_change),
            methods=["POST"],
        ),
        Route("/api/user/memories/{memory_id}/answer/yes", shopper_route(answer_yes), methods=["POST"]),
        Route("/api/user/memories/{memory_id}/answer/no", shopper_route(answer_no), methods=["POST"]),
        Route("/api/chat", shopper_route(_chat(backend)), methods=["POST"]),
        Route("/", page, methods=["GET"]),
        Route("/chat", page, methods=["GET"]),
        Route("/memories/{memory_id}", page, methods=["GET"]),
        Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        for close in backend.closers:
            close()

    return Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders, connect_to=backend.auth_url)],
        exception_handlers={
            InvalidToken: _unauthorized,
            MemoryApiError: _memory_api_error,
            BadRequest: _bad_request,
            HTTPException: _http_error,
            Exception: _server_error,
        },
        lifespan=lifespan,
        max_body_size=MAX_BODY_BYTES,
    )


# -- the routes ------------------------------------------------------------------------------------------------------
def list_memories(request: Request, memory: MemoryClient, shopper: Shopper, body: bytes) -> dict[str, Any]:
    rows = [row.model_dump(mode="json") for row in memory.my_memories()]
    # A favourite's buy-again timing is in its evidence record, which my_memories does not carry: read from the
    # shopper's own favourites (under their row-level security), only when there are any.
    favourites = (
        [] if not any(row["memory_type"] == "favorite" for row in rows) else memory.customer_preferences("favorite")
    )
    sections = present.grouped(rows, {str(p.id): p.evidence for p in favourites})
    return {
        "user": {"id": str(shopper.user_id), "email": shopper.email},
        # What is remembered: a question (asked above the sections) is not, until the shopper says Yes.
        "count": sum(len(section["memories"]) for section in sections),
        "sections": sections,
        "questions": present.questions(rows),
    }


def order_figures(request: Request, memory: MemoryClient, shopper: Shopper, body: bytes) -> Any:
    return memory.my_order_figures().model_dump(mode="json")


def explain_memory(request: Request, memory: MemoryClient, shopper: Shopper, body: bytes) -> Any:
    explained = memory.explain_memory(_memory_id(request)).model_dump(mode="json")
    return {**explained, "presented": present.presented_explained(explained)}


def forget_memory(request: Request, memory: MemoryClient, shopper: Shopper, body: bytes) -> Any:
    return memory.forget_memory(_memory_id(request)).model_dump(mode="json")


# Chat never removes an allergy or a diet on its own: a request to forget one waits, in use, for the shopper's answer.
def confirm_pending_change(request: Request, memory: MemoryClient, shopper: Shopper, body: bytes) -> Any:
    return memory.confirm_pending_change(_memory_id(request)).model_dump(mode="json")


def reject_pending_change(request: Request, memory: MemoryClient, shopper: Shopper, body: bytes) -> Any:
    return memory.reject_pending_change(_memory_id(request))


# Questions suggested from the orders ("Are you shopping for young children?"): never used until the shopper says Yes.
def answer_yes(request: Request, memory: MemoryClient, shopper: Shopper, body: bytes) -> Any:
    return memory.answer_insight_question(_memory_id(request), True)


def answer_no(request: Request, memory: MemoryClient, shopper: Shopper, body: bytes) -> Any:
    return memory.answer_insight_question(_memory_id(request), False)


def clear_memories(request: Request, memory: MemoryClient, shopper: Shopper, body: bytes) -> Any:
    return memory.clear_memories().model_dump(mode="json")


def _export(backend: Backend) -> Handler:
    def export_memories(request: Request, memory: MemoryClient, shopper: Shopper, body: bytes) -> Response:
        # Streamed a page at a time (export_memories_page), so any size fits; each row exactly as the database
        # wrote it, every key kept: the export is the shopper's copy of everything. The first page is read here,
        # before the response starts, so that its errors still get their status.
        pieces = export_document(memory, backend.export_page_rows)
        first = next(pieces)
        filename = f"customer-memory-export-{datetime.now(UTC):%Y-%m-%d}.json"
        return StreamingResponse(
            chain([first], pieces),
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
        )

    return export_memories


def _chat(backend: Backend) -> Handler:
    def chat(request: Request, memory: MemoryClient, shopper: Shopper, body: bytes) -> Any:
        try:
            asked = ChatRequest.model_validate_json(body or b"{}")
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(part) for part in problem["loc"]) or "the body"
            raise BadRequest(f"The chat message is not valid: {where}: {problem['msg']}.") from exc
        return chat_turn(memory, asked, client=backend.anthropic, model=backend.model)

    return chat


def _identity(shopper: Shopper) -> Identity:
    """The shopper as the seam knows them: PostgREST is sent their own token; the direct adapter sets their id."""
    return Identity.shopper(shopper.user_id, shopper.access_token)


def _memory_id(request: Request) -> UUID:
    text = request.path_params["memory_id"]
    try:
        return UUID(text)
    except ValueError:
        raise BadRequest(
            f"A memory id is a UUID such as 3f2b8c1e-0000-4000-8000-000000000000, not {text[:64]!r}."
        ) from None


# -- responses and errors --------------------------------------------------------------------------------------------
def _json(content: Any, status: int = 200) -> JSONResponse:
    # Everything under /api is one shopper's personal data: never cached on the way.
    return JSONResponse(content, status, headers={"Cache-Control": "no-store"})


def _error(status: int, message: str, code: str | None = None, **extra: Any) -> JSONResponse:
    return _json({"code": code, "message": message, "details": extra.get("details"), "hint": extra.get("hint")}, status)


async def _unauthorized(request: Request, exc: Exception) -> Response:
    response = _error(401, str(exc), "invalid_token")
    response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


async def _memory_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, MemoryApiError)
    return _error(exc.status, exc.message, exc.code, details=exc.details, hint=exc.hint)


async def _bad_request(request: Request, exc: Exception) -> Response:
    return _error(400, str(exc), "bad_request")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    sentences = {404: "There is nothing at this address.", 405: "This address does not take that method."}
    return _error(exc.status_code, sentences.get(exc.status_code, str(exc.detail)), str(exc.status_code))


async def _server_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, anthropic.APIError):
        return _error(502, f"Claude could not be reached or refused the request: {exc}", "upstream")
    return _error(500, "Something went wrong on our side; nothing was changed.", "internal")


class SecurityHeaders:
    """The page loads nothing from elsewhere (no CDN): scripts, styles and images from this server only; the only
    other place it talks to is the Auth server it signs in with. (Plain ASGI: a header costs no extra task.)"""

    def __init__(self, app: ASGIApp, connect_to: str) -> None:
        self.app = app
        origin = "/".join(connect_to.split("/")[:3]) if connect_to.startswith("http") else ""
        policy = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self'{' ' + origin if origin else ''}; frame-ancestors 'none'; base-uri 'none'; "
            "form-action 'self'"
        )
        self._headers = [
            (b"content-security-policy", policy.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self._headers]
            await send(message)

        await self.app(scope, receive, with_headers)
