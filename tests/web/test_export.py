"""The export, streamed: the route and `customer-memory export` read export_memories_page a page at a time and
write one JSON document as they go (worker.client.export). The document equals what export_memories() returns in
one piece, and the route sends the first pages before it has read the later ones."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from tests.conftest import Database
from tests.web.conftest import DANA, DANA_EMAIL, PASSWORD, SAM, bearer, random_orders, record_orders, sign_in
from tests.worker.conftest import as_service
from worker import cli
from worker.client.seam import DatabaseFunctions, Identity
from worker.prompt import calls
from worker.web.app import Backend

SECTIONS = ("preferences", "patterns", "insights", "interactions", "archived_interactions", "suppressions",
            "precomputed_contexts")  # fmt: skip


@pytest.fixture
def everything(seeded: Database) -> Database:
    """Dana with a row in every section of the export: the seed's memories and patterns, orders, archived events, one
    more pattern and an insight as a worker before issue 10 stored them (an export carries whatever is stored), two
    forget records and her precomputed memory_context document."""
    record_orders(seeded, DANA, random_orders(seed=3, count=12))
    with seeded.connect("superuser") as conn:
        conn.execute(
            "insert into public.shopping_patterns (user_id, pattern_type, pattern_key, pattern_value, confidence,"
            " occurrence_count, last_occurrence) values (%s, 'day_of_week', 'wednesday', '{\"orders\": 12}', 0.60,"
            " 12, now())",
            (DANA,),
        )
        conn.execute(
            "insert into public.memory_insights (user_id, insight_type, insight_key, insight_value, confidence,"
            " supporting_data) values (%s, 'persona', 'budget_conscious', 'Chooses store brands', 0.70, '{}')",
            (DANA,),
        )
        conn.execute(
            "with moved as (delete from public.interaction_history where id in (select id from"
            " public.interaction_history where user_id = %s order by created_at limit 4) returning *)"
            " insert into private.interaction_archive select * from moved",
            (DANA,),
        )
    with seeded.connect() as conn:
        listed = {m.memory_key: m.id for m in calls.my_memories(conn, DANA)}
        for key in ("gv-organic-eggs", "avocado"):
            calls.forget_memory(conn, DANA, listed[key])  # type: ignore[arg-type]
        with as_service(conn):
            conn.execute("select public.worker_refresh_context(%s)", (DANA,))
    return seeded


def _one_piece(backend: Backend) -> dict[str, Any]:
    whole: dict[str, Any] = backend.functions.call("export_memories", {}, Identity.shopper(DANA))
    return whole


def _comparable(document: dict[str, Any]) -> dict[str, Any]:
    """What must be equal: everything but when it was taken; export_memories() orders the forget records by when
    they were made, the pages by what they name, so those are compared in one order."""
    suppressions = sorted(document["suppressions"], key=lambda s: (s["memory_kind"], s["memory_type"], s["memory_key"]))
    return {**{k: v for k, v in document.items() if k != "exported_at"}, "suppressions": suppressions}


class CountingPages:
    """The seam, counting export_memories_page calls; with `hold_at`, that call waits until `release` is set."""

    def __init__(self, inner: DatabaseFunctions, hold_at: int | None = None) -> None:
        self.inner, self.hold_at = inner, hold_at
        self.pages = 0
        self.release = threading.Event()

    def call(self, function: str, args: Mapping[str, Any], identity: Identity) -> Any:
        if function == "export_memories_page":
            self.pages += 1
            if self.pages == self.hold_at and not self.release.wait(10):
                raise TimeoutError("the client never received the first pages")
        return self.inner.call(function, args, identity)

    def select(self, relation: str, equal: Mapping[str, Any], identity: Identity) -> list[dict[str, Any]]:
        return self.inner.select(relation, equal, identity)


def test_the_streamed_export_equals_the_one_piece_export(
    everything: Database, backend: Backend, client: TestClient
) -> None:
    counting = CountingPages(backend.functions)
    backend.functions, backend.export_page_rows = counting, 3
    response = client.get("/api/user/memories/export", headers=bearer(sign_in(client)))
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"].startswith('attachment; filename="customer-memory-export-')
    streamed = response.json()
    assert list(streamed) == ["format", "version", "exported_at", "user_id", *SECTIONS]
    assert all(streamed[section] for section in SECTIONS), "every section has rows, so every one is compared"
    assert _comparable(streamed) == _comparable(_one_piece(backend))
    rows = sum(len(streamed[section]) for section in SECTIONS)
    assert counting.pages >= rows // 3 > len(SECTIONS), "read three rows at a time"
    assert str(SAM) not in response.text and "shellfish" not in response.text


def test_the_export_route_sends_the_first_pages_before_it_reads_the_rest(
    everything: Database, backend: Backend, page_url: str
) -> None:
    held = CountingPages(backend.functions, hold_at=4)
    backend.functions, backend.export_page_rows = held, 2
    with httpx.Client(base_url=page_url, timeout=30) as http:
        token = http.post("/auth/v1/token?grant_type=password", json={"email": DANA_EMAIL, "password": PASSWORD})
        headers = bearer(token.json()["access_token"])
        with http.stream("GET", "/api/user/memories/export", headers=headers) as response:
            assert response.status_code == 200
            pieces = response.iter_bytes()
            received = next(pieces)
            # The document has begun to arrive while the 4th page cannot have been read (it waits for this
            # test): it is not built first. Built first, nothing would arrive and the held page would time out.
            assert received.startswith(b'{"format": "customer-memory-export"') and 1 <= held.pages <= 4
            assert not held.release.is_set()
            held.release.set()
            document = json.loads(received + b"".join(pieces))
    assert _comparable(document) == _comparable(_one_piece(backend))


class FailingAt(CountingPages):
    def call(self, function: str, args: Mapping[str, Any], identity: Identity) -> Any:
        if function == "export_memories_page" and self.pages + 1 == self.hold_at:
            raise ConnectionError("the database went away mid-export")
        return super().call(function, args, identity)


def test_a_failure_after_the_first_page_cuts_the_download_short_never_silently(
    everything: Database, backend: Backend, page_url: str
) -> None:
    backend.functions, backend.export_page_rows = FailingAt(backend.functions, hold_at=3), 2
    with httpx.Client(base_url=page_url, timeout=30) as http:
        token = http.post("/auth/v1/token?grant_type=password", json={"email": DANA_EMAIL, "password": PASSWORD})
        received = b""
        with (
            pytest.raises(httpx.RemoteProtocolError),
            http.stream("GET", "/api/user/memories/export", headers=bearer(token.json()["access_token"])) as response,
        ):
            assert response.status_code == 200  # the first page was good: the download had begun
            for piece in response.iter_bytes():
                received += piece
    assert received.startswith(b'{"format": "customer-memory-export"')
    with pytest.raises(json.JSONDecodeError):
        json.loads(received)


def test_an_error_on_the_first_page_keeps_its_status(client: TestClient, backend: Backend) -> None:
    backend.export_page_rows = 0  # export_memories_page takes 1 to 10000
    response = client.get("/api/user/memories/export", headers=bearer(sign_in(client)))
    assert response.status_code == 400
    assert response.json()["message"] == "max_rows must be a whole number from 1 to 10000 (default 1000)."


def test_the_command_writes_the_same_document(
    everything: Database,
    backend: Backend,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", everything.url())
    output = tmp_path / "dana.json"
    assert cli.main(["export", "--user", DANA_EMAIL, "--output", str(output)]) == 0
    assert _comparable(json.loads(output.read_text())) == _comparable(_one_piece(backend))
    assert [p.name for p in tmp_path.iterdir()] == ["dana.json"], "no partial file left behind"
    capsys.readouterr()
    assert cli.main(["export", "--user", DANA_EMAIL]) == 0
    assert _comparable(json.loads(capsys.readouterr().out)) == _comparable(_one_piece(backend))
