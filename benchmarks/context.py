"""Benchmark of memory_context (issue 5): latency in the database for shoppers of typical and heavy history, against
a plain indexed select of the same rows without RLS, and the size of the rendered block for a heavy shopper.

    .venv/bin/python benchmarks/context.py                 # 100,000 shoppers, 10 million interactions
    .venv/bin/python benchmarks/context.py --shoppers 2000 --interactions 200000   # a quick look

A throwaway cluster (embedded PostgreSQL 18, or the binaries in CMS_PG_BIN) in a temporary folder; the stand-in and
every migration applied as in the tests; the data generated set-based with generate_series; then every shopper's
default document precomputed, as the worker does after each recompute (timed and reported).

How it measures: server-side, in one PL/pgSQL loop per sample set, with clock_timestamp() around each call, so
neither the network nor the driver is counted. For each sampled shopper, interleaved in the same run:
  1. `memory_context()` as that shopper: role authenticated and request.jwt.claims set with set_config(..., true),
     exactly what PostgREST sets, through the grants; without a query it hands back the precomputed document;
  2. the plain select: the same candidate rows (the shopper's preferences, recent patterns, unexpired insights,
     every column memory_context reads) fetched by user_id on the same indexes as the superuser, without RLS,
     aggregated into an array so that every row is materialised;
  3. the document composed live (`private.compose_memory_context`, what memory_context runs on a miss: after a
     change the worker has not caught up with, for another floor, or with a query);
  4. the plain select returning the same rows as JSON (jsonb_agg of to_jsonb), the floor for any function that
     hands rows to PostgREST as one JSON document.
Each shopper is called once before timing (warm cache, as a hot shopper is in production).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg

from worker.db import schema
from worker.db.server import LocalPostgres
from worker.prompt import calls
from worker.prompt.render import render_memory_block
from worker.prompt.tokens import estimate_tokens

GENERATE_USERS = """
insert into auth.users (instance_id, id, aud, role, email, raw_app_meta_data, created_at, updated_at)
select '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated',
       'shopper' || g || '@bench.test', '{"provider": "email"}', now(), now()
from generate_series(1, %(shoppers)s) as g;
create table bench_users as
select u.id, row_number() over (order by u.id) <= %(heavy)s as heavy
from auth.users as u;
create index on bench_users (heavy);
analyze bench_users;
"""

# Words for keys that read like the design document's (milk-whole-gal, gv-organic-eggs).
GENERATE_MEMORY = """
create temporary table words (product text[], adjective text[], brand text[], category text[]) on commit drop;
insert into words values (
  array['milk','eggs','yogurt','bread','chicken','apples','bananas','cheese','rice','pasta','coffee','cereal',
        'tofu','spinach','salmon','butter','beans','tomatoes','oats','juice'],
  array['organic','whole','lowfat','gv','large','family','fresh','lactose-free','greek','frozen'],
  array['great-value','chobani','horizon','kraft','heinz','tide','dole','barilla','kelloggs','tillamook',
        'oatly','silk','pepsi','nestle','generic'],
  array['dairy','produce','bakery','meat','frozen','snacks','beverages','pantry','household','deli','seafood',
        'breakfast','baby','pets','health','international','bulk','organic','canned','spices','sauces','baking',
        'candy','wine','floral']);

insert into public.customer_preferences
  (user_id, preference_type, preference_key, confidence, reason, source, times_confirmed, updated_at,
   last_confirmed_at)
select u.id, spec.kind,
       case spec.kind
         when 'favorite' then w.adjective[1 + (g % 10)] || '-' || w.product[1 + (g * 7 % 20)] || '-' || g
         when 'brand' then w.brand[1 + (g % 15)] || case when g > 15 then '-' || g else '' end
         when 'dislike' then w.product[1 + (g * 3 % 20)] || '-' || g
         when 'dietary' then (array['vegetarian','lactose_intolerant','gluten_free','low_sodium'])[1 + (g % 4)]
         else (array['peanuts','shellfish','tree-nuts'])[1 + (g % 3)] end,
       case when spec.kind = 'allergy' then 1.00 else round((0.40 + random() * 0.55)::numeric, 2) end,
       case spec.kind when 'favorite' then 'Purchased ' || (5 + g % 20) || ' times'
                      when 'brand' then 'Chooses this brand ' || (40 + g % 50) || '% of the time'
                      when 'dislike' then 'User said they do not like it'
                      when 'dietary' then 'Never orders meat products'
                      else 'User said "allergic"' end,
       case when spec.kind = 'allergy' then 'explicit' else 'pattern' end,
       5 + g % 20,
       now() - random() * interval '200 days', now() - random() * interval '200 days'
