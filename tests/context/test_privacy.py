"""The shopper's control over their memory, end to end on a real database: forget, clear and export touch and
reveal only the caller's rows; a forgotten inferred memory stays gone when it is recomputed from old evidence; the
export holds exactly what the tables hold."""

from __future__ import annotations

import json
from typing import Any, get_args
from uuid import UUID

import psycopg
import pytest

from tests.conftest import Database, acting_as, create_user
from tests.context.example_shopper import load_example_shopper
from worker.client.responses import ClearResult, ExportSection, MemoryExport
from worker.prompt import calls

# Every table that holds rows about a shopper, and how to read one shopper's rows as postgres.
TABLES = {
    "preferences": "public.customer_preferences",
    "patterns": "public.shopping_patterns",
    "insights": "public.memory_insights",
    "interactions": "public.interaction_history",
    "archived_interactions": "private.interaction_archive",
    "suppressions": "private.memory_suppressions",
    "precomputed_contexts": "private.memory_context_cache",
}

# Tables with a user_id that are no section of the export, and why: none is data the shopper gave or we inferred.
NOT_SECTIONS = {
    "private.extracted_messages": "what the worker read in a message, deleted with the message (a trigger on the log)",
    "private.jobs": "the worker's queue: work to do for a shopper",
    "private.retention_moves": "retention's progress through a month, until the month is dropped",
    "private.shopper_volume": "how much the shopper holds, for the limits, kept by triggers on the log",
}
TABLES_WITH_A_USER_ID = """
select format('%I.%I', n.nspname, c.relname) as relation
  from pg_class as c
  join pg_namespace as n on n.oid = c.relnamespace
  join pg_attribute as a on a.attrelid = c.oid and a.attname = 'user_id' and not a.attisdropped
 where n.nspname in ('public', 'private') and c.relkind in ('r', 'p') and not c.relispartition
 order by 1
"""


def test_every_table_about_a_shopper_is_a_section_cleared_and_exported(db: Database) -> None:
    """private.memory_sections is the one list clear_memories, export_memories and export_memories_page read: a
    new table with a user_id is in it or in NOT_SECTIONS, and the client's models name the same sections."""
    with db.connect() as conn:
        sections = [
            (row["section"], row["relation"])
            for row in conn.execute("select section, relation from private.memory_sections() order by ordinal")
        ]
        tables = [row["relation"] for row in conn.execute(TABLES_WITH_A_USER_ID)]
    assert sections == list(TABLES.items())
    assert sorted(tables) == sorted([*TABLES.values(), *NOT_SECTIONS])
    names = tuple(name for name, _ in sections)
    assert get_args(ExportSection) == names
    assert tuple(ClearResult.model_fields) == names
    assert tuple(MemoryExport.model_fields)[4:] == names


def snapshot(conn: psycopg.Connection[Any], user_id: UUID) -> dict[str, list[str]]:
    """Every row about `user_id`, per table, as sorted JSON texts (as postgres, outside RLS)."""
    rows = {}
    for name, table in TABLES.items():
        query = f"select to_jsonb(t) as r from {table} as t where t.user_id = %s"
        rows[name] = sorted(json.dumps(row["r"], sort_keys=True) for row in conn.execute(query, (user_id,)))
    return rows


def add_history(conn: psycopg.Connection[Any], user_id: UUID) -> None:
    conn.execute(
        "insert into public.interaction_history (user_id, interaction_type, interaction_key, interaction_value)"
        " select %s, 'cart_add', 'milk-whole-gal', '{\"sku\": \"milk-whole-gal\"}' from generate_series(1, 3)",
        (user_id,),
    )
    conn.execute(
        "insert into private.interaction_archive (user_id, interaction_type, interaction_key, created_at)"
        " values (%s, 'cart_add', 'old-sku', now() - interval '13 months')",
        (user_id,),
    )


@pytest.fixture
def two_shoppers(db: Database) -> tuple[Database, UUID, UUID]:
    with db.connect() as conn:
        alice = load_example_shopper(conn, "alice@example.test")
        bob = load_example_shopper(conn, "bob@example.test")
        for user_id in (alice, bob):
            add_history(conn, user_id)
        conn.execute("select private.suppress_memory(%s, 'preference', 'brand', 'heinz')", (bob,))
    return db, alice, bob


def test_forget_clear_and_export_never_touch_or_reveal_another_shopper(
    two_shoppers: tuple[Database, UUID, UUID],
) -> None:
    db, alice, bob = two_shoppers
    with db.connect() as conn:
        bobs_rows = snapshot(conn, bob)
        bobs_ids = [
            row["id"] for row in conn.execute("select id from public.customer_preferences where user_id = %s", (bob,))
        ]

        export = calls.export_memories(conn, alice)
        assert str(bob) not in export.model_dump_json()
        # Alice cannot forget or explain bob's memories: the same 404 as an unknown id.
        for memory_id in bobs_ids:
            with pytest.raises(calls.NotFound, match=r"No memory with that id\."):
                calls.forget_memory(conn, alice, memory_id)
            with pytest.raises(calls.NotFound, match=r"No memory with that id\."):
                calls.explain_memory(conn, alice, memory_id)
        alices_diet = next(m.id for m in calls.my_memories(conn, alice) if m.memory_key == "vegetarian")
        calls.forget_memory(conn, alice, alices_diet)
        cleared = calls.clear_memories(conn, alice)

        assert snapshot(conn, bob) == bobs_rows
        assert all(rows == [] for rows in snapshot(conn, alice).values())
    assert cleared.preferences == 8 and cleared.patterns == 5 and cleared.insights == 5
    assert cleared.interactions == 3 and cleared.archived_interactions == 1 and cleared.suppressions == 1
    assert cleared.precomputed_contexts == 1


