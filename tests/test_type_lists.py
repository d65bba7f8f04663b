"""The type lists are written once in SQL (supabase/schemas/00_constants.sql) and once in Python
(worker/client/models.py, which the extractor and Claude's tool schema import; worker/runtime/store.py for the
worker's maintenance kinds and periodic runs): the two must stay equal."""

from __future__ import annotations

from typing import get_args

import pytest

from tests.conftest import Database
from worker.client.models import INSIGHT_TYPES, PREFERENCE_TYPES, InteractionType
from worker.extract import claude
from worker.extract.model import InsightStatement, Statement
from worker.runtime.store import MAINTENANCE_KINDS, PERIODIC_RUNS


@pytest.mark.parametrize(
    ("function", "python"),
    [
        ("preference_types", PREFERENCE_TYPES),
        ("insight_types", INSIGHT_TYPES),
        ("interaction_types", get_args(InteractionType)),
        ("maintenance_kinds", MAINTENANCE_KINDS),
        ("periodic_run_names", PERIODIC_RUNS),
    ],
)
def test_python_type_lists_equal_the_sql_lists(db: Database, function: str, python: tuple[str, ...]) -> None:
    with db.connect("superuser") as conn:
        row = conn.execute(f"select private.{function}() as types").fetchone()
    assert row is not None
    assert sorted(row["types"]) == sorted(python)


def test_the_extractor_and_claudes_schema_use_the_same_lists() -> None:
    assert get_args(Statement.model_fields["preference_type"].annotation) == PREFERENCE_TYPES
    assert get_args(InsightStatement.model_fields["insight_type"].annotation) == INSIGHT_TYPES
    statement = claude.STATEMENT_SCHEMA["properties"]["preference_type"]["enum"]
    insight = claude.INSIGHT_SCHEMA["properties"]["insight_type"]["enum"]
    assert (tuple(statement), tuple(insight)) == (PREFERENCE_TYPES, INSIGHT_TYPES)
