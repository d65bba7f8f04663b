"""The Realtime wake-up adapter against the Realtime wire protocol, in-process: a small fake server speaking
Phoenix over a websocket on 127.0.0.1 (vsn 1.0.0 JSON frames): it answers phx_join with the postgres_changes
binding ids, heartbeats with phx_reply, and then pushes a postgres_changes INSERT of a job."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import pytest
from pydantic import SecretStr
from websockets.asyncio.server import ServerConnection, serve

from tests.conftest import Database, create_user
from tests.worker.conftest import NOW, days_ago, item, preferences, record_checkout
from worker.config import Settings
from worker.runtime.realtime import subscribe_wakeups
from worker.runtime.worker import BackgroundWorker


class FakeRealtime:
    def __init__(self, *, binding_table: str = "jobs", push_on_join: bool = True) -> None:
        self.joins: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.binding_table = binding_table
        self.push_on_join = push_on_join
        self.joined = asyncio.Event()
        self.sockets: list[tuple[ServerConnection, str]] = []

    async def handler(self, ws: ServerConnection) -> None:
        self.paths.append(ws.request.path if ws.request else "")
        async for raw in ws:
            message = json.loads(raw)
            if message["event"] == "heartbeat":
                await ws.send(
                    json.dumps(
                        {
                            "event": "phx_reply",
                            "topic": "phoenix",
                            "ref": message["ref"],
                            "payload": {"status": "ok", "response": {}},
                        }
                    )
                )
            elif message["event"] == "phx_join":
                self.joins.append(message)
                bindings = message["payload"]["config"]["postgres_changes"]
                reply = [
                    {
                        "id": 31339675,
                        "event": b["event"],
                        "schema": b["schema"],
                        "table": self.binding_table,
                        "filter": b.get("filter"),
                    }
                    for b in bindings
                ]
                await ws.send(
                    json.dumps(
                        {
                            "event": "phx_reply",
                            "topic": message["topic"],
                            "ref": message["ref"],
                            "join_ref": message.get("join_ref"),
                            "payload": {"status": "ok", "response": {"postgres_changes": reply}},
                        }
                    )
                )
                self.sockets.append((ws, message["topic"]))
                self.joined.set()
                if self.push_on_join:
                    await asyncio.sleep(0.05)
                    await self.push_insert()

    async def push_insert(self) -> None:
        """What Realtime sends a subscriber when a row is inserted into private.jobs."""
        for ws, topic in self.sockets:
            await ws.send(
                json.dumps(
                    {
                        "event": "postgres_changes",
                        "topic": topic,
                        "ref": None,
                        "payload": {
                            "ids": [31339675],
                            "data": {
                                "schema": "private",
                                "table": "jobs",
                                "commit_timestamp": "2026-11-24T06:00:00.000Z",
                                "type": "INSERT",
                                "errors": None,
                                "columns": [{"name": "id", "type": "int8"}, {"name": "user_id", "type": "uuid"}],
                                "record": {
                                    "id": 1,
                                    "user_id": "d0000000-0000-4000-8000-000000000123",
                                    "kind": "recompute",
                                    "status": "pending",
                                },
                            },
                        },
                    }
                )
            )


async def _run(fake: FakeRealtime) -> tuple[int, BaseException | None]:
    wakes: list[int] = []
    stop = threading.Event()
    async with serve(fake.handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        task = asyncio.create_task(
            subscribe_wakeups(
                f"http://127.0.0.1:{port}/realtime/v1", "service-role-key", lambda: wakes.append(1), stop, poll=0.02
            )
        )
        for _ in range(100):
            if len(wakes) >= 2 or task.done():
                break
            await asyncio.sleep(0.02)
        stop.set()
        error = None
        try:
            await asyncio.wait_for(task, 5)
        except Exception as exc:
            error = exc
    return len(wakes), error


def test_a_job_insert_wakes_the_worker() -> None:
    fake = FakeRealtime()
    wakes, error = asyncio.run(_run(fake))
    assert error is None
    assert wakes == 2  # once when subscribed (catch-up), once for the INSERT
    [join] = fake.joins
    assert join["topic"] == "realtime:customer-memory-jobs"
    assert join["payload"]["config"]["postgres_changes"] == [{"event": "INSERT", "schema": "private", "table": "jobs"}]
    assert join["payload"]["access_token"] == "service-role-key"
    assert fake.paths[0].startswith("/realtime/v1/websocket?apikey=service-role-key")


def test_a_binding_mismatch_is_an_error_not_a_silent_subscription() -> None:
    fake = FakeRealtime(binding_table="not_jobs")
    wakes, error = asyncio.run(_run(fake))
    assert wakes == 0
    assert isinstance(error, RuntimeError) and "subscription failed" in str(error)


@pytest.mark.parametrize("missing", ["SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY"])
def test_realtime_needs_both_settings(missing: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from worker.config import Settings
    from worker.runtime.realtime import run_realtime_wakeups

    monkeypatch.setenv("SUPABASE_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", "k")
    monkeypatch.delenv(missing)
    with pytest.raises(RuntimeError, match="need SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY"):
        run_realtime_wakeups(Settings(), lambda: None, threading.Event())


def test_the_worker_is_woken_by_realtime_when_configured(db: Database) -> None:
    """A worker with SUPABASE_URL and the service-role key, no LISTEN and a one-minute sweep: an event's job is done
    as soon as the Realtime INSERT arrives."""
    fake = FakeRealtime(push_on_join=False)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    port: list[int] = []

    done = loop.create_future()

    async def serve_until_done() -> None:
        async with serve(fake.handler, "127.0.0.1", 0) as server:
            port.append(server.sockets[0].getsockname()[1])
            ready.set()
            await done

    thread = threading.Thread(target=loop.run_until_complete, args=(serve_until_done(),), daemon=True)
    thread.start()
    assert ready.wait(5)
    settings = Settings().model_copy(
        update={
            "supabase_url": f"http://127.0.0.1:{port[0]}",
            "supabase_service_role_key": SecretStr("service-role-key"),
            "sweep_interval_seconds": 60.0,
        }
    )
    try:
        with BackgroundWorker(settings, db.url(), listen=False, now=lambda: NOW) as worker, db.connect() as conn:
            assert _until(lambda: fake.joined.is_set())
            time.sleep(0.3)  # the catch-up claim after subscribing has found nothing
            user = create_user(conn)
            for k in range(8):  # enough weekly orders for a favourite, the worker's probe
                record_checkout(conn, user, days_ago(7 * k + 1), [item("milk", "Dairy")])
            time.sleep(0.5)
            assert preferences(conn, user) == {}, "nothing wakes this worker but Realtime"
            asyncio.run_coroutine_threadsafe(fake.push_insert(), loop).result(5)
            assert _until(lambda: bool(preferences(conn, user)), 3)
            assert worker.worker.stats.done == 1
    finally:
        loop.call_soon_threadsafe(done.set_result, None)
        thread.join(5)
        loop.close()


def _until(condition: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False
