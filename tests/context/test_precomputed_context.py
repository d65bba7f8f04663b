"""The precomputed memory_context document (supabase/schemas/4x_context_*.sql): the worker stores it,
memory_context hands it back, every change to the shopper's memory drops it in the same transaction, a refresh
that races a write stores nothing stale, and time makes it stale when a pattern or an insight would leave the
document.

All through the real functions: the API as the shopper, worker_* as the service role, the Worker itself."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg

from tests.conftest import Database, create_user
from tests.worker.conftest import NOW, as_service, days_ago, item, record_checkout
from worker.client.direct_adapter import DirectAdapter
from worker.client.seam import Identity
from worker.config import Settings
from worker.db.request import set_request_context, shopper_claims
from worker.prompt import calls
from worker.runtime.store import JobStore
from worker.runtime.worker import run_until_idle

BASKET = [item("milk", "Dairy", brand="Horizon", tags=["organic"]), item("eggs", "Dairy", quantity=2)]


def _shopper_with_history(conn: psycopg.Connection[Any], orders: int = 8) -> UUID:
    user = create_user(conn)
    for k in range(orders):
        record_checkout(conn, user, days_ago(7 * k), BASKET)
    return user


def _cache(conn: psycopg.Connection[Any], user: UUID) -> dict[str, Any] | None:
    return conn.execute(  # type: ignore[no-any-return]
        "select generation, document, nullif(valid_until, 'infinity') as valid_until, valid_until = 'infinity'"
        " as timeless from private.memory_context_cache where user_id = %s",
        (user,),
    ).fetchone()


def _raw_context(conn: psycopg.Connection[Any], user: UUID, **kwargs: Any) -> dict[str, Any]:
    """The document as memory_context returns it (through the seam, as the shopper), before any model reads it."""
    args = {name: str(value) if isinstance(value, Decimal) else value for name, value in kwargs.items()}
    seam = DirectAdapter(lambda: nullcontext(conn))
    return seam.call("memory_context", args, Identity.shopper(user))  # type: ignore[no-any-return]


def _live(conn: psycopg.Connection[Any], user: UUID) -> dict[str, Any]:
    row = conn.execute("select private.compose_memory_context(%s, 0.70, null) as d", (user,)).fetchone()
    assert row is not None
    return row["d"]  # type: ignore[no-any-return]


def _without_time(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "generated_at"}


def _refresh(conn: psycopg.Connection[Any], user: UUID) -> bool:
    """What the worker runs after a recompute, committed."""
    with as_service(conn):
        row = conn.execute("select public.worker_refresh_context(%s) as stored", (user,)).fetchone()
    assert row is not None
    return bool(row["stored"])


def _wait_for_lock(conn: psycopg.Connection[Any], pid: int, wait_event: str) -> None:
    """Until backend `pid` waits on a lock of this kind ("relation", "transactionid", ...)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        row = conn.execute("select wait_event from pg_stat_activity where pid = %s", (pid,)).fetchone()
        if row and row["wait_event"] == wait_event:
            return
        time.sleep(0.02)
    raise AssertionError(f"backend {pid} never waited on {wait_event}")


def test_the_worker_stores_the_document_and_memory_context_hands_it_back(db: Database) -> None:
    with db.connect() as conn:
        user = _shopper_with_history(conn)
    run_until_idle(Settings(), db.url(), now=lambda: NOW)
    with db.connect() as conn:
        cached = _cache(conn, user)
        assert cached is not None and cached["document"] is not None
        assert cached["document"]["favorites"], "the worker's favorites are in the stored document"
        # The stored copy is what composing now gives (but for the moment it was composed) ...
        assert _without_time(cached["document"]) == _without_time(_live(conn, user))
        # ... and memory_context returns it as stored: its generated_at is the worker's, not this call's.
        assert _raw_context(conn, user) == cached["document"]
        # Another floor or a query is composed live, with this call's time.
        for kwargs in ({"min_confidence": Decimal("0.5")}, {"query": "what milk should I get"}):
            assert _raw_context(conn, user, **kwargs)["generated_at"] != cached["document"]["generated_at"]