from bench_users as u
cross join words as w
cross join lateral (
  values ('favorite', case when u.heavy then 150 else 10 end), ('brand', case when u.heavy then 30 else 3 end),
         ('dislike', case when u.heavy then 15 else 2 end), ('dietary', case when u.heavy then 3 else 1 end),
         ('allergy', case when u.heavy then 2 else 1 end)) as spec(kind, n)
cross join lateral generate_series(1, spec.n) as g
-- A third of typical shoppers state a diet, a tenth an allergy; the heavy ones all do.
where u.heavy or spec.kind not in ('dietary', 'allergy')
   or (spec.kind = 'dietary' and hashtext(u.id::text) % 3 = 0)
   or (spec.kind = 'allergy' and hashtext(u.id::text) % 10 = 0);

insert into public.shopping_patterns
  (user_id, pattern_type, pattern_key, pattern_value, confidence, occurrence_count, last_occurrence)
select u.id, spec.kind,
       case spec.kind when 'category_preference' then w.category[g]
                      when 'time_of_day' then (array['morning','afternoon','evening','night'])[g]
                      when 'day_of_week' then (array['saturday','sunday','monday'])[g]
                      when 'frequency' then 'weekly' else 'medium' end,
       jsonb_build_object('orders', 5 + g, 'total_orders', 30, 'percentage', round((random())::numeric, 2)),
       round((0.40 + random() * 0.55)::numeric, 2), 5 + g,
       now() - random() * interval '150 days'
from bench_users as u
cross join words as w
cross join lateral (
  values ('category_preference', case when u.heavy then 25 else 3 end),
         ('time_of_day', case when u.heavy then 4 else 1 end),
         ('day_of_week', case when u.heavy then 3 else 2 end), ('frequency', 1), ('basket_size', 1)) as spec(kind, n)
cross join lateral generate_series(1, spec.n) as g;

insert into public.memory_insights
  (user_id, insight_type, insight_key, insight_value, confidence, supporting_data, expires_at)
select u.id, (array['persona','goal','context','constraint'])[1 + g % 4], 'insight_' || g,
       'Derived conclusion number ' || g || ' about how this shopper shops',
       round((0.40 + random() * 0.55)::numeric, 2), jsonb_build_object('orders', g, 'share', 0.5),
       case when g % 3 = 0 then now() + (g - 6) * interval '10 days' end
from bench_users as u
cross join lateral generate_series(1, case when u.heavy then 15 else 3 end) as g;
"""

# Interactions: the heavy shoppers hold a tenth of them. Loaded without the primary key, the secondary indexes, the
# foreign keys that reference the table and the foreign key check (session_replication_role = replica), which are
# rebuilt after: minutes instead of an hour on two cores.
GENERATE_INTERACTIONS = """
set session_replication_role = replica;
create temporary table bench_dependent_fks as
  select conrelid::regclass as tbl, conname, pg_get_constraintdef(oid) as def
    from pg_constraint where contype = 'f' and confrelid = 'public.interaction_history'::regclass;
do $$ declare fk record; begin
  for fk in select * from bench_dependent_fks loop
    execute format('alter table %s drop constraint %I', fk.tbl, fk.conname);
  end loop;
end $$;
alter table public.interaction_history drop constraint interaction_history_pkey;
drop index public.interaction_history_user_created_idx;
drop index public.interaction_history_user_type_idx;
insert into public.interaction_history (id, user_id, interaction_type, interaction_key, interaction_value, created_at)
select gen_random_uuid(), u.id,
       (array['cart_add','cart_add','checkout','message','search','view_item'])[1 + g % 6],
       'sku-' || (g % 500),
       jsonb_build_object('sku', 'sku-' || (g % 500), 'quantity', 1 + g % 3),
       now() - (g % 365) * interval '1 day'
from bench_users as u
cross join lateral generate_series(1, case when u.heavy then %(heavy_each)s else %(typical_each)s end) as g;
alter table public.interaction_history add constraint interaction_history_pkey primary key (id, created_at);
create index interaction_history_user_created_idx on public.interaction_history (user_id, created_at desc);
create index interaction_history_user_type_idx on public.interaction_history (user_id, interaction_type);
do $$ declare fk record; begin
  for fk in select * from bench_dependent_fks loop
    execute format('alter table %s add constraint %I %s', fk.tbl, fk.conname, fk.def);
  end loop;
end $$;
set session_replication_role = origin;
"""

TIMING_FUNCTION = """
create type bench_row as (id uuid, memory_type text, memory_key text, memory_value text, confidence numeric,
                          reason text, source text, evidence integer, updated_at timestamptz, seen_at timestamptz);

