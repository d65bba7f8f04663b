"""Benchmark of the shopper's memory page (issue 13): each HTTP route's latency next to the SQL call it wraps, and
the page's time to first render for a heavy shopper, in one run.

    .venv/bin/python benchmarks/page.py                  # 300 samples per route (30 for the export)
    .venv/bin/python benchmarks/page.py --samples 50     # a quick look

A throwaway cluster (embedded PostgreSQL 18, or the binaries in CMS_PG_BIN) in a temporary folder, built as in the
tests (stand-in, every migration), with the seed, and one heavy shopper generated set-based: 150 favourites,
30 brands, 3 allergies, 3 diets, 10 dislikes, 33 patterns, 6 insights (235 memories) and 10,000 events (cart adds
and checkouts naming the favourites), each inferred preference with an evidence record naming its events, as the
worker writes every one, so that explain_memory has evidence to show.

The server is `customer-memory serve` in its own process (uvicorn, connected as authenticator), over real TCP on
127.0.0.1, called with one keep-alive httpx client from this process. For each route, interleaved
sample by sample in the same run:
  1. the route over HTTP: token check, threadpool hop, pool checkout, the SQL call, JSON, uvicorn;
  2. the SQL call it wraps, from Python over the same connection pool and adapter (MemoryClient over the
     DirectAdapter: PostgREST's per-request settings, then the function or view), without HTTP.
The difference is the HTTP layer's own cost. Deletes and answers to pending removals use rows made for the purpose
(one per sample and side). The export route streams export_memories_page a page at a time: its SQL side is the
same pages read in turn, and the one-piece export_memories() is printed below it as the old way's baseline.

Time to first render: Debian's headless Chromium through Selenium loads the page signed in (a session in
sessionStorage) and reads the page's own performance mark "memories-rendered" (the list drawn), measured from
navigation start; median of 15 loads, for the heavy shopper and for Dana (the seed's example: 8 memories since
issue 13's seed, 19 before).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bcrypt
import httpx
import psycopg

from worker.client.export import export_pages
from worker.client.memory import MemoryClient
from worker.client.seam import DatabaseFunctions, Identity
from worker.db import schema
from worker.db.server import LocalPostgres
from worker.web.server import local_backend

HEAVY_EMAIL = "heavy@bench.test"
DANA_EMAIL = "dana@demo.customer-memory.dev"
PASSWORD = "bench-password"

GENERATE_HEAVY = """
insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                        raw_app_meta_data, created_at, updated_at)
values ('00000000-0000-0000-0000-000000000000', %(id)s, 'authenticated', 'authenticated', %(email)s, %(hash)s,
        now(), '{"provider": "email"}', now(), now());
insert into public.customer_preferences (user_id, preference_type, preference_key, preference_value, confidence,
                                         reason, source, last_confirmed_at, times_confirmed)
select %(id)s, t.kind, t.kind || '-' || g, case when t.kind = 'favorite' then 'Bench item ' || g end,
       case when t.kind in ('allergy', 'dislike') then 1.00 else 0.60 + (g %% 35) / 100.0 end,
       'Generated for the benchmark', case when t.kind in ('allergy', 'dislike') then 'explicit' else 'pattern' end,
       now() - (g || ' hours')::interval, 6 + g %% 20
from (values ('favorite', 150), ('brand', 30), ('allergy', 3), ('dietary', 3), ('dislike', 10)) as t(kind, n)
cross join lateral generate_series(1, t.n) as g;
insert into public.shopping_patterns (user_id, pattern_type, pattern_key, pattern_value, confidence,
                                      occurrence_count, last_occurrence)
select %(id)s, p.kind, p.key, p.value, 0.70, 10, now() - interval '1 day'
from (
  select 'time_of_day' as kind, k as key, jsonb_build_object('range', '05:00-12:00', 'orders', 10 + length(k)) as value
  from unnest(array['morning', 'afternoon', 'evening', 'night']) as k
  union all
  select 'day_of_week', k, jsonb_build_object('orders', 5 + length(k), 'total_orders', 90)
  from unnest(array['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']) as k
  union all
  select 'category_preference', 'category ' || g,
         jsonb_build_object('percentage', round(1.0 / (g + 1), 2), 'orders', 40 - g)
  from generate_series(1, 20) as g
  union all
  select 'frequency', 'weekly', '{"avg_days": 6.8, "orders": 90}'::jsonb
  union all
  select 'basket_size', 'large', '{"avg_items": 31, "avg_total": 142.5}'::jsonb
) as p;
insert into public.memory_insights (user_id, insight_type, insight_key, insight_value, confidence, supporting_data)
select %(id)s, t, t || '-' || g, 'Generated insight ' || g, 0.75, jsonb_build_object('orders', 90, 'share', 0.5)
from unnest(array['persona', 'goal', 'context']) as t cross join generate_series(1, 2) as g;
insert into public.interaction_history (user_id, interaction_type, interaction_key, interaction_value, created_at)
select %(id)s, 'cart_add', 'favorite-' || (1 + g %% 150),
       jsonb_build_object('sku', 'favorite-' || (1 + g %% 150), 'name', 'Bench item ' || (1 + g %% 150),
                          'category', 'category ' || (1 + g %% 20), 'brand', 'brand-' || (1 + g %% 30), 'price', 3.5),
       now() - (g || ' minutes')::interval
