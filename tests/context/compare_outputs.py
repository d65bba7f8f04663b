"""Whether pending migrations change what the shopper-facing context functions return: a check for refactors.

    .venv/bin/python -m tests.context.compare_outputs [--url URL] [--apply FILE ...] [--dump DIR]

On a database (by default the embedded one `make run` fills: Riley, Dana and Sam), in ONE transaction that is
rolled back at the end, so that now() is the same moment for every call and nothing is kept:
1. adds the tests' fixtures: the design document's example shopper (tests/context/example_shopper.py) and the
   shoppers of supabase/tests/database/context/explain_memory.test.sql;
2. captures, for every shopper with any memory or event, what each of them gets from explain_memory (every
   preference, pattern and insight, their first and last events, an unknown id), memory_context (default, other
   floors, queries, a bad floor), my_memories, my_order_figures, export_memories, every page of
   export_memories_page, forget_memory, confirm/reject_pending_change, answer_insight_question, clear_memories,
   and the worker's refresh of the stored document (each call in a savepoint that is rolled back);
3. applies the migrations the database has not recorded (or the files given with --apply);
4. captures the same again and reports every call whose result (or error) differs. Exit status 1 if any does.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from tests.conftest import create_user
from tests.context.example_shopper import load_example_shopper
from worker.config import Settings
from worker.db import schema
from worker.db.local import DATABASE
from worker.db.request import set_request_context, shopper_claims
from worker.db.server import LocalPostgres

UNKNOWN = "00000000-0000-4000-8000-00000000dead"
MAX_SHOPPERS = 12

# The shoppers of this pgTAP file: its statements from the second user to the first test, read as they are.
EXPLAIN_TEST = schema.PGTAP_DIR / "database" / "context" / "explain_memory.test.sql"
# Not in the pgTAP file: a question to answer, a removal asked for in chat, and more than a page (7 rows) of archived
# events (some logged at the same moment) and of forget records (forgotten in an order other than their keys'): the
# document orders each section its way, the pages page them by their keys.
MORE_FIXTURES = """
insert into public.customer_preferences (id, user_id, preference_type, preference_key, confidence, reason, source)
values ('00000000-0000-0000-0000-0000000000a5', 'ALICE'::uuid, 'brand', 'horizon', 1.00, 'You told us', 'explicit');
insert into public.memory_insights
  (id, user_id, insight_type, insight_key, insight_value, confidence, supporting_data, source, status)
values ('00000000-0000-0000-0000-0000000000d2', 'ALICE'::uuid, 'context', 'children', 'Shopping for young children',
        0.60, '{"because": "Baby food in 3 of your orders",
                "interaction_ids": ["00000000-0000-0000-0000-0000000000e2"]}', 'inferred', 'question');
update public.customer_preferences
   set pending_removal = jsonb_build_object('requested_at', now(), 'message', 'forget my peanut allergy',
                                            'interaction_id', '00000000-0000-0000-0000-0000000000e6')
 where id = '00000000-0000-0000-0000-0000000000a3';
insert into private.interaction_archive (user_id, interaction_type, interaction_key, interaction_value, created_at)
select 'ALICE'::uuid, 'cart_add', 'old-sku-' || g, jsonb_build_object('sku', 'old-sku-' || g),
       now() - interval '13 months' - (g % 5) * interval '1 day'
  from generate_series(1, 9) as g;
insert into private.memory_suppressions (user_id, memory_kind, memory_type, memory_key, forgotten_at)
select 'ALICE'::uuid, 'preference', (array['favorite', 'brand'])[1 + g % 2], 'forgotten-' || g,
       now() - g * interval '1 hour'
  from generate_series(1, 9) as g;
