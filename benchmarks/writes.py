"""What a recorded event costs, split into its causes (issue 19). Prints figures, records nothing.

Two levels, each measured one transaction per call on one connection, p50 and p99 in milliseconds:

1. the table alone, in a scratch schema of the same database: one row of a cart add inserted into
   (a) a plain table keyed by id (the log before partitions), (b) the same keyed by (id, created_at),
   (c) that table partitioned by month with --months partitions and a default (the log now); each with the log's
   three indexes and no trigger;
2. the API as a shopper calls it on a loaded log (benchmarks/scale.py's load, --shoppers x --events over 13 months):
   `record_cart_add` and `record_checkout`, as is, then with each trigger of the log switched off in turn (the
   brand catalog's, the recompute's enqueue, the per-shopper volume) and with all three off; and the order lookup
   that makes a checkout idempotent (EXPLAIN ANALYZE of its query); and, with track_functions = 'all', the
   milliseconds per call inside each function a call runs (triggers included), apart from the round trips.

Side by side: run it from another checkout's directory with that checkout on PYTHONPATH (as benchmarks/scale.py).
Usage: .venv/bin/python benchmarks/writes.py [--shoppers 5000] [--events 100] [--calls 400] [--json out.json]
Server: DATABASE_URL (a superuser URL) if set, else a throwaway cluster (CMS_PG_BIN or the embedded wheel).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import CART_ITEM, load, pct, superuser_url, timed_cart_add, timed_checkout

from worker.config import PROJECT_DIR
from worker.db import schema

DATABASE = "cms_bench_writes"
TRIGGERS = ("interaction_history_brand_catalog", "interaction_history_enqueue_inserted",
            "interaction_history_volume_inserted")  # fmt: skip


def figures_of(values: list[float]) -> dict[str, float]:
    return {"p50": round(pct(values, 0.5), 3), "p99": round(pct(values, 0.99), 3), "n": len(values)}


def table_alone(conn: psycopg.Connection[Any], calls: int, months: int) -> dict[str, Any]:
    conn.execute("drop schema if exists bench_writes cascade")
    conn.execute("create schema bench_writes")
    columns = """id uuid not null default gen_random_uuid(), user_id uuid not null, interaction_type text not null,
                 interaction_key text, interaction_value jsonb not null default '{}', session_id uuid,
                 message_id text, created_at timestamptz not null default now()"""
    conn.execute(f"create table bench_writes.plain ({columns}, primary key (id))")
    conn.execute(f"create table bench_writes.keyed ({columns}, primary key (id, created_at))")
    conn.execute(
        f"create table bench_writes.parted ({columns}, primary key (id, created_at)) partition by range (created_at)"
    )
    conn.execute("create table bench_writes.parted_default partition of bench_writes.parted default")
    for k in range(months):
        conn.execute(
            f"create table bench_writes.parted_{k} partition of bench_writes.parted for values from"
            f" (date_trunc('month', now()) - interval '{months - 1 - k} months')"
            f" to (date_trunc('month', now()) - interval '{months - 2 - k} months')"
        )
    for table in ("plain", "keyed", "parted"):
        conn.execute(f"create index on bench_writes.{table} (user_id, created_at desc)")
        conn.execute(f"create index on bench_writes.{table} (user_id, interaction_type)")
        conn.execute(f"create index on bench_writes.{table} (session_id) where session_id is not null")
    out: dict[str, Any] = {}
    user = uuid.uuid4()
    for _round in range(2):  # the first round warms up; the second is reported
        for table in ("plain", "keyed", "parted"):
            times: list[float] = []
            for _ in range(calls):
                started = time.perf_counter()
                with conn.transaction():
                    conn.execute(
                        f"insert into bench_writes.{table} (user_id, interaction_type, interaction_key,"
                        " interaction_value) values (%s, 'cart_add', 'sku-1', %s)",
                        (user, Jsonb(CART_ITEM)),
                    )
                times.append((time.perf_counter() - started) * 1000)
            out[table] = figures_of(times)
    conn.execute("drop schema bench_writes cascade")
    return out


def api_calls(url: str, shopper: uuid.UUID, calls: int, only: str | None = None) -> dict[str, Any]:
    """`calls` of record_cart_add and of record_checkout (or only the one named), one transaction each."""
    cart: list[float] = []
    checkout: list[float] = []
    with psycopg.connect(url, autocommit=True) as conn:
        for k in range(calls):
            if only != "record_checkout":
                cart.append(timed_cart_add(conn, shopper))
            if only != "record_cart_add":
                checkout.append(timed_checkout(conn, shopper, k))
        conn.execute("select pg_stat_force_next_flush()")
        conn.execute("select 1")
    return {
        "record_cart_add": figures_of(cart) if cart else None,
        "record_checkout": figures_of(checkout) if checkout else None,
    }


def functions_per_call(superuser: str, url: str, shopper: uuid.UUID, calls: int) -> dict[str, Any]:
    """The API calls again with track_functions = 'all': for each of record_cart_add and record_checkout, the
    milliseconds per call in each function it runs, triggers included (total: with what it calls; self: without),
    from pg_stat_user_functions; a measure of the database's own work, apart from the round trips."""
    out: dict[str, Any] = {}
    with psycopg.connect(superuser, autocommit=True) as admin:
        admin.execute(f"alter database {DATABASE} set track_functions = 'all'")
        try:
            for call in ("record_cart_add", "record_checkout"):
                admin.execute("select pg_stat_reset()")
                figures = api_calls(url, shopper, calls, only=call)
                rows = admin.execute(
                    "select schemaname || '.' || funcname, calls, total_time, self_time from pg_stat_user_functions"
                    " where calls > 0 order by total_time desc limit 12"
                ).fetchall()
                out[call] = {
                    "wall_p50": figures[call]["p50"],
                    "functions": [
                        {
                            "function": r[0],
                            "calls": r[1] / calls,
                            "total": round(r[2] / calls, 4),
                            "self": round(r[3] / calls, 4),
                        }
                        for r in rows
                    ],
                }
        finally:
            admin.execute(f"alter database {DATABASE} reset track_functions")
    return out


