"""The prompt block for the design document's example shopper, ranking by a query, and explanations, on the real
memory_context of a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.conftest import Database, create_user
from tests.context.example_shopper import load_example_shopper
from tests.worker.conftest import item, patterns, recompute, record_checkout
from worker.prompt import calls
from worker.prompt.explain import explain_suggestion, references_in
from worker.prompt.render import HEADINGS, buy_again, pattern_sentence, render_memory_block
from worker.prompt.tokens import estimate_tokens

# DESIGN-DOCUMENT.md, "Example Injected Context": the lines of its sections, as the document shows them. Its two
# diets are inferred, so they are habits here, not restrictions (issue 10: only what the shopper said, or an
# inference with measured precision >= 0.95, is a dietary restriction).
DESIGN_DIETARY = [
    "- vegetarian: Never orders meat products (confidence: 0.95)",
    "- lactose_intolerant: Only orders lactose-free dairy (confidence: 0.90)",
]
DESIGN_FAVORITES = [
    "- milk-whole-gal (purchased 15 times)",
    "- gv-organic-eggs (purchased 12 times)",
    "- chobani-greek-yogurt (purchased 10 times)",
]
# The document's block says "Chooses GV 75% of the time" where its table row (and the seed) says "Chooses GV 80% of
# time": the block shows the row's reason, whatever it is. The document lists great-value first although chobani
# is held with more confidence; we rank by confidence.
DESIGN_BRANDS = [
    "- chobani: Strong preference for Chobani yogurt (confidence: 0.85)",
    "- great-value: Chooses GV 80% of time (confidence: 0.75)",
]


HABITS = dict(HEADINGS)["habits"]


def rendered_omits(text: str) -> bool:
    """Whether the block is at the overall budget (16 non-safety lines), so that the lowest-ranked item was left out."""
    return sum(1 for line in text.splitlines() if line.startswith("- ")) >= 16


def _section(text: str, heading: str) -> list[str]:
    """The lines under a heading, without their references."""
    lines = text.splitlines()
    start = lines.index(heading) + 1
    body = []
    for line in lines[start:]:
        if not line.startswith("- "):
            break
        body.append(line.rsplit(" [m", 1)[0])
    return body


def test_the_example_shoppers_block_matches_the_design_document(db: Database) -> None:
    with db.connect() as conn:
        user_id = load_example_shopper(conn)
        rendered = render_memory_block(calls.memory_context(conn, user_id))
    text = rendered.text
    assert text.startswith("## CUSTOMER MEMORY\n")
    assert "Dietary Restrictions:" not in text
    assert _section(text, HABITS) == DESIGN_DIETARY
    assert _section(text, "Favorite Items:") == DESIGN_FAVORITES
    assert _section(text, "Brand Preferences:") == DESIGN_BRANDS
    # Each insight line says where it comes from: these were inferred, so the figure behind them (here none).
    insights = [line.removesuffix(" (inferred from your orders)") for line in _section(text, "Customer Insights:")]
    assert "- persona: Consistently chooses store brands" in insights
    assert "- goal: Large orders on Sundays with recipe ingredients" in insights
    # Held at 0.65: the floor is for preferences (the document's buildSystemPrompt), and its example shows it.
    # ... unless the overall budget of 16 items is spent: the two diet habits now take their place in it.
    assert "- context: Basket size and quantities suggest family" in insights or rendered_omits(text)
    # What the document's example leaves out but the shopper told us, safety first.
    assert _section(text, "Allergies:") == ['- peanuts: User said "allergic to peanuts" (confidence: 1.00)']
    assert _section(text, "Dislikes:") == ['- avocado: User said "I hate avocados"']
    # Every line carries a distinct reference to a real memory id.
    assert references_in(text) == [f"m{n}" for n in range(1, len(rendered.references) + 1)]
    assert estimate_tokens(text) < 600


def test_a_milk_question_ranks_milk_and_dairy_first(db: Database) -> None:
    with db.connect() as conn:
        user_id = load_example_shopper(conn)
        plain = calls.memory_context(conn, user_id)
        asked = calls.memory_context(conn, user_id, query="What milk should I get?")
    assert plain.favorites[0].key == "milk-whole-gal"  # a confidence tie is broken by the evidence
    assert asked.favorites[0].key == "milk-whole-gal"
    assert asked.patterns[0].key == "dairy"
    assert plain.patterns[0].key == "evening"
    assert asked.insights[0].key == "lactose_intolerant"
    assert {"milk", "dairy"} <= set(asked.query_terms)


def test_a_chicken_recipe_question_keeps_the_stated_allergy_and_leaves_inferred_diets_to_the_floor(
    db: Database,
) -> None:
    with db.connect() as conn:
        user_id = load_example_shopper(conn)
        asked = calls.memory_context(conn, user_id, min_confidence=Decimal("0.99"), query="recipes with chicken")
        low = calls.memory_context(conn, user_id, min_confidence=Decimal("0.50"), query="recipes with chicken")
    # What the shopper said stays whatever the floor; the inferred diets are habits, under the floor like any
    # other inference, and never restrictions.
    assert [item.key for item in asked.allergies] == ["peanuts"]
    assert asked.dietary == [] and asked.habits == []
    assert low.dietary == [] and [item.key for item in low.habits] == ["vegetarian", "lactose_intolerant"]
    # The floor keeps out the favorites; insights are bounded by expiry and their cap, not by the floor.
    assert asked.favorites == [] and len(asked.insights) == 5


def test_an_explanation_cites_the_memory_and_links_to_it(db: Database) -> None:
    with db.connect() as conn:
        user_id = load_example_shopper(conn)
        rendered = render_memory_block(calls.memory_context(conn, user_id, query="milk"))
    by_key = {reference.item.key: ref for ref, reference in rendered.references.items()}
    dairy, milk = by_key["dairy"], by_key["milk-whole-gal"]
    explanation = explain_suggestion(f"organic milk [{dairy}][{milk}] [m999]", rendered)
    assert explanation is not None
    assert explanation.sentence == (
        "I suggested organic milk because you have bought milk whole gal 15 times and you usually buy dairy products."
    ) or explanation.sentence == (
        "I suggested organic milk because you usually buy dairy products and you have bought milk whole gal 15 times."
    )
    assert [link.href for link in explanation.links] == [
        f"/memories/{rendered.references[dairy].item.id}",
        f"/memories/{rendered.references[milk].item.id}",
    ]
    assert explanation.links[0].label == "View memory details"
    assert explanation.unknown_references == ["m999"]
    assert explain_suggestion("bananas", rendered) is None


def test_a_new_shopper_gets_an_empty_block_not_an_error(db: Database) -> None:
    with db.connect() as conn:
        user_id = create_user(conn)
        rendered = render_memory_block(calls.memory_context(conn, user_id))
    assert rendered.references == {}
    assert "No memories yet" in rendered.text


def test_bad_input_is_refused_with_the_databases_sentence(db: Database) -> None:
    with db.connect() as conn:
        user_id = create_user(conn)
        with pytest.raises(calls.InvalidInput, match="min_confidence must be a number between 0 and 1"):
            calls.memory_context(conn, user_id, min_confidence=Decimal("2"))
        with pytest.raises(calls.InvalidInput, match="query must be at most 1000 characters"):
            calls.memory_context(conn, user_id, query="x" * 1001)


def test_stored_patterns_and_buy_again_timing_are_in_the_block_with_their_figures(db: Database) -> None:
    """The worker's own derivation, then the block: each stored pattern is one "Shopping Patterns:" line that says
    its figures (as the page says them), and a favourite bought repeatedly says how often and when it was last."""
    with db.connect() as conn:
        user_id = create_user(conn)
        conn.execute("delete from private.pattern_population")
        conn.execute(
            "insert into private.pattern_population (pattern_type, pattern_key, share, shoppers) values"
            " ('day_of_week', 'friday', 0.15, 500), ('time_of_day', 'evening', 0.3, 500)"
        )
        conn.execute("delete from private.repeat_intervals")  # shoppers in general buy milk every 7 days too
        conn.execute(
            "insert into private.repeat_intervals (scope, key, median_days, q25_days, q75_days, gaps)"
            " values ('sku', 'milk', 7, 6, 8, 50)"
        )
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
        for k in range(12):  # twelve weekly orders on the same weekday evening, milk in each
            record_checkout(conn, user_id, today - timedelta(days=7 * k), [item("milk", "Dairy", name="Whole milk")])
        recompute(conn, user_id, datetime.now(UTC))
        stored = patterns(conn, user_id)
        rendered = render_memory_block(calls.memory_context(conn, user_id))
    assert stored, "no pattern stored: the test would show nothing"
    lines = _section(rendered.text, "Shopping Patterns:")
    assert sorted(lines) == sorted(
        f"- {pattern_sentence(kind, key, row['pattern_value'])}" for (kind, key), row in stored.items()
    )
    assert any(
        line.endswith("12 of the last 12 orders in 90 days; 100% against 30% for shoppers in general") for line in lines
    )
    favourites = _section(rendered.text, "Favorite Items:")
    assert favourites[0].startswith("- Whole milk, sku milk, about every 7 days, last bought 1 day ago")
    assert "(due now)" not in favourites[0]  # its window starts about 7 days after the last purchase


def test_a_favourite_is_due_once_its_window_has_started() -> None:
    last = datetime(2026, 11, 1, 18, tzinfo=UTC)
    figures = {
        "usual_interval_days": 7.0,
        "last_bought": last.isoformat(),
        "due_from": (last + timedelta(days=5)).isoformat(),
        "due_until": (last + timedelta(days=10)).isoformat(),
    }
    assert buy_again(figures, last + timedelta(days=4)) == "about every 7 days, last bought 4 days ago"
    assert buy_again(figures, last + timedelta(days=6)) == "about every 7 days, last bought 6 days ago (due now)"
    # Past the window's end without a purchase, the window has moved on with time: still due, never "overdue".
    assert buy_again(figures, last + timedelta(days=30)).endswith("last bought 30 days ago (due now)")
