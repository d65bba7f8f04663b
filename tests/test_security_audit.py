"""The audits that must find nothing on our schema, and proof that each one finds what it is meant to find."""

from __future__ import annotations

import pytest
from psycopg import errors

from tests.conftest import Database, acting_as
from worker.db.audit import audit


def test_our_schema_passes_every_audit(db_each_regime: Database) -> None:
    with db_each_regime.connect() as conn:
        assert audit(conn) == {name: [] for name in audit(conn)}


def test_audits_catch_a_leaky_table_function_and_view(db_each_regime: Database) -> None:
    """A table that forgot RLS, a function that forgot its search_path and its revoke, a view that forgot
    security_invoker: each audit names the culprit. Under the legacy regime anon can then read the table."""
    with db_each_regime.connect() as conn, conn.transaction(force_rollback=True):
        conn.execute("create table public.leaky (id int primary key, secret text)")
        conn.execute("insert into public.leaky values (1, 'a shopper''s secret')")
        conn.execute("create function public.sloppy() returns int language sql as 'select 1'")
        conn.execute("create view public.everything as select user_id from public.customer_preferences")
        findings = audit(conn)
        assert findings["tables without row-level security"] == ["public.leaky"]
        assert findings["functions without search_path = ''"] == ["sloppy()"]
        assert findings["functions executable by anon or PUBLIC"] == ["sloppy()"]
        assert findings["views without security_invoker"] == ["public.everything"]
        if db_each_regime.regime == "legacy":
            assert set(findings["tables and views anon can reach"]) == {"public.leaky", "public.everything"}
            with acting_as(conn, "anon"):
                assert conn.execute("select secret from public.leaky").fetchall() == [{"secret": "a shopper's secret"}]
        else:
            assert findings["tables and views anon can reach"] == []


@pytest.mark.parametrize(
    ("relation", "refusal"),
    [
        ("private.interaction_archive", "permission denied for schema private"),
        ("private.memory_suppressions", "permission denied for schema private"),
        ("auth.users", "permission denied for table users"),
    ],
)
@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_clients_cannot_reach_internals(db: Database, role: str, relation: str, refusal: str) -> None:
    with db.connect() as conn, acting_as(conn, role), pytest.raises(errors.InsufficientPrivilege, match=refusal):
        conn.execute(f"select * from {relation}")
