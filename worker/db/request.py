"""What PostgREST sets at the start of every request transaction, reproduced for a direct connection.

PostgREST runs one `select set_config(k, v, true), ...` (transaction-local, like SET LOCAL) before the request's
query: search_path, the impersonated role, `request.jwt.claims` (with "role" always present), request.method,
request.path and request.headers (supabase-platform.md section 6). Doing the same here is what lets the tests, the
embedded default and the worker exercise exactly the policies and grants that PostgREST requests meet.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import psycopg

API_ROLES = ("anon", "authenticated", "service_role")
# PostgREST's db-extra-search-path as the Supabase CLI configures it, after the exposed schema.
REQUEST_SEARCH_PATH = '"public", "extensions"'


def shopper_claims(user_id: UUID | str, **extra: Any) -> dict[str, Any]:
    """The claims GoTrue puts in a signed-in shopper's access token (the ones our SQL reads)."""
    return {"sub": str(user_id), "role": "authenticated", "aud": "authenticated", **extra}


def set_request_context(
    conn: psycopg.Connection[Any],
    role: str,
    claims: dict[str, Any] | None = None,
    *,
    method: str = "POST",
    path: str = "/",
    headers: dict[str, str] | None = None,
) -> None:
    """Inside an open transaction, become `role` with `claims` the way PostgREST does for one request."""
    if role not in API_ROLES:
        raise ValueError(f"role must be one of {', '.join(API_ROLES)}, not {role!r}")
    # PostgREST always inserts the role it switched to; a request with no JWT carries only {"role": "anon"}.
    full_claims = {**(claims or {}), "role": role}
    conn.execute(
        "select set_config('search_path', %s, true), set_config('role', %s, true),"
        " set_config('request.jwt.claims', %s, true), set_config('request.method', %s, true),"
        " set_config('request.path', %s, true), set_config('request.headers', %s, true)",
        (
            REQUEST_SEARCH_PATH,
            role,
            json.dumps(full_claims),
            method,
            path,
            json.dumps({name.lower(): value for name, value in (headers or {}).items()}),
        ),
    )
