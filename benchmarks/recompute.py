"""Worker benchmark on the full Complete Journey data set (2,469 households, about 155,000 baskets).

1. Rebuild: every household's patterns, inferred preferences and insights recomputed through the queue (enqueue
   all, then `Worker.run(once=True)` with N threads), as of the end of the data set. Reports households/s.
2. Latency: a checkout committed (record_checkout as the shopper, as PostgREST would run it) until the job that
   recomputes that shopper is done, with a running worker woken by NOTIFY. Reports p50/p95/max.

Runs on a throwaway cluster (embedded PostgreSQL 18, or the binaries in CMS_PG_BIN). Baskets are loaded with
COPY as the values record_checkout stores (item_count and total added), which is what the worker reads.

    .venv/bin/python benchmarks/recompute.py [--households N] [--concurrency 2] [--samples 100]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from worker.config import Settings
from worker.datasets import completejourney
from worker.db import schema
from worker.db.request import set_request_context, shopper_claims
from worker.db.server import LocalPostgres
from worker.runtime.worker import BackgroundWorker, Worker

AS_OF = datetime(2018, 1, 1, tzinfo=ZoneInfo("America/New_York"))


def load(url: str, data: completejourney.CompleteJourney, households: list[int] | None) -> int:
    started = time.monotonic()
    chosen = households or sorted(int(h) for h in data.transactions["household_id"].unique())
    count = 0
    with psycopg.connect(url) as conn:
        with conn.cursor().copy("copy auth.users (id, aud, role, email) from stdin") as copy:
            for household in chosen:
                copy.write_row(
                    (
                        completejourney.shopper_id(household),
                        "authenticated",
                        "authenticated",
                        f"household-{household}@example.test",
                    )
                )
        with conn.cursor().copy(
            "copy public.interaction_history (user_id, interaction_type, interaction_key, interaction_value,"
            " created_at) from stdin"
        ) as copy:
            for shopper, payload in completejourney.checkouts(data, households):
                payload["item_count"] = sum(item["quantity"] for item in payload["items"])
                payload["total"] = round(sum(item["price"] * item["quantity"] for item in payload["items"]), 2)
                copy.write_row((shopper, "checkout", payload["order_id"], json.dumps(payload), payload["placed_at"]))
                count += 1
        conn.commit()
        conn.execute("analyze")
    print(f"loaded {len(chosen)} households, {count} checkouts in {time.monotonic() - started:.1f} s", flush=True)
    return len(chosen)


def rebuild(url: str, concurrency: int) -> float:
    """Every shopper with events, recomputed through the queue; `households` below is how many have events."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("delete from private.jobs")
        with conn.transaction():
            set_request_context(conn, "service_role")
            # The maintenance job a backfill runs first: the population's shares and repeat intervals.
            started = time.monotonic()
            conn.execute("select public.worker_refresh_pattern_population(%s)", (AS_OF,))
            print(f"population refreshed in {time.monotonic() - started:.1f} s", flush=True)
            households = conn.execute("select public.worker_enqueue_all()").fetchone()[0]  # type: ignore[index]
    settings = Settings().model_copy(update={"worker_concurrency": concurrency})
    started = time.monotonic()
    stats = Worker(settings, url, now=lambda: AS_OF, listen=False).run(once=True)
    elapsed = time.monotonic() - started
    assert stats.done == households and stats.failed == 0, stats
    with psycopg.connect(url) as conn:
        counts = conn.execute(
            "select (select count(*) from public.shopping_patterns),"
            " (select count(*) from public.customer_preferences),"
            " (select count(*) from public.memory_insights)"
        ).fetchone()
    print(
        f"rebuild: {households} households in {elapsed:.1f} s with {concurrency} threads = "
        f"{households / elapsed:.0f} households/s; rows: patterns, preferences, insights = {counts}",
        flush=True,
    )
    return elapsed


def latency(url: str, samples: int, data: completejourney.CompleteJourney, loaded: list[int] | None) -> list[float]:
    """Checkouts of shoppers that were loaded (all households, unless --households chose some)."""
    households = loaded or completejourney.busiest_households(data, 300)[100:]
    shoppers = [completejourney.shopper_id(h) for h in households]
    settings = Settings().model_copy(update={"worker_concurrency": 2, "sweep_interval_seconds": 60.0})
    timings = []
    with (
        BackgroundWorker(settings, url, now=lambda: AS_OF) as running,
        psycopg.connect(url) as conn,
        psycopg.connect(url, autocommit=True) as watcher,
    ):
        time.sleep(0.5)
        assert running.wait_idle(60)
        for index in range(samples):
            shopper = shoppers[index % len(shoppers)]
            checkout = {
                "order_id": f"bench-{uuid.uuid4().hex}",
                "placed_at": "2017-12-31T18:00:00-05:00",
                "time_zone": "America/New_York",
                "items": [
                    {
                        "sku": "1",
                        "name": "Milk",
                        "category": "fluid milk products",
                        "brand": "manufacturer-1",
                        "price": 2.5,
                        "quantity": 1,
                        "tags": [],
                    }
                ],
            }
            last = watcher.execute("select coalesce(max(id), 0) from private.jobs").fetchone()[0]  # type: ignore[index]
            with conn.transaction():
                set_request_context(conn, "authenticated", shopper_claims(shopper))
                conn.execute("select public.record_checkout(%s)", (json.dumps(checkout),))
            committed = time.perf_counter()
            while True:
                done = watcher.execute(
                    "select 1 from private.jobs where user_id = %s and id > %s and status = 'done'", (shopper, last)
                ).fetchone()
                if done:
                    timings.append((time.perf_counter() - committed) * 1000)
                    break
                time.sleep(0.002)
    timings.sort()
    p50, p95 = statistics.median(timings), timings[int(len(timings) * 0.95) - 1]
    print(
        f"latency checkout -> patterns updated (NOTIFY), {samples} samples: p50 {p50:.0f} ms, p95 {p95:.0f} ms,"
        f" max {timings[-1]:.0f} ms",
        flush=True,
    )
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, help="only the N busiest households (default: all)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    bin_dir = Path(os.environ["CMS_PG_BIN"]) if os.environ.get("CMS_PG_BIN") else None
    with tempfile.TemporaryDirectory(prefix="cms-bench-worker-") as tmp:
        cluster = LocalPostgres(Path(tmp) / "data", bin_dir, throwaway=True)
        running = cluster.ensure_running()
        try:
            print(f"{cluster.version()}; {os.cpu_count()} CPUs", flush=True)
            url = schema.build_database(running.url("supabase_admin", "postgres"), "bench")
            data = completejourney.load()
            chosen = completejourney.busiest_households(data, args.households) if args.households else None
            load(url, data, chosen)
            for concurrency in args.concurrency:
                rebuild(url, concurrency)
            latency(url, args.samples, data, chosen)
        finally:
            cluster.stop("immediate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
