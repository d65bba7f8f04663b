"""Scale benchmark (issue 19): a large event log and the costs that grow with it. Prints figures, records nothing.

The log: SHOPPERS x EVENTS over 13 months (default 100,000 x 100 = 10 M rows), written straight into
interaction_history by SQL (the API would take hours at this size; the triggers still run, one statement per
1,000 shoppers): per shopper 70% cart adds and views of an item, 10% checkouts of 5 items, 10% searches, 10%
chat messages, created uniformly over the last 13 months, so one month in 13 is past the 12-month retention.
Then, on the same database, each measured on its own:

1. sizes: interaction_history's table and index bytes (all partitions), and bytes per event;
2. the retention pass: `worker_archive_interactions(12, now, 10000)` called until it moves nothing (what the
   worker's retention does), its time and rows; meanwhile a shopper's `record_cart_add`, one transaction per
   call, p50/p99, against the same calls while idle; sizes again after;
3. the brand catalog: `worker_refresh_brand_catalog()` (the full recount, hourly on the timer before issue 19, on
   demand after) and `record_checkout` p50 (which keeps the incremental catalog after);
4. recompute throughput: `worker_enqueue_all()` for a sample of shoppers, drained by 1 and by 2 `customer-memory
   worker --once` processes (concurrency 2 each): shoppers per second;
5. shoppers first: every shopper's recompute queued as maintenance does (`worker_enqueue_all()`), a worker process
   started and ready (it has finished recomputes of the storm) before the clock starts, then --allergy-trials new
   shoppers, one after another, say "I'm allergic to sesame" through record_message: seconds from the call until
   sesame is in their memory_context (given up after --allergy-timeout);
6. profile: where a recompute's time goes, per function (pg_stat_user_functions), for up to 500 of the sample.

Side by side: run it from another checkout's directory with that checkout on PYTHONPATH, e.g.
    git worktree add /work/wt/scale-base 5b66065
    cd /work/wt/scale-base && PYTHONPATH=$PWD /work/wt/scale/.venv/bin/python /work/wt/scale/benchmarks/scale.py
so the migrations and the worker are that checkout's; only this script is shared.

Usage: .venv/bin/python benchmarks/scale.py [--shoppers 100000] [--events 100] [--sample 2000] [--json out.json]
       [--keep DIR]  (the cluster and a copy of the loaded database stay in DIR: the next run skips the load)
Server: DATABASE_URL (a superuser URL) if set, else a throwaway cluster (CMS_PG_BIN or the embedded wheel).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from worker.config import PROJECT_DIR
from worker.db import schema
from worker.db.request import set_request_context, shopper_claims
from worker.db.server import LocalPostgres

DATABASE = "cms_bench_scale"
CHUNK = 1000  # shoppers per INSERT statement


@contextmanager
def superuser_url(keep: Path | None) -> Iterator[str]:
    """A superuser URL: DATABASE_URL, or a cluster of throwaway settings (no fsync) in `keep` (stopped, not deleted,
    at the end) or in a temporary folder."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    bin_dir = Path(os.environ["CMS_PG_BIN"]) if os.environ.get("CMS_PG_BIN") else None
    with tempfile.TemporaryDirectory(prefix="cms-bench-scale-", dir=os.environ.get("CMS_BENCH_DIR")) as tmp:
        cluster = LocalPostgres(keep or Path(tmp) / "data", bin_dir, throwaway=True)
        running = cluster.ensure_running()
        try:
            yield running.url("supabase_admin")
        finally:
            cluster.stop("fast" if keep else "immediate")