def order_lookup(conn: psycopg.Connection[Any], shopper: uuid.UUID) -> dict[str, Any]:
    """The query record_checkout runs to find an order already recorded: its plan's time and how many relations
    it reads."""
    plan = conn.execute(
        "explain (analyze, format json) select ih.id, ih.interaction_value from public.interaction_history as ih"
        " where ih.user_id = %s and ih.interaction_type = 'checkout' and ih.interaction_key = 'no-such-order' limit 1",
        (shopper,),
    ).fetchone()[0][0]  # type: ignore[index]
    text = json.dumps(plan)
    return {
        "execution_ms": plan["Execution Time"],
        "planning_ms": plan["Planning Time"],
        "index_scans": text.count('"Index Scan"') + text.count('"Bitmap Index Scan"'),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shoppers", type=int, default=5000)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--months", type=int, default=18, help="partitions of the scratch partitioned table")
    parser.add_argument("--keep", type=Path, help="keep the cluster here")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    commit = subprocess.run(
        ["git", "-C", str(PROJECT_DIR), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    figures: dict[str, Any] = {
        "commit": commit,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "shoppers": args.shoppers,
        "events_per_shopper": args.events,
        "calls": args.calls,
    }
    with superuser_url(args.keep) as url:
        as_postgres = schema.build_database(url, DATABASE)
        with psycopg.connect(psycopg.conninfo.make_conninfo(url, dbname=DATABASE), autocommit=True) as conn:
            figures["server"] = conn.execute("show server_version").fetchone()[0]  # type: ignore[index]
            figures["load_seconds"] = load(conn, args.shoppers, args.events)
            figures["table_alone"] = table_alone(conn, args.calls, args.months)
            print(json.dumps(figures), file=sys.stderr, flush=True)
            shopper = conn.execute("select id from auth.users where email like 'scale-%%' limit 1").fetchone()[0]  # type: ignore[index]
            figures["order_lookup"] = order_lookup(conn, shopper)
            present = [
                t
                for t in TRIGGERS
                if conn.execute(
                    "select exists (select from pg_trigger where tgname = %s"
                    " and tgrelid = 'public.interaction_history'::regclass)",
                    (t,),
                ).fetchone()
                == (True,)
            ]
            api_calls(as_postgres, shopper, 50)  # warm up
            figures["functions"] = functions_per_call(
                psycopg.conninfo.make_conninfo(url, dbname=DATABASE), as_postgres, shopper, args.calls
            )
            print(json.dumps(figures), file=sys.stderr, flush=True)
            figures["api"] = {"as is": api_calls(as_postgres, shopper, args.calls)}
            for off in [[t] for t in present] + [present]:
                for t in off:
                    conn.execute(f"alter table public.interaction_history disable trigger {t}")
                label = "without " + " and ".join(t.removeprefix("interaction_history_") for t in off)
                figures["api"][label] = api_calls(as_postgres, shopper, args.calls)
                for t in off:
                    conn.execute(f"alter table public.interaction_history enable trigger {t}")
                conn.execute("delete from private.jobs where true")
                print(json.dumps(figures), file=sys.stderr, flush=True)
    print(json.dumps(figures, indent=2, default=str))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
