"""Ingest benchmark of the memory API (issue 3): prints figures, records nothing by itself.

1. Events per second through `record_interactions` as an authenticated shopper (role and JWT claims set per
   transaction exactly as PostgREST sets them), in batches of 1, 100 and 1,000 events, against a plain
   multi-row INSERT of the same rows by the superuser into a copy of interaction_history with the same indexes
   but no RLS, no triggers (so no foreign-key check) and no function in between. One run, the same rows, one
   transaction per batch on one connection for both; the ratio is API / plain.
2. `record_cart_add` latency in the database: a DO block, run as the shopper, times each call with
   clock_timestamp() around it (server side: no network, no parse of the outer statement, no commit) and
   reports p50/p99; for comparison, the client-side time of one call in its own transaction (round trip and
   commit included), minus the median round trip of `select 1`.

Events are real: Complete Journey transactions (worker.datasets.completejourney) of the busiest households, as
cart adds (the API validates each item; the worker, not the call, derives favourites) and as view_item events
(logged only).

Usage: .venv/bin/python benchmarks/ingest.py [--households 8] [--repeats 3]
Server: DATABASE_URL (a superuser URL) if set, else a throwaway cluster from CMS_PG_BIN or the embedded wheel.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from worker.datasets import completejourney
from worker.db import schema
from worker.db.request import set_request_context, shopper_claims
from worker.db.server import LocalPostgres

DATABASE = "cms_bench_ingest"
BATCH_SIZES = (1, 100, 1000)
# What one recorded event touches (the log, the learned preferences, the worker's queue and bookkeeping), emptied
# before each run so that no run starts with a larger table than another.
RESET_API_TABLES = (
    "truncate public.interaction_history, public.customer_preferences, private.extracted_messages, private.jobs"
)
EVENTS_PER_SIZE = {1: 2_000, 100: 20_000, 1000: 20_000}
COLUMNS = ("user_id", "interaction_type", "interaction_key", "interaction_value")


@contextmanager
def superuser_url() -> Iterator[str]:
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    bin_dir = Path(os.environ["CMS_PG_BIN"]) if os.environ.get("CMS_PG_BIN") else None
    with tempfile.TemporaryDirectory(prefix="cms-bench-pg-") as tmp:
        cluster = LocalPostgres(Path(tmp) / "data", bin_dir, throwaway=True)
        running = cluster.ensure_running()
        try:
            yield running.url("supabase_admin")
        finally:
            cluster.stop("immediate")


def build(url: str) -> tuple[str, str]:
    """A fresh database with the stand-in and every migration; returns (superuser URL, postgres URL) to it."""
    as_postgres = schema.build_database(url, DATABASE)
    superuser = psycopg.conninfo.make_conninfo(url, dbname=DATABASE)
    with psycopg.connect(superuser, autocommit=True) as conn:
        conn.execute(
            "create table public.bench_plain_interactions (like public.interaction_history including defaults"
            " including indexes)"
        )
    return superuser, as_postgres


def events_by_shopper(households: int) -> dict[uuid.UUID, list[dict[str, Any]]]:
    data = completejourney.load()
    chosen = completejourney.busiest_households(data, households)
    events: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for shopper, item in completejourney.cart_adds(data, chosen):
        events.setdefault(shopper, []).append(item)
    return events


def create_shoppers(as_postgres: str, shoppers: Sequence[uuid.UUID]) -> None:
    with psycopg.connect(as_postgres) as conn:
        conn.cursor().executemany(
            "insert into auth.users (instance_id, id, aud, role, email, created_at, updated_at)"
            " values ('00000000-0000-0000-0000-000000000000', %s, 'authenticated', 'authenticated', %s,"
            " now(), now())",
            [(s, f"{s.hex[:12]}@bench.example") for s in shoppers],
        )


def batches(
    events: dict[uuid.UUID, list[dict[str, Any]]], size: int, total: int, event_type: str
) -> list[tuple[uuid.UUID, list[dict[str, Any]]]]:
    """Up to `total` events as (shopper, batch) pairs, each batch one shopper's consecutive events."""
    out: list[tuple[uuid.UUID, list[dict[str, Any]]]] = []
    taken = 0
    for shopper, items in events.items():
        for start in range(0, len(items) - size + 1, size):
            if taken + size > total:
                return out
            chunk = items[start : start + size]
            if event_type == "cart_add":
                out.append((shopper, [{"interaction_type": "cart_add", "interaction_value": i} for i in chunk]))
            else:
                out.append(
                    (
                        shopper,
                        [
                            {
                                "interaction_type": "view_item",
                                "interaction_key": i["sku"],
                                "interaction_value": i,
                            }
                            for i in chunk
                        ],
                    )
                )
            taken += size
    return out


def through_api(conn: psycopg.Connection[Any], work: list[tuple[uuid.UUID, list[dict[str, Any]]]]) -> float:
    started = time.perf_counter()
    for shopper, events in work:
        with conn.transaction():
            set_request_context(conn, "authenticated", shopper_claims(shopper), path="/rpc/record_interactions")
            conn.execute("select public.record_interactions(events => %s)", (Jsonb(events),))
    return time.perf_counter() - started