def loaded_database(url: str, shoppers: int, events: int) -> tuple[str, float | None]:
    """DATABASE built and loaded, as a copy of a kept loaded database when the cluster has one (--keep: the load is
    done once per checkout and size), then brought up to this checkout's migrations. Returns the URL as `postgres`
    and the load's seconds (None: copied)."""
    cached = f"{DATABASE}_loaded_{shoppers}x{events}"
    with psycopg.connect(url, autocommit=True) as admin:
        have = admin.execute("select exists (select from pg_database where datname = %s)", (cached,)).fetchone()
    if have == (True,):
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{DATABASE}" with (force)')
            admin.execute(f'create database "{DATABASE}" template "{cached}" strategy file_copy')
            admin.execute(f'grant connect, create, temporary on database "{DATABASE}" to postgres')
        as_postgres = psycopg.conninfo.make_conninfo(url, dbname=DATABASE, user="postgres")
        with psycopg.connect(as_postgres) as conn:
            applied = schema.apply_migrations(conn)
        if applied:
            with psycopg.connect(psycopg.conninfo.make_conninfo(url, dbname=DATABASE), autocommit=True) as conn:
                conn.execute("vacuum analyze")
        print(f"  copied {cached}; applied {applied}", file=sys.stderr, flush=True)
        return as_postgres, None
    as_postgres = schema.build_database(url, DATABASE)
    with psycopg.connect(psycopg.conninfo.make_conninfo(url, dbname=DATABASE), autocommit=True) as conn:
        seconds = load(conn, shoppers, events)
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'create database "{cached}" template "{DATABASE}" strategy file_copy')
    return as_postgres, seconds


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load(conn: psycopg.Connection[Any], shoppers: int, events: int) -> float:
    """Shoppers and their events, CHUNK shoppers per statement; returns seconds."""
    started = time.monotonic()
    for first in range(0, shoppers, CHUNK):
        n = min(CHUNK, shoppers - first)
        with conn.transaction():
            conn.execute(
                """
                with u as (
                  insert into auth.users (instance_id, id, aud, role, email, created_at, updated_at)
                  select '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated',
                         'scale-' || g || '@bench.example', now(), now()
                    from generate_series(%s::integer, %s::integer) as g
                  returning id
                )
                insert into public.interaction_history
                  (user_id, interaction_type, interaction_key, interaction_value, created_at)
                select u.id, t.kind, t.key, t.value, now() - (random() * interval '395 days')
                  from u
                  cross join generate_series(1, %s::integer) as e
                  cross join lateral (
                    select case when e %% 10 < 6 then 'cart_add' when e %% 10 = 6 then 'view_item'
                                when e %% 10 = 7 then 'checkout' when e %% 10 = 8 then 'search' else 'message' end
                           as kind,
                           (abs(hashtext(u.id::text || e)) %% 400) as sku,
                           (abs(hashtext(u.id::text || e)) %% 40) as cat
                  ) as p
                  cross join lateral (
                    select p.kind,
                           case p.kind when 'checkout' then 'order-' || e when 'search' then 'q'
                                       when 'message' then 'user_message' else 'sku-' || p.sku end as key,
                           case p.kind
                             when 'checkout' then jsonb_build_object(
                               'order_id', 'order-' || e, 'placed_at', now(), 'time_zone', 'America/Chicago',
                               'item_count', 5, 'total', 21.5,
                               'items', (select jsonb_agg(jsonb_build_object(
                                           'sku', 'sku-' || ((p.sku + k * 7) %% 400),
                                           'name', 'Item number ' || ((p.sku + k * 7) %% 400),
                                           'category', 'category-' || ((p.cat + k) %% 40),
                                           'brand', 'Brand ' || ((p.sku + k) %% 12), 'price', 4.3, 'quantity', 1))
                                           from generate_series(0, 4) as k))
                             when 'search' then jsonb_build_object('query', 'oat milk and bread')
                             when 'message' then jsonb_build_object('content', 'do you have any gluten free pasta?')
                             else jsonb_build_object('sku', 'sku-' || p.sku, 'name', 'Item number ' || p.sku,
                                                     'category', 'category-' || p.cat,
                                                     'brand', 'Brand ' || (p.sku %% 12), 'price', 3.49, 'quantity', 1)
                           end as value
                  ) as t
                """,
                (first, first + n - 1, events),
            )
            # What the worker would have done for them already: nothing pending before the measurements.
            conn.execute("delete from private.jobs where true")
        if (first // CHUNK) % 10 == 0:
            print(f"  loaded {first + n} shoppers in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    conn.execute("vacuum analyze")
    return time.monotonic() - started


def history_sizes(conn: psycopg.Connection[Any]) -> dict[str, int]:
    row = conn.execute(
        """
        select coalesce(sum(pg_table_size(t.relid)), 0)::bigint as table_bytes,
               coalesce(sum(pg_indexes_size(t.relid)), 0)::bigint as index_bytes,
               count(*)::integer as relations
          from (select p.relid from pg_partition_tree('public.interaction_history') as p where p.isleaf
                union select 'public.interaction_history'::regclass
                 where not exists (select from pg_partition_tree('public.interaction_history'))) as t
        """
    ).fetchone()
    rows = conn.execute("select count(*) from public.interaction_history").fetchone()
    archive = conn.execute("select pg_total_relation_size('private.interaction_archive')").fetchone()
    assert row is not None and rows is not None and archive is not None
    return {
        "rows": rows[0],
        "table_bytes": row[0],
        "index_bytes": row[1],
        "leaf_relations": row[2],
        "archive_bytes": archive[0],
    }


def as_service(conn: psycopg.Connection[Any], query: str, params: tuple[Any, ...] = ()) -> Any:
    with conn.transaction():
        set_request_context(conn, "service_role", path="/worker")
        row = conn.execute(query, params).fetchone()
        return None if row is None else row[0]


# What a shopper's timed calls record: one cart add of this item, or a checkout of five lines.
CART_ITEM = {"sku": "sku-1", "name": "Item number 1", "category": "category-1", "brand": "Brand 1", "price": 3.49}


def timed_cart_add(conn: psycopg.Connection[Any], shopper: uuid.UUID) -> float:
    """record_cart_add in a transaction of its own, as the shopper: milliseconds."""
    started = time.perf_counter()
    with conn.transaction():
        set_request_context(conn, "authenticated", shopper_claims(shopper), path="/rpc/record_cart_add")
        conn.execute("select public.record_cart_add(%s)", (Jsonb(CART_ITEM),))
    return (time.perf_counter() - started) * 1000


def timed_checkout(conn: psycopg.Connection[Any], shopper: uuid.UUID, k: int) -> float:
    """record_checkout of a new order (its k-th: which SKUs) in a transaction of its own, as the shopper:
    milliseconds."""
    order = {
        "order_id": f"bench-{uuid.uuid4().hex[:10]}",
        "placed_at": "2026-12-01T10:00:00-06:00",
        "time_zone": "America/Chicago",
        "items": [
            {"sku": f"sku-{(k + j) % 400}", "name": "Item", "category": f"category-{j}", "brand": f"Brand {j}",
             "price": 2.5, "quantity": 1}
            for j in range(5)
        ],
    }  # fmt: skip
    started = time.perf_counter()
    with conn.transaction():
        set_request_context(conn, "authenticated", shopper_claims(shopper), path="/rpc/record_checkout")
        conn.execute("select public.record_checkout(%s)", (Jsonb(order),))
    return (time.perf_counter() - started) * 1000


def cart_add_latencies(
    url: str, shopper: uuid.UUID, stop: threading.Event | None, count: int, starts: list[float] | None = None
) -> list[float]:
    """record_cart_add, one transaction per call, as the shopper: milliseconds each (and into `starts`, when each
    began, time.monotonic())."""
    out: list[float] = []
    with psycopg.connect(url, autocommit=True) as conn:
        while (stop is None and len(out) < count) or (stop is not None and not stop.is_set()):
            if starts is not None:
                starts.append(time.monotonic())
            out.append(timed_cart_add(conn, shopper))
            time.sleep(0.01)
    return out


def checkout_latencies(url: str, shopper: uuid.UUID, count: int) -> list[float]:
    with psycopg.connect(url, autocommit=True) as conn:
        return [timed_checkout(conn, shopper, k) for k in range(count)]


def worker_env(url: str, **extra: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": url, "CMS_LOG_LEVEL": "WARNING", **extra}
    env["PYTHONPATH"] = str(PROJECT_DIR)
    return env


def periodic_just_ran(conn: psycopg.Connection[Any]) -> None:
    """Expiry and retention ran a moment ago (measured on their own above), so that a starting worker of either
    version does only the work measured here."""
    conn.execute(
        "insert into private.periodic_runs (name, last_run_at) values ('sweep', now()), ('expiry', now()),"
        " ('retention', now()) on conflict (name) do update set last_run_at = now()"
    )


def throughput(conn: psycopg.Connection[Any], url: str, sample: int, processes: int) -> dict[str, float]:
    """`sample` shoppers' recomputes queued, drained by `processes` worker --once processes."""
    conn.execute("delete from private.jobs where true")
    periodic_just_ran(conn)
    conn.execute(
        "insert into private.jobs (user_id, kind) select id, 'recompute' from auth.users"
        " where email like 'scale-%%' order by id limit %s",
        (sample,),
    )
    started = time.monotonic()
    running = [
        subprocess.Popen(
            [sys.executable, "-m", "worker.cli", "worker", "--once", "--concurrency", "2", "--name", f"bench-{k}"],
            cwd=PROJECT_DIR,
            env=worker_env(url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for k in range(processes)
    ]
    for process in running:
        process.wait(3600)
    elapsed = time.monotonic() - started
    # From the first recompute done to the last: the processes' start-up (Python, connections) is not counted.
    done = conn.execute(
        "select count(*), extract(epoch from max(finished_at) - min(finished_at))::float8 from private.jobs"
        " where status = 'done' and kind = 'recompute'"
    ).fetchone()
    assert done is not None
    return {
        "processes": processes,
        "jobs": done[0],
        "wall_seconds": elapsed,
        "per_second": (done[0] - 1) / done[1] if done[1] else 0.0,
    }


def allergy_under_storm(conn: psycopg.Connection[Any], url: str, timeout: float, trials: int) -> dict[str, Any]:
    """Every shopper's recompute queued as maintenance (worker_enqueue_all), a worker process running and busy with
    them (ready: it has finished recomputes of the storm), then, one after another, `trials` new shoppers say "I'm
    allergic to sesame" through record_message: seconds from the call to sesame in their memory_context."""
    conn.execute("delete from private.jobs where true")
    periodic_just_ran(conn)
    queued = as_service(conn, "select public.worker_enqueue_all()")
    shoppers = [uuid.uuid4() for _ in range(trials)]
    for k, shopper in enumerate(shoppers):
        conn.execute(
            "insert into auth.users (instance_id, id, aud, role, email, created_at, updated_at) values"
            " ('00000000-0000-0000-0000-000000000000', %s, 'authenticated', 'authenticated', %s, now(), now())",
            (shopper, f"sesame-{k}@bench.example"),
        )
    started = time.monotonic()
    worker = subprocess.Popen(
        [sys.executable, "-m", "worker.cli", "worker", "--concurrency", "2", "--name", "bench-storm"],
        cwd=PROJECT_DIR,
        env=worker_env(url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    done = "select count(*) from private.jobs where status = 'done' and kind = 'recompute'"
    learned: list[float | None] = []
    try:
        while conn.execute(done).fetchone()[0] < 4 and time.monotonic() - started < 300:  # type: ignore[index]
            time.sleep(0.1)
        ready = time.monotonic() - started
        for shopper in shoppers:
            said = time.monotonic()
            with conn.transaction():
                set_request_context(conn, "authenticated", shopper_claims(shopper), path="/rpc/record_message")
                conn.execute("select public.record_message('I''m allergic to sesame')")
            seconds: float | None = None
            while time.monotonic() - said < timeout:
                with conn.transaction():
                    set_request_context(conn, "authenticated", shopper_claims(shopper), path="/rpc/memory_context")
                    row = conn.execute("select public.memory_context()").fetchone()
                assert row is not None
                if any(a.get("key") == "sesame" for a in row[0].get("allergies", [])):
                    seconds = time.monotonic() - said
                    break
                time.sleep(0.02)
            learned.append(seconds)
            if seconds is None:
                break  # not learned within the timeout: the others would wait as long
            time.sleep(0.5)
        left = conn.execute("select count(*) from private.jobs where status = 'pending'").fetchone()
        assert left is not None
    finally:
        worker.terminate()
        worker.wait(60)
    times = sorted(t for t in learned if t is not None)
    return {
        "queued": queued,
        "worker_ready_seconds": ready,
        "learned_seconds": learned,
        "median": times[len(times) // 2] if len(times) == len(learned) else None,
        "max": times[-1] if times and len(times) == len(learned) else None,
        "timeout": timeout,
        "pending_after": left[0],
    }


SECTIONS = ("retention", "catalog", "throughput", "allergy", "profile")


def profile(conn: psycopg.Connection[Any], sample: int) -> dict[str, Any]:
    """Where a recompute's time goes: `sample` shoppers recomputed one by one, in one session with
    track_functions = 'all', as the worker's transaction does it (worker_recompute_user, then
    worker_refresh_context); per function, the milliseconds per recompute (total: with what it calls; self: without),
    from pg_stat_user_functions. SQL functions the planner inlines are counted in their caller. Then EXPLAIN ANALYZE
    of private.checkouts for one shopper: the one read of the log the derivations share."""
    users = [
        row[0]
        for row in conn.execute(
            "select id from auth.users where email like 'scale-%%' order by id limit %s", (sample,)
        ).fetchall()
    ]
    conn.execute("set track_functions = 'all'")
    conn.execute("select pg_stat_reset()")
    steps: dict[str, list[float]] = {"worker_recompute_user": [], "worker_refresh_context": []}
    for user in users:
        with conn.transaction():
            set_request_context(conn, "service_role", path="/worker")
            for step, query in (
                ("worker_recompute_user", "select public.worker_recompute_user(%s, now())"),
                ("worker_refresh_context", "select public.worker_refresh_context(%s)"),
            ):
                started = time.perf_counter()
                conn.execute(query, (user,))
                steps[step].append((time.perf_counter() - started) * 1000)
    conn.execute("select pg_stat_force_next_flush()")
    rows = conn.execute(
        "select schemaname || '.' || funcname, calls, total_time, self_time from pg_stat_user_functions"
        " where calls > 0 order by total_time desc limit 25"
    ).fetchall()
    conn.execute("reset track_functions")
    n = max(1, len(users))
    plan = conn.execute(
        "explain (analyze, buffers, format json) select * from private.checkouts(%s, now())", (users[0],)
    ).fetchone()[0][0]  # type: ignore[index]
    inner = conn.execute(
        "explain (analyze, buffers, format json) select ih.id from public.interaction_history as ih"
        " where ih.user_id = %s and ih.interaction_type = 'checkout'",
        (users[0],),
    ).fetchone()[0][0]  # type: ignore[index]
    return {
        "recomputes": len(users),
        "step_ms_p50": {step: pct(times, 0.5) for step, times in steps.items()},
        "step_ms_mean": {step: sum(times) / n for step, times in steps.items()},
        "functions_ms_per_recompute": [
            {"function": row[0], "calls_per_recompute": row[1] / n, "total": row[2] / n, "self": row[3] / n}
            for row in rows
        ],
        "checkouts_plan_ms": {"planning": plan["Planning Time"], "execution": plan["Execution Time"]},
        "checkout_rows_read": {
            "planning_ms": inner["Planning Time"],
            "execution_ms": inner["Execution Time"],
            "index_scans": json.dumps(inner).count("Index Scan"),
        },
    }


def retention_pass(conn: psycopg.Connection[Any], url: str, shopper: uuid.UUID) -> dict[str, Any]:
    idle = cart_add_latencies(url, shopper, None, 300)
    stop = threading.Event()
    during: list[float] = []
    starts: list[float] = []
    thread = threading.Thread(target=lambda: during.extend(cart_add_latencies(url, shopper, stop, 0, starts)))
    thread.start()
    archived = "select count(*) from private.interaction_archive"
    started, passes = time.monotonic(), 0
    calls: list[tuple[float, float, int]] = []  # (began, ended, what it returned)
    before_archive = conn.execute(archived).fetchone()[0]  # type: ignore[index]
    while True:
        began = time.monotonic()
        n = as_service(conn, "select public.worker_archive_interactions(12, now(), 10000)")
        calls.append((began, time.monotonic(), n))
        passes += 1
        if not n:
            break
    moved = conn.execute(archived).fetchone()[0] - before_archive  # type: ignore[index]
    retention = time.monotonic() - started
    stop.set()
    thread.join()
    # The slowest calls during the pass, each with the retention call it overlapped (its index, ms and result).
    slowest = sorted(range(len(during)), key=lambda k: -during[k])[:8]
    overlapped = [
        {
            "ms": round(during[k], 1),
            "retention_calls": [
                {"call": c, "ms": round((calls[c][1] - calls[c][0]) * 1000), "returned": calls[c][2]}
                for c in range(len(calls))
                if calls[c][0] <= starts[k] + during[k] / 1000 and calls[c][1] >= starts[k]
            ],
        }
        for k in slowest
    ]
    return {
        "seconds": retention,
        "moved": moved,
        "calls": passes,
        "call_ms": [round((c[1] - c[0]) * 1000) for c in calls],
        "slowest_during": overlapped,
        "cart_add_idle_ms": {"p50": pct(idle, 0.5), "p99": pct(idle, 0.99), "n": len(idle)},
        "cart_add_during_ms": {"p50": pct(during, 0.5), "p99": pct(during, 0.99), "n": len(during)},
    }


def catalog(conn: psycopg.Connection[Any], url: str, shopper: uuid.UUID) -> dict[str, Any]:
    started = time.monotonic()
    categories = as_service(conn, "select public.worker_refresh_brand_catalog()")
    refresh = time.monotonic() - started
    checkout = checkout_latencies(url, shopper, 200)
    return {
        "full_refresh_seconds": refresh,
        "categories": categories,
        "record_checkout_ms": {"p50": pct(checkout, 0.5), "p99": pct(checkout, 0.99)},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shoppers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--sample", type=int, default=2000, help="shoppers recomputed for the throughput figure")
    parser.add_argument("--allergy-timeout", type=float, default=120.0)
    parser.add_argument("--allergy-trials", type=int, default=5, help="shoppers who state an allergy, one by one")
    parser.add_argument(
        "--keep", type=Path, help="keep the cluster (and a copy of the loaded database, reused next time) here"
    )
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"comma-separated sections to measure (of {', '.join(SECTIONS)})"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    only = {section for section in args.only.split(",") if section}  # --only "": load (or copy) and sizes only
    if not only <= set(SECTIONS):
        parser.error(f"--only takes {', '.join(SECTIONS)}")
    commit = subprocess.run(
        ["git", "-C", str(PROJECT_DIR), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    figures: dict[str, Any] = {
        "commit": commit,
        "project": str(PROJECT_DIR),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "shoppers": args.shoppers,
        "events_per_shopper": args.events,
    }
    with superuser_url(args.keep) as url:
        as_postgres, figures["load_seconds"] = loaded_database(url, args.shoppers, args.events)
        superuser = psycopg.conninfo.make_conninfo(url, dbname=DATABASE)
        with psycopg.connect(superuser, autocommit=True) as conn:
            figures["server"] = conn.execute("show server_version").fetchone()[0]  # type: ignore[index]
            before = history_sizes(conn)
            figures["before"] = {
                **before,
                "bytes_per_event": (before["table_bytes"] + before["index_bytes"]) / before["rows"],
            }
            print(json.dumps(figures), file=sys.stderr, flush=True)
            shopper = conn.execute("select id from auth.users where email like 'scale-%%' limit 1").fetchone()[0]  # type: ignore[index]
            if "retention" in only:
                figures["retention"] = retention_pass(conn, as_postgres, shopper)
                after = history_sizes(conn)
                figures["after"] = {
                    **after,
                    "bytes_per_event": (after["table_bytes"] + after["index_bytes"]) / max(1, after["rows"]),
                }
                print(json.dumps(figures), file=sys.stderr, flush=True)
            if "catalog" in only:
                figures["catalog"] = catalog(conn, as_postgres, shopper)
            if "throughput" in only:
                figures["throughput"] = [throughput(conn, as_postgres, args.sample, k) for k in (1, 2)]
                print(json.dumps(figures), file=sys.stderr, flush=True)
            if "profile" in only:
                figures["profile"] = profile(conn, min(args.sample, 500))
                print(json.dumps(figures), file=sys.stderr, flush=True)
            if "allergy" in only:
                figures["allergy"] = allergy_under_storm(conn, as_postgres, args.allergy_timeout, args.allergy_trials)
    print(json.dumps(figures, indent=2, default=str))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
