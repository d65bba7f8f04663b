"""Who the shopper is, as they say it in chat: their household (children and their ages, household size, cooking
for one, a partner, pets that need food), their goals (meal prep, eating healthier, losing weight, more protein,
saving money, a time-bound diet such as "this month I'm doing keto") and their constraints (no oven, a small kitchen,
a budget figure). Read by the rule extractor from the same sentences and clauses as stated preferences
(language.py), returned as `InsightStatement`s with canonical keys (`INSIGHT_KEYS`). `InsightReader` is the entry
point (rules.RuleExtractor calls it per sentence); each kind has its reader: household.py (children, household
size, partner, pets), goals.py (goals and constraints); whose a clause is: reading.py (is_own, own_at).

What stores nothing: other people's facts ("my sister has two kids"), hypotheticals and wishes ("if I had a dog", "I
want a cat someday"), questions ("do you have kids?"), the past ("we used to have a dog", "I had a cat growing up").
What ends one ("forget"): the shopper says it no longer holds ("our dog died", "the kids moved out", "I don't have
kids"); the database ends the insight, deleting nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from worker.client.models import InsightType
from worker.extract.goals import GOAL_HEDGES, goal_marker, read_constraints, read_goals
from worker.extract.household import PETS, read_children, read_household_size, read_partner, read_pets
from worker.extract.language import Clause, Sentence
from worker.extract.model import InsightStatement
from worker.extract.reading import FIRST_PERSON, HYPOTHETICAL, is_own, names_subject
from worker.extract.vocabulary import DIETS

# Every key an extractor may store, with its type: the rules and Claude's tool schema are held to these.
INSIGHT_KEYS: dict[str, InsightType] = {
    "children": "context",
    "household-size": "context",
    "cooking-for-one": "context",
    "partner": "context",
    "meal-prep": "goal",
    "eat-healthier": "goal",
    "lose-weight": "goal",
    "more-protein": "goal",
    "save-money": "goal",
    "no-oven": "constraint",
    "small-kitchen": "constraint",
    "budget": "constraint",
}


def canonical_insight_key(kind: str, key: str) -> str | None:
    """The key if it is one an extractor may store for `kind` (Claude held to the rules' vocabulary): a key of
    INSIGHT_KEYS, "pet-<animal>" of a pet we know, "diet-goal-<diet>" of a diet we know; else None."""
    key = "-".join(key.strip().lower().replace("_", "-").split())
    if INSIGHT_KEYS.get(key) == kind:
        return key
    if kind == "context" and key.startswith("pet-") and key[4:] in set(PETS.values()):
        return key
    if kind == "goal" and key.startswith("diet-goal-") and key[10:] in DIETS:
        return key
    return None


def now_utc() -> datetime:
    return datetime.now(UTC)


class InsightReader:
    """Reads the insights of one message's sentences (`clock` gives "now" for time-bound goals)."""

    def __init__(self, clock: Callable[[], datetime] = now_utc) -> None:
        self.clock = clock

    def read(self, sentence: Sentence, said: str) -> list[InsightStatement]:
        found: dict[tuple[str, str], InsightStatement] = {}
        inherited = True  # the shopper is the subject until another is named
        for clause in sentence.clauses:
            own = is_own(clause.words, inherited)
            if not clause.question and not clause.forget:
                for statement in self._clause(clause, said, own, inherited):
                    found.setdefault((statement.insight_type, statement.insight_key), statement)
            inherited = own if names_subject(clause.words) else inherited
        return list(found.values())

    def _clause(self, clause: Clause, said: str, own: bool, inherited: bool) -> list[InsightStatement]:
        words = clause.words
        out: list[InsightStatement] = []
        # "if i had a dog", "i want a cat someday": only what the shopper already has ("i wish my kids ...").
        supposed = bool(HYPOTHETICAL & set(words))
        if {"was", "were"} & set(words) and re.search(
            r"\b(when|as|since) (i|we) (was|were) (a )?(kid|kids|child|children|little|young|younger|small)\b",
            " ".join(words),
        ):
            return out  # "when i was a kid my dog was my best friend": long ago
        out += read_pets(words, inherited)
        out += read_children(words, inherited)
        out += read_partner(words, own)
        if not supposed:
            out += read_household_size(words, own)
        if own and not GOAL_HEDGES & set(words) and FIRST_PERSON & set(words) and (not supposed or goal_marker(words)):
            out += read_goals(words, said, self.clock)
            out += read_constraints(words, said)
        return out
