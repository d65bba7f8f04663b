"""The design document's example shopper ("user123"): its preferences, the five patterns and five insights of its
tables, as rows. Built here until the lead's supabase/seed.sql loads the same shopper; then `load_example_shopper`
can point at the seed instead and the tests that use it stay as they are."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import psycopg

from tests.conftest import create_user

EMAIL = "user123@example.test"

PREFERENCES = [
    # type, key, confidence, reason, source, times_confirmed
    ("dietary", "vegetarian", "0.95", "Never orders meat products", "inferred", 30),
    ("dietary", "lactose_intolerant", "0.90", "Only orders lactose-free dairy", "inferred", 30),
    ("brand", "great-value", "0.75", "Chooses GV 75% of the time", "pattern", 24),
    ("brand", "chobani", "0.85", "Strong preference for Chobani yogurt", "pattern", 10),
    ("favorite", "milk-whole-gal", "0.90", "Purchased 15 times", "pattern", 15),
    ("favorite", "gv-organic-eggs", "0.90", "Purchased 12 times", "pattern", 12),
    ("favorite", "chobani-greek-yogurt", "0.90", "Purchased 10 times", "pattern", 10),
    ("dislike", "avocado", "1.00", 'User said "I hate avocados"', "explicit", 1),
    ("allergy", "peanuts", "1.00", 'User said "allergic to peanuts"', "explicit", 1),
]
PATTERNS = [
    ("time_of_day", "evening", {"range": "18:00-21:00", "orders": 24}, "0.85", 24),
    ("day_of_week", "saturday", {"orders": 18, "total_orders": 30}, "0.60", 18),
    ("frequency", "weekly", {"avg_days": 7.2, "orders": 30}, "0.75", 30),
    ("basket_size", "medium", {"avg_items": 15, "avg_total": 85.50}, "0.70", 30),
    ("category_preference", "dairy", {"percentage": 0.35, "orders": 28}, "0.80", 28),
]
INSIGHTS = [
    (
        "persona",
        "budget_conscious",
        "Consistently chooses store brands",
        "0.85",
        {"swaps_accepted": 12, "gv_percentage": 0.75},
    ),
    (
        "persona",
        "health_focused",
        "Prioritizes organic, low-sugar items",
        "0.70",
        {"organic_count": 24, "rejection_of_sugary": 8},
    ),
    (
        "goal",
        "meal_prep",
        "Large orders on Sundays with recipe ingredients",
        "0.80",
        {"sunday_orders": 8, "avg_items": 35},
    ),
    (
        "context",
        "family_of_four",
        "Basket size and quantities suggest family",
        "0.65",
        {"bulk_deals": 18, "avg_dairy_qty": 3},
    ),
    (
        "constraint",
        "lactose_intolerant",
        "Never orders dairy with lactose",
        "0.90",
        {"lactose_free_percentage": 1.0, "orders": 30},
    ),
]


def load_example_shopper(conn: psycopg.Connection[Any], email: str = EMAIL) -> UUID:
    """Create the shopper and their memory rows (as postgres, the way the seed would); return their id."""
    user_id = create_user(conn, email)
    with conn.cursor() as cursor:
        cursor.executemany(
            "insert into public.customer_preferences (user_id, preference_type, preference_key, confidence, reason,"
            " source, times_confirmed) values (%s, %s, %s, %s, %s, %s, %s)",
            [(user_id, *row) for row in PREFERENCES],
        )
        cursor.executemany(
            "insert into public.shopping_patterns (user_id, pattern_type, pattern_key, pattern_value, confidence,"
            " occurrence_count) values (%s, %s, %s, %s, %s, %s)",
            [
                (user_id, kind, key, json.dumps(value), confidence, count)
                for kind, key, value, confidence, count in PATTERNS
            ],
        )
        cursor.executemany(
            "insert into public.memory_insights (user_id, insight_type, insight_key, insight_value, confidence,"
            " supporting_data) values (%s, %s, %s, %s, %s, %s)",
            [
                (user_id, kind, key, value, confidence, json.dumps(data))
                for kind, key, value, confidence, data in INSIGHTS
            ],
        )
    return user_id
