"""The stand-in gives plain PostgreSQL what Supabase's image gives a project (supabase-platform.md sections 1-5),
and the migrations run on it as Supabase runs them: as a `postgres` that is not a superuser."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.conftest import Database, acting_as
from worker.db.schema import migrations

# supabase-platform.md, the attribute table read from nix/tests/expected/roles.out:
# (createrole, login, superuser, inherit, createdb, replication, bypassrls)
ROLE_ATTRIBUTES = {
    "anon": (False, False, False, True, False, False, False),
    "authenticated": (False, False, False, True, False, False, False),
    "service_role": (False, False, False, True, False, False, True),
    "authenticator": (False, True, False, False, False, False, False),
    "postgres": (True, True, False, True, True, True, True),
}


@pytest.mark.parametrize("role", ROLE_ATTRIBUTES)
def test_roles_have_supabases_attributes(db: Database, role: str) -> None:
    with db.connect() as conn:
        row = conn.execute(
            "select rolcreaterole, rolcanlogin, rolsuper, rolinherit, rolcreatedb, rolreplication, rolbypassrls"
            " from pg_roles where rolname = %s",
            (role,),
        ).fetchone()
    assert row is not None and tuple(row.values()) == ROLE_ATTRIBUTES[role]


def test_authenticator_can_become_each_api_role_and_only_those(db: Database) -> None:
    with db.connect() as conn:
        rows = conn.execute(
            "select r.rolname from pg_auth_members m join pg_roles r on r.oid = m.roleid"
            " where m.member = 'authenticator'::regrole order by 1"
        ).fetchall()
    assert [row["rolname"] for row in rows] == ["anon", "authenticated", "service_role"]


def test_role_settings(db: Database) -> None:
    with db.connect() as conn:
        rows = conn.execute(
            "select r.rolname, s.setconfig from pg_db_role_setting s join pg_roles r on r.oid = s.setrole"
            " where s.setdatabase = 0 order by 1"
        ).fetchall()
    settings = {row["rolname"]: sorted(row["setconfig"]) for row in rows}
    assert settings["anon"] == ["statement_timeout=3s"]
    assert settings["authenticated"] == ["statement_timeout=8s"]
    assert settings["authenticator"] == ["lock_timeout=8s", "statement_timeout=8s"]
    assert settings["postgres"] == ['search_path="$user", public, extensions']


def test_migrations_ran_as_postgres_and_are_recorded_like_the_cli(db: Database) -> None:
    with db.connect() as conn:
        recorded = conn.execute(
            "select version, name from supabase_migrations.schema_migrations order by version"
        ).fetchall()
        owners = conn.execute(
            "select distinct pg_get_userbyid(c.relowner) as owner from pg_class c"
            " where c.relnamespace in ('public'::regnamespace, 'private'::regnamespace) and c.relkind = 'r'"
        ).fetchall()
    assert [(row["version"], row["name"]) for row in recorded] == [(m.version, m.name) for m in migrations()]
    assert owners == [{"owner": "postgres"}]


@pytest.mark.parametrize(
    ("settings", "uid", "role"),
    [
        (
            {
                "request.jwt.claims": json.dumps(
                    {"sub": "7c3e1a52-0d6e-4a31-9a53-0b9f5d4f6a10", "role": "authenticated"}
                )
            },
            "7c3e1a52-0d6e-4a31-9a53-0b9f5d4f6a10",
            "authenticated",
        ),
        # The per-claim settings of PostgREST before v12, which GoTrue's definitions still read first.
        (
            {"request.jwt.claim.sub": "0b4e8d7a-3f1c-4c55-8e2b-6a7d9c1e2f30", "request.jwt.claim.role": "anon"},
            "0b4e8d7a-3f1c-4c55-8e2b-6a7d9c1e2f30",
            "anon",
        ),
        ({"request.jwt.claims": ""}, None, None),
        ({}, None, None),
    ],
    ids=["claims json", "legacy per-claim settings", "empty claims", "no claims"],
)
def test_auth_helpers_read_claims_as_gotrue_defines_them(
    db: Database, settings: dict[str, str], uid: str | None, role: str | None
) -> None:
    with db.connect() as conn, conn.transaction(force_rollback=True):
        for name, value in settings.items():
            conn.execute("select set_config(%s, %s, true)", (name, value))
        row = conn.execute("select auth.uid() as uid, auth.role() as role").fetchone()
    assert row == {"uid": uuid.UUID(uid) if uid else None, "role": role}


def test_auth_jwt_returns_the_whole_token(db: Database) -> None:
    user_id = uuid.uuid4()
    with db.connect() as conn, acting_as(conn, "authenticated", user_id):
        row = conn.execute("select auth.jwt() as jwt").fetchone()
    assert row is not None and row["jwt"]["sub"] == str(user_id) and row["jwt"]["role"] == "authenticated"


def test_extensions_schema_and_realtime_publication(db: Database) -> None:
    with db.connect() as conn:
        publication = conn.execute(
            "select pg_get_userbyid(pubowner) as owner, pubinsert, pubupdate, pubdelete, pubtruncate"
            " from pg_publication where pubname = 'supabase_realtime'"
        ).fetchone()
        usage = conn.execute(
            "select has_schema_privilege('anon', 'extensions', 'usage') as anon,"
            " has_schema_privilege('authenticated', 'extensions', 'usage') as authenticated"
        ).fetchone()
    assert publication == {
        "owner": "postgres",
        "pubinsert": True,
        "pubupdate": True,
        "pubdelete": True,
        "pubtruncate": True,
    }
    assert usage == {"anon": True, "authenticated": True}


def test_grant_regimes_differ_only_in_default_privileges(db_each_regime: Database) -> None:
    """The legacy regime opens a new public table to the API roles; the current one opens nothing."""
    with db_each_regime.connect() as conn, conn.transaction(force_rollback=True):
        conn.execute("create table public.fresh (id int)")
        row = conn.execute(
            "select has_table_privilege('anon', 'public.fresh', 'select') as anon_reads,"
            " has_table_privilege('authenticated', 'public.fresh', 'delete') as shopper_deletes"
        ).fetchone()
    opened = db_each_regime.regime == "legacy"
    assert row == {"anon_reads": opened, "shopper_deletes": opened}


def test_schemas_are_owned_as_on_supabase(db: Database) -> None:
    """The image creates `auth` as supabase_admin (GoTrue's role owns its tables, not the schema) and `extensions`
    as postgres. `supabase db reset --db-url` leaves schemas owned by supabase_admin alone and drops the others
    it does not know, so an `auth` owned by anyone else breaks the reset (as it did here)."""
    with db.connect() as conn:
        rows = conn.execute(
            "select nspname, pg_get_userbyid(nspowner) as owner from pg_namespace"
            " where nspname in ('auth', 'extensions') order by 1"
        ).fetchall()
        tables = conn.execute(
            "select distinct pg_get_userbyid(relowner) as owner from pg_class"
            " where relnamespace = 'auth'::regnamespace and relkind = 'r'"
        ).fetchall()
        postgres_creates_in_auth = conn.execute(
            "select has_schema_privilege('postgres', 'auth', 'create') as c"
        ).fetchone()
    assert {row["nspname"]: row["owner"] for row in rows} == {"auth": "supabase_admin", "extensions": "postgres"}
    assert tables == [{"owner": "supabase_auth_admin"}]
    assert postgres_creates_in_auth == {"c": False}


def test_auth_identities_has_gotrues_columns(db: Database) -> None:
    """auth.identities as GoTrue's migrations leave it (20210909172000, 20221215195800, 20231117164230)."""
    with db.connect() as conn:
        columns = conn.execute(
            "select column_name, data_type, is_nullable, is_generated from information_schema.columns"
            " where table_schema = 'auth' and table_name = 'identities' order by ordinal_position"
        ).fetchall()
        keys = conn.execute(
            "select conname, contype from pg_constraint where conrelid = 'auth.identities'::regclass"
            " and contype in ('p', 'u', 'f') order by 1"
        ).fetchall()
    assert [(c["column_name"], c["data_type"], c["is_nullable"], c["is_generated"]) for c in columns] == [
        ("provider_id", "text", "NO", "NEVER"),
        ("user_id", "uuid", "NO", "NEVER"),
        ("identity_data", "jsonb", "NO", "NEVER"),
        ("provider", "text", "NO", "NEVER"),
        ("last_sign_in_at", "timestamp with time zone", "YES", "NEVER"),
        ("created_at", "timestamp with time zone", "YES", "NEVER"),
        ("updated_at", "timestamp with time zone", "YES", "NEVER"),
        ("email", "text", "YES", "ALWAYS"),
        ("id", "uuid", "NO", "NEVER"),
    ]
    assert [(k["conname"], k["contype"]) for k in keys] == [
        ("identities_pkey", "p"),
        ("identities_provider_id_provider_unique", "u"),
        ("identities_user_id_fkey", "f"),
    ]
