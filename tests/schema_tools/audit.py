"""Audits of a database's API surface and of the SQL we ship: the checks that must find nothing on ours.

Used by the tests (under both grant regimes) and runnable against any database, Supabase's included, by an
operator who wants to know that no table, view or function leaks past row-level security, and that nothing we
ship would be refused on Supabase by what its Postgres enforces and plain PostgreSQL does not: supautils (no
statement on a reserved role) and safeupdate (no UPDATE or DELETE without WHERE in an API request)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
from pglast import parse_plpgsql, parse_sql
from pglast.ast import RawStmt
from pglast.parser import ParseError
from psycopg.rows import tuple_row

AUDITED_SCHEMAS = ("public", "private")

# Tables (and partitions) without row-level security.
TABLES_WITHOUT_RLS = """
select n.nspname || '.' || c.relname as object
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = any(%(schemas)s) and c.relkind in ('r', 'p') and not c.relrowsecurity
 order by 1
"""

# Functions whose search_path is not pinned to '' (a definer function with a mutable path can be hijacked).
FUNCTIONS_WITHOUT_FIXED_SEARCH_PATH = """
select p.oid::regprocedure::text as object
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
 where n.nspname = any(%(schemas)s)
   and not coalesce(p.proconfig @> array['search_path=""'], false)
   and not exists (select from pg_depend d where d.objid = p.oid and d.deptype = 'e')
 order by 1
"""

# Functions anon or every role (PUBLIC) may execute.
FUNCTIONS_EXECUTABLE_BY_ANON = """
select p.oid::regprocedure::text as object
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
 where n.nspname = any(%(schemas)s)
   and not exists (select from pg_depend d where d.objid = p.oid and d.deptype = 'e')
   and (has_function_privilege('anon', p.oid, 'execute')
        or exists (select from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a where a.grantee = 0))
 order by 1
"""

# Tables and views anon holds any privilege on.
RELATIONS_REACHABLE_BY_ANON = """
select n.nspname || '.' || c.relname as object
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = any(%(schemas)s) and c.relkind in ('r', 'p', 'v', 'm')
   and (has_table_privilege('anon', c.oid, 'select') or has_table_privilege('anon', c.oid, 'insert')
        or has_table_privilege('anon', c.oid, 'update') or has_table_privilege('anon', c.oid, 'delete'))
 order by 1
"""

# Views that run with their owner's rights (postgres bypasses RLS, so such a view leaks every row).
VIEWS_WITHOUT_SECURITY_INVOKER = """
select n.nspname || '.' || c.relname as object
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = 'public' and c.relkind = 'v'
   and not coalesce(c.reloptions @> array['security_invoker=true'], false)
 order by 1
"""

# Foreign keys whose columns do not lead a plain (non-partial, valid) index: deleting a referenced row (a shopper's
# account, on which everything cascades) must then scan the referencing table. Splinter's lint 0001 counts a
# partial index as cover; a cascade cannot use one, so this audit does not.
FOREIGN_KEYS_WITHOUT_COVERING_INDEX = """
select format('%%I.%%I.%%I', n.nspname, c.relname, con.conname) as object
  from pg_constraint con
  join pg_class c on c.oid = con.conrelid
  join pg_namespace n on n.oid = c.relnamespace
 where con.contype = 'f' and n.nspname = any(%(schemas)s)
   and not exists (
     select from pg_index i
      where i.indrelid = con.conrelid and i.indisvalid and i.indpred is null
        and i.indnkeyatts >= cardinality(con.conkey)
        and (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(con.conkey)] @> con.conkey
        and (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(con.conkey)] <@ con.conkey)
 order by 1
