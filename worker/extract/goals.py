"""Goals and constraints: meal prep, eating healthier, losing weight, more protein, saving money, a time-bound diet
("this month I'm doing keto": it expires); no oven, a small kitchen, a budget figure. Read only in the shopper's own
clauses (insights.InsightReader decides that, with GOAL_HEDGES and goal_marker).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

from worker.extract.model import InsightStatement
from worker.extract.reading import NUMBERS, remember_insight
from worker.extract.vocabulary import DIET_PHRASES, word_set

# Goals are said with words that would be hedges elsewhere: "i'm trying to lose weight" is the goal itself.
GOAL_HEDGES = word_set("if would wish maybe might should could someday whether wonder imagine")


_MONEY = re.compile(
    r"(?:\$\s?(\d{1,5}(?:\.\d{1,2})?)|(\d{1,5}(?:\.\d{1,2})?)\s?(?:dollars|bucks|usd|euros))"
    r"(?:\s*(?:a|an|per|each|every|/)\s*(week|wk|month|mo|day|fortnight)|\s+(weekly|monthly))?",
    re.IGNORECASE,
)


_PERIODS = {"week": "week", "wk": "week", "weekly": "week", "month": "month", "mo": "month", "monthly": "month",
            "day": "day", "fortnight": "two weeks"}  # fmt: skip


def goal_marker(words: list[str]) -> bool:
    """ "trying to", "want to", "my goal is", "working on": how a goal is said."""
    text = " ".join(words)
    return any(m in text for m in ("trying to", "try to", "want to", "wanna", "goal", "working on", "need to",
                                   "hoping to", "plan to", "planning to", "aim to"))  # fmt: skip


# Words without which a clause states no goal, constraint or household figure: most clauses are passed over
# before any regular expression runs.
GOAL_WORDS = word_set(
    "prep prepping preps mealprep batch healthier healthy better clean cleaner eating weight lose losing drop dropping "
    "calories protein save saving saves budget spend spending costs bills month week weeks months days day"
)


CONSTRAINT_WORDS = word_set("oven stove kitchen kitchenette budget spend spending afford")


def read_goals(words: list[str], said: str, clock: Callable[[], datetime]) -> list[InsightStatement]:
    out: list[InsightStatement] = []
    if not GOAL_WORDS & set(words):
        return out
    text = f" {' '.join(words)} "
    negated = bool(re.search(r" (not|never|no longer|gave up|quit|stopped) ", text))
    past = bool(re.search(r" (used to|was|were) ", text))
    if negated or past:
        return out
    if re.search(
        r" (meal prep|meal prepping|meal preps|meal-prep|mealprep|prep my meals|prep meals|prepping meals|"
        r"batch cook|batch cooking|prep my lunches|prep lunches) ",
        text,
    ):
        day = re.search(r" on (sundays|sunday|mondays|monday|saturdays|saturday|fridays|friday|weekends)", text)
        value = "Meal preps" + (f" on {day.group(1).capitalize()}" if day else "")
        out.append(remember_insight("goal", "meal-prep", value))
    if re.search(
        r" (eat|eating|eats) (more )?(healthier|healthy|better|clean|cleaner) | (healthier|healthy) eating |"
        r" (get|getting) healthier ",
        text,
    ):
        out.append(remember_insight("goal", "eat-healthier", "Wants to eat healthier"))
    pounds = re.search(r" (lose|losing|drop|dropping) (\d{1,3}) (pounds|lbs|lb|kilos|kg|kilograms) ", text)
    if pounds or re.search(
        r" (lose|losing|drop|dropping) (some |a little |a bit of |the )?weight | weight loss |"
        r" (counting|cutting) calories ",
        text,
    ):
        details = {"amount": int(pounds.group(2)), "unit": pounds.group(3)} if pounds else None
        value = f"Wants to lose {pounds.group(2)} {pounds.group(3)}" if pounds else "Wants to lose weight"
        out.append(remember_insight("goal", "lose-weight", value, details=details))
    if re.search(r" (more|high|higher|enough|extra) protein | protein (intake|goal|goals) ", text):
        out.append(remember_insight("goal", "more-protein", "Wants more protein"))
    if re.search(
        r" (save|saving|saves) (some )?money | on a (tight |strict |limited |small )?budget |"
        r" (cut|cutting) (back|down) on (my |our )?(grocery |food )?(spending|costs|bills?) |"
        r" spend less ",
        text,
    ) and not _MONEY.search(said):
        out.append(remember_insight("goal", "save-money", "Wants to save money"))
    until = _time_bound(words, clock)
    if until is not None:
        for diet in _diets_named(words):
            out.append(
                remember_insight(
                    "goal", f"diet-goal-{diet}", f"Eating {diet} until {until:%B} {until.day}", expires_at=until
                )
            )
    return out


def _diets_named(words: list[str]) -> list[str]:
    found = []
    for length in (2, 1):
        for index in range(len(words) - length + 1):
            key = DIET_PHRASES.get(tuple(words[index : index + length]))
            if key and key not in found and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", key):
                found.append(key)
    return found


def _time_bound(words: list[str], clock: Callable[[], datetime]) -> datetime | None:
    """When a goal said for a while ends: "this month" (the month's end), "this week", "for two weeks", "for a
    month", "until the end of the month"; None when it is not time-bound."""
    text = f" {' '.join(words)} "
    now = clock()
    if " this month " in text or " end of the month " in text or " for the month " in text:
        first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        return (first + timedelta(days=32)).replace(day=1)
    if " this week " in text or " for the week " in text:
        return now + timedelta(days=7)
    span = re.search(r" for (a|one|two|three|four|five|six|\d{1,2}) (day|days|week|weeks|month|months) ", text)
    if span:
        amount = NUMBERS.get(span.group(1)) or int(span.group(1))
        unit = span.group(2).rstrip("s")
        return now + timedelta(days=amount * {"day": 1, "week": 7, "month": 30}[unit])
    return None


def read_constraints(words: list[str], said: str) -> list[InsightStatement]:
    out: list[InsightStatement] = []
    if not CONSTRAINT_WORDS & set(words):
        return out
    text = f" {' '.join(words)} "
    if re.search(
        r" (do not|does not|dont) (have|own) (an|a) (oven|stove) | no (oven|stove) | without (an|a) oven |"
        r" (oven|stove) (is|was) (broken|broke|dead|out) | (oven|stove) (broke|died) |"
        r" (oven|stove) (is|does) not work",
        text,
    ):
        out.append(remember_insight("constraint", "no-oven", "No oven"))
    if re.search(
        r" (small|tiny|little|cramped|galley) kitchen | kitchen is (so |really |very |pretty )?(small|tiny) |"
        r" kitchenette ",
        text,
    ):
        out.append(remember_insight("constraint", "small-kitchen", "A small kitchen"))
    money = _MONEY.search(said)
    if money and re.search(
        r" budget | (can|could) (only )?(spend|afford) | (spend|spending) (only|at most|no more) ", text
    ):
        amount = float(money.group(1) or money.group(2))
        period = _PERIODS.get((money.group(3) or money.group(4) or "").lower())
        shown = f"{amount:g}"
        value = f"Budget of ${shown}" + (f" a {period}" if period and period != "two weeks" else "")
        details: dict[str, object] = {"amount": int(amount) if amount.is_integer() else amount}
        if period:
            details["period"] = period
        out.append(remember_insight("constraint", "budget", value, details=details))
    return out
