"""The seam over PostgREST, through supabase-py: `client.rpc(name, params).execute()` (and
`client.table(name).select()` for a table or view) with the caller's JWT in
the Authorization header (set with the client's `headers` option, which supabase-py keeps;
supabase-platform.md section 8), and PostgREST's error bodies {code, message, details, hint} turned into the
project's exceptions."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast

import httpx
from postgrest import APIError

from supabase import Client, ClientOptions, create_client
from worker.client.errors import ServiceUnavailable, error_from
from worker.client.seam import Identity

_MAX_CLIENTS = 256


class PostgrestAdapter:
    """`url` is the project URL (https://<ref>.supabase.co), `api_key` its anon (publishable) key, sent as
    `apikey` on every request and as the bearer of anonymous calls. `http_client` is shared by every caller's
    client."""

    def __init__(self, url: str, api_key: str, *, http_client: httpx.Client | None = None) -> None:
        self._url, self._api_key = url, api_key
        self._http = http_client or httpx.Client(timeout=10.0)
        # supabase-py's APIError does not carry the HTTP status: a response hook notes it for the calling thread.
        self._http.event_hooks["response"] = [*self._http.event_hooks.get("response", []), _note_status]
        self._clients: dict[str, Client] = {}

    def call(self, function: str, args: Mapping[str, Any], identity: Identity) -> Any:
        client = self._client_for(self._bearer(identity))
        with _translating(identity):
            return client.rpc(function, dict(args)).execute().data

    def select(self, relation: str, equal: Mapping[str, Any], identity: Identity) -> list[dict[str, Any]]:
        request = self._client_for(self._bearer(identity)).table(relation).select("*")
        for column, value in equal.items():
            request = request.eq(column, str(value))
        with _translating(identity):
            return cast(list[dict[str, Any]], request.execute().data)

    def _bearer(self, identity: Identity) -> str:
        if identity.access_token is not None:
            return identity.access_token
        if identity.anonymous_caller:
            return self._api_key
        raise ValueError(f"calling PostgREST as {identity.role} needs that caller's access token (a JWT)")

    def _client_for(self, bearer: str) -> Client:
        """One supabase-py client per token: the Authorization header is fixed when a client is made."""
        client = self._clients.get(bearer)
        if client is None:
            if len(self._clients) >= _MAX_CLIENTS:
                self._clients.pop(next(iter(self._clients)))
            options = ClientOptions(
                headers={"Authorization": f"Bearer {bearer}"},
                httpx_client=self._http,
                auto_refresh_token=False,
                persist_session=False,
            )
            client = self._clients[bearer] = create_client(self._url, self._api_key, options=options)
        return client


_last_response = threading.local()


def _note_status(response: httpx.Response) -> None:
    _last_response.status = response.status_code


@contextmanager
def _translating(identity: Identity) -> Iterator[None]:
    """PostgREST's error bodies and an unreachable server as the project's exceptions, with PostgREST's status."""
    _last_response.status = None
    try:
        yield
    except APIError as exc:
        raise error_from(
            exc.code,
            exc.message,
            details=exc.details,
            hint=exc.hint,
            anonymous=identity.anonymous_caller,
            status=getattr(_last_response, "status", None),
        ) from exc
    except httpx.TransportError as exc:
        raise ServiceUnavailable(f"PostgREST could not be reached: {exc}") from exc