"""


def explain_fixture() -> str:
    text = EXPLAIN_TEST.read_text()
    start = text.index("\n", text.index("select tests.create_supabase_user('bob');"))
    fixture = text[start : text.index("select tests.authenticate_as('alice');")] + MORE_FIXTURES
    for name in ("alice", "bob"):
        fixture = fixture.replace(f"tests.get_supabase_uid('{name}')", f"'{name.upper()}'::uuid")
    return fixture


Capture = dict[str, Any]


# What a change leaves: the shopper's memories as my_memories lists them.
AFTERWARDS = "select jsonb_agg(m order by m.id) as memories_afterwards from public.my_memories as m"


def _call(
    conn: psycopg.Connection[Any], role: str, user: uuid.UUID | None, sql: str, params: Any = (), then: str = ""
) -> Any:
    """One request (as PostgREST would make it), and `then` another in the same transaction, rolled back: their
    rows, or the error."""
    try:
        with conn.transaction(force_rollback=True):
            set_request_context(conn, role, shopper_claims(user) if user is not None else None)
            with conn.cursor(row_factory=dict_row) as cursor:
                cursor.execute(sql.encode(), params)
                rows = cursor.fetchall()
                if then:
                    cursor.execute(then.encode())
                    rows += cursor.fetchall()
                return json.loads(json.dumps(rows, default=str))
    except psycopg.Error as error:
        return {"error": error.sqlstate, "message": str(error).split("\n")[0]}


def _ids(conn: psycopg.Connection[Any], user: uuid.UUID) -> dict[str, list[str]]:
    def column(sql: str) -> list[str]:
        return [str(row[0]) for row in conn.execute(sql.encode(), (user,))]

    return {
        "preferences": column("select id from public.customer_preferences where user_id = %s order by id"),
        "patterns": column("select id from public.shopping_patterns where user_id = %s order by id"),
        "insights": column("select id from public.memory_insights where user_id = %s order by id"),
        "pending": column(
            "select id from public.customer_preferences where user_id = %s and pending_removal is not null"
        ),
        "questions": column(
            "select id from public.memory_insights where user_id = %s and status = 'question' order by id"
        ),
        "events": [
            str(row[0])
            for row in conn.execute(
                "(select id from public.interaction_history where user_id = %(u)s order by created_at, id limit 10)"
                " union (select id from public.interaction_history where user_id = %(u)s"
                " order by created_at desc, id desc limit 10) order by 1",
                {"u": user},
            )
        ],
    }


def capture(conn: psycopg.Connection[Any], shoppers: list[uuid.UUID]) -> Capture:
    """Every shopper-facing output of the context functions for these shoppers."""
    out: Capture = {}
    for user in shoppers:
        ids = _ids(conn, user)
        memories = ids["preferences"] + ids["patterns"] + ids["insights"]

        def shopper(name: str, sql: str, params: Any = (), then: str = "", *, who: uuid.UUID = user) -> None:
            out[f"{who} {name}"] = _call(conn, "authenticated", who, sql, params, then)

        for memory_id in [*memories, *ids["events"], UNKNOWN]:
            shopper(f"explain_memory({memory_id})", "select public.explain_memory(%s) as r", (memory_id,))
        for floor, query in [
            (None, None),
            (0.0, None),
            (0.95, None),
            (0.5, "what milk should I get"),
            (0.7, "chicken dinner recipe for tonight"),
            (1.5, None),
        ]:
            if floor is None:
                shopper("memory_context()", "select public.memory_context() as r")
            else:
                shopper(
                    f"memory_context({floor}, {query!r})",
                    "select public.memory_context(%s::numeric, %s::text) as r",
                    (floor, query),
                )
        shopper("my_memories", "select * from public.my_memories order by id")
        shopper("my_order_figures", "select public.my_order_figures() as r")
        shopper("export_memories", "select public.export_memories() as r")
        after: str | None = None
        for page in range(500):
            result = _call(conn, "authenticated", user, "select public.export_memories_page(%s, 7) as r", (after,))
            out[f"{user} export_memories_page #{page}"] = result
            if isinstance(result, dict) or result[0]["r"]["next"] is None:
                break
            after = result[0]["r"]["next"]
        shopper("export_memories_page(bad)", "select public.export_memories_page('{\"section\": 1}', 7) as r")
        for memory_id in [*memories, *ids["events"][:2], UNKNOWN]:
            shopper(
                f"forget_memory({memory_id})",
                "select public.forget_memory(%s) as r",
                (memory_id,),
                AFTERWARDS,
            )
        for memory_id in [*ids["pending"], ids["preferences"][0] if ids["preferences"] else UNKNOWN]:
            shopper(
                f"confirm_pending_change({memory_id})",
                "select public.confirm_pending_change(%s) as r",
                (memory_id,),
                AFTERWARDS,
            )
            shopper(
                f"reject_pending_change({memory_id})",
                "select public.reject_pending_change(%s) as r",
                (memory_id,),
                AFTERWARDS,
            )
        for memory_id in [*ids["questions"], UNKNOWN]:
            for answer in (True, False):
                shopper(
                    f"answer_insight_question({memory_id}, {answer})",
                    "select public.answer_insight_question(%s, %s) as r",
                    (memory_id, answer),
                    AFTERWARDS,
                )
        shopper("clear_memories", "select public.clear_memories() as r", (), "select public.export_memories() as r")
        out[f"{user} worker_refresh_context"] = _call(
            conn,
            "service_role",
            None,
            "select public.worker_refresh_context(%s) as stored, public.worker_refresh_stale_contexts(5) as swept",
            (user,),
        )
        with conn.transaction(force_rollback=True):
            conn.execute("select private.refresh_memory_context(%s)", (user,))
            row = conn.execute(
                "select document, valid_until::text from private.memory_context_cache where user_id = %s", (user,)
            ).fetchone()
            out[f"{user} stored document"] = json.loads(json.dumps(row, default=str))
    return out


def shoppers_with_memory(conn: psycopg.Connection[Any]) -> list[uuid.UUID]:
    rows = conn.execute(
        "select u.id from auth.users as u"
        " where exists (select from public.customer_preferences p where p.user_id = u.id)"
        " or exists (select from public.shopping_patterns sp where sp.user_id = u.id)"
        " or exists (select from public.memory_insights mi where mi.user_id = u.id)"
        " or exists (select from public.interaction_history ih where ih.user_id = u.id)"
        " order by u.email limit %s",
        (MAX_SHOPPERS,),
    ).fetchall()
    return [row[0] for row in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--url", help="a database URL as postgres (default: the embedded database of `make run`)")
    parser.add_argument("--apply", nargs="*", type=Path, help="SQL files to apply (default: unrecorded migrations)")
    parser.add_argument("--dump", type=Path, help="write before.json and after.json into this folder")
    args = parser.parse_args(argv)
    url = args.url
    if url is None:
        settings = Settings()
        url = LocalPostgres(settings.data_dir, settings.pg_bin).ensure_running().url("postgres", DATABASE)
    with psycopg.connect(url) as conn:
        if args.apply is not None:
            changes: list[tuple[str, str]] = [(str(path), path.read_text()) for path in args.apply]
        else:
            recorded = set(schema.recorded_migrations(conn))
            changes = [(m.path.name, m.text()) for m in schema.migrations() if m.version not in recorded]
        try:
            with conn.transaction(force_rollback=True):
                alice, bob = create_user(conn, "alice@compare.test"), create_user(conn, "bob@compare.test")
                conn.execute(explain_fixture().replace("ALICE", str(alice)).replace("BOB", str(bob)).encode())
                load_example_shopper(conn, "user123@compare.test")
                shoppers = shoppers_with_memory(conn)
                emails = {
                    str(row[0]): str(row[1])
                    for row in conn.execute("select id, email from auth.users where id = any(%s)", (shoppers,))
                }
                before = capture(conn, shoppers)
                for name, text in changes:
                    print(f"applying {name}")
                    conn.execute(text.encode())
                after = capture(conn, shoppers)
        finally:
            conn.rollback()
    if args.dump:
        args.dump.mkdir(parents=True, exist_ok=True)
        for name, data in (("before", before), ("after", after)):
            (args.dump / f"{name}.json").write_text(json.dumps(data, indent=1, sort_keys=True))
    differ = sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))
    errors = sum(1 for value in before.values() if isinstance(value, dict) and "error" in value)
    print(
        f"{len(shoppers)} shoppers, {len(before)} calls ({errors} of them errors, as expected for bad input), "
        f"{len(changes)} change(s) applied: {len(differ)} differ"
    )
    for key in differ[:20]:
        user, call = key.split(" ", 1)
        print(f"  DIFFERS: {emails.get(user, user)} {call}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