"""

# Security-definer functions a client role may execute, and why each is meant to be one. Splinter (lints 0028,
# 0029) warns about every such function: it runs with its owner's rights, past RLS. Ours are the memory API,
# which must write or read what shoppers may not touch directly, or call the private helpers; each takes the
# shopper from the JWT only (no user id argument) and filters every statement on it. A definer function not listed
# here is a finding.
DEFINER_API_FUNCTIONS = {
    "record_interaction(text,text,jsonb,uuid,text)": "logs an event; shoppers may not insert into the event log",
    "record_interactions(jsonb)": "logs a batch of events; shoppers may not insert into the event log",
    "record_cart_add(jsonb,uuid)": "logs the add for the worker; shoppers may not insert into the event log",
    "record_checkout(jsonb)": "logs the order; shoppers may not insert into the event log",
    "record_swap(jsonb,jsonb,boolean,text)": "logs the swap for the worker; shoppers may not insert events",
    "record_message(text,uuid,text)": "logs the shopper's words for the worker; shoppers may not insert events",
    "remember_preference(text,text,text,text)": "stores an explicit preference; shoppers may not write preferences",
    "memory_context(numeric,text)": "reads the precomputed document in private.memory_context_cache",
    "explain_memory(uuid)": "calls the private helpers (the identity guard, the pattern window) clients cannot",
    "forget_memory(uuid)": "deletes a memory and records its suppression in private.memory_suppressions",
    "confirm_pending_change(uuid)": "forgets an allergy or a diet through forget_memory, once the shopper confirms",
    "reject_pending_change(uuid)": "clears a pending removal; shoppers may not update preferences",
    "answer_insight_question(uuid,boolean)": "confirms or dismisses a suggested insight; shoppers may not write "
    "insights, and a No is recorded in private.memory_suppressions",
    "my_order_figures()": "counts the shopper's orders through private.checkouts, which clients cannot execute",
    "clear_memories()": "deletes everything of the shopper's, private.interaction_archive included",
    "export_memories()": "reads everything of the shopper's, the private archive and cache included",
    "export_memories_page(text,integer)": "reads everything of the shopper's a page at a time, the private archive "
    "and cache included",
}
SECURITY_DEFINER_FUNCTIONS_FOR_CLIENTS = """
select p.oid::regprocedure::text as object
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
 where n.nspname = any(%(schemas)s) and p.prosecdef
   and (has_function_privilege('anon', p.oid, 'execute') or has_function_privilege('authenticated', p.oid, 'execute'))
   and p.oid::regprocedure::text <> all(%(definer_api)s)
 order by 1
"""

AUDITS = {
    "tables without row-level security": TABLES_WITHOUT_RLS,
    "functions without search_path = ''": FUNCTIONS_WITHOUT_FIXED_SEARCH_PATH,
    "functions executable by anon or PUBLIC": FUNCTIONS_EXECUTABLE_BY_ANON,
    "tables and views anon can reach": RELATIONS_REACHABLE_BY_ANON,
    "views without security_invoker": VIEWS_WITHOUT_SECURITY_INVOKER,
    "foreign keys without a covering index": FOREIGN_KEYS_WITHOUT_COVERING_INDEX,
    "security-definer functions clients can run, not listed as API": SECURITY_DEFINER_FUNCTIONS_FOR_CLIENTS,
}


def audit(conn: psycopg.Connection[Any], schemas: tuple[str, ...] = AUDITED_SCHEMAS) -> dict[str, list[str]]:
    """Every finding, by audit; an empty list everywhere means the API surface is closed."""
    findings = {}
    parameters = {"schemas": list(schemas), "definer_api": list(DEFINER_API_FUNCTIONS)}
    for name, query in AUDITS.items():
        rows = conn.cursor(row_factory=tuple_row).execute(query, parameters).fetchall()
        findings[name] = [row[0] for row in rows]
    findings["UPDATE or DELETE without WHERE in functions"] = writes_without_where(conn, schemas)
    return findings


# -- safeupdate ------------------------------------------------------------------------------------------------------
# On Supabase, PostgREST's sessions load safeupdate (authenticator's session_preload_libraries), which refuses every
# UPDATE or DELETE without a WHERE clause in the request, inside the functions it calls and the triggers they fire
# included: "DELETE requires a WHERE clause" (21000), a 400. Plain PostgreSQL (and Debian) has no safeupdate, so
# the stand-in cannot refuse them; this audit parses every function body with PostgreSQL's own parser (pglast)
# and names each such statement. A statement meant to touch every row says so: `where true`.
FUNCTION_SOURCES = """
select p.oid::regprocedure::text as name, l.lanname as language, p.prosrc as body,
       case when l.lanname = 'plpgsql' then pg_get_functiondef(p.oid) end as definition
  from pg_proc p
  join pg_namespace n on n.oid = p.pronamespace
  join pg_language l on l.oid = p.prolang
 where n.nspname = any(%(schemas)s) and l.lanname in ('sql', 'plpgsql') and p.prokind in ('f', 'p')
   and not exists (select from pg_depend d where d.objid = p.oid and d.deptype = 'e')
 order by 1