from generate_series(1, 8500) as g;
insert into public.interaction_history (user_id, interaction_type, interaction_key, interaction_value, created_at)
select %(id)s, 'checkout', 'order-' || g,
       jsonb_build_object('order_id', 'order-' || g, 'placed_at', now() - (g || ' hours')::interval,
                          'time_zone', 'America/Chicago', 'item_count', 10, 'total', 42.0,
                          'items', (select jsonb_agg(jsonb_build_object(
                                              'sku', 'favorite-' || (1 + (g * 7 + i) %% 150), 'name', 'Bench item',
                                              'quantity', 1, 'category', 'category ' || (1 + i %% 20),
                                              'brand', 'brand-' || (1 + i %% 30), 'price', 4.2))
                                    from generate_series(1, 10) as i)),
       now() - (g || ' hours')::interval
from generate_series(1, 1500) as g;
update public.customer_preferences as p
   set evidence = jsonb_build_object('rule', p.preference_type, 'interaction_ids', coalesce((
         select jsonb_agg(e.id order by e.created_at desc)
           from (select ih.id, ih.created_at from public.interaction_history as ih
                  where ih.user_id = p.user_id
                    and (ih.interaction_key = p.preference_key or ih.interaction_value ->> 'brand' = p.preference_key
                         or ih.interaction_value -> 'items'
                            @> jsonb_build_array(jsonb_build_object('sku', p.preference_key)))
                  order by ih.created_at desc limit 200) as e), '[]'))
 where p.user_id = %(id)s and p.source <> 'explicit';
"""

VICTIMS = """
insert into public.customer_preferences (user_id, preference_type, preference_key, confidence, reason, source)
select %(id)s, 'dislike', 'victim-' || g, 1.00, 'to be deleted', 'explicit' from generate_series(1, %(n)s) as g
returning id
"""
# Allergies whose removal was asked for in chat (as worker_apply_stated_preferences leaves them), to be answered.
PENDING = """
insert into public.customer_preferences (user_id, preference_type, preference_key, confidence, reason, source,
                                         pending_removal)
select %(id)s, 'allergy', %(prefix)s || g, 1.00, 'to be answered', 'explicit',
       jsonb_build_object('requested_at', now(), 'message', 'forget that', 'extractor', 'rules')
