"""Fit the calibration constants of private.claim_model (supabase: worker learning) on the TRAINING months only.

Learn from Complete Journey's events before 2017-07-01, take every candidate claim the worker's SQL proposes
(private.preference_candidates, private.pattern_candidates, with its evidence x1..x3), validate each against the
household's Jul-Sep 2017 baskets with the benchmark's rules (benchmarks/learning.py), and fit, per claim type, a
logistic mapping from the evidence to the validated share. The holdout of the benchmark (Oct-Dec) is never read.

It prints the rows to paste into private.claim_model, with each type's floor: the lowest probability at which the
claims kept still validate >= --target on these months (when unsure, store less; --lower-bound asks the same of
the one-sided 95% lower confidence bound of the validated share instead of the share itself).

A season shift is checked inside the training months too: the same fit and floor rule run one quarter earlier
(learn before 2017-04-01, validate on Apr-Jun) and are applied to the Jul-Sep claims; the line "out of time"
says what those kept claims validated, which is what the Oct-Dec holdout will do to this fit.

    .venv/bin/python benchmarks/calibrate.py [--households N] [--target 0.9] [--lower-bound]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import tempfile
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import learning

from worker.datasets import completejourney
from worker.db import schema
from worker.db.request import set_request_context
from worker.db.server import LocalPostgres

FIT_AS_OF = datetime(2017, 7, 1)
FIT_END = learning.AS_OF  # validate on Jul-Sep: still the learning months of the benchmark


def fit_logistic(x: np.ndarray[Any, Any], y: np.ndarray[Any, Any], ridge: float = 1e-3) -> np.ndarray[Any, Any]:
    """Maximum-likelihood logistic regression (Newton's method, a small ridge for stability): [b0, b1, b2, b3]."""
    design = np.hstack([np.ones((len(x), 1)), x])
    beta = np.zeros(design.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(design @ beta, -30, 30)))
        gradient = design.T @ (y - p) - ridge * beta
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + ridge * np.eye(len(beta))
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if np.max(np.abs(step)) < 1e-8:
            break
    return beta


def candidates(url: str, shoppers: dict[Any, int], as_of: datetime) -> list[tuple[learning.Claim, list[float]]]:
    found = []
    with psycopg.connect(url) as conn:
        for shopper, household in shoppers.items():
            rows = conn.execute(
                "select preference_type, preference_key, (evidence -> 'features')"
                " from private.preference_candidates(%s, %s)"
                " union all select 'pattern:' || pattern_type, pattern_key, (pattern_value -> 'features')"
                " from private.pattern_candidates(%s, %s)",
                (shopper, as_of, shopper, as_of),
            ).fetchall()
            for type_, key, features in rows:
                kind = f"dietary:{key}" if type_ == "dietary" else type_
                found.append((learning.Claim(household, kind, key, 0.0), [float(v) for v in features]))
    return found


CHECK_AS_OF = datetime(2017, 4, 1)  # the out-of-time check: fit on Jan-Mar -> Apr-Jun, apply to the Jul-Sep claims


def lower_bound(validated: float, n: int, z: float = 1.645) -> float:
    """One-sided 95% Wilson lower bound of a validated share over n claims."""
    if n == 0:
        return 0.0
    centre = validated + z * z / (2 * n)
    spread = z * math.sqrt(validated * (1 - validated) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n)