"""


def writes_without_where(conn: psycopg.Connection[Any], schemas: tuple[str, ...] = AUDITED_SCHEMAS) -> list[str]:
    """`function: statement` for each UPDATE or DELETE without WHERE in a function of `schemas`."""
    findings: list[str] = []
    with conn.cursor(row_factory=tuple_row) as cursor:
        functions = cursor.execute(FUNCTION_SOURCES, {"schemas": list(schemas)}).fetchall()
        other_schemas = [row[0] for row in cursor.execute(OTHER_SCHEMAS).fetchall()]
    for name, language, body, definition in functions:
        statements = _plpgsql_statements(definition, other_schemas) if language == "plpgsql" else [body]
        for text in statements:
            findings.extend(f"{name}: {kind} {table}" for kind, table in _unfiltered_writes(text))
    return findings


OTHER_SCHEMAS = "select nspname from pg_namespace where nspname not in ('public', 'pg_catalog') order by 1"


def _plpgsql_statements(definition: str, other_schemas: list[str]) -> list[str]:
    """The SQL text of every statement and expression in a PL/pgSQL function. The PL/pgSQL parser resolves
    qualified type names (`private.jobs%rowtype`) in public and pg_catalog only, so other schemas are spelled as
    public's `<schema>__<name>` for the parse, and spelled back in what is returned."""
    if not other_schemas:
        return [node["query"] for node in _nodes(parse_plpgsql(definition)) if isinstance(node.get("query"), str)]
    qualified = re.compile(r"\b(" + "|".join(re.escape(name) for name in other_schemas) + r")\.")
    disguised = qualified.sub(lambda match: f"public.{match.group(1)}__", definition)
    restored = re.compile(r"\bpublic\.(" + "|".join(re.escape(name) for name in other_schemas) + r")__")
    return [
        restored.sub(lambda match: f"{match.group(1)}.", node["query"])
        for node in _nodes(parse_plpgsql(disguised))
        if isinstance(node.get("query"), str)
    ]


def _unfiltered_writes(text: str) -> list[tuple[str, str]]:
    try:
        parsed = parse_sql(text)
    except ParseError:
        return []  # an expression (`v_total + 1`), not a statement
    found = []
    for statement in _trees(parsed):
        for node in _nodes(statement):
            if node.get("@") in ("UpdateStmt", "DeleteStmt") and "whereClause" not in node:
                relation = node["relation"]
                table = ".".join(part for part in (relation.get("schemaname"), relation["relname"]) if part)
                found.append(("UPDATE" if node["@"] == "UpdateStmt" else "DELETE", table))
    return found


def _trees(parsed: tuple[RawStmt, ...]) -> list[dict[str, Any]]:
    """pglast's statements as plain trees of dicts, each node's type under "@"."""
    return [raw.stmt(depth=None, skip_none=True) for raw in parsed if raw.stmt is not None]


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    """Every dict in a nested structure of dicts, lists and tuples (pglast's and plpgsql's parse trees)."""
    if isinstance(tree, dict):
        yield tree
        for value in tree.values():
            yield from _nodes(value)
    elif isinstance(tree, list | tuple):
        for value in tree:
            yield from _nodes(value)