-- One pass of one kind over the sampled shoppers: the role is switched once per pass, not per call, because
-- PostgreSQL re-plans a cached plan that depends on RLS whenever the current role changes (a pooled PostgREST
-- connection keeps serving `authenticated`, so its plans stay cached). One untimed call per pass warms the plan.
create or replace function bench_pass(p_kind text, p_users uuid[], p_reps integer, p_query text)
returns table (kind text, ms double precision)
language plpgsql
as $$
declare
  u uuid;
  r integer;
  t0 timestamptz;
  v jsonb;
  v_rows bench_row[];
  v_admin text := current_user;
begin
  kind := p_kind;
  if p_kind = 'memory_context (shopper)' then
    perform set_config('role', 'authenticated', true);
  end if;
  for r in 0..p_reps loop
    foreach u in array p_users loop
      perform set_config('request.jwt.claims',
        jsonb_build_object('sub', u, 'role', 'authenticated', 'aud', 'authenticated')::text, true);
      t0 := clock_timestamp();
      if p_kind = 'plain indexed select (no RLS)' then
        select array_agg(t::bench_row) into v_rows from (
          select p.id, p.preference_type, p.preference_key, p.preference_value, p.confidence, p.reason, p.source,
                 p.times_confirmed, p.updated_at, p.last_confirmed_at
            from public.customer_preferences as p where p.user_id = u
          union all
          select sp.id, sp.pattern_type, sp.pattern_key, sp.pattern_value::text, sp.confidence, null, 'pattern',
                 sp.occurrence_count, sp.updated_at, sp.last_occurrence
            from public.shopping_patterns as sp
           where sp.user_id = u and sp.last_occurrence >= now() - interval '90 days'
          union all
          select mi.id, mi.insight_type, mi.insight_key, mi.insight_value, mi.confidence,
                 mi.supporting_data::text, 'inferred', 0, mi.updated_at, mi.expires_at
            from public.memory_insights as mi
           where mi.user_id = u and (mi.expires_at is null or mi.expires_at > now())) as t;
      elsif p_kind = 'plain select as JSON (no RLS)' then
        select jsonb_agg(t.r) into v from (
          select to_jsonb(p) as r from public.customer_preferences as p where p.user_id = u
          union all
          select to_jsonb(sp) from public.shopping_patterns as sp
           where sp.user_id = u and sp.last_occurrence >= now() - interval '90 days'
          union all
          select to_jsonb(mi) from public.memory_insights as mi
           where mi.user_id = u and (mi.expires_at is null or mi.expires_at > now())) as t;
      elsif p_kind = 'composed live (a miss)' then
        v := private.compose_memory_context(u, 0.70, p_query);
      else
        v := public.memory_context(0.70, p_query);
      end if;
      ms := extract(epoch from clock_timestamp() - t0) * 1000;
      if r > 0 then
        return next;  -- round 0 warms the plans and the cache
      end if;
    end loop;
  end loop;
  perform set_config('role', v_admin, true);
end;
$$;
"""


# The write side of the precomputed document: one record_cart_add as the shopper, timed in the database, in its own
# transaction (as PostgREST runs it), for a SKU already a favorite, so that each call updates a preference and drops
# the stored document (at commit in production; here with the statement, so that the timing includes it).
CART_ADD_FUNCTION = """
create or replace function bench_cart_add(p_user uuid, p_sku text) returns double precision
language plpgsql
as $$
declare
  t0 timestamptz;
begin
  perform set_config('request.jwt.claims', jsonb_build_object('sub', p_user, 'role', 'authenticated')::text, true);
  -- The invalidation is deferred to commit, which no clock_timestamp() here would see: run it with the statement.
  perform private.invalidate_memory_context_now();
  perform set_config('role', 'authenticated', true);
  t0 := clock_timestamp();
  perform public.record_cart_add(jsonb_build_object('sku', p_sku, 'name', 'Bench item', 'category', 'dairy',
                                                    'price', 2.5, 'quantity', 1));
  return extract(epoch from clock_timestamp() - t0) * 1000;
