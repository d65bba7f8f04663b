"""The learning rules of issue 10, on hand-made events: favourites by share of recent shopping days (cart adds
included, on their day, by when they happened), a brand only where others were on offer, no meat judged on the
whole history with the product taxonomy, one dominant bucket per pattern, confidence = the calibrated probability
of the recorded evidence, and explain_memory showing that record."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from tests.conftest import Database, acting_as, create_user
from tests.worker.conftest import (
    NOW,
    as_service,
    days_ago,
    item,
    pattern_candidates,
    patterns,
    preference_candidates,
    preferences,
    recompute,
    record_checkout,
    record_event,
)


def _probability(conn: psycopg.Connection[Any], claim: str, features: list[float]) -> Decimal:
    row = conn.execute("select private.claim_probability(%s, %s, %s, %s) as p", (claim, *features)).fetchone()
    assert row is not None
    return Decimal(row["p"])


def _floor(conn: psycopg.Connection[Any], claim: str) -> Decimal:
    row = conn.execute("select private.claim_floor(%s) as f", (claim,)).fetchone()
    assert row is not None
    return Decimal(row["f"])


def _evidence(conn: psycopg.Connection[Any], user: Any, type_: str, key: str) -> dict[str, Any]:
    row = conn.execute(
        "select evidence from public.customer_preferences where user_id = %s and preference_type = %s"
        " and preference_key = %s",
        (user, type_, key),
    ).fetchone()
    assert row is not None
    return row["evidence"]  # type: ignore[no-any-return]


def test_a_favourite_is_the_share_of_recent_shopping_days_and_decays_when_not_bought(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        ids = []
        for k in range(10):  # ten weekly orders; milk in all, cereal in the oldest six only (outside 90 days)
            basket = [item("milk", "Dairy", name="Milk")]
            if k >= 4:
                basket.append(item("cereal", "Breakfast"))
            ids.append(record_checkout(conn, user, days_ago(7 * k if k < 4 else 91 + 7 * k), basket))
        recompute(conn, user)
        found = preferences(conn, user)
        milk = _evidence(conn, user, "favorite", "milk")
        floor = _floor(conn, "favorite")
        # Four shopping days in the last 90, milk on all four, last bought on the last day; over the whole history
        # (the first order 154 days before the last: 1.7 windows of 90 days) 10 days, about 5.8 per 90 days: a rate,
        # not a count that grows with the history's length.
        assert milk["days_bought_90"] == 4 and milk["shopping_days_90"] == 4 and milk["days_bought"] == 10
        windows = (NOW - days_ago(154)) / timedelta(days=90)
        assert float(milk["days_bought_per_90_days"]) == round(10 / windows, 2)
        expected = _probability(conn, "favorite", [math.log(5), math.log(1 + 10 / windows), milk["features"][2]])
        assert found[("favorite", "milk")]["confidence"] == expected >= floor
        assert found[("favorite", "milk")]["reason"] == "Bought on 4 of your 4 shopping days in the last 90 days"
        assert milk["interaction_ids"][:4] == [str(i) for i in ids[:4]]  # newest first
        # Bought six times, but not in the last 90 days: no favourite (it decays, whatever the all-time count).
        assert ("favorite", "cereal") not in found


def test_cart_adds_count_on_the_day_they_happened_not_when_they_arrived(db: Database) -> None:
    """A history sent through the API today (arrival now) and backfilled as of a past moment: each add counts on
    its added_at, never later than its arrival; an add and the order it went into are one occasion."""
    with db.connect() as conn:
        user = create_user(conn)
        arrived = datetime.now(UTC)
        for k in range(6):
            when = days_ago(10 * k)
            record_event(
                conn, user, "cart_add", "tea", {"sku": "tea", "added_at": when.isoformat()}, created_at=arrived
            )
        record_checkout(conn, user, days_ago(0), [item("tea", "Drinks")], created_at=arrived)  # same day as an add
        # A client clock in the future cannot date evidence after its arrival.
        for k in range(2):
            value = {"sku": "gum", "added_at": "2030-01-01T00:00:00Z"}
            record_event(conn, user, "cart_add", "gum", value, created_at=arrived - timedelta(days=k))
        proposed = preference_candidates(conn, user)  # as of NOW, a week before the events arrived
        tea = proposed[("favorite", "tea")]["evidence"]
        assert (tea["days_bought_90"], tea["shopping_days_90"]) == (6, 6)
        assert ("favorite", "gum") not in proposed  # it had not arrived by NOW
        gum = preference_candidates(conn, user, arrived + timedelta(seconds=1))[("favorite", "gum")]["evidence"]
        assert datetime.fromisoformat(gum["last_bought"]) == arrived


def test_a_brand_is_a_choice_where_others_were_on_offer(db: Database) -> None:
    with db.connect() as conn:
        user, other = create_user(conn), create_user(conn)
        for k in range(8):
            record_checkout(
                conn,
                user,
                days_ago(7 * k),
                [
                    item("yogurt-gv", "Yogurt", brand="Store Brand"),
                    item("banana", "Bananas", brand="Farm Co"),  # nobody sells bananas of another brand
                ],
            )
        record_checkout(conn, other, days_ago(3), [item("yogurt-chobani", "Yogurt", brand="Chobani")])
        with as_service(conn):
            conn.execute("select public.worker_refresh_brand_catalog()")
        recompute(conn, user)
        proposed = preference_candidates(conn, user)
        stored = preferences(conn, user)
    assert ("brand", "Farm Co") not in proposed, "a manufacturer of unbranded produce is not a brand choice"
    store = proposed[("brand", "Store Brand")]
    evidence = store["evidence"]
    assert (evidence["days_chosen"], evidence["days_in_categories"], evidence["categories"]) == (8, 8, ["yogurt"])
    assert evidence["features"][:2] == [math.log(9), 1.0]
    # Stored exactly when its calibrated probability reaches the brand floor.
    assert (("brand", "Store Brand") in stored) == (store["confidence"] >= _floor_of("brand", db))


def test_swaps_are_brand_choices_and_the_api_writes_no_preference(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        with acting_as(conn, "authenticated", user) as shopper:
            for _ in range(3):
                shopper.execute(
                    "select public.record_swap(%s, %s, false)",
                    ('{"sku": "a", "brand": "Heinz", "category": "ketchup"}', '{"sku": "b", "brand": "Hunts"}'),
                )
            shopper.execute("select public.record_cart_add(%s)", ('{"sku": "milk"}',))
            # Nothing is learned in the API: the worker derives every inferred preference, in one place.
            assert shopper.execute("select count(*) as n from public.customer_preferences").fetchone() == {"n": 0}


def test_no_meat_is_judged_on_the_whole_history_with_the_taxonomy_and_is_a_habit(db: Database) -> None:
    with db.connect() as conn:
        meat_eater, veggie = create_user(conn), create_user(conn)
        # A meat order 80 days ago (its item says so only by its department), then a long run without meat: the
        # old rule (a run of orders lacking a "meat" tag) called that vegetarian.
        record_checkout(conn, meat_eater, days_ago(80), [item("chuck", "Ground Beef") | {"department": "meat"}])
        for k in range(60):
            basket = [item("beans", "Canned Goods") | {"department": "grocery"}]
            record_checkout(conn, meat_eater, days_ago(k), basket)
            record_checkout(conn, veggie, days_ago(k), basket)
        recompute(conn, meat_eater)
        recompute(conn, veggie)
        assert ("dietary", "vegetarian") not in preference_candidates(conn, meat_eater)
        veggie_claim = preference_candidates(conn, veggie)[("dietary", "vegetarian")]
        assert veggie_claim["preference_value"] == "usually buys no meat"
        assert veggie_claim["evidence"]["orders"] == 60
        # Not stored: on the benchmark an inferred no-meat habit did not beat its baseline, so it is not derived
        # (and were it, it would be a habit, never a restriction: memory_context.test.sql).
        assert ("dietary", "vegetarian") not in preferences(conn, veggie)


def test_a_pattern_is_the_dominant_bucket_with_its_calibrated_probability(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        # How shoppers in general shop (worker_refresh_pattern_population computes it from everyone's orders):
        # nearly everyone buys dairy, so a dairy pattern says nothing about this shopper (lift 1.0).
        conn.execute("delete from private.pattern_population")
        conn.execute(
            "insert into private.pattern_population (pattern_type, pattern_key, share, shoppers) values"
            " ('day_of_week', 'friday', 0.15, 500), ('time_of_day', 'evening', 0.25, 500),"
            " ('frequency', 'several_per_week', 0.30, 500), ('frequency', 'weekly', 0.30, 500),"
            " ('basket_size', 'small', 0.5, 500), ('category_preference', 'dairy', 1.0, 500)"
        )
        for k in range(6):  # six Friday evenings and one Tuesday morning
            record_checkout(conn, user, days_ago(7 * k), [item("milk", "Dairy", quantity=2)])
        record_checkout(conn, user, days_ago(3, hour=9), [item("milk", "Dairy")])
        recompute(conn, user, NOW)
        found = patterns(conn, user)
        candidates = {
            (r["pattern_type"], r["pattern_key"]): r
            for r in conn.execute("select * from private.pattern_candidates(%s, %s)", (user, NOW))
        }
    # One candidate per bucket type: the most common bucket, never the others.
    assert {k for k in candidates if k[0] in ("day_of_week", "time_of_day")} == {
        ("day_of_week", "friday"),
        ("time_of_day", "evening"),
    }
    friday = candidates[("day_of_week", "friday")]
    # its share, ln(1 + orders) and its lead over the next bucket (one Tuesday) in standard errors
    lead_z = (6 - 1) / math.sqrt(2 * (6 + 1 - (6 - 1) ** 2 / 7) + 1)
    assert friday["pattern_value"]["features"] == pytest.approx([6 / 7, math.log(8), lead_z])
    assert friday["pattern_value"]["population_share"] == 0.15 and friday["pattern_value"]["lift"] == 5.71
    dairy = candidates[("category_preference", "dairy")]["pattern_value"]
    assert (dairy["share"], dairy["lift"]) == (1.0, 1.0)
    for key, row in candidates.items():
        lift = row["pattern_value"].get("lift")
        assert (key in found) == (
            row["confidence"] is not None
            and row["confidence"] >= _floor_of(f"pattern:{key[0]}", db)
            and lift is not None
            and lift >= 1.2
        )
        assert row["confidence"] is None or row["confidence"] <= Decimal("0.95")
    assert ("category_preference", "dairy") not in found  # as sure as can be, and true of everyone


def _floor_of(claim: str, db: Database) -> Decimal:
    """The claim type's floor; above any probability (0.95 at most) for a type that is not derived."""
    with db.connect() as conn:
        row = conn.execute("select private.claim_floor(%s) as f", (claim,)).fetchone()
    return Decimal(row["f"]) if row is not None and row["f"] is not None else Decimal("1.01")


