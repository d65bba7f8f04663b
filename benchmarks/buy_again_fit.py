"""Fit the buy-again window of private.preference_candidates on the TRAINING months only.

As of 2017-07-01, for each Complete Journey household's favourite-like SKU (bought on 3 days or more, twice in the
last 90 days, at a favourite's probability of at least 0.85 by private.claim_model), predict when it is bought next
from the household's own gaps shrunk toward the population's interval for the SKU (else its category, else all
items: median and quartiles over the year before, read as a log-normal), and check the first purchase in Jul-Sep.
The benchmark's holdout (Oct-Dec) is never read. Each candidate rule is scored as the learning benchmark scores it:
the share of next purchases inside the window (by date), the mean window width, and the mean absolute error of
the predicted next purchase; next to the population's quartile window (the baseline), plain and moved as the rule
moves its window (a window whose start passed before the as-of starts then). The rule adopted is the one with the
most next purchases inside at no wider a mean window than the baseline's.

    .venv/bin/python benchmarks/buy_again_fit.py      # about 6 minutes on two cores
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
from collections.abc import Callable
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import learning

from worker.datasets import completejourney
from worker.db import claim_model

AS_OF, END = pd.Timestamp("2017-07-01"), pd.Timestamp("2017-10-01")
Case = dict[str, Any]


def cases(days: pd.DataFrame) -> list[Case]:
    """One per favourite-like SKU as of AS_OF: its gaps, last purchase, the population's interval, the next one."""
    favourite = next(c for c in claim_model.load()["claims"] if c["claim"] == "favorite")
    year = days[(days.day >= AS_OF - pd.Timedelta(days=365)) & (days.day < AS_OF)].sort_values(
        ["household_id", "sku", "day"]
    )
    year = year.assign(gap=year.groupby(["household_id", "sku"])["day"].diff().dt.days).dropna(subset=["gap"])
    population: dict[str, dict[str, tuple[float, float, float]]] = {}
    for scope in ("sku", "category"):
        q = year.groupby(scope)["gap"].describe(percentiles=[0.25, 0.5, 0.75])
        q = q[q["count"] >= 20]
        population[scope] = {k: (r["50%"], r["25%"], r["75%"]) for k, r in q.iterrows()}
    everything = (year.gap.median(), year.gap.quantile(0.25), year.gap.quantile(0.75))
    before = days[days.day < AS_OF]
    first_day = before.groupby("household_id").day.min()
    after = days[(days.day >= AS_OF) & (days.day < END)]
    following = after.groupby(["household_id", "sku"]).day.min()
    found = []
    for (household, sku), group in before.groupby(["household_id", "sku"]):
        bought = sorted(group.day)
        recent = sum(1 for d in bought if d > AS_OF - pd.Timedelta(days=90))
        if len(bought) < 3 or recent < 2:
            continue
        windows = max(1.0, (AS_OF - first_day[household]).days / 90)
        z = (
            favourite["b0"]
            + favourite["b1"] * math.log(1 + recent)
            + favourite["b2"] * math.log(1 + len(bought) / windows)
            + favourite["b3"] * (AS_OF - bought[-1]).days / 30
        )
        if 1 / (1 + math.exp(-z)) < favourite["floor"] or (household, sku) not in following.index:
            continue
        found.append(
            {
                "gaps": [(b - a).days for a, b in itertools.pairwise(bought)][-20:],
                "elapsed": (AS_OF - bought[-1]).days,
                "prior": population["sku"].get(sku)
                or population["category"].get(group.category.iloc[-1])
                or everything,
                "actual": (following[(household, sku)] - bought[-1]).days,
            }
        )
    return found


def moved(low: float, high: float, point: float, elapsed: float) -> tuple[float, float, float]:
    late = max(0.0, elapsed - low)
    return low + late, high + late, point + late


def rule(weight: float, level: float) -> Callable[[Case], tuple[float, float, float]]:
    """The window: the level and 1 - level percentiles of the own gaps shrunk toward the population's, moved."""
    z = NormalDist().inv_cdf(level)

    def window(case: Case) -> tuple[float, float, float]:
        gaps, n = np.array(case["gaps"], float), len(case["gaps"])
        median, q25, q75 = case["prior"]
        spread = math.log(q75 / q25) / (2 * 0.6745)
        low = (n * np.quantile(gaps, level) + weight * median * math.exp(z * spread)) / (n + weight)
        high = (n * np.quantile(gaps, 1 - level) + weight * median * math.exp(-z * spread)) / (n + weight)
        point = (n * np.quantile(gaps, 0.5) + weight * median) / (n + weight)
        return moved(low, max(high, low + 1), point, case["elapsed"])

    return window


def score(found: list[Case], window: Callable[[Case], tuple[float, float, float]]) -> tuple[float, float, float]:
    inside, errors, widths = 0, [], []
    for case in found:
        low, high, point = window(case)
        inside += low <= case["actual"] <= high
        errors.append(abs(case["actual"] - point))
        widths.append(high - low)
    return inside / len(found), float(np.mean(errors)), float(np.mean(widths))


def main() -> int:
    argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0]).parse_args()
    data = completejourney.load()
    lines = learning.prepare(data, None)
    lines["day"] = pd.to_datetime(lines["placed_at"]).dt.tz_localize(None).dt.normalize()
    days = lines[["household_id", "sku", "category", "day"]].drop_duplicates(["household_id", "sku", "day"])
    found = cases(days)
    baseline = score(found, lambda c: (c["prior"][1], c["prior"][2], c["prior"][0]))
    baseline_moved = score(found, lambda c: moved(c["prior"][1], c["prior"][2], c["prior"][0], c["elapsed"]))
    print(f"{len(found)} favourites bought again in Jul-Sep (learned before {AS_OF:%Y-%m-%d})")
    print(
        f"baseline, the population's quartiles: inside {baseline[0]:.3f}, MAE {baseline[1]:.2f},"
        f" width {baseline[2]:.1f}"
    )
    print(
        f"  moved at the as-of: inside {baseline_moved[0]:.3f}, MAE {baseline_moved[1]:.2f},"
        f" width {baseline_moved[2]:.1f}"
    )
    best = None
    for weight in (1, 2, 3, 4, 6, 8, 12):
        for level in (0.08, 0.1, 0.12, 0.15, 0.18, 0.2, 0.25):
            hit, mae, width = score(found, rule(weight, level))
            print(
                f"  weight {weight:>2}, percentiles {level:.2f}-{1 - level:.2f}: inside {hit:.3f}, MAE {mae:.2f},"
                f" width {width:.1f}"
            )
            if width <= baseline[2] and (best is None or hit > best[0]):
                best = (hit, mae, width, weight, level)
    if best is not None:
        print(
            f"adopted: weight {best[3]}, percentiles {best[4]:.2f}-{1 - best[4]:.2f}"
            f" (inside {best[0]:.3f}, MAE {best[1]:.2f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