def test_the_export_holds_exactly_the_rows_the_tables_hold(two_shoppers: tuple[Database, UUID, UUID]) -> None:
    db, alice, _ = two_shoppers
    with db.connect() as conn:
        calls.forget_memory(conn, alice, calls.my_memories(conn, alice)[0].id)  # type: ignore[arg-type]
        export = calls.export_memories(conn, alice)
        rows = snapshot(conn, alice)
    assert export.format == "customer-memory-export" and export.version == 1 and export.user_id == alice
    for name in TABLES:
        exported = sorted(json.dumps(row, sort_keys=True) for row in getattr(export, name))
        assert len(exported) == len(rows[name]) > 0, name
        assert exported == rows[name], name


# A stand-in for a recompute, reduced to the rule under test: evidence counts only when it is newer than
# private.evidence_since(...) (supabase/schemas/12_memory_helpers.sql), the moment the shopper forgot the memory.
# It counts cart adds of a SKU since then and upserts a favorite from more than 5 (never over an explicit one).
# The worker's own favorite rule (private.preference_candidates, supabase/schemas/32_worker_helpers.sql) meets
# forgetting in test_forget_and_recompute.py.
RECOMPUTE_FAVORITES = """
insert into public.customer_preferences as p
  (user_id, preference_type, preference_key, confidence, reason, source, times_confirmed)
select %(user)s, 'favorite', adds.sku, least(0.95, 0.5 + adds.n * 0.05), 'Added to cart ' || adds.n || ' times',
       'inferred', adds.n
from (select ih.interaction_key as sku, count(*) as n
        from public.interaction_history as ih
       where ih.user_id = %(user)s and ih.interaction_type = 'cart_add'
         and ih.created_at > private.evidence_since(%(user)s, 'preference', 'favorite', ih.interaction_key)
       group by ih.interaction_key) as adds
where adds.n > 5
on conflict (user_id, preference_type, preference_key) do update
  set confidence = excluded.confidence, reason = excluded.reason, times_confirmed = excluded.times_confirmed
  where p.source <> 'explicit'
"""


def _favorite(conn: psycopg.Connection[Any], user_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        "select id, confidence, times_confirmed from public.customer_preferences"
        " where user_id = %s and preference_type = 'favorite' and preference_key = 'oat-milk'",
        (user_id,),
    ).fetchone()


def _add_oat_milk(conn: psycopg.Connection[Any], user_id: UUID, times: int) -> None:
    conn.execute(
        "insert into public.interaction_history (user_id, interaction_type, interaction_key, interaction_value)"
        " select %s, 'cart_add', 'oat-milk', '{\"sku\": \"oat-milk\"}' from generate_series(1, %s)",
        (user_id, times),
    )


def test_a_forgotten_inferred_memory_stays_gone_when_recomputed(db: Database) -> None:
    with db.connect() as conn:
        user_id = create_user(conn)
        _add_oat_milk(conn, user_id, 7)
        conn.execute(RECOMPUTE_FAVORITES, {"user": user_id})
        favorite = _favorite(conn, user_id)
        assert favorite is not None and favorite["times_confirmed"] == 7

        forgotten = calls.forget_memory(conn, user_id, favorite["id"])
        assert forgotten.suppressed and forgotten.memory_key == "oat-milk"
        conn.execute(RECOMPUTE_FAVORITES, {"user": user_id})
        assert _favorite(conn, user_id) is None, "old evidence brought a forgotten memory back"

        # New evidence after the forget counts again, from zero: five adds are not enough, six are.
        _add_oat_milk(conn, user_id, 5)
        conn.execute(RECOMPUTE_FAVORITES, {"user": user_id})
        assert _favorite(conn, user_id) is None
        _add_oat_milk(conn, user_id, 1)
        conn.execute(RECOMPUTE_FAVORITES, {"user": user_id})
        again = _favorite(conn, user_id)
        assert again is not None and again["times_confirmed"] == 6


def test_forgetting_an_unknown_id_changes_nothing(db: Database) -> None:
    with db.connect() as conn:
        user_id = load_example_shopper(conn)
        before = snapshot(conn, user_id)
        with pytest.raises(calls.NotFound):
            calls.forget_memory(conn, user_id, UUID(int=7))
        assert snapshot(conn, user_id) == before


def test_my_memories_is_closed_to_anon_under_both_grant_regimes(db_each_regime: Database) -> None:
    with db_each_regime.connect() as conn:
        user_id = load_example_shopper(conn)
        with acting_as(conn, "authenticated", user_id):
            assert conn.execute("select count(*) as n from public.my_memories").fetchone() == {"n": 19}
        with pytest.raises(psycopg.errors.InsufficientPrivilege), acting_as(conn, "anon"):
            conn.execute("select * from public.my_memories")
        for function in ("memory_context()", "export_memories()", "clear_memories()"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), acting_as(conn, "anon"):
                conn.execute(f"select public.{function}")
