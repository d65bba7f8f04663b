"""Supabase Realtime wake-ups: a postgres_changes subscription to INSERTs on private.jobs, with the service-role
key. Each insert wakes the worker loop; the loop then claims from the queue as usual. Postgres Changes delivery
is at-most-once (no replay, nothing while disconnected), so this only shortens the wait: the sweep still finds
whatever a lost message would have announced.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from realtime import AsyncRealtimeClient, RealtimeSubscribeStates
from realtime.types import PostgresChangesPayload, RealtimePostgresChangesListenEvent

from worker.config import Settings

log = logging.getLogger("worker.runtime.realtime")

CHANNEL = "customer-memory-jobs"


def realtime_url(supabase_url: str) -> str:
    """The Realtime endpoint of a project URL (the client turns http(s) into ws(s) and adds /websocket)."""
    return supabase_url.rstrip("/") + "/realtime/v1"


async def subscribe_wakeups(
    url: str, key: str, wake: Callable[[], None], stop: threading.Event, *, poll: float = 0.2
) -> None:
    """Subscribe, call `wake` on every job insert, return when `stop` is set (or raise on a channel error)."""
    client = AsyncRealtimeClient(url, token=key, auto_reconnect=True)
    await client.connect()
    subscribed = asyncio.get_running_loop().create_future()

    def on_state(state: RealtimeSubscribeStates, error: Exception | None) -> None:
        log.info("realtime subscription", extra={"state": str(state), "error": str(error) if error else None})
        if not subscribed.done():
            if state == RealtimeSubscribeStates.SUBSCRIBED:
                subscribed.set_result(True)
            elif state in (RealtimeSubscribeStates.CHANNEL_ERROR, RealtimeSubscribeStates.TIMED_OUT):
                subscribed.set_exception(RuntimeError(f"realtime subscription failed: {state} {error or ''}"))

    def on_insert(payload: PostgresChangesPayload) -> None:  # called synchronously by the client's listen task
        wake()

    channel = client.channel(CHANNEL)
    channel.on_postgres_changes(RealtimePostgresChangesListenEvent.Insert, on_insert, table="jobs", schema="private")
    await channel.subscribe(on_state)
    try:
        await asyncio.wait_for(subscribed, timeout=15)
        wake()  # anything inserted before the subscription was ready is found by this claim
        while not stop.is_set():
            await asyncio.sleep(poll)
    finally:
        await client.close()


def run_realtime_wakeups(settings: Settings, wake: Callable[[], None], stop: threading.Event) -> None:
    """The worker's side task (runs in its own thread with its own event loop)."""
    if not settings.supabase_url or settings.supabase_service_role_key is None:
        raise RuntimeError("Realtime wake-ups need SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY.")
    asyncio.run(
        subscribe_wakeups(
            realtime_url(settings.supabase_url), settings.supabase_service_role_key.get_secret_value(), wake, stop
        )
    )
