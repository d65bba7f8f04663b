"""The benchmark scripts are run on demand, not by the suite; this checks that each still starts as a user runs
it (`python benchmarks/<name>.py --help`, the script's folder first on sys.path), so a rename or an import that
only works from the tests cannot break them silently."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from worker.config import PROJECT_DIR

SCRIPTS = sorted((PROJECT_DIR / "benchmarks").glob("*.py"))


def test_there_are_benchmark_scripts() -> None:
    assert {path.name for path in SCRIPTS} >= {"ingest.py", "recompute.py", "context.py"}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_benchmark_script_starts(script: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, cwd=PROJECT_DIR, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout
