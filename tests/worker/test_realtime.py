"""The Realtime wake-up adapter against the Realtime wire protocol, in-process: a small fake server speaking
Phoenix over a websocket on 127.0.0.1 (vsn 1.0.0 JSON frames): it answers phx_join with the postgres_changes
binding ids, heartbeats with phx_reply, and then pushes a postgres_changes INSERT of a job."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from worker.runtime.realtime import subscribe_wakeups


class FakeRealtime:
    def __init__(self, *, binding_table: str = "jobs") -> None:
        self.joins: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.binding_table = binding_table
        self.joined = asyncio.Event()

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
                self.joined.set()
                await asyncio.sleep(0.05)
                await ws.send(
                    json.dumps(
                        {
                            "event": "postgres_changes",
                            "topic": message["topic"],
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
