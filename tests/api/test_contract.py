"""Every database function the Python client calls exists in `public` with exactly the argument names the
client sends, and is executable by the role that calls it and by no other API role, under both grant regimes.
"""

from __future__ import annotations

import pytest

from tests.conftest import Database
from worker.client.memory import CONTRACT, TABLES, VIEWS, MemoryClient

API_ROLES = ("anon", "authenticated", "service_role")


@pytest.mark.parametrize("function", sorted(CONTRACT))
def test_function_exists_with_the_clients_argument_names_and_grants(db_each_regime: Database, function: str) -> None:
    spec = CONTRACT[function]
    with db_each_regime.connect() as conn:
        rows = conn.execute(
            "select p.proargnames, p.prosecdef,"
            " has_function_privilege('anon', p.oid, 'execute') as anon,"
            " has_function_privilege('authenticated', p.oid, 'execute') as authenticated,"
            " has_function_privilege('service_role', p.oid, 'execute') as service_role"
            " from pg_proc p where p.pronamespace = 'public'::regnamespace and p.proname = %s",
            (function,),
        ).fetchall()
    assert len(rows) == 1, f"public.{function} must exist exactly once (PostgREST cannot pick among overloads)"
    [row] = rows
    assert tuple(row["proargnames"] or ()) == spec.args  # NULL when the function takes no arguments
    assert {role: row[role] for role in API_ROLES} == {role: role == spec.role for role in API_ROLES}


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_view_runs_as_the_caller_and_only_shoppers_may_read_it(db_each_regime: Database, view: str) -> None:
    with db_each_regime.connect() as conn:
        row = conn.execute(
            "select coalesce('security_invoker=true' = any(c.reloptions), false) as invoker,"
            " has_table_privilege('anon', c.oid, 'select') as anon,"
            " has_table_privilege('authenticated', c.oid, 'select') as authenticated,"
            " has_table_privilege('service_role', c.oid, 'select') as service_role"
            " from pg_class c where c.relnamespace = 'public'::regnamespace and c.relname = %s and c.relkind = 'v'",
            (view,),
        ).fetchone()
    assert row is not None, f"public.{view} must exist as a view"
    assert row["invoker"], "a view owned by postgres would bypass the caller's row-level security"
    assert {role: row[role] for role in API_ROLES} == {role: role == "authenticated" for role in API_ROLES}


@pytest.mark.parametrize("table", sorted(TABLES))
def test_a_table_the_client_reads_is_under_row_level_security_and_closed_to_anon(
    db_each_regime: Database, table: str
) -> None:
    with db_each_regime.connect() as conn:
        row = conn.execute(
            "select c.relrowsecurity as rls, has_table_privilege('anon', c.oid, 'select') as anon,"
            " has_table_privilege('authenticated', c.oid, 'select') as authenticated"
            " from pg_class c where c.relnamespace = 'public'::regnamespace and c.relname = %s and c.relkind = 'r'",
            (table,),
        ).fetchone()
    assert row is not None, f"public.{table} must exist as a table"
    assert row["rls"] and row["authenticated"] and not row["anon"]


def test_every_client_method_is_a_contract_function() -> None:
    methods = {name for name in vars(MemoryClient) if not name.startswith("_")}
    assert methods == set(CONTRACT) | set(VIEWS) | set(TABLES)