# -- supautils -------------------------------------------------------------------------------------------------------
# On Supabase, supautils protects the platform's roles from postgres (supabase/postgres ansible vars): a reserved
# role cannot be created, altered, renamed or dropped (the API roles marked * may have their settings changed), a
# reserved membership cannot be granted or revoked, and postgres cannot act for those roles (default privileges
# FOR ROLE, OWNER TO). Plain PostgreSQL lets a CREATEROLE postgres do much of this, so a migration could pass here
# and fail on Supabase; this audit reads the SQL itself.
RESERVED_ROLES = frozenset(
    {
        "supabase_admin",
        "supabase_auth_admin",
        "supabase_storage_admin",
        "supabase_read_only_user",
        "supabase_realtime_admin",
        "supabase_replication_admin",
        "dashboard_user",
        "pgbouncer",
        "service_role",
        "authenticator",
        "authenticated",
        "anon",
    }
)
SETTINGS_ALLOWED = frozenset({"service_role", "authenticator", "authenticated", "anon"})
RESERVED_MEMBERSHIPS = frozenset(
    {"pg_read_server_files", "pg_write_server_files", "pg_execute_server_program"}
    | (RESERVED_ROLES - {"service_role", "authenticated", "anon"})
)


def reserved_role_statements(text: str) -> list[str]:
    """Each statement of `text` (a migration, the seed) that supautils would refuse, with the role it names."""
    findings: list[str] = []
    for statement in _trees(parse_sql(text)):
        if statement["@"] == "DoStmt":  # an anonymous block: the statements in its body
            body = next(node["arg"]["sval"] for node in statement["args"] if node["defname"] == "as")
            wrapped = f"create function pg_temp.block() returns void language plpgsql as $block${body}$block$"
            findings.extend(
                finding
                for query in _plpgsql_statements(wrapped, [])
                for finding in _quietly(reserved_role_statements, query)
            )
            continue
        kind = statement["@"]
        for role in _reserved_roles_touched(statement):
            findings.append(f"{kind} on reserved role {role}")
    return findings


def _quietly(check: Callable[[str], list[str]], text: str) -> list[str]:
    """`check(text)`, or nothing when `text` is an expression rather than a statement."""
    try:
        return check(text)
    except ParseError:
        return []


def _role_names(nodes: Any) -> set[str]:
    return {node["rolename"] for node in _nodes(nodes) if node.get("@") == "RoleSpec" and "rolename" in node}


def _reserved_roles_touched(statement: dict[str, Any]) -> list[str]:
    kind = statement["@"]
    touched: set[str] = set()
    if kind == "CreateRoleStmt":
        touched = {statement["role"]} & RESERVED_ROLES
    elif kind in ("AlterRoleStmt", "DropRoleStmt"):
        touched = _role_names(statement.get("role") or statement.get("roles")) & RESERVED_ROLES
    elif kind == "AlterRoleSetStmt":
        touched = _role_names(statement.get("role")) & (RESERVED_ROLES - SETTINGS_ALLOWED)
    elif kind == "RenameStmt" and statement["renameType"]["name"] == "OBJECT_ROLE":
        touched = {statement["subname"], statement["newname"]} & RESERVED_ROLES
    elif kind == "GrantRoleStmt":
        granted = {node["priv_name"] for node in _nodes(statement["granted_roles"]) if "priv_name" in node}
        touched = granted & RESERVED_MEMBERSHIPS
    elif kind == "AlterDefaultPrivilegesStmt":
        for option in statement.get("options", ()):
            if option["defname"] == "roles":
                touched |= _role_names(option["arg"]) & RESERVED_ROLES
    # OWNER TO a reserved role, in any statement (ALTER TABLE, ALTER FUNCTION, CREATE SCHEMA ... AUTHORIZATION).
    for node in _nodes(statement):
        for key in ("newowner", "authrole"):
            if isinstance(node.get(key), dict):
                touched |= _role_names(node[key]) & RESERVED_ROLES
    return sorted(touched)
