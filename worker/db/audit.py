"""Security audits of a database's API surface: the checks that must find nothing on ours.

Used by the tests (under both grant regimes) and runnable against any database, Supabase's included, by an
operator who wants to know that no table, view or function leaks past row-level security."""

from __future__ import annotations

from typing import Any

import psycopg

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

AUDITS = {
    "tables without row-level security": TABLES_WITHOUT_RLS,
    "functions without search_path = ''": FUNCTIONS_WITHOUT_FIXED_SEARCH_PATH,
    "functions executable by anon or PUBLIC": FUNCTIONS_EXECUTABLE_BY_ANON,
    "tables and views anon can reach": RELATIONS_REACHABLE_BY_ANON,
    "views without security_invoker": VIEWS_WITHOUT_SECURITY_INVOKER,
}


def audit(conn: psycopg.Connection[Any], schemas: tuple[str, ...] = AUDITED_SCHEMAS) -> dict[str, list[str]]:
    """Every finding, by audit; an empty list everywhere means the API surface is closed."""
    findings = {}
    for name, query in AUDITS.items():
        rows = conn.execute(query, {"schemas": list(schemas)}).fetchall()
        findings[name] = [row["object"] if isinstance(row, dict) else row[0] for row in rows]
    return findings