from generate_series(1, %(n)s) as g
returning id
"""


# A route over HTTP and the SQL call it wraps: (route, call, time one over HTTP, time one call), sample i.
Timed = tuple[str, str, Callable[[int], Any], Callable[[int], Any]]

MARK = "const m = performance.getEntriesByName('memories-rendered'); return m.length ? m[0].startTime : null"


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def _timed(call: Callable[[int], Any], sample: int) -> float:
    started = time.perf_counter()
    call(sample)
    return (time.perf_counter() - started) * 1000


def _serve(db_url: str) -> tuple[str, subprocess.Popen[str]]:
    """`customer-memory serve` in its own process, as a user runs it (so the client here never shares its GIL)."""
    env = {**os.environ, "CMS_SERVE_DATABASE_URL": db_url}
    env.pop("SUPABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "worker.cli", "serve", "--port", "0"], env=env, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    url = process.stdout.readline().split()[3].rstrip("/")
    for _ in range(200):
        try:
            httpx.get(f"{url}/api/config").raise_for_status()
            break
        except httpx.TransportError:
            time.sleep(0.05)
    return url, process


def _sign_in(url: str, email: str) -> dict[str, Any]:
    response = httpx.post(f"{url}/auth/v1/token?grant_type=password", json={"email": email, "password": PASSWORD})
    response.raise_for_status()
    session: dict[str, Any] = response.json()
    return session


def measure_routes(
    url: str, functions: DatabaseFunctions, token: str, heavy: uuid.UUID, samples: int, db_url: str
) -> None:
    identity = Identity.shopper(heavy)
    memory = MemoryClient(functions, identity)
    headers = {"Authorization": f"Bearer {token}"}
    with psycopg.connect(db_url, autocommit=True) as conn:
        favorite = conn.execute(
            "select id from public.customer_preferences where user_id = %s and preference_key = 'favorite-7'", (heavy,)
        ).fetchone()[0]  # type: ignore[index]
    http = httpx.Client(base_url=url, headers=headers, timeout=30)
    reads: list[Timed] = [
        (
            "GET /api/user/memories",
            "my_memories (view)",
            lambda i: http.get("/api/user/memories").raise_for_status(),
            lambda i: memory.my_memories(),
        ),
        (
            "GET /api/user/memories/:id",
            "explain_memory(id)",
            lambda i: http.get(f"/api/user/memories/{favorite}").raise_for_status(),
            lambda i: memory.explain_memory(favorite),
        ),
        (
            "GET /api/user/order-figures",
            "my_order_figures()",
            lambda i: http.get("/api/user/order-figures").raise_for_status(),
            lambda i: memory.my_order_figures(),
        ),
        (
            "GET /api/user/memories/export",
            "export_memories_page x N",
            # The route streams: read the whole body, as a download does.
            lambda i: http.get("/api/user/memories/export").raise_for_status().read(),
            lambda i: sum(len(page.rows) for page in export_pages(memory)),
        ),
        (
            "  (baseline: one-piece export)",
            "export_memories()",
            lambda i: functions.call("export_memories", {}, identity),
            lambda i: functions.call("export_memories", {}, identity),
        ),
        (
            "POST /api/chat (recorded reply)",
            "memory_context(query)",
            lambda i: http.post("/api/chat", json={"message": "What milk should I get?"}).raise_for_status(),
            lambda i: memory.memory_context(query="What milk should I get?"),
        ),
    ]
    # Rows made for the writes, one per sample and side, only once the reads are measured (they would count them).
    rows: dict[str, list[Any]] = {}
    writes: list[Timed] = [
        (
            "DELETE /api/user/memories/:id",
            "forget_memory(id)",
            lambda i: http.delete(f"/api/user/memories/{rows['victims'][2 * i]}").raise_for_status(),
            lambda i: memory.forget_memory(rows["victims"][2 * i + 1]),
        ),
        (
            "POST .../pending-change/confirm",
            "confirm_pending_change",
            lambda i: http.post(
                f"/api/user/memories/{rows['confirm'][2 * i]}/pending-change/confirm"
            ).raise_for_status(),
            lambda i: memory.confirm_pending_change(rows["confirm"][2 * i + 1]),
        ),
        (
            "POST .../pending-change/reject",
            "reject_pending_change",
            lambda i: http.post(f"{_pending(rows['reject'][2 * i])}/reject").raise_for_status(),
            lambda i: memory.reject_pending_change(rows["reject"][2 * i + 1]),
        ),
    ]
    print(f"\n{'route':<34} {'HTTP p50':>9} {'p99':>8}   {'SQL call it wraps':<22} {'p50':>8} {'p99':>8}", end="")
    print(f"   {'HTTP layer p50':>14}")
    for route in reads:
        route[2](0), route[3](0)  # warm
        _measure(route, max(10, samples // 10) if "export" in route[1] else samples)  # an export takes seconds
    exported = len(http.get("/api/user/memories/export").content)
    listed = len(http.get("/api/user/memories").content)
    pages = sum(1 for _ in export_pages(memory))
    started = time.perf_counter()
    with http.stream("GET", "/api/user/memories/export") as response:
        pieces = response.iter_bytes()
        next(pieces)
        first_bytes = (time.perf_counter() - started) * 1000
        for _ in pieces:
            pass
    with psycopg.connect(db_url, autocommit=True) as conn:
        rows["victims"] = [row[0] for row in conn.execute(VICTIMS, {"id": heavy, "n": 2 * samples}).fetchall()]
        for prefix in ("confirm", "reject"):
            made = conn.execute(PENDING, {"id": heavy, "n": 2 * samples, "prefix": prefix + "-"}).fetchall()
            rows[prefix] = [row[0] for row in made]
    for route in writes:
        _measure(route, samples)
    with psycopg.connect(db_url, autocommit=True) as conn:  # the rejected ones stay: gone, for the first render
        conn.execute("delete from public.customer_preferences where id = any(%s)", (rows["reject"],))
    print(f"(sizes for the heavy shopper: list {listed / 1024:.0f} KiB, export {exported / 1024:.0f} KiB", end="")
    print(f" in {pages} pages; the export's first bytes reach the client after {first_bytes:.0f} ms)")


def _pending(memory_id: Any) -> str:
    return f"/api/user/memories/{memory_id}/pending-change"


def _measure(route: Timed, samples: int) -> None:
    name, wrapped, over_http, direct = route
    http_ms: list[float] = []
    sql_ms: list[float] = []
    for i in range(samples):
        http_ms.append(_timed(over_http, i))
        sql_ms.append(_timed(direct, i))
    h50, h99 = _percentiles(http_ms)
    s50, s99 = _percentiles(sql_ms)
    print(f"{name:<34} {h50:>7.2f}ms {h99:>6.2f}ms   {wrapped:<22} {s50:>6.2f}ms {s99:>6.2f}ms", end="")
    print(f"   {h50 - s50:>+12.2f}ms")


def measure_first_render(url: str, sessions: dict[str, dict[str, Any]], loads: int) -> None:
    from selenium import webdriver

    os.environ.setdefault("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    profile = tempfile.mkdtemp(prefix="cms-bench-chromium-")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", f"--user-data-dir={profile}", "--window-size=1280,900"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path="/usr/bin/chromedriver"))
    print(f"\ntime to first render (navigation start to the list drawn), median of {loads} loads:")
    try:
        for who, session in sessions.items():
            driver.get(f"{url}/api/config")  # same origin, to hold the session in sessionStorage
            driver.execute_script(
                "sessionStorage.setItem('customer-memory.session', JSON.stringify(arguments[0]))", session
            )
            rendered: list[float] = []
            loaded: list[float] = []
            count = 0
            for _ in range(loads + 1):
                driver.get(f"{url}/")
                deadline = time.monotonic() + 20
                mark = None
                while mark is None and time.monotonic() < deadline:
                    mark = driver.execute_script(MARK)
                    time.sleep(0.01)
                dom = driver.execute_script(
                    "const n = performance.getEntriesByType('navigation')[0]; return n.domContentLoadedEventEnd"
                )
                count = driver.execute_script("return document.querySelectorAll('li.memory').length")
                rendered.append(float(mark))
                loaded.append(float(dom))
            rendered, loaded = rendered[1:], loaded[1:]  # the first load warms the caches
            print(
                f"  {who:<28} {count:>4} memories: first render {statistics.median(rendered):6.0f} ms"
                f" (p90 {sorted(rendered)[int(0.9 * (len(rendered) - 1))]:.0f} ms);"
                f" DOMContentLoaded {statistics.median(loaded):.0f} ms"
            )
    finally:
        driver.quit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--loads", type=int, default=15)
    args = parser.parse_args()
    bin_dir = Path(os.environ["CMS_PG_BIN"]) if os.environ.get("CMS_PG_BIN") else None
    with tempfile.TemporaryDirectory(prefix="cms-bench-page-") as tmp:
        cluster = LocalPostgres(Path(tmp) / "data", bin_dir, throwaway=True)
        running = cluster.ensure_running()
        try:
            print(cluster.version())
            schema.build_database(running.url("supabase_admin"), "bench")
            heavy = uuid.uuid4()
            hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=10, prefix=b"2a")).decode()
            with psycopg.connect(running.url("postgres", "bench"), autocommit=True) as conn:
                schema.apply_seed(conn)
            with psycopg.connect(running.url("supabase_admin", "bench"), autocommit=True) as conn:
                for statement in GENERATE_HEAVY.split(";\n"):
                    if statement.strip():
                        conn.execute(statement, {"id": heavy, "email": HEAVY_EMAIL, "hash": hashed})
                conn.execute("update auth.users set encrypted_password = %s where email = %s", (hashed, DANA_EMAIL))
                conn.execute("analyze")
            # The SQL side: the same pool and adapter the server builds, in this process.
            backend = local_backend(running.url("authenticator", "bench"))
            url, server = _serve(running.url("authenticator", "bench"))
            try:
                sessions = {
                    "heavy shopper": _sign_in(url, HEAVY_EMAIL),
                    "Dana (the seed's example)": _sign_in(url, DANA_EMAIL),
                }
                token = sessions["heavy shopper"]["access_token"]
                print(f"server on {url}; {args.samples} samples per route, HTTP and SQL interleaved")
                measure_routes(url, backend.functions, token, heavy, args.samples, running.url("postgres", "bench"))
                measure_first_render(url, sessions, args.loads)
            finally:
                server.send_signal(signal.SIGINT)
                server.wait(30)
                for close in backend.closers:
                    close()
        finally:
            cluster.stop("immediate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