def plain_insert(conn: psycopg.Connection[Any], work: list[tuple[uuid.UUID, list[dict[str, Any]]]]) -> float:
    statements: dict[int, sql.Composed] = {}
    started = time.perf_counter()
    for shopper, events in work:
        n = len(events)
        if n not in statements:
            row = sql.SQL("({})").format(sql.SQL(", ").join(sql.Placeholder() * len(COLUMNS)))
            statements[n] = sql.SQL("insert into public.bench_plain_interactions ({}) values {}").format(
                sql.SQL(", ").join(map(sql.Identifier, COLUMNS)), sql.SQL(", ").join([row] * n)
            )
        params: list[Any] = []
        for e in events:
            key = e.get("interaction_key", e["interaction_value"]["sku"])
            params += [shopper, e["interaction_type"], key, Jsonb(e["interaction_value"])]
        with conn.transaction():
            conn.execute(statements[n], params)
    return time.perf_counter() - started


def ingest(superuser: str, as_postgres: str, events: dict[uuid.UUID, list[dict[str, Any]]], repeats: int) -> None:
    print("\n## Ingest: events/s, record_interactions as a shopper vs plain INSERT (median of runs)")
    print(f"{'events':<10} {'batch':>6} {'events':>7} {'API ev/s':>10} {'plain ev/s':>11} {'ratio':>6}")
    with (
        psycopg.connect(as_postgres, autocommit=True) as api,
        psycopg.connect(superuser, autocommit=True) as plain,
    ):
        for event_type in ("cart_add", "view_item"):
            for size in BATCH_SIZES:
                work = batches(events, size, EVENTS_PER_SIZE[size], event_type)
                count = sum(len(b) for _, b in work)
                api_rates, plain_rates = [], []
                for _ in range(repeats):
                    # Alternate, each run on emptied tables, so neither side gets a warmer or smaller table.
                    plain.execute(RESET_API_TABLES + ", public.bench_plain_interactions")
                    api_rates.append(count / through_api(api, work))
                    plain_rates.append(count / plain_insert(plain, work))
                api_rate, plain_rate = statistics.median(api_rates), statistics.median(plain_rates)
                print(
                    f"{event_type:<10} {size:>6} {count:>7} {api_rate:>10,.0f} {plain_rate:>11,.0f}"
                    f" {api_rate / plain_rate:>6.2f}"
                )


LATENCY_BLOCK = """
do $bench$
declare
  v_items jsonb := current_setting('bench.items')::jsonb;
  v_item jsonb;
  v_started timestamptz;
  v_ms double precision[] := '{}';
begin
  for v_item in select * from jsonb_array_elements(v_items) loop
    v_started := clock_timestamp();
    perform public.record_cart_add(item => v_item);
    v_ms := v_ms || extract(epoch from clock_timestamp() - v_started) * 1000;
  end loop;
  perform set_config('bench.result', (
    select json_build_object(
      'calls', count(*),
      'p50', percentile_cont(0.5) within group (order by ms),
      'p99', percentile_cont(0.99) within group (order by ms),
      'max', max(ms))::text
    from unnest(v_ms) as ms), false);
end
$bench$;
"""


def latency(as_postgres: str, events: dict[uuid.UUID, list[dict[str, Any]]], repeats: int) -> None:
    shopper, items = max(events.items(), key=lambda pair: len(pair[1]))
    items = items[:2000]
    print(f"\n## record_cart_add latency ({len(items)} real cart adds of one shopper per run, median of runs)")
    server: list[dict[str, float]] = []
    with psycopg.connect(as_postgres, autocommit=True) as conn:
        for _ in range(repeats):
            conn.execute(RESET_API_TABLES)
            with conn.transaction():
                set_request_context(conn, "authenticated", shopper_claims(shopper), path="/rpc/record_cart_add")
                conn.execute("select set_config('bench.items', %s, true)", (json.dumps(items),))
                conn.execute(LATENCY_BLOCK)
                server.append(json.loads(conn.execute("select current_setting('bench.result')").fetchone()[0]))
        # Client side: one call per transaction, as a request would be, minus the bare round trip.
        conn.execute(RESET_API_TABLES)
        round_trips, calls = [], []
        for item in items[:500]:
            started = time.perf_counter()
            conn.execute("select 1")
            round_trips.append(time.perf_counter() - started)
            started = time.perf_counter()
            with conn.transaction():
                set_request_context(conn, "authenticated", shopper_claims(shopper), path="/rpc/record_cart_add")
                conn.execute("select public.record_cart_add(item => %s)", (Jsonb(item),))
            calls.append(time.perf_counter() - started)
    p50 = statistics.median(run["p50"] for run in server)
    p99 = statistics.median(run["p99"] for run in server)
    worst = max(run["max"] for run in server)
    print(f"in the database (clock_timestamp around each call): p50 {p50:.3f} ms, p99 {p99:.3f} ms, max {worst:.3f} ms")
    rtt = statistics.median(round_trips)
    quantiles = statistics.quantiles(calls, n=100)
    print(
        f"client side, own transaction (2 statements + commit), minus median round trip {rtt * 1000:.3f} ms:"
        f" p50 {(statistics.median(calls) - rtt) * 1000:.3f} ms, p99 {(quantiles[98] - rtt) * 1000:.3f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    events = events_by_shopper(args.households)
    with superuser_url() as url:
        superuser, as_postgres = build(url)
        create_shoppers(as_postgres, list(events))
        with psycopg.connect(superuser) as conn:
            version = conn.execute("show server_version").fetchone()[0]  # type: ignore[index]
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        print(
            f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; PostgreSQL {version};"
            f" {cpu}, {os.cpu_count()} CPUs;"
            f" {sum(map(len, events.values()))} events of {len(events)} households"
        )
        ingest(superuser, as_postgres, events, args.repeats)
        latency(as_postgres, events, args.repeats)


if __name__ == "__main__":
    main()