def probabilities(beta: np.ndarray[Any, Any], x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """As private.claim_probability computes them: capped at 0.95, two decimals."""
    design = np.hstack([np.ones((len(x), 1)), x])
    return np.round(np.minimum(0.95, 1 / (1 + np.exp(-np.clip(design @ beta, -30, 30)))), 2)


def choose_floor(p: np.ndarray[Any, Any], y: np.ndarray[Any, Any], target: float, bound: bool) -> float:
    for t in np.arange(0.50, 0.96, 0.01):
        kept = p >= t - 1e-9
        if kept.any():
            share = float(y[kept].mean())
            if (lower_bound(share, int(kept.sum())) if bound else share) >= target:
                return float(round(t, 2))
    return 0.95


def ece(p: np.ndarray[Any, Any], y: np.ndarray[Any, Any]) -> float:
    buckets = np.minimum(np.floor(p * 10), 9)
    return float(
        sum(abs(p[buckets == b].mean() - y[buckets == b].mean()) * (buckets == b).sum() for b in np.unique(buckets))
        / max(len(p), 1)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, help="a random sample of N households (default: all)")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--target", type=float, default=0.9, help="validated share the stored claims must reach")
    parser.add_argument("--lower-bound", action="store_true", help="floors by the 95%% lower bound of the share")
    parser.add_argument(
        "--out-of-time-floors",
        action="store_true",
        help="floors from the out-of-time check: the lowest at which the older fit reached the target a quarter later",
    )
    parser.add_argument("--url", help="reuse a database an earlier --keep run loaded (same --households, --seed)")
    parser.add_argument("--apply", type=Path, help="with --url: run this SQL file first (development)")
    parser.add_argument("--keep", type=Path, help="keep the cluster in this folder, running (development)")
    args = parser.parse_args()

    data = completejourney.load()
    everyone = sorted(int(h) for h in data.transactions["household_id"].unique())
    chosen = sorted(random.Random(args.seed).sample(everyone, args.households)) if args.households else everyone
    lines = learning.prepare(data, chosen)
    family = learning.family_labels()

    def validator(as_of: datetime, end: datetime) -> learning.Validator:
        return learning.Validator(
            learning.behaviours(lines[lines["placed_at"] < as_of]),
            learning.behaviours(lines[(lines["placed_at"] >= as_of) & (lines["placed_at"] < end)]),
            family,
        )

    windows = {"fit": (FIT_AS_OF, FIT_END), "check": (CHECK_AS_OF, FIT_AS_OF)}
    shoppers = {completejourney.shopper_id(h): h for h in chosen}

    def all_candidates(url: str) -> dict[str, list[tuple[learning.Claim, list[float]]]]:
        return {
            name: candidates(url, shoppers, as_of.replace(tzinfo=learning.ZONE)) for name, (as_of, _) in windows.items()
        }

    if args.url:
        if args.apply:
            with psycopg.connect(args.url, autocommit=True) as conn:
                conn.execute(args.apply.read_text().encode())
        found = all_candidates(args.url)
    else:
        bin_dir = Path(os.environ["CMS_PG_BIN"]) if os.environ.get("CMS_PG_BIN") else None
        with tempfile.TemporaryDirectory(prefix="cms-calibrate-") as tmp:
            cluster = LocalPostgres(args.keep or Path(tmp) / "data", bin_dir, throwaway=args.keep is None)
            running = cluster.ensure_running()
            try:
                url = schema.build_database(running.url("supabase_admin", "postgres"), "calibrate")
                learning.load(url, lines, data, timedelta(0), cart_adds=True, until=FIT_AS_OF)
                with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
                    set_request_context(conn, "service_role")
                    conn.execute("select public.worker_refresh_brand_catalog()")
                found = all_candidates(url)
            finally:
                if args.keep is None:
                    cluster.stop("immediate")

    by_kind: dict[str, dict[str, list[tuple[list[float], bool]]]] = defaultdict(lambda: defaultdict(list))
    for name, (as_of, end) in windows.items():
        validate = validator(as_of, end)
        for claim, features in found[name]:
            if validate.evaluable(claim):
                by_kind[claim.kind][name].append((features, validate(claim)))
    rule = f"the {'95% lower bound of the ' if args.lower_bound else ''}validated share >= {args.target}"
    print(
        f"fitted on {len(chosen)} households: learn < {FIT_AS_OF:%Y-%m-%d}, validate < {FIT_END:%Y-%m-%d}; floor:"
        f" {rule}\n"
    )
    print(
        "      -- claim,               b0,     b1,     b2,     b3,    floor   (candidates, validated; kept, validated)"
    )
    checks: list[str] = []
    printed: list[str] = []
    for kind in sorted(by_kind):
        arrays = {
            name: (np.array([f for f, _ in rows], dtype=float), np.array([v for _, v in rows], dtype=float))
            for name, rows in by_kind[kind].items()
        }
        if "fit" not in arrays:
            continue
        x, y = arrays["fit"]
        beta = fit_logistic(x, y)
        p = probabilities(beta, x)
        floor = choose_floor(p, y, args.target, args.lower_bound)
        if "check" in arrays and len(arrays["check"][1]):
            cx, cy = arrays["check"]
            check_beta = fit_logistic(cx, cy)
            check_floor = choose_floor(probabilities(check_beta, cx), cy, args.target, args.lower_bound)
            q = probabilities(check_beta, x)
            k = q >= check_floor - 1e-9
            # The lowest floor at which the older fit's claims still reach the target on the next quarter.
            held = choose_floor(q, y, args.target, args.lower_bound)
            checks.append(
                f"  {kind:<28} floor {check_floor:.2f}: {int(k.sum())} of {len(y)} kept, validated "
                + (
                    f"{y[k].mean():.3f}, mean probability {q[k].mean():.3f}, ECE {ece(q[k], y[k]):.3f}"
                    if k.any()
                    else "-"
                )
                + f"; lowest floor reaching the target out of time {held:.2f}"
            )
            if args.out_of_time_floors:
                floor = held
        kept = p >= floor - 1e-9
        kept_share = f"{int(kept.sum())}, {y[kept].mean():.3f}" if kept.any() else "0, -"
        b = ", ".join(f"{v:7.3f}" for v in beta)
        printed.append(f"      ('{kind}', {b}, {floor:.2f}),  -- {len(y)}, {y.mean():.3f}; {kept_share}")
    print("\n".join(printed))
    print(
        f"\nout of time: fitted on learn < {CHECK_AS_OF:%Y-%m-%d} -> validate < {FIT_AS_OF:%Y-%m-%d}, applied to the"
        " claims above"
    )
    print("\n".join(checks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
