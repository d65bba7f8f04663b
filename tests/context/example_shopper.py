"""The design document's example shopper ("user123"): the example rows of its preference, pattern and insight
tables, plus the rows its example prompt block shows, as the document writes them.

`load_example_shopper` builds these rows, under any email. They are the document's, not what the worker derives
today (no pattern or insight since issue 10): the tests of the prompt block read them to render every section.
supabase/seed.sql's Dana holds only what the system makes of her events, so a recompute changes nothing. Each
inferred preference carries an evidence record, as the worker writes every one: its rule and the document's figure
(and no interactions: this shopper has no events)."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import psycopg

from tests.conftest import create_user

EMAIL = "user123@example.test"

PREFERENCES = [
    # type, key, value, confidence, reason, source, times_confirmed, days since last confirmed, evidence record
    (
        "dietary",
        "vegetarian",
        None,
        "0.95",
        "Never orders meat products",
        "inferred",
        30,
        3,
        {"rule": "no meat", "orders": 30},
    ),
    (
        "dietary",
        "lactose_intolerant",
        None,
        "0.90",
        "Only orders lactose-free dairy",
        "inferred",
        30,
        3,
        {"rule": "only lactose-free dairy", "orders": 30},
    ),
    ("brand", "great-value", None, "0.75", "Chooses GV 80% of time", "pattern", 24, 3, {"rule": "brand", "share": 0.8}),
    (
        "brand",
        "chobani",
        None,
        "0.85",
        "Strong preference for Chobani yogurt",
        "pattern",
        10,
        10,
        {"rule": "brand", "days_chosen": 10},
    ),
    (
        "favorite",
        "milk-whole-gal",
        None,
        "0.90",
        "Purchased 15 times",
        "pattern",
        15,
        3,
        {"rule": "favorite", "days_bought": 15},
    ),
    (
        "favorite",
        "gv-organic-eggs",
        None,
        "0.90",
        "Purchased 12 times",
        "pattern",
        12,
        10,
        {"rule": "favorite", "days_bought": 12},
    ),
    (
        "favorite",
        "chobani-greek-yogurt",
        None,
        "0.85",
        "Purchased 10 times",
        "pattern",
        10,
        10,
        {"rule": "favorite", "days_bought": 10},
    ),
    ("dislike", "avocado", None, "1.00", 'User said "I hate avocados"', "explicit", 1, 40, None),
    ("allergy", "peanuts", None, "1.00", 'User said "allergic to peanuts"', "explicit", 1, 90, None),
]
PATTERNS = [
    ("time_of_day", "evening", {"range": "18:00-21:00", "orders": 24}, "0.85", 24),
    ("day_of_week", "saturday", {"orders": 18, "total_orders": 30}, "0.60", 18),
    ("frequency", "weekly", {"avg_days": 7.2, "orders": 30}, "0.75", 30),
    ("basket_size", "medium", {"avg_items": 15, "avg_total": 85.50}, "0.70", 30),
    ("category_preference", "dairy", {"percentage": 0.35, "orders": 28}, "0.80", 28),
]
INSIGHTS = [
    # type, key, value, confidence, supporting data, days until it expires
    (
        "persona",
        "budget_conscious",
        "Consistently chooses store brands",
        "0.85",
        {"swaps_accepted": 12, "gv_percentage": 0.75},
        None,
    ),
    (
        "persona",
        "health_focused",
        "Prioritizes organic, low-sugar items",
        "0.70",
        {"organic_count": 24, "rejection_of_sugary": 8},
        None,
    ),
    (
        "goal",
        "meal_prep",
        "Large orders on Sundays with recipe ingredients",
        "0.80",
        {"sunday_orders": 8, "avg_items": 35},
        60,
    ),
    (
        "context",
        "family_of_four",
        "Basket size and quantities suggest family",
        "0.65",
        {"bulk_deals": 18, "avg_dairy_qty": 3},
        None,
    ),
    (
        "constraint",
        "lactose_intolerant",
        "Never orders dairy with lactose",
        "0.90",
        {"lactose_free_percentage": 1.0, "orders": 30},
        None,
    ),
]


def load_example_shopper(conn: psycopg.Connection[Any], email: str = EMAIL) -> UUID:
    """Create the shopper and their memory rows (as postgres, the way the seed would); return their id."""
    user_id = create_user(conn, email)
    with conn.cursor() as cursor:
        cursor.executemany(
            "insert into public.customer_preferences (user_id, preference_type, preference_key, preference_value,"
            " confidence, reason, source, times_confirmed, last_confirmed_at, evidence)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, now() - %s * interval '1 day', %s)",
            [(user_id, *row[:-1], None if row[-1] is None else json.dumps(row[-1])) for row in PREFERENCES],
        )
        cursor.executemany(
            "insert into public.shopping_patterns (user_id, pattern_type, pattern_key, pattern_value, confidence,"
            " occurrence_count, last_occurrence) values (%s, %s, %s, %s, %s, %s, now() - interval '3 days')",
            [
                (user_id, kind, key, json.dumps(value), confidence, count)
                for kind, key, value, confidence, count in PATTERNS
            ],
        )
        cursor.executemany(
            "insert into public.memory_insights (user_id, insight_type, insight_key, insight_value, confidence,"
            " supporting_data, expires_at) values (%s, %s, %s, %s, %s, %s, now() + %s * interval '1 day')",
            [
                (user_id, kind, key, value, confidence, json.dumps(data), days)
                for kind, key, value, confidence, data, days in INSIGHTS
            ],
        )
    return user_id
