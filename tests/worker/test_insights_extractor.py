"""The rule extractor's insights: who the shopper says they are (household, goals, constraints) in the phrasings
people use, with near misses that must store nothing (other people's facts, wishes, questions, the past), and the
contract the database enforces (canonical keys, a value in words, figures as details, an end for a time-bound goal)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from worker.extract.insights import canonical_insight_key
from worker.extract.model import InsightStatement, Statements
from worker.extract.rules import RuleExtractor

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def insights(message: str) -> list[tuple[str, str, str]]:
    statements, _ = RuleExtractor(lambda: NOW).extract(message)
    return [(s.action, s.insight_type, s.insight_key) for s in statements if isinstance(s, InsightStatement)]


R, F = "remember", "forget"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("I have two kids, ages 4 and 7", [(R, "context", "children")]),
        ("my kids are 4 and 7", [(R, "context", "children")]),
        ("I'm a mom of three", [(R, "context", "children")]),
        ("We're a family of four", [(R, "context", "household-size")]),
        ("there are 5 of us", [(R, "context", "household-size")]),
        ("I live alone with my cat", [(R, "context", "pet-cat"), (R, "context", "household-size")]),
        ("I cook for one", [(R, "context", "cooking-for-one")]),
        ("I'm married", [(R, "context", "partner")]),
        ("we have two cats and a parrot", [(R, "context", "pet-cat"), (R, "context", "pet-bird")]),
        ("I meal prep on Sundays", [(R, "goal", "meal-prep")]),
        ("I'm trying to lose 10 pounds", [(R, "goal", "lose-weight")]),
        ("I am trying to eat more protein", [(R, "goal", "more-protein")]),
        ("we're on a tight budget", [(R, "goal", "save-money")]),
        ("I don't have an oven", [(R, "constraint", "no-oven")]),
        ("my kitchen is tiny", [(R, "constraint", "small-kitchen")]),
        ("My budget is $100 a week", [(R, "constraint", "budget")]),
        # It no longer holds: ended, not deleted.
        ("our dog died last week", [(F, "context", "pet-dog")]),
        ("the kids moved out", [(F, "context", "children")]),
        ("I don't have kids", [(F, "context", "children")]),
        # Nothing: other people's facts, wishes, questions, the past, not a household.
        ("my sister has two kids", []),
        ("my friend's dog is cute", []),
        ("my mom lives alone", []),
        ("I want a dog someday", []),
        ("if I had kids I'd buy more snacks", []),
        ("do you have kids?", []),
        ("we used to have a dog", []),
        ("when I was a kid my dog was my best friend", []),
        ("I love dogs", []),
        ("I had a hot dog for lunch", []),
        ("Can you add cat food to my cart?", []),
        ("i work with kids as well", []),
        ("i am married to my job", []),
    ],
)
def test_the_rules_read_insights_and_nothing_else(message: str, expected: list[tuple[str, str, str]]) -> None:
    assert insights(message) == expected


def test_an_insight_says_itself_in_words_with_its_figures() -> None:
    statements, _ = RuleExtractor(lambda: NOW).extract("I have two kids, ages 4 and 7. My budget is $100 a week")
    dumped = [s.model_dump(mode="json") for s in statements if isinstance(s, InsightStatement)]
    assert [(d["insight_value"], d["details"]) for d in dumped] == [
        ("Two children, ages 4 and 7", {"count": 2, "ages": [4, 7]}),
        ("Budget of $100 a week", {"amount": 100, "period": "week"}),
    ]
    # What reaches the database is valid by the same contract.
    Statements.model_validate({"statements": dumped})


def test_a_diet_for_a_while_is_a_goal_that_ends_not_a_restriction() -> None:
    statements, _ = RuleExtractor(lambda: NOW).extract("This month I'm doing keto")
    (goal,) = statements
    assert isinstance(goal, InsightStatement)
    assert (goal.insight_type, goal.insight_key) == ("goal", "diet-goal-keto")
    assert goal.expires_at == datetime(2027, 1, 1, tzinfo=UTC)
    statements, _ = RuleExtractor(lambda: NOW).extract("I'm doing keto")
    assert [(s.preference_type, s.preference_key) for s in statements] == [("dietary", "keto")]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("kind", "key", "canonical"),
    [
        ("context", "Children", "children"),
        ("context", "pet dog", "pet-dog"),
        ("goal", "diet-goal-keto", "diet-goal-keto"),
        ("goal", "children", None),
        ("context", "pet-unicorn", None),
        ("persona", "likes jazz", None),
    ],
)
def test_insight_keys_are_held_to_the_vocabulary(kind: str, key: str, canonical: str | None) -> None:
    assert canonical_insight_key(kind, key) == canonical


def test_an_insight_without_words_or_with_a_bad_key_is_refused() -> None:
    bad: list[dict[str, Any]] = [
        {"action": "remember", "insight_type": "context", "insight_key": "children", "insight_value": " "},
        {"action": "remember", "insight_type": "context", "insight_key": "Two Kids", "insight_value": "Two kids"},
        {"action": "remember", "insight_type": "family", "insight_key": "children", "insight_value": "Two kids"},
    ]
    for statement in bad:
        with pytest.raises(ValueError):
            InsightStatement.model_validate(statement)
