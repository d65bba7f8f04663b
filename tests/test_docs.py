"""The docs cannot rot silently: every relative link in the README, docs/ and benchmarks/RESULTS.md resolves (file
and heading), every repository path they name in backticks exists, and every database object, function or name
docs/architecture.md cites is still defined in the schema files or the Python package; docs/api.md lists exactly
the functions shoppers may call and the routes the server has. Reads files only: no database."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
DOCS = sorted(
    [PROJECT_DIR / "README.md", PROJECT_DIR / "benchmarks" / "RESULTS.md", *(PROJECT_DIR / "docs").glob("*.md")]
)
ARCHITECTURE = PROJECT_DIR / "docs" / "architecture.md"
SCHEMAS = PROJECT_DIR / "supabase" / "schemas"

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE = re.compile(r"`([^`\n]+)`")
REPO_ROOTS = ("worker/", "supabase/", "tests/", "benchmarks/", "scripts/", "standin/", "types/", "docs/", ".ci/")
SQL_OBJECT = re.compile(r"^(private|public)\.([a-z_][a-z0-9_]*)(\(\))?$")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\(\))?$")


def _ids(paths: list[Path]) -> list[str]:
    return [str(path.relative_to(PROJECT_DIR)) for path in paths]


def _without_code_blocks(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, markup and punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


@cache
def _anchors(path: Path) -> frozenset[str]:
    text = _without_code_blocks(path.read_text())
    return frozenset(_slug(match) for match in re.findall(r"^#{1,6} (.+)$", text, flags=re.M))


@cache
def _schema_text() -> str:
    return "\n".join(path.read_text() for path in sorted(SCHEMAS.glob("*.sql")))


@cache
def _python_text() -> str:
    return "\n".join(path.read_text() for path in sorted((PROJECT_DIR / "worker").rglob("*.py")))


def _exists(path_text: str) -> bool:
    path_text = path_text.split("::")[0].rstrip("/")
    if "*" in path_text:
        return any(PROJECT_DIR.glob(path_text))
    return (PROJECT_DIR / path_text).exists()


@pytest.mark.parametrize("doc", DOCS, ids=_ids(DOCS))
def test_every_relative_link_resolves_to_a_file_and_a_heading(doc: Path) -> None:
    broken = []
    for target in LINK.findall(_without_code_blocks(doc.read_text())):
        if re.match(r"^[a-z]+:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        path = (doc.parent / file_part).resolve() if file_part else doc
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
            broken.append(f"{target}: no heading #{anchor} in {path.name}")
    assert not broken, f"{doc.relative_to(PROJECT_DIR)} links to what is not there: {broken}"


@pytest.mark.parametrize("doc", DOCS, ids=_ids(DOCS))
def test_every_repository_path_named_exists(doc: Path) -> None:
    missing = []
    for code in CODE.findall(doc.read_text()):
        for token in code.split():
            token = token.strip("(),;:.")
            named = token.startswith(REPO_ROOTS) and "<" not in token and "..." not in token
            if named and not _exists(token):
                missing.append(token)
    assert not missing, f"{doc.relative_to(PROJECT_DIR)} names paths that do not exist: {sorted(set(missing))}"


def test_every_schema_file_architecture_names_exists() -> None:
    named = set(re.findall(r"`(\d\d_[a-z_]+\.sql)`", ARCHITECTURE.read_text()))
    assert named, "docs/architecture.md names no schema file: the pattern above is out of date"
    missing = sorted(name for name in named if not (SCHEMAS / name).exists())
    assert not missing, f"docs/architecture.md names schema files that are not in supabase/schemas/: {missing}"


def test_every_database_object_architecture_names_is_defined() -> None:
    """`private.x` / `public.x` must be created in a schema file; a bare `worker_*` or `record_*` is a public
    function."""
    definitions = _schema_text()
    missing = []
    for code in CODE.findall(ARCHITECTURE.read_text()):
        match = SQL_OBJECT.match(code)
        if match:
            schema, name = match.group(1), match.group(2)
        elif re.match(r"^(worker|record)_[a-z_]+$", code):
            schema, name = "public", code
        else:
            continue
        created = rf"create (or replace )?(function|table|view|trigger)( if not exists)? {schema}\.{name}\b"
        if not re.search(created, definitions):
            missing.append(f"{schema}.{name}")
    assert not missing, f"docs/architecture.md cites database objects no schema file defines: {sorted(set(missing))}"


def test_every_name_architecture_cites_is_still_in_the_code() -> None:
    """A bare name in backticks (a Python class or function, a column, a SQL function) must still be a word of the
    schema files or the Python package: a rename that leaves the doc behind fails here."""
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", _schema_text() + _python_text()))
    missing = []
    for code in CODE.findall(ARCHITECTURE.read_text()):
        if NAME.match(code) and ("_" in code or code[:1].isupper()):
            name = code.removesuffix("()")
            if name not in words:
                missing.append(name)
    assert not missing, f"docs/architecture.md cites names the code no longer has: {sorted(set(missing))}"


def test_the_api_page_lists_exactly_the_functions_shoppers_may_call() -> None:
    """Each function in docs/api.md's table is granted to `authenticated` in the schema files, and each function
    granted to `authenticated` is in the table: a new client function cannot ship undocumented."""
    api = (PROJECT_DIR / "docs" / "api.md").read_text()
    documented = set(re.findall(r"^\| `([a-z_]+)\(", api, flags=re.M))
    documented |= set(re.findall(r"^\| `[a-z_]+\([^`]*\)` / `([a-z_]+)\(", api, flags=re.M))
    granted = set(re.findall(r"grant execute on function public\.([a-z_]+)\([^)]*\) to authenticated", _schema_text()))
    assert documented == granted, (
        f"docs/api.md lists functions clients cannot call: {sorted(documented - granted)}; "
        f"clients can call functions docs/api.md does not list: {sorted(granted - documented)}"
    )


def test_the_api_page_lists_exactly_the_routes_the_server_has() -> None:
    """Each `/api` route in docs/api.md is served by worker/web/app.py with that method, and each one served is
    documented."""
    api = (PROJECT_DIR / "docs" / "api.md").read_text()
    documented: set[tuple[str, str]] = set()
    for method, path in re.findall(r"^\| `(GET|POST|DELETE) (/api/[^` ]+)`", api, flags=re.M):
        documented.add((method, path.replace(":id", "{memory_id}")))
    app = (PROJECT_DIR / "worker" / "web" / "app.py").read_text()
    served = {
        (method, path)
        for path, methods in re.findall(r'Route\(\s*"(/api/user[^"]*|/api/chat)",[^\]]*methods=\["([A-Z", ]+)"\]', app)
        for method in re.findall(r"[A-Z]+", methods)
    }
    assert served, "no route found in worker/web/app.py: the pattern above is out of date"
    # "/answer/yes (`/no`)" documents both answers in one row.
    documented |= {(m, p.replace("/answer/yes", "/answer/no")) for m, p in documented if p.endswith("/answer/yes")}
    assert documented == served, (
        f"docs/api.md lists routes the server lacks: {sorted(documented - served)}; "
        f"the server has routes docs/api.md does not list: {sorted(served - documented)}"
    )
