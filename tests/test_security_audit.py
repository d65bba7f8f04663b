"""The audits that must find nothing on our schema, and proof that each one finds what it is meant to find."""

from __future__ import annotations

import pytest
from psycopg import errors

from tests.conftest import Database, acting_as
from tests.schema_tools.audit import DEFINER_API_FUNCTIONS, audit, reserved_role_statements
from worker.db.schema import SEED_FILE, migrations


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


def test_audit_catches_a_foreign_key_that_only_a_partial_index_covers(db: Database) -> None:
    """A cascade from auth.users cannot use a partial index: private.jobs.user_id was such a key until it got a
    plain index (the migration 20261128174000). Without that index this audit names it."""
    with db.connect() as conn, conn.transaction(force_rollback=True):
        conn.execute(
            "create table private.child (id int primary key,"
            " user_id uuid not null references auth.users (id) on delete cascade, done boolean)"
        )
        conn.execute("create index child_pending_idx on private.child (user_id) where not done")
        assert audit(conn)["foreign keys without a covering index"] == ["private.child.child_user_id_fkey"]
        conn.execute("drop index private.jobs_user_idx")
        assert audit(conn)["foreign keys without a covering index"] == [
            "private.child.child_user_id_fkey",
            "private.jobs.jobs_user_id_fkey",
        ]
        conn.execute("create index child_user_idx on private.child (user_id, id)")
        assert audit(conn)["foreign keys without a covering index"] == ["private.jobs.jobs_user_id_fkey"]


def test_deleting_an_account_finds_its_jobs_through_an_index(db: Database) -> None:
    """The cascade's lookup (`where user_id = $1` on private.jobs, whatever the status) uses the plain index."""
    with db.connect() as conn, conn.transaction(force_rollback=True):
        conn.execute("set local enable_seqscan = off")
        plan = conn.execute(
            "explain (format json) select from private.jobs where user_id = gen_random_uuid()"
        ).fetchone()
        assert plan is not None and "jobs_user_idx" in str(plan["QUERY PLAN"])


def test_audit_catches_a_security_definer_function_clients_can_run(db: Database) -> None:
    """Splinter's lints 0028/0029: a definer function runs past RLS. Ours are listed with their reasons; a new one
    is a finding until it is listed too."""
    with db.connect() as conn, conn.transaction(force_rollback=True):
        conn.execute(
            "create function public.peek() returns bigint language sql security definer set search_path = ''"
            " as 'select count(*) from public.customer_preferences'"
        )
        conn.execute("revoke execute on function public.peek() from public, anon")
        conn.execute("grant execute on function public.peek() to authenticated")
        assert audit(conn)["security-definer functions clients can run, not listed as API"] == ["peek()"]


def test_every_listed_definer_function_exists_and_is_a_definer(db: Database) -> None:
    """The list is a record of intent: an entry that no longer matches a function is stale."""
    with db.connect() as conn:
        rows = conn.execute(
            "select p.oid::regprocedure::text as name from pg_proc p"
            " where p.pronamespace = 'public'::regnamespace and p.prosecdef"
            " and has_function_privilege('authenticated', p.oid, 'execute')"
        ).fetchall()
    assert {row["name"] for row in rows} == set(DEFINER_API_FUNCTIONS)


@pytest.mark.parametrize(
    ("body", "finding"),
    [
        (
            "create function private.wipe() returns void language plpgsql set search_path = ''"
            " as $$ begin delete from private.jobs; end $$",
            "private.wipe(): DELETE private.jobs",
        ),
        (
            "create function private.bump() returns void language sql set search_path = ''"
            " as $$ update public.shopping_patterns set confidence = 0.5 $$",
            "private.bump(): UPDATE public.shopping_patterns",
        ),
        (
            "create function private.hidden() returns bigint language plpgsql set search_path = ''"
            " as $$ declare n bigint; v private.jobs%rowtype; begin"
            " with gone as (delete from public.memory_insights returning 1) select count(*) into n from gone;"
            " return n; end $$",
            "private.hidden(): DELETE public.memory_insights",
        ),
    ],
    ids=["plpgsql delete", "sql update", "delete in a CTE"],
)
def test_audit_catches_a_write_without_where_that_safeupdate_would_refuse(
    db: Database, body: str, finding: str
) -> None:
    with db.connect() as conn, conn.transaction(force_rollback=True):
        conn.execute(body)
        assert audit(conn)["UPDATE or DELETE without WHERE in functions"] == [finding]


def test_a_write_that_says_where_passes_the_safeupdate_audit(db: Database) -> None:
    with db.connect() as conn, conn.transaction(force_rollback=True):
        conn.execute(
            "create function private.wipe() returns void language plpgsql set search_path = ''"
            " as $$ begin delete from private.jobs where true; update private.jobs set attempts = 0 where false; end $$"
        )
        assert audit(conn)["UPDATE or DELETE without WHERE in functions"] == []


def test_no_migration_and_not_the_seed_touch_a_reserved_role() -> None:
    """What supautils refuses on Supabase: the SQL we ship as postgres must not need it."""
    for path in [migration.path for migration in migrations()] + [SEED_FILE]:
        assert reserved_role_statements(path.read_text()) == [], path.name


def test_reserved_role_audit_catches_each_kind_of_statement() -> None:
    planted = """
        alter role authenticator set statement_timeout = '10s';
        alter role anon nologin;
        create role dashboard_user;
        drop role if exists pgbouncer;
        alter role supabase_auth_admin set search_path = public;
        grant supabase_admin to postgres;
        revoke pg_read_server_files from postgres;
        alter default privileges for role supabase_admin in schema public grant all on tables to anon;
        alter table public.customer_preferences owner to supabase_admin;
        do $$ begin alter role supabase_storage_admin rename to storage; end $$;
        grant select on public.customer_preferences to authenticated;
    """
    assert reserved_role_statements(planted) == [
        "AlterRoleStmt on reserved role anon",
        "CreateRoleStmt on reserved role dashboard_user",
        "DropRoleStmt on reserved role pgbouncer",
        "AlterRoleSetStmt on reserved role supabase_auth_admin",
        "GrantRoleStmt on reserved role supabase_admin",
        "GrantRoleStmt on reserved role pg_read_server_files",
        "AlterDefaultPrivilegesStmt on reserved role supabase_admin",
        "AlterTableStmt on reserved role supabase_admin",
        "RenameStmt on reserved role supabase_storage_admin",
    ]
