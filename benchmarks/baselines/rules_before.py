"""The extractor as it was before issue 11, frozen as the benchmark's naive baseline.

The deterministic extractor: sentence rules for allergies, diets, dislikes, brand likes and requests to forget,
with negation ("I'm not vegetarian anymore"), the past ("I used to hate avocados": no longer true, so forgotten),
other people in the household ("my son is allergic to peanuts": an allergy to shop around all the same) and
hedging ("I might go vegan", "thinking about going vegetarian": nothing stated, nothing stored)."""

from __future__ import annotations

import re

from worker.client.models import PreferenceType
from worker.extract.model import Statement

DIETS = (
    "vegetarian",
    "vegan",
    "pescatarian",
    "gluten-free",
    "gluten free",
    "dairy-free",
    "dairy free",
    "keto",
    "kosher",
    "halal",
    "paleo",
)
_HEDGES = re.compile(
    r"\b(maybe|might|perhaps|thinking (about|of)|considering|trying to|not sure|wonder(ing)?|should i|"
    r"would it|planning to|want to try|could)\b",
    re.I,
)
_NEGATION = re.compile(r"\b(not|no longer|n't|never|stopped being|quit being|gave up being)\b", re.I)
_ANYMORE = re.compile(r"\b(anymore|any more|no longer|these days)\b", re.I)
_PAST = re.compile(r"\b(used to|once was|was once|back then)\b", re.I)
_MEMBER = re.compile(
    r"\bmy (son|daughter|kid|kids|child|children|wife|husband|partner|baby|mom|dad|mother|father|"
    r"family|boyfriend|girlfriend)\b",
    re.I,
)
_FORGET = re.compile(r"^\s*(please\s+)?(forget|don't remember|stop remembering)\s+(that|about)?\s*", re.I)
# Words that end an allergen's name: a new clause ("and I hate olives"), a request, a preposition.
_NOT_IN_A_NAME = (
    r"(?!(?:and|or|but|so|because|please|i|we|my|our|he|she|they|it|you|in|on|of|for|with|at|to|too|from|"
    r"anymore|any|more|now|though|either|also|as|if|which|that|who|keep)\b)"
)
_NAME = _NOT_IN_A_NAME + r"[a-z][a-z\-]*(?:\s+" + _NOT_IN_A_NAME + r"[a-z][a-z\-]*){0,2}"
_LIST_SEPARATOR = r"\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+"
# "allergic to peanuts", "allergic to peanuts, tree nuts and sesame", "allergic to peanuts, so please ...".
_ALLERGY = re.compile(r"\ballergic to (" + _NAME + r"(?:(?:" + _LIST_SEPARATOR + r")" + _NAME + r")*)", re.I)
_DIET = re.compile(
    r"\b(?:i am|i'm|im|we are|we're|i eat|we eat|i went|i've gone|i have gone|i go)\s+(?:a |an |now |"
    r"fully |strictly |not |no longer |still )*(" + "|".join(re.escape(d) for d in DIETS) + r")\b",
    re.I,
)
_DISLIKE = re.compile(
    r"\b(?:i|we)\s+(?:really\s+|just\s+|absolutely\s+|used to\s+|don't\s+|do not\s+)*"
    r"(hate|dislike|can't stand|cannot stand|don't like|do not like|don't eat|do not eat|"
    r"detest|loathe)\s+([a-z][a-z \-]*?)(?:\s+(?:anymore|any more|and|but|so|because)\b|$)",
    re.I,
)
_BRAND = re.compile(
    r"(?i:\b(?:i|we)\s+(?:really\s+|always\s+|only\s+)*(?:love|like|prefer|buy|trust)\s+)"
    r"((?:[A-Z][\w'&\-]*)(?:\s+[A-Z][\w'&\-]*)*)(?:\s+brand)?",
    re.M,
)
_NOT_BRANDS = {"I", "The", "A", "An", "It", "That", "This", "My", "Our", "Your"}


def _sentences(message: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?;])\s+|\n+", message) if s.strip()]


def _clean(text: str) -> str:
    text = re.sub(r"^(the|a|an|any|all|some)\s+", "", text.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).strip()


class BaselineExtractor:
    name = "baseline"

    def extract(self, message: str) -> tuple[list[Statement], str]:
        statements: list[Statement] = []
        for sentence in _sentences(message):
            statements.extend(self._sentence(sentence))
        return statements, self.name

    def _sentence(self, sentence: str) -> list[Statement]:
        forget = bool(_FORGET.search(sentence))
        body = _FORGET.sub("", sentence).rstrip(".!?;:, ")
        if _HEDGES.search(body) and not forget:
            return []
        found: list[Statement] = []
        negated = bool(_NEGATION.search(body)) or bool(_PAST.search(body)) or bool(_ANYMORE.search(body))
        member = _MEMBER.search(body)
        who = f"your {member.group(1).lower()}" if member else "you"

        allergens = [name for match in _ALLERGY.finditer(body) for name in re.split(_LIST_SEPARATOR, match.group(1))]
        for allergen in allergens:
            key = _clean(allergen)
            if key:
                found.append(
                    self._make(
                        forget or negated,
                        "allergy",
                        key,
                        key,
                        f"You told us {who} {'is' if member else 'are'} allergic to {key}",
                    )
                )
        for match in _DIET.finditer(body):
            key = match.group(1).lower().replace(" ", "-")
            found.append(self._make(forget or negated, "dietary", key, key, f"You told us you are {key}"))
        for match in _DISLIKE.finditer(body):
            key = _clean(match.group(2))
            if key:
                # "I don't like X" states a dislike; only the past or "anymore" takes one back.
                took_back = bool(_PAST.search(body)) or bool(_ANYMORE.search(body))
                found.append(self._make(forget or took_back, "dislike", key, key, f"You told us you dislike {key}"))
        if not found:
            for match in _BRAND.finditer(body):
                brand = match.group(1).strip()
                if brand.split()[0] in _NOT_BRANDS:
                    continue
                found.append(self._make(forget or negated, "brand", brand, brand, f"You told us you like {brand}"))
        return found

    @staticmethod
    def _make(forget: bool, kind: PreferenceType, key: str, value: str, reason: str) -> Statement:
        if forget:
            return Statement(action="forget", preference_type=kind, preference_key=key)
        return Statement(
            action="remember",
            preference_type=kind,
            preference_key=key,
            preference_value=value,
            reason=reason,
        )
