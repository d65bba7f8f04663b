"""Shoppers first: maintenance (retention, expiry, the precomputed documents, backfills) runs as jobs of its own
behind every shopper's job, never inline before the worker claims; a shopper's event is never queued behind a
maintenance storm; and a shopper who never pauses is still recomputed at least every CMS_BUSY_SHOPPER_SECONDS."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import psycopg

from tests.conftest import Database, create_user
from tests.worker.conftest import NOW, as_service, days_ago, item, jobs, record_checkout
from worker.config import Settings
from worker.db.request import set_request_context, shopper_claims
from worker.runtime.worker import BackgroundWorker, run_until_idle


def _settings(**overrides: Any) -> Settings:
    return Settings().model_copy(update={"sweep_interval_seconds": 30.0, **overrides})


def _as_shopper(conn: psycopg.Connection[Any], user: uuid.UUID, query: str, params: tuple[Any, ...] = ()) -> Any:
    """One committed PostgREST-like request of the shopper."""
    with conn.transaction():
        set_request_context(conn, "authenticated", shopper_claims(user))
        return conn.execute(query, params).fetchone()


def _maintenance_storm(conn: psycopg.Connection[Any], shoppers: int) -> None:
    """`shoppers` other shoppers, each with a recompute queued by maintenance (as a backfill or retention queues
    them: priority 1), all due before anything the test records."""
    conn.execute(
        "insert into auth.users (id, aud, role, email) select gen_random_uuid(), 'authenticated', 'authenticated',"
        " 'storm-' || g || '@example.test' from generate_series(1, %s) as g",
        (shoppers,),
    )
    conn.execute(
        "insert into private.jobs (user_id, kind, priority, run_after)"
        " select id, 'recompute', 1, now() - interval '1 minute' from auth.users where email like 'storm-%%'"
    )


def test_a_shoppers_event_lifts_a_pending_maintenance_recompute_to_the_front(db: Database) -> None:
    with db.connect("superuser") as conn:
        user = create_user(conn)
        conn.execute("insert into private.jobs (user_id, kind, priority) values (%s, 'recompute', 1)", (user,))
        _as_shopper(conn, user, "select public.record_interaction('search', 'oat milk')")
        assert [(j["kind"], j["priority"], j["status"]) for j in jobs(conn, user)] == [("recompute", 0, "pending")]
        # Retention's moves and a backfill queue behind: priority 1 for a shopper with no pending job of their own.
        other = create_user(conn)
        conn.execute(
            "insert into public.interaction_history (user_id, interaction_type, interaction_key, created_at)"
            " values (%s, 'search', 'old', now() - interval '14 months')",
            (other,),
        )
        conn.execute("update private.jobs set status = 'done', finished_at = now() where user_id = %s", (other,))
        with as_service(conn):
            assert conn.execute("select public.worker_archive_interactions(12)").fetchone() == {
                "worker_archive_interactions": 1
            }
        assert [(j["priority"], j["status"]) for j in jobs(conn, other) if j["status"] == "pending"] == [(1, "pending")]


def test_a_stated_allergy_is_learned_within_5_seconds_with_5000_maintenance_recomputes_queued(db: Database) -> None:
    with db.connect("superuser") as conn:
        _maintenance_storm(conn, 5000)
        user = create_user(conn)
        with BackgroundWorker(_settings(worker_concurrency=2), db.url()):
            said = time.monotonic()
            _as_shopper(conn, user, "select public.record_message(%s)", ("I'm allergic to sesame",))
            learned = None
            while time.monotonic() - said < 30:
                context = _as_shopper(conn, user, "select public.memory_context() as c")["c"]
                if any(a["key"] == "sesame" for a in context["allergies"]):
                    learned = time.monotonic() - said
                    break
                time.sleep(0.05)
            left = conn.execute(
                "select count(*) as n from private.jobs where priority = 1 and status = 'pending'"
            ).fetchone()["n"]
    assert learned is not None and learned < 5, learned
    assert left > 0, "the allergy did not wait for the maintenance storm to drain"


def test_a_worker_that_starts_with_retention_due_claims_the_shoppers_job_first(db: Database) -> None:
    with db.connect("superuser") as conn:
        old = create_user(conn)
        conn.execute(  # a year and more of someone's history, all due for the archive
            "insert into public.interaction_history (user_id, interaction_type, interaction_key, created_at)"
            " select %s, 'search', 'q' || g, now() - interval '15 months' - g * interval '1 minute'"
            " from generate_series(1, 25000) as g",
            (old,),
        )
        conn.execute("update private.jobs set status = 'done', finished_at = now()")
        user = create_user(conn)
        record_checkout(conn, user, days_ago(1), [item("milk", "Dairy")])
        stats = run_until_idle(
            _settings(worker_concurrency=1, maintenance_slice_seconds=0.2), db.url(), now=lambda: NOW
        )
        assert stats.failed == 0 and stats.periodic["archived"] == 25000
        [mine] = jobs(conn, user)
        retention = conn.execute(
            "select min(updated_at) as first_claimed, count(*) as slices from private.jobs where kind = 'retention'"
        ).fetchone()
    assert mine["status"] == "done" and mine["finished_at"] <= retention["first_claimed"]
    assert retention["slices"] >= 2, "retention ran in slices, each queued behind the shoppers' jobs"


def test_a_shopper_who_never_pauses_is_recomputed_at_least_every_busy_bound(db: Database) -> None:
    """Three of the shopper's sessions record events in overlapping transactions, so their pending job is always
    locked by an event in flight; SKIP LOCKED alone passes it by until they stop."""
    with db.connect("superuser") as conn:
        user = create_user(conn)
        conn.execute("update private.jobs set status = 'done', finished_at = now()")
    stop = threading.Event()
    errors: list[BaseException] = []

    def session(offset: float) -> None:
        try:
            with db.connect() as conn:
                time.sleep(offset)
                while not stop.is_set():
                    with conn.transaction():
                        set_request_context(conn, "authenticated", shopper_claims(user))
                        conn.execute("select public.record_interaction('search', 'oat milk')")
                        time.sleep(0.3)  # the event's transaction holds the job's row lock until it commits
        except BaseException as error:  # surfaced below
            errors.append(error)

    sessions = [threading.Thread(target=session, args=(offset,)) for offset in (0.0, 0.1, 0.2)]
    for thread in sessions:
        thread.start()
    try:
        with BackgroundWorker(_settings(busy_shopper_seconds=2, sweep_interval_seconds=0.5), db.url()):
            time.sleep(9)
            with db.connect("superuser") as conn:
                done = conn.execute(
                    "select count(*) as n from private.jobs where user_id = %s and status = 'done'", (user,)
                ).fetchone()["n"]
    finally:
        stop.set()
        for thread in sessions:
            thread.join(10)
    assert not errors, errors
    # 9 s of never pausing with a 2 s bound: recomputed several times while the events kept coming.
    assert done >= 3, done


def _catalog(conn: psycopg.Connection[Any]) -> dict[str, int]:
    rows = conn.execute("select category, brands from private.category_brands").fetchall()
    return {r["category"]: r["brands"] for r in rows}


def test_the_brand_catalog_is_kept_current_by_checkouts_and_equals_a_rebuild(db: Database) -> None:
    """No scan of the log on a timer: each checkout adds the brands it names that were not seen in their category."""
    with db.connect("superuser") as conn:
        first, second = create_user(conn), create_user(conn)
        record_checkout(conn, first, days_ago(3), [item("y1", "Yogurt", brand="Chobani"), item("b", "Bananas")])
        assert _catalog(conn) == {"yogurt": 1, "bananas": 1}
        record_checkout(conn, second, days_ago(2), [item("y2", "yogurt ", brand="Store Brand")])
        record_checkout(conn, second, days_ago(1), [item("y2", "Yogurt", brand="Store Brand")])  # seen: no change
        assert _catalog(conn) == {"yogurt": 2, "bananas": 1}
        incremental = _catalog(conn)
        with as_service(conn):
            conn.execute("select public.worker_refresh_brand_catalog()")
        assert _catalog(conn) == incremental
        assert conn.execute("select count(*) as n from private.brand_catalog").fetchone() == {"n": 3}


def test_retention_moves_a_whole_month_and_does_what_its_deletes_would(db: Database) -> None:
    """A month past the window is copied to the archive and its partition dropped; the shopper's volume, the
    messages read and a maintenance recompute follow, as the log's delete triggers would have done row by row."""
    with db.connect("superuser") as conn:
        user = create_user(conn)
        month = conn.execute("select date_trunc('month', now()) + interval '1 day' as at").fetchone()["at"]
        conn.execute(
            "insert into public.interaction_history (user_id, interaction_type, interaction_key, interaction_value,"
            " created_at) select %s, 'message', 'user_message', '{\"content\": \"hi\"}', %s + g * interval '1 minute'"
            " from generate_series(1, 30) as g",
            (user, month),
        )
        message = conn.execute(
            "select id from public.interaction_history where user_id = %s limit 1", (user,)
        ).fetchone()
        with as_service(conn):
            conn.execute("select public.worker_skip_message(%s, %s, 'rules', 'test')", (user, message["id"]))
        conn.execute("update private.jobs set status = 'done', finished_at = now()")
        partition = conn.execute(
            "select tableoid::regclass::text as name from public.interaction_history where user_id = %s limit 1",
            (user,),
        ).fetchone()["name"]
        later = conn.execute("select %s::timestamptz + interval '14 months' as at", (month,)).fetchone()["at"]
        moved = 0
        with as_service(conn):
            while n := conn.execute("select public.worker_archive_interactions(12, %s) as n", (later,)).fetchone()["n"]:
                moved += n
        assert moved == 30 + 1 + 1  # the month copied, its partition dropped, its one shopper caught up
        assert conn.execute("select to_regclass(%s) as r", (partition,)).fetchone() == {"r": None}
        assert conn.execute(
            "select count(*) as n from private.interaction_archive where user_id = %s", (user,)
        ).fetchone() == {"n": 30}
        assert conn.execute("select events from private.shopper_volume where user_id = %s", (user,)).fetchone() == {
            "events": 0
        }
        assert conn.execute("select count(*) as n from private.extracted_messages").fetchone() == {"n": 0}
        assert [(j["priority"], j["status"]) for j in jobs(conn, user) if j["status"] == "pending"] == [(1, "pending")]


