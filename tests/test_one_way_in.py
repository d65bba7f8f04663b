"""One way into the database from Python: a library Worker never starts a cluster (only the local tooling does:
worker.db and the commands), and MemoryClient returns typed results."""

from __future__ import annotations

import ast
from pathlib import Path
from uuid import UUID

import pytest

from tests.conftest import Database, create_user
from worker.client.direct_adapter import DirectAdapter
from worker.client.memory import MemoryClient
from worker.client.responses import ClearResult, ExplainedMemory, ForgetResult, MemoryContext, MemoryExport
from worker.client.rows import PublicMyMemories
from worker.client.seam import Identity
from worker.config import PROJECT_DIR, Settings
from worker.runtime.worker import Worker

LOCAL_TOOLING = ("worker/commands/", "worker/db/")
STARTS_A_CLUSTER = {"worker.db.local", "worker.db.server"}


def test_a_worker_without_a_database_url_refuses_instead_of_starting_a_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CMS_DATA_DIR", str(tmp_path / "postgres"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ValueError, match="needs a database URL"):
        Worker(Settings())
    assert not (tmp_path / "postgres").exists(), "no cluster was initialised"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_only_the_local_tooling_reaches_the_code_that_starts_a_cluster() -> None:
    offenders = {
        str(path.relative_to(PROJECT_DIR)): sorted(_imports(path) & STARTS_A_CLUSTER)
        for path in sorted((PROJECT_DIR / "worker").rglob("*.py"))
        if not str(path.relative_to(PROJECT_DIR)).startswith(LOCAL_TOOLING)
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_memory_client_returns_typed_results(db: Database) -> None:
    with db.connect() as conn:
        user_id = create_user(conn)
    memory = MemoryClient(DirectAdapter.from_url(db.url()), Identity.shopper(user_id))
    preference = memory.remember_preference("allergy", "peanuts")
    [row] = memory.my_memories()
    assert isinstance(row, PublicMyMemories) and (row.id, row.memory_key) == (preference, "peanuts")
    context = memory.memory_context()
    assert isinstance(context, MemoryContext)
    assert [item.key for item in context.allergies] == ["peanuts"]
    explained = memory.explain_memory(preference)
    assert isinstance(explained, ExplainedMemory) and explained.id == preference
    forgotten = memory.forget_memory(preference)
    assert isinstance(forgotten, ForgetResult) and forgotten.memory_kind == "preference"
    exported = memory.export_memories()
    assert isinstance(exported, MemoryExport) and exported.user_id == UUID(str(user_id))
    cleared = memory.clear_memories()
    assert isinstance(cleared, ClearResult) and cleared.suppressions == 1


def test_a_read_through_the_seam_meets_row_level_security(db: Database) -> None:
    with db.connect() as conn:
        owner, other = create_user(conn), create_user(conn)
    seam = DirectAdapter.from_url(db.url())
    MemoryClient(seam, Identity.shopper(owner)).remember_preference("allergy", "peanuts")
    assert len(seam.select("customer_preferences", {"user_id": owner}, Identity.shopper(owner))) == 1
    assert seam.select("customer_preferences", {"user_id": owner}, Identity.shopper(other)) == []
