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


def test_the_extraction_benchmarks_hand_readings_are_keyed_and_kept_together() -> None:
    """The hand-read files hold hashes, never sentences; a label read as no first-person diet or dislike leaves the
    recall, and what the same utterance was read to state still counts ("i am allergic to shrimp", labelled as a
    dislike, is an allergy)."""
    sys.path.insert(0, str(PROJECT_DIR / "benchmarks"))
    try:
        import extraction  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(PROJECT_DIR / "benchmarks"))
    for path in extraction.NOT_FIRST_PERSON:
        keys = [line.split("\t")[0] for line in path.read_text().splitlines() if line and not line.startswith("#")]
        assert keys and all(len(key) == 16 and int(key, 16) >= 0 for key in keys), path
    table = extraction.load_adjudicated()
    shrimp = "598e38dace3cf916"  # a development utterance (its text stays in the data set) labelled a dislike
    assert table[shrimp] == {("remember", "allergy", "shrimp"), ("relabelled", "", "")}
    assert extraction._statement("like:fish and chips") == ("remember", "like", "fish and chips")
    assert extraction._statement("forget diet:vegan") == ("forget", "diet", "vegan")
    assert extraction.keys_match("vegetarian", "vegetarianism")
    assert extraction.keys_match("tree-nuts", "tree nut")
    assert not extraction.keys_match("vegan", "vegetarian")
