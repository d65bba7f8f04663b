"""The generated types: the committed TypeScript types and pydantic row models are what Supabase's generator
(@supabase/postgres-meta, the code behind `supabase gen types`) makes of the database the migrations build, and
the README's app-client example compiles against them (and a misspelt argument does not).

Needs node and the packages of package-lock.json (`npm ci`, which make runs first); without them these tests are
skipped, unless CMS_REQUIRE_NODE=1 (make sets it), when they fail."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Server
from worker.config import PROJECT_DIR
from worker.db import typegen

TSC = PROJECT_DIR / "node_modules" / "typescript" / "bin" / "tsc"

if not typegen.POSTGRES_META.exists() or shutil.which("node") is None:
    if os.environ.get("CMS_REQUIRE_NODE"):
        raise RuntimeError("CMS_REQUIRE_NODE is set, but node or node_modules is missing: run `npm ci`")
    pytest.skip("node and `npm ci` are needed for the generated types", allow_module_level=True)


@pytest.mark.parametrize("language", ["typescript", "python"])
def test_the_committed_types_are_what_the_generator_makes_of_the_migrations(
    server: Server, templates: dict[str, str], language: typegen.Language
) -> None:
    generated = typegen.generate(server.url(server.superuser, templates["current"]), language)
    path = typegen.committed(language)
    assert path.read_text() == generated, (
        f"{path.relative_to(PROJECT_DIR)} is stale: regenerate it with `make types` and commit it"
    )


def _readme_example() -> str:
    readme = (PROJECT_DIR / "README.md").read_text()
    blocks = re.findall(r"```ts\n(.*?)```", readme, re.S)
    [example] = [block for block in blocks if "supabase.rpc('record_cart_add'" in block]
    return example


@pytest.fixture
def checker() -> Iterator[Path]:
    """A folder inside the project (so that node_modules resolves) with the types as an app would have them."""
    folder = PROJECT_DIR / ".local" / f"tscheck-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    shutil.copy(typegen.TYPESCRIPT_TYPES, folder / "database.types.ts")
    shutil.copy(typegen.TYPESCRIPT_TYPES.parent / "tsconfig.json", folder / "tsconfig.json")
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def _type_check(folder: Path, example: str) -> subprocess.CompletedProcess[str]:
    (folder / "example.ts").write_text(example)
    return subprocess.run(
        ["node", str(TSC), "-p", str(folder / "tsconfig.json")],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_the_readme_example_records_a_cart_add_typed_by_the_generated_types(checker: Path) -> None:
    result = _type_check(checker, _readme_example())
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("mistake", "replacement", "error"),
    [
        ("supabase.rpc('record_cart_add'", "supabase.rpc('record_cart_ad'", "record_cart_ad"),
        ("{ item, session_id: sessionId }", "{ items: item, session_id: sessionId }", "items"),
    ],
    ids=["misspelt function", "misspelt argument"],
)
def test_a_mistake_in_the_example_does_not_compile(checker: Path, mistake: str, replacement: str, error: str) -> None:
    example = _readme_example()
    assert mistake in example
    result = _type_check(checker, example.replace(mistake, replacement))
    assert result.returncode != 0
    assert error in result.stdout