def test_every_change_to_the_memory_drops_the_document_in_its_own_transaction(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        shopper = calls.client(conn, user)
        shopper.remember_preference(preference_type="allergy", preference_key="peanuts")

        def insight_id() -> UUID:
            row = conn.execute("select id from public.memory_insights where user_id = %s", (user,)).fetchone()
            assert row is not None
            return row["id"]  # type: ignore[no-any-return]

        changes: list[tuple[str, Callable[[], object]]] = [
            ("a stated preference", lambda: shopper.remember_preference(preference_type="brand", preference_key="x")),
            ("an inferred pattern", lambda: conn.execute(
                "insert into public.shopping_patterns (user_id, pattern_type, pattern_key, confidence,"
                " last_occurrence) values (%s, 'frequency', 'weekly', 0.8, now())", (user,))),
            ("a pattern's update", lambda: conn.execute(
                "update public.shopping_patterns set confidence = 0.9 where user_id = %s", (user,))),
            ("an insight", lambda: conn.execute(
                "insert into public.memory_insights (user_id, insight_type, insight_key, insight_value, confidence)"
                " values (%s, 'persona', 'budget_conscious', 'Store brands', 0.8)", (user,))),
            ("forget_memory", lambda: shopper.forget_memory(memory_id=insight_id())),
        ]  # fmt: skip
        for what, change in changes:
            assert _refresh(conn, user), what
            before = _cache(conn, user)
            assert before is not None and before["document"] is not None
            change()
            after = _cache(conn, user)
            assert after is not None
            assert after["document"] is None, f"{what} drops the stored document"
            assert after["generation"] > before["generation"], what
            assert _without_time(_raw_context(conn, user)) == _without_time(_live(conn, user)), what


def test_a_shopper_deleting_their_own_row_through_the_table_drops_the_document(db: Database) -> None:
    """The Data API lets a shopper DELETE their own memory rows; the trigger runs as them and must still work."""
    with db.connect() as conn:
        user = create_user(conn)
        calls.client(conn, user).remember_preference(preference_type="dislike", preference_key="cilantro")
        assert _refresh(conn, user)
        with conn.transaction():  # committed: acting_as would roll the delete back
            set_request_context(conn, "authenticated", shopper_claims(user))
            deleted = conn.execute("delete from public.customer_preferences where user_id = %s", (user,)).rowcount
        assert deleted == 1
        cached = _cache(conn, user)
        assert cached is not None and cached["document"] is None
        assert _raw_context(conn, user)["dislikes"] == []


def test_a_refresh_racing_a_write_stores_nothing_stale(db: Database) -> None:
    """The refresh reads the generation, composes, then stores only if the generation did not move. Here the
    refresh is held mid-compose (a lock on memory_insights, its snapshot already taken) while a shopper states a
    preference and commits, which moves the generation. The refresh then composes without the new preference and
    must store nothing, or memory_context would hand back a document without it."""
    with db.connect() as setup:
        user = create_user(setup)
        calls.client(setup, user).remember_preference(preference_type="favorite", preference_key="sourdough")
        assert _refresh(setup, user)
    blocker, refresher, observer = db.connect(autocommit=False), db.connect(), db.connect()
    result: dict[str, bool] = {}
    try:
        blocker.execute("lock table public.memory_insights in access exclusive mode")
        thread = threading.Thread(target=lambda: result.update(stored=_refresh(refresher, user)))
        thread.start()
        _wait_for_lock(observer, refresher.info.backend_pid, "relation")  # composing, generation already read
        calls.client(observer, user).remember_preference(preference_type="favorite", preference_key="racing-sku")
        blocker.rollback()
        thread.join(timeout=10)
    finally:
        for conn in (blocker, refresher, observer):
            conn.close()
    assert result == {"stored": False}, "a document composed before the write must not be stored"
    with db.connect() as conn:
        assert "racing-sku" in [f["key"] for f in _raw_context(conn, user)["favorites"]]


def test_time_makes_the_document_stale_and_the_sweep_rebuilds_it(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        conn.execute(
            "insert into public.memory_insights (user_id, insight_type, insight_key, insight_value, confidence,"
            " expires_at) values (%s, 'goal', 'holiday_baking', 'Baking', 0.8, now() + interval '3 days'),"
            " (%s, 'persona', 'budget_conscious', 'Store brands', 0.8, null)",
            (user, user),
        )
        conn.execute(
            "insert into public.shopping_patterns (user_id, pattern_type, pattern_key, confidence, last_occurrence)"
            " values (%s, 'frequency', 'weekly', 0.8, now() - interval '88 days')",
            (user,),
        )
        assert _refresh(conn, user)
        cached = _cache(conn, user)
        assert cached is not None
        row = conn.execute(
            "select (select last_occurrence + interval '90 days' from public.shopping_patterns where user_id = %s)"
            " as pattern_leaves",
            (user,),
        ).fetchone()
        assert row is not None
        # The pattern leaves the 90-day window in two days, before the insight expires in three.
        assert cached["valid_until"] == row["pattern_leaves"]

        # Two days on (moved by hand: the clock cannot be): composed live, without the pattern.
        conn.execute(
            "update private.memory_context_cache set valid_until = now() - interval '1 second' where user_id = %s",
            (user,),
        )
        conn.execute(
            "update public.shopping_patterns set last_occurrence = now() - interval '91 days' where user_id = %s",
            (user,),
        )
        assert _raw_context(conn, user)["patterns"] == []
        # The sweep (as the worker runs it) stores a fresh one, valid until the insight expires.
        refreshed = JobStore(conn).refresh_stale_contexts(100)
        assert refreshed == 1
        cached = _cache(conn, user)
        assert cached is not None and cached["document"] is not None
        assert cached["document"]["patterns"] == []
        assert isinstance(cached["valid_until"], datetime)
        assert _raw_context(conn, user) == cached["document"]


def test_the_sweep_skips_a_row_another_transaction_holds(db: Database) -> None:
    """A transaction invalidating several shoppers at commit (expiry) may hold one shopper's row while it waits for
    another's; a sweep that waited for rows too could close a cycle. It skips held rows instead."""
    with db.connect() as conn:
        held, free = create_user(conn), create_user(conn)
        for user in (held, free):
            calls.client(conn, user).remember_preference(preference_type="dislike", preference_key="cilantro")
    holder = db.connect(autocommit=False)
    try:
        holder.execute("select 1 from private.memory_context_cache where user_id = %s for update", (held,))
        with db.connect() as conn:
            conn.execute("set statement_timeout = '5s'")  # a sweep that waited would fail here, not hang the suite
            assert JobStore(conn).refresh_stale_contexts(10) == 1
            assert _cache(conn, free)["document"] is not None  # type: ignore[index]
            assert _cache(conn, held)["document"] is None  # type: ignore[index]
    finally:
        holder.close()
    with db.connect() as conn:
        assert JobStore(conn).refresh_stale_contexts(10) == 1, "the next sweep takes it"


def test_the_worker_rebuilds_what_forget_memory_dropped(db: Database) -> None:
    with db.connect() as conn:
        user = _shopper_with_history(conn)
    run_until_idle(Settings(), db.url(), now=lambda: NOW)
    with db.connect() as conn:
        favorite = _raw_context(conn, user)["favorites"][0]
        calls.client(conn, user).forget_memory(memory_id=favorite["id"])
        assert _cache(conn, user)["document"] is None  # type: ignore[index]
    stats = run_until_idle(Settings(), db.url(), now=lambda: NOW)
    assert stats.periodic.get("contexts_refreshed") == 1
    with db.connect() as conn:
        cached = _cache(conn, user)
        assert cached is not None and cached["document"] is not None
        assert favorite["key"] not in [f["key"] for f in cached["document"]["favorites"]]
        assert _raw_context(conn, user) == cached["document"]


def test_deleting_the_account_deletes_the_document(db: Database) -> None:
    with db.connect() as conn:
        user = _shopper_with_history(conn, orders=3)
        run_until_idle(Settings(), db.url(), now=lambda: NOW)
        assert _cache(conn, user) is not None
        conn.execute("delete from auth.users where id = %s", (user,))
        assert _cache(conn, user) is None


def test_a_recompute_and_a_shoppers_write_never_deadlock(db: Database) -> None:
    """The worker's recompute writes patterns, then preferences; a shopper's call writes a preference. If a write
    took the shopper's cache row as soon as its statement ended, the worker would hold it after its pattern
    statement and wait for the shopper's preference, while the shopper's call waits for the cache row: a deadlock,
    and one of them fails. The invalidation runs at commit, after every other lock, so both must succeed."""
    with db.connect() as setup:
        user = create_user(setup)
        calls.client(setup, user).remember_preference(preference_type="favorite", preference_key="sourdough")
        assert _refresh(setup, user)
    worker, shopper, observer = db.connect(autocommit=False), db.connect(autocommit=False), db.connect()
    errors: list[BaseException] = []

    def shopper_states_it() -> None:
        try:
            set_request_context(shopper, "authenticated", shopper_claims(user))
            shopper.execute("select public.remember_preference('favorite', 'sourdough')")
            shopper.commit()
        except psycopg.Error as error:
            errors.append(error)
            shopper.rollback()

    try:
        # The worker's first statement: a pattern.
        worker.execute(
            "insert into public.shopping_patterns (user_id, pattern_type, pattern_key, confidence, last_occurrence)"
            " values (%s, 'frequency', 'weekly', 0.8, now())",
            (user,),
        )
        thread = threading.Thread(target=shopper_states_it)
        thread.start()
        deadline = time.monotonic() + 10
        while thread.is_alive() and time.monotonic() < deadline:
            row = observer.execute(
                "select wait_event_type from pg_stat_activity where pid = %s", (shopper.info.backend_pid,)
            ).fetchone()
            if row and row["wait_event_type"] == "Lock":
                break  # the shopper's call waits for the worker: the worker's next statement closes the cycle
            time.sleep(0.02)
        # The worker's next statement: the same preference.
        try:
            worker.execute(
                "update public.customer_preferences set confidence = 0.9"
                " where user_id = %s and preference_key = 'sourdough'",
                (user,),
            )
            worker.commit()
        except psycopg.Error as error:
            errors.append(error)
            worker.rollback()
        thread.join(timeout=10)
    finally:
        for conn in (worker, shopper, observer):
            conn.close()
    assert errors == []
    with db.connect() as conn:
        assert _cache(conn, user)["document"] is None  # type: ignore[index]
        assert [p["key"] for p in _raw_context(conn, user)["patterns"]] == ["weekly"]
