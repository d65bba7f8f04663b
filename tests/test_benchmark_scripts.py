"""The benchmark scripts are run on demand, not by the suite; this checks that each still starts as a user runs
it (`python benchmarks/<name>.py --help`, the script's folder first on sys.path), so a rename or an import that
only works from the tests cannot break them silently."""

from __future__ import annotations

import os
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


def test_the_extraction_benchmark_scores_our_cases_and_says_when_claude_cannot_run() -> None:
    env = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
    script = str(PROJECT_DIR / "benchmarks" / "extraction.py")
    run = subprocess.run(
        [sys.executable, script, "--sets", "cases"],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "== our cases, tune" in run.stdout and "== our cases, heldout" in run.stdout
    assert "unasked allergy/diet removals 0" in run.stdout
    claude = subprocess.run(
        [sys.executable, script, "--extractor", "claude"],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        env=env,
        timeout=120,
    )
    assert claude.returncode == 0 and "ANTHROPIC_API_KEY is not set" in claude.stdout