def test_explain_memory_shows_the_evidence_record_the_worker_wrote(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        ids = [record_checkout(conn, user, days_ago(7 * k), [item("milk", "Dairy")]) for k in range(8)]
        recompute(conn, user)
        row = conn.execute(
            "select id, evidence from public.customer_preferences where user_id = %s and preference_key = 'milk'",
            (user,),
        ).fetchone()
        assert row is not None
        with acting_as(conn, "authenticated", user) as shopper:
            explained = shopper.execute("select public.explain_memory(%s) as e", (row["id"],)).fetchone()
    assert explained is not None
    evidence = explained["e"]["evidence"]
    assert evidence["record"] == {k: v for k, v in row["evidence"].items() if k != "interaction_ids"}
    assert [i["id"] for i in evidence["interactions"]] == [str(i) for i in ids]
    assert all(i["detail"]["items"] == [item("milk", "Dairy")] for i in evidence["interactions"])


def test_buckets_are_decided_in_the_shoppers_time_zone(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        tokyo = datetime.fromisoformat("2026-11-17T09:30:00+09:00")  # Tuesday morning there, Monday night in UTC
        record_checkout(conn, user, tokyo, [item("natto", "Deli")], time_zone="Asia/Tokyo")
        record_checkout(conn, user, NOW - timedelta(days=91), [item("old", "Dairy")])  # outside the window
        keys = {
            (r["pattern_type"], r["pattern_key"])
            for r in conn.execute("select * from private.pattern_candidates(%s, %s)", (user, NOW))
        }
    assert {("day_of_week", "tuesday"), ("time_of_day", "morning")} <= keys
    assert ("category_preference", "dairy") not in keys


def test_the_population_is_how_shoppers_in_general_shop(db: Database) -> None:
    with db.connect() as conn:
        fridays, mondays = create_user(conn), create_user(conn)
        for k in range(8):  # one shopper on Friday evenings, the other on Monday mornings, both weekly
            record_checkout(conn, fridays, days_ago(7 * k), [item("milk", "Dairy"), item("bread", "Bakery")])
            record_checkout(conn, mondays, days_ago(7 * k + 4, hour=9), [item("milk", "Dairy")])
        with as_service(conn):
            untouched = conn.execute("select public.worker_refresh_pattern_population(%s) as n", (NOW,)).fetchone()
            written = conn.execute("select public.worker_refresh_pattern_population(%s, 2) as n", (NOW,)).fetchone()
        assert untouched == {"n": 0}  # two shoppers are no population at the default minimum
        assert written is not None and written["n"] > 0
        shares = {
            (r["pattern_type"], r["pattern_key"]): float(r["share"])
            for r in conn.execute("select pattern_type, pattern_key, share from private.pattern_population")
        }
        assert shares[("day_of_week", "friday")] == shares[("day_of_week", "monday")] == 0.5
        assert (shares[("category_preference", "dairy")], shares[("category_preference", "bakery")]) == (1.0, 0.5)
        assert shares[("frequency", "weekly")] == 1.0
        # Bread: this shopper's bakery share is 1.0 against 0.5 in general (lift 2); dairy is everyone's (lift 1).
        found = pattern_candidates(conn, fridays)
        assert found[("category_preference", "bakery")]["pattern_value"]["lift"] == 2.0
        assert found[("category_preference", "dairy")]["pattern_value"]["lift"] == 1.0
        with as_service(conn), pytest.raises(psycopg.errors.InvalidParameterValue, match="at least 1"):
            conn.execute("select public.worker_refresh_pattern_population(%s, 0)", (NOW,))


def test_a_favourite_bought_repeatedly_says_when_it_is_due(db: Database) -> None:
    with db.connect() as conn:
        shoppers = [create_user(conn) for _ in range(3)]
        for user in shoppers:  # milk every 7 days: 3 x 7 gaps, enough for the population's interval of milk
            for k in range(8):
                record_checkout(conn, user, days_ago(7 * k), [item("milk", "Dairy")])
        newcomer = create_user(conn)  # bought milk twice, 3 days apart, and once more 3 days later: two gaps of 3
        for days in (6, 3, 0):
            record_checkout(conn, newcomer, days_ago(days), [item("milk", "Dairy")])
        with as_service(conn):
            conn.execute("select public.worker_refresh_pattern_population(%s, 2)", (NOW,))
        weekly = preference_candidates(conn, shoppers[0])[("favorite", "milk")]["evidence"]
        fresh = preference_candidates(conn, newcomer)[("favorite", "milk")]["evidence"]
        later = NOW + timedelta(days=20)  # not bought for 20 days: the window of days 7-8 has passed
        lapsed = preference_candidates(conn, shoppers[0], later)[("favorite", "milk")]["evidence"]
    last = datetime.fromisoformat(weekly["last_bought"])
    # What is known 20 days on is that this gap is longer than 20 days: the window starts then, one day wide.
    lapsed_from = datetime.fromisoformat(lapsed["due_from"])
    assert abs((lapsed_from - later).total_seconds()) <= 0.05 * 86400
    assert datetime.fromisoformat(lapsed["due_until"]) - lapsed_from == timedelta(days=1)
    assert datetime.fromisoformat(lapsed["next_due"]) == lapsed_from
    assert lapsed["usual_interval_days"] == 7.0
    assert (weekly["usual_interval_days"], weekly["gaps"]) == (7.0, [7.0] * 7)
    assert datetime.fromisoformat(weekly["due_from"]) == last + timedelta(days=7)
    assert datetime.fromisoformat(weekly["due_until"]) == last + timedelta(days=8)
    assert datetime.fromisoformat(weekly["next_due"]) == last + timedelta(days=7)
    # Two gaps of 3 days, shrunk toward the population's 7 with the weight of one gap: (2*3 + 7) / 3.
    assert (fresh["usual_interval_days"], fresh["prior_interval_days"], fresh["gaps"]) == (4.3, 7.0, [3.0, 3.0])


def test_a_patterns_evidence_grows_with_the_orders_it_rests_on(db: Database) -> None:
    """The same share is stronger evidence over more orders: x3 is a z, so 90 of 100 outranks 9 of 10."""
    with db.connect() as conn:

        def z(sql: str, *args: float) -> float:
            row = conn.execute(f"select {sql} as z", args).fetchone()
            assert row is not None
            return float(row["z"])

        # the most common bucket's lead over the next
        assert 0 < z("private.lead_z(%s, %s, %s)", 9, 1, 10) < z("private.lead_z(%s, %s, %s)", 90, 10, 100)
        assert z("private.lead_z(%s, %s, %s)", 4, 4, 10) == 0  # a tie is no lead
        assert z("private.lead_z(%s, %s, %s)", 5000, 0, 5000) == 8  # bounded
        # more than half in the band
        assert 0 < z("private.majority_z(%s, %s)", 9, 10) < z("private.majority_z(%s, %s)", 90, 100)
        assert z("private.majority_z(%s, %s)", 3, 10) < 0
        # the mean gap inside its band: the nearer edge that can be crossed counts
        weekly = z("private.mean_in_band_z(%s, %s, %s, %s, %s)", 7, 1, 10, 4, 10)
        near_edge = z("private.mean_in_band_z(%s, %s, %s, %s, %s)", 9, 1, 10, 4, 10)
        assert weekly > near_edge > 0
        # several per week starts at 0 days: only its upper edge (4 days) can be crossed
        assert z("private.mean_in_band_z(%s, %s, %s, %s, %s)", 1, 1, 10, 0, 4) == pytest.approx(3 / math.sqrt(2 / 10))
        # the monthly band ends past the 90-day window: only its lower edge (21 days) can be crossed
        assert z("private.mean_in_band_z(%s, %s, %s, %s, %s)", 80, 10, 2, 21, 91) == pytest.approx(59 / 10)
        # a mean gap already outside the band chosen by the median is evidence against the claim
        assert z("private.mean_in_band_z(%s, %s, %s, %s, %s)", 11, 2, 10, 4, 10) < 0
        # with one gap, its spread is taken as its mean
        assert z("private.mean_in_band_z(%s, %s, %s, %s, %s)", 7, None, 1, 4, 10) == pytest.approx(
            3 / (7 * math.sqrt(2))
        )
