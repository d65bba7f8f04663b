"""The migrations and the declarative schema files define the same database.

supabase/migrations/ is the deploy path (`supabase db reset`, `supabase db push`); supabase/schemas/ is what a
reader opens, every object once in its current form. A change is a new migration plus the same edit in the schema
file (docs/architecture.md, Conventions); this test fails, naming each object, when the two say different things."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import psycopg
import pytest

from tests.conftest import Server
from tests.schema_tools import catalog
from worker.db import schema


def _build(
    server: Server, source: Literal["migrations", "schemas"], schema_paths: list[Path] | None = None
) -> Iterator[dict[str, str]]:
    name = f"cms_drift_{source}_{uuid.uuid4().hex[:8]}"
    superuser_url = server.url(server.superuser, "postgres")
    schema.build_database(superuser_url, name, source=source, schema_paths=schema_paths)
    try:
        with psycopg.connect(server.url(server.superuser, name)) as conn:
            yield catalog.snapshot(conn)
    finally:
        with psycopg.connect(superuser_url, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="module")
def from_migrations(server: Server) -> Iterator[dict[str, str]]:
    yield from _build(server, "migrations")


@pytest.fixture(scope="module")
def from_schemas(server: Server) -> Iterator[dict[str, str]]:
    yield from _build(server, "schemas")


def test_migrations_and_schema_files_build_the_same_database(
    from_migrations: dict[str, str], from_schemas: dict[str, str]
) -> None:
    drift = catalog.differences(from_migrations, from_schemas, ("supabase/migrations", "supabase/schemas"))
    assert not drift, "migrations and schema files differ:\n" + "\n".join(drift)
    # The comparison covers what the project defines, not an empty list compared with itself.
    kinds = {key.split(" ", 1)[0] for key in from_schemas}
    assert {"schema", "relation", "column", "constraint", "index", "policy", "trigger", "function"} <= kinds
    assert "publication supabase_realtime private.jobs" in from_schemas
    assert len([key for key in from_schemas if key.startswith("function ")]) > 50


# Each plant: (schema file, text in it, what it becomes, the object the drift test must name).
PLANTS = [
    (
        "12_memory_helpers.sql",
        "select m.min_probability from private.claim_model(p_claim) as m;",
        "select m.min_probability + 0.01 from private.claim_model(p_claim) as m;",
        "function private.claim_floor(p_claim text): differs",
    ),
    (
        "12_memory_helpers.sql",
        "create or replace function private.json_excerpt(p_value jsonb)\nreturns text\nlanguage sql\nimmutable\n"
        "set search_path = ''\n",
        "create or replace function private.json_excerpt(p_value jsonb)\nreturns text\nlanguage sql\nimmutable\n",
        "function private.json_excerpt(p_value jsonb): differs",
    ),
    (
        "11_memory_rls_grants.sql",
        "grant select, delete on table public.memory_insights to authenticated;",
        "grant select on table public.memory_insights to authenticated;",
        "relation public.memory_insights: differs",
    ),
    (
        "11_memory_rls_grants.sql",
        'create policy "Shoppers can delete their own insights"',
        'create policy "Shoppers may delete their own insights"',
        "policy public.memory_insights.Shoppers can delete their own insights: only in migrations",
    ),
    (
        "10_memory_tables.sql",
        "create index memory_insights_expires_idx on public.memory_insights (expires_at) where expires_at is not null;",
        "create index memory_insights_expires_idx on public.memory_insights (expires_at);",
        "index public.memory_insights_expires_idx: differs",
    ),
    (
        "10_memory_tables.sql",
        "  constraint shopping_patterns_inferred_confidence_cap check (confidence <= 0.95),",
        "  constraint shopping_patterns_inferred_confidence_cap check (confidence <= 0.96),",
        "constraint public.shopping_patterns.shopping_patterns_inferred_confidence_cap: differs",
    ),
    (
        "31_worker_rls_grants.sql",
        "    alter publication supabase_realtime add table private.jobs;",
        "    null;",
        "publication supabase_realtime private.jobs: only in migrations",
    ),
]


@pytest.fixture(scope="module")
def planted(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A database built from a copy of the schema files with every plant in it."""
    folder = tmp_path_factory.mktemp("schemas")
    for path in schema.schema_files():
        shutil.copy(path, folder / path.name)
    for file, text, planted_text, _ in PLANTS:
        copy = folder / file
        assert copy.read_text().count(text) == 1, f"{file} no longer holds the text the plant replaces: {text!r}"
        copy.write_text(copy.read_text().replace(text, planted_text))
    yield from _build(server, "schemas", sorted(folder.glob("*.sql")))


@pytest.mark.parametrize("plant", PLANTS, ids=[plant[3].split(":")[0] for plant in PLANTS])
def test_a_difference_planted_in_a_schema_file_is_named(
    from_migrations: dict[str, str], planted: dict[str, str], plant: tuple[str, str, str, str]
) -> None:
    drift = catalog.differences(from_migrations, planted, ("migrations", "schemas"))
    assert plant[3] in [line.split("\n")[0] for line in drift]


def test_the_planted_database_differs_in_the_planted_objects_only(
    from_migrations: dict[str, str], planted: dict[str, str]
) -> None:
    drift = [line.split("\n")[0] for line in catalog.differences(from_migrations, planted, ("migrations", "schemas"))]
    renamed_policy = "policy public.memory_insights.Shoppers may delete their own insights: only in schemas"
    assert sorted(drift) == sorted([plant[3] for plant in PLANTS] + [renamed_policy])
