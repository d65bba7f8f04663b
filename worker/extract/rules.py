"""The deterministic extractor: what a shopper states about allergies, diets, dislikes, likes, brands and who they
are. `RuleExtractor` is its one entry point; each kind of statement has its own reader:

    language.py, vocabulary.py   tokens, sentences, clauses; the food, allergen and diet words and canonical keys
    reading.py                   shared: whose a statement is, its cues (negation, hedge, past), its object's items
    restrictions.py              allergies, diets, medical conditions, intolerances
    tastes.py                    likes and dislikes
    brands.py                    brands the shopper buys (brand names are recognised in reading.py)
    forget.py                    requests to forget
    insights.py                  who the shopper is (InsightStatement): InsightReader, over household.py (children,
                                 household size, partner, pets) and goals.py (goals and constraints)

How a message is read (plain Python, linear in its length):
1. Sentences, then clauses (language.py): a comma, "and" before a new subject, or a clause word ("but", "so",
   "because") ends one, so a negation or a hedge governs its own clause only.
2. Each reader finds its triggers in a clause and reads their objects as noun phrases checked against the
   vocabulary, so non-food ("I hate traffic", "allergic to dogs") is refused and keys are canonical.
3. Whose and how sure (reading.py): the nearest subject before the trigger, and the cues between them.
4. What becomes of it (`_decide` below): the shopper's own statements are remembered; a household member's allergy
   is remembered as a household allergy (who is kept in `household_member`); other people's and hedged statements
   are dropped; a negated or retracted allergy or diet becomes a request to forget, which the database turns into a
   pending confirmation the shopper must accept (the extractor never removes one itself).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from worker.extract.brands import read_brands
from worker.extract.forget import is_forget_request
from worker.extract.insights import InsightReader, now_utc
from worker.extract.language import Clause, sentence_texts, sentences
from worker.extract.model import MAX_STATEMENTS, InsightStatement, Said, Statement
from worker.extract.reading import (
    COLOUR_FOODS,
    STRONG_HEDGES,
    Found,
    Told,
    cue_start,
    cues_in,
    describes_self,
    whose,
)
from worker.extract.restrictions import (
    as_pescatarian,
    read_allergies,
    read_conditions,
    read_diets,
    read_restrictions,
)
from worker.extract.tastes import read_disgust, read_exceptions, read_likes_and_dislikes
from worker.extract.vocabulary import restriction_key

MAX_MESSAGE_CHARS = 20_000  # the part of a message that is read; record_message bounds the rest


class RuleExtractor:
    name = "rules"

    def __init__(self, clock: Callable[[], datetime] = now_utc) -> None:
        self.insights = InsightReader(clock)

    def extract(self, message: str) -> tuple[list[Said], str]:
        statements: list[Statement] = []
        insights: list[InsightStatement] = []
        seen: set[tuple[str, str, str]] = set()
        told = Told()
        text = message[:MAX_MESSAGE_CHARS]
        for sentence, said in zip(sentences(text), sentence_texts(text), strict=True):
            inherited = "self"
            forget = False
            found: list[Statement] = []
            for position, clause in enumerate(sentence.clauses):
                if position == 0:
                    forget = is_forget_request(clause)
                clause.forget = forget
                found += self._clause(clause, inherited, told, said)
                inherited = clause.subject or inherited
                told.update(clause.words, clause.question)
            said_insights = self.insights.read(sentence, said)
            # "this month i'm doing keto": a goal for a while (it expires), not a restriction.
            for_now = {i.insight_key.removeprefix("diet-goal-") for i in said_insights if i.insight_type == "goal"}
            for statement in as_pescatarian(found, sentence.clauses):
                mark = (statement.action, statement.preference_type, statement.preference_key)
                if statement.preference_type == "dietary" and statement.preference_key in for_now:
                    continue
                if mark not in seen:
                    seen.add(mark)
                    statements.append(statement)
            known = {(i.insight_type, i.insight_key) for i in insights}
            insights += [i for i in said_insights if (i.insight_type, i.insight_key) not in known]
        # An allergy says more than a like or a dislike of the same thing ("I can't have dairy, I'm allergic to
        # milk"); in a message about colours, "orange" is one.
        allergies = {s.preference_key for s in statements if s.preference_type == "allergy"}
        implied = {restriction_key(key) for key in allergies}  # "i can't have dairy, i'm allergic to milk"
        colours = bool(told.colours)
        statements = [
            s
            for s in statements
            if not (s.preference_type in {"dislike", "favorite"} and s.preference_key in allergies)
            and not (s.preference_type == "dietary" and s.preference_key in implied and s.action == "remember")
            and not (colours and s.preference_key in COLOUR_FOODS)
        ]
        # Safety first when a message states more than fits: allergies and diets, then the rest.
        order: dict[str, int] = {"allergy": 0, "dietary": 1, "dislike": 2, "favorite": 3, "brand": 4}
        statements.sort(key=lambda s: order[s.preference_type])
        everything: list[Said] = [*statements, *insights]
        return everything[:MAX_STATEMENTS], self.name

    def _clause(self, clause: Clause, inherited: str, told: Told, said: str) -> list[Statement]:
        words = clause.words
        if words[:1] == ["who"] and describes_self(told.previous):
            words = ["i", *words[1:]]  # "i am just a person who is vegan": the relative pronoun is the shopper
        found = read_restrictions(
            [
                *read_allergies(words, told),
                *read_diets(words),
                *read_conditions(words),
                *read_likes_and_dislikes(words, clause.original, told),
                *read_brands(words, clause.original),
                *read_exceptions(words, told),
                *(read_disgust(words, told) if clause.alone else []),
            ],
            words,
        )
        clause.subject = told.resolve(whose(words, len(words), inherited))
        out: list[Statement] = []
        for item in found:
            who = "self" if item.own else told.resolve(whose(words, item.at, inherited))
            if clause.question and not clause.forget:
                continue
            # Negation and the past from the trigger's subject on; hedges ("maybe i'm ...") and retractions
            # ("i outgrew my egg allergy", "... anymore") anywhere in its clause.
            start = cue_start(words, item.at) if item.cues_from is None else item.cues_from
            cues = cues_in(words, start, item.at if item.cues_to is None else item.cues_to)
            cues |= cues_in(words, 0, len(words)) & {"retraction"}
            if STRONG_HEDGES & set(words):
                cues.add("hedge")
            statement = _decide(item, who, cues, clause.forget, said)
            if statement is not None:
                out.append(statement)
        return out


def _decide(item: Found, who: str, cues: set[str], forget: bool, said: str = "") -> Statement | None:
    member = who.split(":", 1)[1] if who.startswith("household:") else None
    # Other people's preferences are theirs; a household member's diet is not the shopper's, but what a member's
    # body cannot take is shopped around like an allergy ("my son is lactose intolerant"); a condition is said of
    # the shopper only ("my sister is pregnant" is hers).
    kept_for_member = item.kind == "allergy" or (item.restriction and not item.own_only)
    if who == "other" or (member is not None and not kept_for_member):
        return None
    gone = Statement(action="forget", preference_type=item.kind, preference_key=item.key, household_member=member)
    if forget:
        return gone
    if "hedge" in cues:
        return None
    negated = "negation" in cues and not item.negative_trigger
    retracted = bool({"retraction", "used_to", "former"} & cues)
    if item.kind in {"allergy", "dietary"} and not item.negative_trigger:
        # "I'm not allergic to milk", "no longer vegan": evidence against the memory, for the shopper to confirm
        # (the database makes it a pending confirmation; nothing is removed on the extractor's word).
        if negated or retracted:
            return gone
        if "past" in cues:
            return None
    elif item.negative_trigger:
        # "I don't eat meat anymore" still states a dislike (or the diet it amounts to), "I can't have gluten
        # anymore" the restriction; "I used to not like olives" takes one back.
        if "used_to" in cues:
            return gone
        if "past" in cues:
            return None
    else:
        if retracted:
            return gone  # "I used to hate avocados", "I don't hate olives anymore"
        if negated or "past" in cues:
            return None
    return Statement(
        action="remember",
        preference_type=item.kind,
        preference_key=item.key,
        preference_value=item.key,
        reason=_reason(item, member, said),
        household_member=member,
    )


def _reason(item: Found, member: str | None, said: str = "") -> str:
    if item.restriction and said:
        # A health statement is kept in the shopper's own words, the sentence they said it in (bounded).
        words = said if len(said) <= 200 else said[:199].rstrip() + "\u2026"
        return f'You told us: "{words}"'
    who, be = (f"your {member}", "is") if member else ("you", "are")
    match item.kind:
        case "allergy":
            return f"You told us {who} {be} allergic to {item.key}"
        case "dietary":
            return f"You told us you eat {item.key}"
        case "dislike":
            return f"You told us you dislike {item.key}"
        case "favorite":
            return f"You told us you like {item.key}"
        case _:
            return f"You told us you like {item.key}"