def test_retention_catches_a_months_shoppers_up_at_most_a_thousand_a_call(db: Database) -> None:
    """Catching up holds each shopper's job and volume rows until it commits, and a shopper's own call that needs
    them waits: a call takes at most 1,000 shoppers, whatever batch the worker asks for."""
    with db.connect("superuser") as conn:
        month = conn.execute("select date_trunc('month', now()) + interval '1 day' as at").fetchone()["at"]
        conn.execute(
            "with u as (insert into auth.users (instance_id, id, aud, role, email, created_at, updated_at)"
            " select '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated',"
            " 'retention-' || g || '@test.example', now(), now() from generate_series(1, 1500) as g returning id)"
            " insert into public.interaction_history (user_id, interaction_type, interaction_key, created_at)"
            " select u.id, 'search', 'oats', %s from u",
            (month,),
        )
        conn.execute("update private.jobs set status = 'done', finished_at = now()")
        later = conn.execute("select %s::timestamptz + interval '14 months' as at", (month,)).fetchone()["at"]
        steps = []
        with as_service(conn):
            while n := conn.execute(
                "select public.worker_archive_interactions(12, %s, 10000) as n", (later,)
            ).fetchone()["n"]:
                steps.append(n)
        assert steps == [1500, 1, 1000, 500]  # copied, dropped, caught up in two calls
        assert conn.execute(
            "select count(*) as n from private.jobs where priority = 1 and status = 'pending'"
        ).fetchone() == {"n": 1500}


