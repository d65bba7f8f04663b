"""`customer-memory demo`: the main job on the embedded default. Starts (or reuses) the local PostgreSQL in the
data folder, brings it up to date (stand-in, migrations, seed) and prints the demo shopper's memories as that
shopper sees them through row-level security, and what the other demo shopper can see of them (nothing)."""

from __future__ import annotations

import argparse
import uuid
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from worker.config import Settings
from worker.db.local import ensure_local_database
from worker.db.request import set_request_context, shopper_claims

DEMO_SHOPPER = uuid.UUID("d0000000-0000-4000-8000-000000000123")  # Dana, the design document's "user123"
OTHER_SHOPPER = uuid.UUID("d0000000-0000-4000-8000-000000000456")  # Sam

MEMORY_TABLES = ("customer_preferences", "shopping_patterns", "memory_insights", "interaction_history")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo", help="start the local database, bring it up to date, show the demo shopper's memories"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    database = ensure_local_database(settings)
    print(f"{database.version} at {database.url()} (data: {settings.data_dir})")
    if database.applied_migrations:
        print(f"applied {len(database.applied_migrations)} migration(s): {', '.join(database.applied_migrations)}")
    with psycopg.connect(database.url(), row_factory=dict_row) as conn:
        print()
        print(render_memories(read_memories(conn, DEMO_SHOPPER)))
        seen_by_other = read_memories(conn, OTHER_SHOPPER)
        leaked = sum(1 for rows in seen_by_other.values() for row in rows if row["user_id"] == DEMO_SHOPPER)
        print(f"\nRows of Dana's that Sam can see under RLS: {leaked}")
    return 0


def read_memories(conn: psycopg.Connection[Any], shopper: uuid.UUID) -> dict[str, list[dict[str, Any]]]:
    """Everything `shopper` can read, read as that shopper (a PostgREST request with their JWT)."""
    with conn.transaction(force_rollback=True):
        set_request_context(conn, "authenticated", shopper_claims(shopper))
        return {
            table: conn.execute(
                sql.SQL("select * from public.{} order by created_at, id").format(sql.Identifier(table))
            ).fetchall()
            for table in MEMORY_TABLES
        }


def render_memories(memories: dict[str, list[dict[str, Any]]]) -> str:
    lines = ["Dana's memories (read as Dana, through row-level security)"]
    lines.append("\nPreferences:")
    for row in sorted(memories["customer_preferences"], key=lambda r: (r["preference_type"], -r["confidence"])):
        lines.append(
            f"  {row['preference_type']:<9} {row['preference_key']:<22} {row['confidence']:.2f}  "
            f"{row['source']:<8}  {row['reason'] or ''}"
        )
    lines.append("\nShopping patterns:")
    for row in memories["shopping_patterns"]:
        lines.append(
            f"  {row['pattern_type']:<19} {row['pattern_key']:<10} {row['confidence']:.2f}  {row['pattern_value']}"
        )
    lines.append("\nInsights:")
    for row in memories["memory_insights"]:
        expires = f"  (until {row['expires_at']:%Y-%m-%d})" if row["expires_at"] else ""
        lines.append(
            f"  {row['insight_type']:<10} {row['insight_key']:<20} {row['confidence']:.2f}  {row['insight_value']}"
            f"{expires}"
        )
    lines.append(f"\nInteractions logged: {len(memories['interaction_history'])}")
    return "\n".join(lines)