end;
$$;
"""
INVALIDATION_TRIGGERS = [
    f"public.{table} {table}_changed" for table in ("customer_preferences", "shopping_patterns", "memory_insights")
]

KINDS = (
    "memory_context (shopper)",
    "plain indexed select (no RLS)",
    "composed live (a miss)",
    "plain select as JSON (no RLS)",
)
ROUNDS = 3


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report(label: str, rows: list[tuple[str, float]]) -> None:
    kinds = list(dict.fromkeys(kind for kind, _ in rows))
    by_kind = {kind: [ms for k, ms in rows if k == kind] for kind in kinds}
    print(f"\n{label} ({len(by_kind[kinds[0]])} calls each)")
    print(f"  {'':36} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    for kind in kinds:
        values = by_kind[kind]
        print(
            f"  {kind:36} {percentile(values, 0.50):8.3f} {percentile(values, 0.95):8.3f}"
            f" {percentile(values, 0.99):8.3f} {statistics.fmean(values):8.3f}"
        )
    shopper, plain, live, as_json = (by_kind[kind] for kind in kinds)
    for name, values, base in (
        ("memory_context / plain select", shopper, plain),
        ("composed live / plain select", live, plain),
        ("memory_context / plain select as JSON", shopper, as_json),
    ):
        print(
            f"  ratio {name}: p50 {percentile(values, 0.5) / percentile(base, 0.5):.2f}x,"
            f" p99 {percentile(values, 0.99) / percentile(base, 0.99):.2f}x"
        )


def set_invalidation(conn: psycopg.Connection[Any], enabled: bool) -> None:
    action = "enable" if enabled else "disable"
    for trigger in INVALIDATION_TRIGGERS:
        table, name = trigger.split()
        conn.execute(f"alter table {table} {action} trigger {name}".encode())


def write_cost(conn: psycopg.Connection[Any], users: list[UUID], calls_each: int = 30) -> None:
    """record_cart_add updating a favorite, with the invalidation triggers on and off, alternating per shopper so
    that drift hits both alike (switching per call would make every call re-plan after the ALTER TABLE)."""
    conn.execute(CART_ADD_FUNCTION.encode())
    timings: dict[str, list[float]] = {"triggers on": [], "triggers off": []}
    for number, user in enumerate(users):
        enabled = number % 2 == 0
        set_invalidation(conn, enabled)
        for call in range(calls_each + 6):
            # As when the worker has caught up since the last add: a stored document for the add to drop.
            conn.execute("select private.refresh_memory_context(%s)", (user,))
            row = conn.execute("select bench_cart_add(%s, 'bench-sku')", (user,)).fetchone()
            assert row is not None
            if call >= 6:  # from the sixth add on, each add updates the favorite
                timings["triggers on" if enabled else "triggers off"].append(row[0])
    set_invalidation(conn, True)
    on, off = timings["triggers on"], timings["triggers off"]
    print(f"\nrecord_cart_add updating a favorite, own transaction ({len(on)} calls each)")
    for mode, values in timings.items():
        print(f"  {mode:14} p50 {percentile(values, 0.5):.3f} ms  p99 {percentile(values, 0.99):.3f} ms")
    print(
        f"  the invalidation costs: p50 {percentile(on, 0.5) - percentile(off, 0.5):+.3f} ms,"
        f" p99 {percentile(on, 0.99) - percentile(off, 0.99):+.3f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shoppers", type=int, default=100_000)
    parser.add_argument("--interactions", type=int, default=10_000_000)
    parser.add_argument("--heavy", type=int, default=1_000, help="how many shoppers have a heavy history")
    parser.add_argument("--samples", type=int, default=200, help="shoppers sampled per group")
    parser.add_argument("--reps", type=int, default=5, help="calls per sampled shopper")
    args = parser.parse_args()
    heavy_each = args.interactions // 10 // args.heavy
    typical_each = -(-(args.interactions - heavy_each * args.heavy) // (args.shoppers - args.heavy))  # ceil

    bin_dir = Path(os.environ["CMS_PG_BIN"]) if os.environ.get("CMS_PG_BIN") else None
    with tempfile.TemporaryDirectory(prefix="cms-bench-") as tmp:
        cluster = LocalPostgres(Path(tmp) / "data", bin_dir, throwaway=True)
        running = cluster.ensure_running()
        try:
            print(cluster.version())
            schema.build_database(running.url("supabase_admin"), "bench")
            admin_url = running.url("supabase_admin", "bench")

            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute("set maintenance_work_mem = '512MB'; set work_mem = '64MB'")
                started = time.monotonic()
                conn.execute(
                    GENERATE_USERS.replace("%(shoppers)s", str(args.shoppers))
                    .replace("%(heavy)s", str(args.heavy))
                    .encode()
                )
                with conn.transaction():
                    # Without triggers (the precomputed documents' invalidations) and foreign key checks: the rows of
                    # the precomputed documents are created below, before the refresh.
                    conn.execute("set local session_replication_role = replica")
                    conn.execute(GENERATE_MEMORY.encode())
                print(f"shoppers and memories generated in {time.monotonic() - started:.0f} s")
                started = time.monotonic()
                conn.execute(
                    GENERATE_INTERACTIONS.replace("%(heavy_each)s", str(heavy_each))
                    .replace("%(typical_each)s", str(typical_each))
                    .encode()
                )
                conn.execute("vacuum analyze")
                conn.execute("checkpoint")  # so that no write-back of the load runs during the timings
                print(f"interactions generated and indexed in {time.monotonic() - started:.0f} s")
                counts = conn.execute(
                    "select (select count(*) from auth.users), (select count(*) from public.interaction_history),"
                    " (select count(*) from public.customer_preferences),"
                    " (select count(*) from public.shopping_patterns), (select count(*) from public.memory_insights)"
                ).fetchone()
                assert counts is not None
                print(
                    f"rows: {counts[0]:,} shoppers, {counts[1]:,} interactions, {counts[2]:,} preferences,"
                    f" {counts[3]:,} patterns, {counts[4]:,} insights"
                )
                per_heavy = conn.execute(
                    "select (select count(*) from public.customer_preferences p where p.user_id = u.id),"
                    " (select count(*) from public.shopping_patterns s where s.user_id = u.id),"
                    " (select count(*) from public.memory_insights i where i.user_id = u.id),"
                    " (select count(*) from public.interaction_history h where h.user_id = u.id)"
                    " from bench_users u where u.heavy limit 1"
                ).fetchone()
                per_typical = conn.execute(
                    "select (select count(*) from public.customer_preferences p where p.user_id = u.id),"
                    " (select count(*) from public.shopping_patterns s where s.user_id = u.id),"
                    " (select count(*) from public.memory_insights i where i.user_id = u.id),"
                    " (select count(*) from public.interaction_history h where h.user_id = u.id)"
                    " from bench_users u where not u.heavy limit 1"
                ).fetchone()
                print(
                    f"a heavy shopper: {per_heavy} / a typical shopper: {per_typical}"
                    " (preferences, patterns, insights, interactions)"
                )

                # What the worker does after each recompute, for every shopper at once. Each shopper's row first
                # (as the migration does for the shoppers it finds, and the triggers for new ones), so that the
                # refreshes find them through the primary key rather than through plans made for an empty table.
                conn.execute("insert into private.memory_context_cache (user_id) select id from bench_users")
                conn.execute("analyze private.memory_context_cache")
                started = time.monotonic()
                stored = conn.execute(
                    "select count(*) filter (where private.refresh_memory_context(id)) from bench_users"
                ).fetchone()
                elapsed = time.monotonic() - started
                size = conn.execute(
                    "select pg_size_pretty(pg_total_relation_size('private.memory_context_cache'))"
                ).fetchone()
                assert stored is not None and size is not None
                print(
                    f"default documents precomputed: {stored[0]:,} in {elapsed:.0f} s"
                    f" ({stored[0] / elapsed:,.0f} per second, one connection); table size {size[0]}"
                )
                conn.execute("vacuum analyze private.memory_context_cache")

                conn.execute(TIMING_FUNCTION.encode())
                groups: dict[str, list[UUID]] = {}
                for label, heavy in (("typical", False), ("heavy", True)):
                    groups[label] = [
                        row[0]
                        for row in conn.execute(
                            "select id from bench_users where heavy = %s order by random() limit %s",
                            (heavy, args.samples),
                        )
                    ]
                for label, query in (("typical", None), ("heavy", None), ("heavy", "what milk should I get")):
                    rows = []
                    for _ in range(ROUNDS):  # the kinds alternate, so that drift hits them alike
                        for kind in KINDS:
                            with conn.transaction():
                                rows += conn.execute(
                                    "select kind, ms from bench_pass(%s, %s, %s, %s)",
                                    (kind, groups[label], args.reps, query),
                                ).fetchall()
                    report(f"{label} shoppers" + (f", query {query!r}" if query else ""), rows)

                write_cost(conn, groups["typical"][:120])

                # The rendered block for the heavy shoppers: its size in (estimated) tokens.
                sizes = []
                for user_id in groups["heavy"][:50]:
                    rendered = render_memory_block(calls.memory_context(conn, user_id))
                    sizes.append((estimate_tokens(rendered.text), len(rendered.text), len(rendered.references)))
                tokens = [size[0] for size in sizes]
                print(
                    f"\nrendered block, heavy shoppers ({len(sizes)}): tokens (estimate) median"
                    f" {statistics.median(tokens):.0f}, max {max(tokens)}; characters max {max(s[1] for s in sizes)};"
                    f" lines max {max(s[2] for s in sizes)}"
                )
        finally:
            cluster.stop("immediate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