def test_a_month_made_after_its_events_arrived_takes_them_from_the_default_partition(db: Database) -> None:
    with db.connect("superuser") as conn:
        user = create_user(conn)
        conn.execute(
            "insert into public.interaction_history (user_id, interaction_type, interaction_key, created_at)"
            " values (%s, 'search', 'far ahead', '2035-03-10T12:00:00Z')",
            (user,),
        )
        where = (
            "select tableoid::regclass::text as t from public.interaction_history where interaction_key = 'far ahead'"
        )
        assert conn.execute(where).fetchone() == {"t": "private.interaction_history_default"}
        made = conn.execute("select private.ensure_interaction_partitions('2035-03-01', '2035-03-02') as n").fetchone()
        assert made == {"n": 1}
        assert conn.execute(where).fetchone() == {"t": "private.interaction_history_p2035_03"}
        secured = conn.execute(
            "select c.relrowsecurity as rls, (select count(*) from pg_policies as p where p.schemaname = 'private'"
            " and p.tablename = c.relname) as policies,"
            " has_table_privilege('authenticated', c.oid, 'select') as granted"
            " from pg_class as c where c.oid = 'private.interaction_history_p2035_03'::regclass"
        ).fetchone()
        assert secured == {"rls": True, "policies": 2, "granted": False}
