"""What a database defines, object by object, as text that two databases can be compared on.

The drift test builds one database from supabase/migrations/ and one from supabase/schemas/ and compares their
`snapshot`s: every schema, table and view, column, constraint, index, policy, trigger, function (its whole
definition: arguments, body, volatility, security, settings), domain, grant, comment and publication membership
of the project's schemas. `differences` names each object that is missing on one side or defined differently.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import tuple_row

PROJECT_SCHEMAS = ("public", "private")

# Each query returns (key, definition) rows for the schemas in %(schemas)s. Grants are aclitem arrays sorted as
# text, so that the order in which they were granted does not count.
_QUERIES = {
    "schema": """
        select n.nspname, concat_ws(' | ', pg_get_userbyid(n.nspowner),
               array(select a::text from unnest(n.nspacl) as a order by 1)::text,
               obj_description(n.oid, 'pg_namespace'))
        from pg_namespace as n where n.nspname = any (%(schemas)s)""",
    "relation": """
        select n.nspname || '.' || c.relname, concat_ws(' | ', c.relkind::text, pg_get_userbyid(c.relowner),
               'rls=' || c.relrowsecurity, 'force_rls=' || c.relforcerowsecurity, c.reloptions::text,
               array(select a::text from unnest(c.relacl) as a order by 1)::text,
               case when c.relkind in ('v', 'm') then pg_get_viewdef(c.oid) end,
               obj_description(c.oid, 'pg_class'))
        from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
        where n.nspname = any (%(schemas)s) and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')""",
    "column": """
        select n.nspname || '.' || c.relname || '.' || a.attname, concat_ws(' | ', format_type(a.atttypid, a.atttypmod),
               case when a.attnotnull then 'not null' end, pg_get_expr(d.adbin, d.adrelid),
               nullif(a.attidentity, ''), nullif(a.attgenerated, ''),
               case when a.attcollation <> 0 then a.attcollation::regcollation::text end,
               array(select x::text from unnest(a.attacl) as x order by 1)::text,
               col_description(c.oid, a.attnum))
        from pg_attribute as a join pg_class as c on c.oid = a.attrelid
        join pg_namespace as n on n.oid = c.relnamespace
        left join pg_attrdef as d on d.adrelid = a.attrelid and d.adnum = a.attnum
        where n.nspname = any (%(schemas)s) and c.relkind in ('r', 'p', 'v', 'm', 'f')
          and a.attnum > 0 and not a.attisdropped""",
    "constraint": """
        select n.nspname || '.' || coalesce(c.relname, t.typname) || '.' || k.conname,
               concat_ws(' | ', pg_get_constraintdef(k.oid), 'deferrable=' || k.condeferrable,
                         'deferred=' || k.condeferred, obj_description(k.oid, 'pg_constraint'))
        from pg_constraint as k join pg_namespace as n on n.oid = k.connamespace
        left join pg_class as c on c.oid = k.conrelid left join pg_type as t on t.oid = k.contypid
        where n.nspname = any (%(schemas)s)""",
    "index": """
        select n.nspname || '.' || c.relname, pg_get_indexdef(i.indexrelid)
        from pg_index as i join pg_class as c on c.oid = i.indexrelid join pg_namespace as n on n.oid = c.relnamespace
        where n.nspname = any (%(schemas)s)""",
    "policy": """
        select p.schemaname || '.' || p.tablename || '.' || p.policyname,
               concat_ws(' | ', p.permissive, p.cmd, p.roles::text, p.qual, p.with_check)
        from pg_policies as p where p.schemaname = any (%(schemas)s)""",
    "trigger": """
        select n.nspname || '.' || c.relname || '.' || t.tgname, pg_get_triggerdef(t.oid)
        from pg_trigger as t join pg_class as c on c.oid = t.tgrelid join pg_namespace as n on n.oid = c.relnamespace
        where n.nspname = any (%(schemas)s) and not t.tgisinternal""",
    "function": """
        select n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
               concat_ws(' | ', pg_get_userbyid(p.proowner),
                         array(select a::text from unnest(p.proacl) as a order by 1)::text,
                         obj_description(p.oid, 'pg_proc'), pg_get_functiondef(p.oid))
        from pg_proc as p join pg_namespace as n on n.oid = p.pronamespace
        where n.nspname = any (%(schemas)s) and p.prokind in ('f', 'p', 'w')""",
    "type": """
        select n.nspname || '.' || t.typname, concat_ws(' | ', t.typtype::text, pg_get_userbyid(t.typowner),
               case when t.typtype = 'd' then format_type(t.typbasetype, t.typtypmod) end,
               case when t.typnotnull then 'not null' end, t.typdefault,
               case when t.typtype = 'e' then array(select e.enumlabel from pg_enum as e
                                                    where e.enumtypid = t.oid order by e.enumsortorder)::text end,
               array(select a::text from unnest(t.typacl) as a order by 1)::text,
               obj_description(t.oid, 'pg_type'))
        from pg_type as t join pg_namespace as n on n.oid = t.typnamespace
        where n.nspname = any (%(schemas)s) and t.typtype in ('d', 'e')""",
    "default privileges": """
        select concat_ws('.', coalesce(n.nspname, '(all schemas)'), pg_get_userbyid(d.defaclrole), d.defaclobjtype),
               array(select a::text from unnest(d.defaclacl) as a order by 1)::text
        from pg_default_acl as d left join pg_namespace as n on n.oid = d.defaclnamespace
        where n.nspname is null or n.nspname = any (%(schemas)s)""",
    "publication": """
        select p.pubname || ' ' || p.schemaname || '.' || p.tablename, concat_ws(' | ', p.attnames::text, p.rowfilter)
        from pg_publication_tables as p where p.schemaname = any (%(schemas)s)""",
}


def snapshot(conn: psycopg.Connection[Any], schemas: tuple[str, ...] = PROJECT_SCHEMAS) -> dict[str, str]:
    """Every object of `schemas`, keyed '<kind> <qualified name>', with its definition as text."""
    objects: dict[str, str] = {}
    with conn.cursor(row_factory=tuple_row) as cursor:
        for kind, query in _QUERIES.items():
            for key, definition in cursor.execute(query, {"schemas": list(schemas)}).fetchall():
                objects[f"{kind} {key}"] = definition or ""
    return objects


def differences(left: dict[str, str], right: dict[str, str], names: tuple[str, str] = ("left", "right")) -> list[str]:
    """One line per object that is not defined the same on both sides, naming it."""
    lines = []
    for key in sorted(left.keys() | right.keys()):
        if key not in right:
            lines.append(f"{key}: only in {names[0]}")
        elif key not in left:
            lines.append(f"{key}: only in {names[1]}")
        elif left[key] != right[key]:
            lines.append(f"{key}: differs\n  {names[0]}: {left[key]}\n  {names[1]}: {right[key]}")
    return lines
