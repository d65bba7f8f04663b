"""The one seam between the memory client and the database: "call this database function with these named
arguments as this identity". Two adapters implement it: PostgREST through supabase-py (app clients, a worker
next to a Supabase project) and a direct psycopg connection that sets per transaction what PostgREST sets (the
embedded default, the tests). Everything above the seam is written once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from uuid import UUID

from worker.db.request import shopper_claims

Role = Literal["anon", "authenticated", "service_role"]


@dataclass(frozen=True)
class Identity:
    """Who is calling. PostgREST learns it from `access_token` (a JWT it verifies); the direct adapter, which
    has no JWT to verify, from `role` and `user_id` (it is trusted like the database URL that opens it)."""

    role: Role
    user_id: UUID | None = None
    access_token: str | None = field(default=None, repr=False)

    @classmethod
    def shopper(cls, user_id: UUID, access_token: str | None = None) -> Identity:
        return cls("authenticated", user_id, access_token)

    @classmethod
    def anonymous(cls) -> Identity:
        return cls("anon")

    @property
    def anonymous_caller(self) -> bool:
        return self.role == "anon"

    def claims(self) -> dict[str, Any] | None:
        """The JWT claims PostgREST would put in request.jwt.claims (without "role", which it always adds)."""
        return shopper_claims(self.user_id) if self.user_id is not None else None


class DatabaseFunctions(Protocol):
    """Calls a function of the `public` schema, or reads a table or view of it, as PostgREST would; raises
    worker.client.errors.MemoryApiError subclasses."""

    def call(self, function: str, args: Mapping[str, Any], identity: Identity) -> Any:
        """Call `public.<function>` with named `args` (JSON-ready values) as `identity`; return its result."""
        ...

    def select(self, relation: str, equal: Mapping[str, Any], identity: Identity) -> list[dict[str, Any]]:
        """The rows of `public.<relation>` that `identity` may read (row-level security decides) whose columns
        equal the values in `equal`, as JSON values: PostgREST's GET /rest/v1/<relation>?<column>=eq.<value>."""
        ...
