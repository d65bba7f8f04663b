"""Who the shopper is, as they say it in chat: their household (children and their ages, household size, cooking
for one, a partner, pets that need food), their goals (meal prep, eating healthier, losing weight, more protein,
saving money, a time-bound diet such as "this month I'm doing keto") and their constraints (no oven, a small kitchen,
a budget figure). Read by the rule extractor from the same sentences and clauses as stated preferences
(language.py), returned as `InsightStatement`s with canonical keys (`INSIGHT_KEYS`).

What stores nothing: other people's facts ("my sister has two kids"), hypotheticals and wishes ("if I had a dog", "I
want a cat someday"), questions ("do you have kids?"), the past ("we used to have a dog", "I had a cat growing up").
What ends one ("forget"): the shopper says it no longer holds ("our dog died", "the kids moved out", "I don't have
kids"); the database ends the insight, deleting nothing.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from worker.client.models import InsightType
from worker.extract.language import Clause, Sentence
from worker.extract.model import InsightStatement
from worker.extract.vocabulary import DIET_PHRASES, DIETS, word_set

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
# Pets that need food from the store, by the words people use for them: the key is "pet-<animal>".
PETS = {
    "dog": "dog", "dogs": "dog", "puppy": "dog", "puppies": "dog", "pup": "dog", "pups": "dog", "doggy": "dog",
    "doggo": "dog", "pug": "dog", "poodle": "dog", "labrador": "dog", "lab": "dog", "chihuahua": "dog",
    "terrier": "dog", "husky": "dog", "retriever": "dog", "beagle": "dog", "shepherd": "dog", "corgi": "dog",
    "cat": "cat", "cats": "cat", "kitten": "cat", "kittens": "cat", "kitty": "cat", "kitties": "cat",
    "bird": "bird", "birds": "bird", "parrot": "bird", "parrots": "bird", "parakeet": "bird", "parakeets": "bird",
    "budgie": "bird", "budgies": "bird", "cockatiel": "bird", "canary": "bird",
    "fish": "fish", "goldfish": "fish", "betta": "fish", "aquarium": "fish",
    "hamster": "hamster", "hamsters": "hamster", "gerbil": "hamster", "gerbils": "hamster",
    "rabbit": "rabbit", "rabbits": "rabbit", "bunny": "rabbit", "bunnies": "rabbit",
    "guinea": "guinea-pig",
    "turtle": "turtle", "turtles": "turtle", "tortoise": "turtle",
    "snake": "snake", "snakes": "snake", "python": "snake",
    "lizard": "lizard", "lizards": "lizard", "iguana": "lizard", "gecko": "lizard", "chameleon": "lizard",
    "ferret": "ferret", "ferrets": "ferret",
    "horse": "horse", "horses": "horse", "pony": "horse", "ponies": "horse",
    "chickens": "chicken", "hens": "chicken",
    "rat": "rat", "rats": "rat", "mouse": "rat", "mice": "rat",
    "pig": "pig", "pigs": "pig", "goat": "goat", "goats": "goat",
    "iguanas": "lizard", "geckos": "lizard", "skunk": "skunk", "alpaca": "alpaca", "alpacas": "alpaca",
    "llama": "llama", "llamas": "llama", "doberman": "dog", "dachshund": "dog", "collie": "dog", "pitbull": "dog",
    "rottweiler": "dog", "bulldog": "dog", "greyhound": "dog", "mutt": "dog", "poodles": "dog", "pugs": "dog",
    "labs": "dog", "huskies": "dog", "boxers": "dog", "boxer": "dog", "malamute": "dog", "cow": "cow", "cows": "cow",
    "hedgehog": "hedgehog", "chinchilla": "chinchilla",
    "cockatoo": "bird", "koi": "fish", "frog": "frog", "frogs": "frog", "tarantula": "spider", "spider": "spider",
}  # fmt: skip
# Animals that are food too: a pet only when said as one ("my fish", "two fish", "a pet fish", "a fish tank").
FOOD_ANIMALS = word_set("fish chickens hens pig pigs goat goats")
CHILDREN = word_set(
    "kid kids child children son sons daughter daughters boy boys girl girls twins toddler toddlers baby babies "
    "stepson stepdaughter stepkids stepchildren infant newborn teenager teenagers triplets"
)
# Children words that name them only after "my" ("my boys"), not in "i have a boy" (which could be a pet's name).
PARENTS = word_set("mom mother mum dad father parent mommy daddy")
SPOUSE = word_set("wife husband spouse hubby wifey")
PARTNER = word_set("partner boyfriend girlfriend fiance fiancee")
NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "couple": 2, "both": 2, "twins": 2, "twin": 2,
}  # fmt: skip
WORDS = {n: w for w, n in NUMBERS.items() if w not in {"a", "an", "couple", "both", "twins", "twin"}}
FIRST_PERSON = word_set("i we me us my our myself ourselves")
OTHERS = word_set(
    "he she they you his her their your someone somebody people everyone friend friends sister brother mom mother "
    "dad father parents neighbor neighbour cousin aunt uncle boss coworker grandma grandpa grandmother grandfather"
)
# Words that make a statement a wish, a plan or a supposition: nothing stored.
HYPOTHETICAL = word_set(
    "if would wish wishes wished want wants wanted hope hoping someday maybe might plan planning planned thinking "
    "considering consider could should dream dreaming whether getting adopt adopting wonder imagine going gonna"
)
PAST = word_set("used had was were grew growing childhood younger")
# The past that says a possession is over ("when i was a kid my dog ..."); "i just had my first child" is not.
LONG_AGO = word_set("used grew growing childhood younger")
ENDED = word_set("died dead passed lost")
# Goals are said with words that would be hedges elsewhere: "i'm trying to lose weight" is the goal itself.
GOAL_HEDGES = word_set("if would wish maybe might should could someday whether wonder imagine")
SUBJECT_END = word_set("who that which")
TIMES = word_set("month week year morning evening weekend time summer winter spring fall")

_MONEY = re.compile(
    r"(?:\$\s?(\d{1,5}(?:\.\d{1,2})?)|(\d{1,5}(?:\.\d{1,2})?)\s?(?:dollars|bucks|usd|euros))"
    r"(?:\s*(?:a|an|per|each|every|/)\s*(week|wk|month|mo|day|fortnight)|\s+(weekly|monthly))?",
    re.IGNORECASE,
)
_PERIODS = {"week": "week", "wk": "week", "weekly": "week", "month": "month", "mo": "month", "monthly": "month",
            "day": "day", "fortnight": "two weeks"}  # fmt: skip


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
            own = _own(clause.words, inherited)
            if not clause.question and not clause.forget:
                for statement in self._clause(clause, said, own, inherited):
                    found.setdefault((statement.insight_type, statement.insight_key), statement)
            inherited = own if _names_subject(clause.words) else inherited
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
        out += _pets(words, inherited)
        out += _children(words, inherited)
        out += _partner(words, own)
        if not supposed:
            out += _household(words, own)
        if own and not GOAL_HEDGES & set(words) and FIRST_PERSON & set(words) and (not supposed or _goal_marker(words)):
            out += _goals(words, said, self.clock)
            out += _constraints(words, said)
        return out


def _remember(kind: InsightType, key: str, value: str, **extra: object) -> InsightStatement:
    details = extra.get("details")
    return InsightStatement(
        action="remember",
        insight_type=kind,
        insight_key=key,
        insight_value=value,
        details=details if isinstance(details, dict) and details else None,
        expires_at=extra.get("expires_at"),  # type: ignore[arg-type]
    )


def _forget(kind: InsightType, key: str) -> InsightStatement:
    return InsightStatement(action="forget", insight_type=kind, insight_key=key)


def _names_subject(words: list[str]) -> bool:
    return bool((FIRST_PERSON | OTHERS | {"it", "this", "that", "there"}) & set(words[:3]))


def _own_at(words: list[str], index: int, inherited: bool) -> bool:
    """Whether what is said at `index` is the shopper's: the nearest subject before it is "i" / "we" (or "my X", X
    not another person), or there is none and the clause before was the shopper's ("do you like dogs ? i have
    three dogs": the "i")."""
    for back in range(index - 1, -1, -1):
        word = words[back]
        if word in {"i", "we", "me", "us"}:
            return True
        if word in {"my", "our"} and not (words[back + 1 : back + 2] and words[back + 1] in OTHERS):
            return True
        if word in OTHERS or word == "who":
            return False
    return inherited


def _supposed_at(words: list[str], index: int) -> bool:
    """A wish, a plan or a supposition before `index` in its clause: "i want a cat", "if i had kids"."""
    return bool(HYPOTHETICAL & set(words[:index]))


def _negated_at(words: list[str], index: int) -> bool:
    """ "no dogs", "i don't have a cat", "never had kids"; not across a "but" ("i don't have kids, but 3 horses")."""
    window = words[max(0, index - 6) : index]
    if "but" in window:
        window = window[len(window) - window[::-1].index("but") :]
    return window[-1:] == ["no"] or bool({"not", "never"} & set(window))


def _own(words: list[str], inherited: bool) -> bool:
    """Whether the clause is the shopper's: its first subject is "i" / "we" (or "my X", X not another person), or
    it names none and the clause before was the shopper's."""
    for index, word in enumerate(words):
        if word in {"i", "we", "me", "us"}:
            return True
        if word in {"my", "our"}:
            following = words[index + 1 : index + 2]
            return not (following and following[0] in OTHERS)
        if word in {"this", "that", "next", "last"} and words[index + 1 : index + 2] and words[index + 1] in TIMES:
            continue  # "this month i'm doing keto"
        if word in OTHERS or word == "who":
            return False
    return inherited


def _goal_marker(words: list[str]) -> bool:
    """ "trying to", "want to", "my goal is", "working on": how a goal is said."""
    text = " ".join(words)
    return any(m in text for m in ("trying to", "try to", "want to", "wanna", "goal", "working on", "need to",
                                   "hoping to", "plan to", "planning to", "aim to"))  # fmt: skip


HAVING_VERBS = word_set("have has own owns got adopted rescued having raise raises raising")
# Nouns after an animal that make it a modifier: "horse riding", "bird calls", "cat eye glasses", "a pig farm".
COMPOUND_HEADS = word_set(
    "riding ride rides lover lovers person people eye eyes food foods treat treats shelter shelters ranch farm farms "
    "show shows hair toy toys sitter sitting walker walking park breeder trainer groomer video videos costume print "
    "calls call biscuit biscuits mouse house houses bed beds hospital rescue owner owners whisperer lady"
)


def _possessed(words: list[str], index: int) -> bool:
    """ "my dog", "our two cats", "my old dog", "my beta fish": a first-person possessive right before the noun, at
    most two words (a number, an adjective) between; not "my theory that dogs"."""
    for back in range(index - 1, max(-1, index - 6), -1):
        if words[back] in {"my", "our"}:
            return True  # "my dog", "my two dogs and four cats", "my small black and white cat"
        if words[back] in {"that", "which", "who", "the", "of", "for", "to", "is", "are", "with", "a", "an", "i"} or (
            words[back] in OTHERS | SPOUSE | PARTNER | {"like", "likes", "love", "loves"}
        ):
            return False  # "my girlfriend likes cats": hers
    return False


STOPS = word_set("i we you he she they my our is are was were love loves like likes want wants but")


def _has(words: list[str], index: int) -> bool:
    """Whether a having verb governs the noun at `index` ("i have a dog and two cats", "we own a black and white
    cat"): the nearest verb back within the list the noun is in."""
    for back in range(index - 1, max(-1, index - 13), -1):
        if words[back] in HAVING_VERBS:
            return True
        if words[back] in STOPS:
            return False
    return False


def _cue(words: list[str], stop: int, cues: frozenset[str]) -> bool:
    return bool(cues & set(words[max(0, stop - 6) : stop]))


def _count_before(words: list[str], index: int) -> int | None:
    """The number said right before a noun ("two dogs", "3 kids", "a son", "a 10 year old son"), skipping an
    adjective or two and an age."""
    if words[index - 1 : index] == ["old"] and index >= 3 and words[index - 2] in {"year", "years", "yr", "month"}:
        index -= 3  # "a 10 year old son": the count is the "a"
    if words[index - 1 : index] and words[index - 1] in {"was", "am", "is", "are", "were", "be", "being"}:
        return None
    for back in range(index - 1, max(-1, index - 4), -1):
        word = words[back]
        if word in {"was", "am", "is", "are", "were", "be", "being", "as"}:
            return None  # "when i was a kid", "as a kid": who the shopper was, not a child they have
        if word in NUMBERS:
            if word in {"a", "an"} and back and words[back - 1] in {"was", "am", "is", "are", "were", "be", "as"}:
                return None
            return NUMBERS[word]
        if word.isdigit() and 0 < int(word) < 20:
            return int(word)
        if word in {"my", "our", "have", "has", "got", "own", "with", "of", "and"}:
            return None
    return None


def _ended_after(words: list[str], index: int) -> bool:
    """ "my dog died", "our cat passed away", "the kids moved out", "my wife left me"."""
    rest = words[index + 1 : index + 6]
    pairs = set(itertools.pairwise(rest))
    return bool(
        ENDED & set(rest)
        or {("moved", "out"), ("ran", "away"), ("put", "down"), ("left", "home"), ("left", "me"), ("left", "us")}
        & pairs
        or {("moved", "away"), ("left", "for"), ("put", "to")} & pairs
    )


def _pets(words: list[str], inherited: bool) -> list[InsightStatement]:
    """ "i have a dog", "we have two cats", "my dog", "i live alone with my cat", "i own 2 dogs", "a dog mom";
    "our dog died" ends it; "we used to have a dog", "i want a cat", "my friend's dog" store nothing."""
    out: list[InsightStatement] = []
    for index, word in enumerate(words):
        animal = PETS.get(word)
        if animal is None or (word == "guinea" and words[index + 1 : index + 2] != ["pig"]):
            continue
        before = words[max(0, index - 4) : index]
        if words[index - 1 : index] == ["hot"] or words[index + 1 : index + 2] in (["food"], ["foods"], ["treats"]):
            continue  # "hot dog"; "cat food" is said of the food
        if {"favorite", "favourite", "dream", "future", "next"} & set(before) or (
            words[index + 1 : index + 2] and (words[index + 1] in COMPOUND_HEADS)
        ):
            continue  # "my favorite pony", "horse riding", "cat eye glasses", "my pig farm"
        if before[-2:] == ["my", "little"] and word == "pony":
            continue  # My Little Pony
        if before[-1:] and before[-1] in {"named", "name", "called", "call"}:
            continue  # "a cat named cow": its name
        possessed = _possessed(words, index)
        own = _own_at(words, index, inherited)
        # "i have a dog", "i am a crazy cat lady with 4 cats", "3 cats that i own", "i need to walk the dog"
        kept = (
            _has(words, index)
            or ("with" in before and _count_before(words, index) not in {None, 1})
            or bool(
                _count_before(words, index) not in {None, 1}
                and re.match(r"(that|which)? ?(i|we) (have|own|keep)\b", " ".join(words[index + 1 : index + 5]))
            )
            or (before[-1:] == ["the"] and before[-2:-1] and before[-2] in {"walk", "feed", "walking", "feeding"})
        )
        had = own and not _supposed_at(words, index) and kept and words[index - 2 : index] != ["got", "to"]
        as_pet = (
            word not in FOOD_ANIMALS
            or words[index - 1 : index] in (["my"], ["our"])
            or bool({"pet", "beta", "betta", "gold", "tropical", "exotic"} & set(before[-2:]))
            or words[index + 1 : index + 2] in (["tank"], ["tanks"])
            or _count_before(words, index) not in {None, 1}
        )
        if not (possessed or had) or not as_pet:
            continue
        if possessed and not own and not ({"my", "our"} & set(before[-2:])):
            continue
        if {"ex", "friend", "friends", "sister", "brother", "neighbor", "mom", "dad", "parents"} & set(before[-3:]):
            continue  # "my friend's dog", "my mom's cat": theirs
        key = f"pet-{animal}"
        if _ended_after(words, index) or ({"lost"} & set(before)):
            out.append(_forget("context", key))
            continue
        if _cue(words, index, PAST if had and not possessed else LONG_AGO) or (
            _negated_at(words, index) and not possessed
        ):
            continue  # "we used to have a dog", "i don't have a cat" (nothing is said to have ended)
        count = _count_before(words, index)
        label = animal.replace("-", " ")
        if count and count > 1:
            value = f"Has {WORDS.get(count, str(count))} {label}s" if label != "fish" else f"Has {count} fish"
        else:
            value = f"Has a {label}"
        out.append(_remember("context", key, value, details={"count": count} if count else None))
    return out


def _children(words: list[str], inherited: bool) -> list[InsightStatement]:
    """ "i have two kids, 4 and 7", "my son", "a mom of three", "i am a stay at home dad"; "i don't have kids" and
    "the kids moved out" end it; "my sister has kids", "i want kids someday" store nothing."""
    text = " ".join(words)
    for index, word in enumerate(words):
        before = words[max(0, index - 4) : index]
        own = _own_at(words, index, inherited)
        supposed = _supposed_at(words, index)
        if word in CHILDREN and not own and not {"my", "our"} & set(before[-3:]):
            continue  # in another's clause only "my son" is the shopper's ("would you take photos of my son")
        if word in CHILDREN:
            if word in {"boy", "boys", "girl", "girls", "baby", "babies"} and not (
                {"my", "our"} & set(before[-2:]) or (word.endswith("s") and before[-1:] and before[-1] in NUMBERS)
            ):
                continue  # "i have a baby face", "a boy named sue": only "my boys", "our baby", "twin boys"
            if words[index + 1 : index + 2] in (["toys"], ["toy"], ["menu"], ["meals"], ["meal"], ["shows"], ["show"]):
                continue  # "kids toys", "a kids menu": not children of the shopper's
            wide = words[max(0, index - 6) : index]
            number = _count_before(words, index)
            counted = (number is not None and number > 1) or any(
                w.isdigit() or w in WORDS.values() for w in before[-2:]
            )
            pets_named = any(w in PETS for w in words[:index])
            if (
                words[index - 2 : index] in (["like", "my"], ["basically", "my"], ["than", "my"], ["all", "my"])
                or (pets_named and words[index - 2 : index] in (["is", "my"], ["are", "my"]))
                or (before[-1:] and before[-1] in PETS)
            ):
                continue  # "my dog is my kid", "like my son", "my fish babies": a manner of speaking
            # "i have no kids", "no kids here", "i do not have any children", "never had kids"
            negated = before[-1:] == ["no"] or (
                {"have", "had"} & set(before) and _negated_at(words, index) and not {"my", "our"} & set(before)
            )
            # "i am married with two kids", "now with a 4 year old son"
            with_ = "with" in wide and bool({"am", "married", "divorced", "single", "now", "mom", "dad"} & set(wide))
            had = not supposed and (_has(words, index) or bool({"raising", "raise"} & set(wide)) or with_)
            possessed = bool({"my", "our"} & set(before[-3:]))
            if {"grand", "grandkids", "grandchildren"} & set(before):
                continue
            if words[index - 1 : index] == ["the"] and not had:
                if _ended_after(words, index):
                    return [_forget("context", "children")]  # "the kids moved out"
                continue
            if negated and not supposed:
                return [_forget("context", "children")]  # "i don't have kids", "no kids yet"
            if negated:
                continue
            if {"no", "without"} & set(before) or (_negated_at(words, index) and not possessed):
                continue
            counted = counted and not supposed and own and not {"the", "those", "these", "other"} & set(before)
            if not (had or possessed or counted):
                continue  # "three beautiful children", "one son": counted, said of the shopper's own
            if _cue(words, index, PAST if had and not possessed else LONG_AGO):
                continue
            if _ended_after(words, index):
                return [_forget("context", "children")]
            return [_children_statement(words, index)]
        if (
            word in PARENTS
            and own
            and (
                words[index + 1 : index + 2] == ["of"]
                or (
                    before[-1:] in (["a"], ["single"], ["home"], ["working"], ["full"], ["time"])
                    and (bool({"am", "being"} & set(before)))
                )
            )
        ):
            if not {"i", "we", "being"} & set(words[:index]):
                continue  # said of the shopper only: "i am a mom of three", "being a full time mother"
            if "single" in before and words[index + 1 : index + 2] != ["of"] and "my" in before:
                continue
            count = None
            if words[index + 1 : index + 2] == ["of"] and index + 2 < len(words):
                count = _count_before(words, index + 3)
                follow = words[index + 2]
                count = count or NUMBERS.get(follow) or (int(follow) if follow.isdigit() else None)
            ages = _ages(words)
            return [_child_value(count, ages)]
    aged = "old" in words and re.search(
        r" (my|our) (\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve) "
        r"(year|yr|month) old ",
        f" {text} ",
    )
    if aged and not _cue(words, len(words), PAST):
        return [_child_value(None, _ages(words))]  # "my 5 year old loves apples"
    if "childless" in text.split():
        return [_forget("context", "children")]
    return []


def _children_statement(words: list[str], index: int) -> InsightStatement:
    count = 0
    for at, word in enumerate(words):
        if word in CHILDREN:
            said = _count_before(words, at)
            if said is None and word in {"twins"}:
                said = 2
            count += said or 0
    return _child_value(count or None, _ages(words))


def _child_value(count: int | None, ages: list[int]) -> InsightStatement:
    if count:
        value = "One child" if count == 1 else f"{WORDS.get(count, str(count)).capitalize()} children"
    else:
        value = "Has children"
    if ages and not count:
        count = len(ages)  # "my kids are 4 and 7"
        value = f"{WORDS.get(count, str(count)).capitalize()} children"
    if ages and (not count or len(ages) == count):
        value += (
            ", age " + str(ages[0])
            if len(ages) == 1
            else ", ages " + ", ".join(map(str, ages[:-1])) + f" and {ages[-1]}"
        )
    details: dict[str, object] = {}
    if count:
        details["count"] = count
    if ages and (not count or len(ages) == count):
        details["ages"] = ages
    return _remember("context", "children", value, details=details)


def _ages(words: list[str]) -> list[int]:
    """Ages said with the children: "ages 4 and 7", "a 5 year old", "who are 4 and 7", "4 and 7 years old"."""
    ages: list[int] = []
    for index, word in enumerate(words):
        number = (
            int(word) if word.isdigit() else NUMBERS.get(word) if word not in {"a", "an", "couple", "both"} else None
        )
        if number is None or not 0 < number < 30:
            continue
        after = words[index + 1 : index + 3]
        lead = words[max(0, index - 3) : index]
        if after[:1] in (["year"], ["years"], ["yr"], ["yrs"], ["yo"], ["month"], ["months"]) or (
            {"ages", "aged", "age"} & set(lead) or (lead[-1:] == ["and"] and ages) or lead[-2:] in (["are", "are"],)
        ):
            if after[:1] in (["month"], ["months"]):
                number = 0
            ages.append(number)
        elif lead[-1:] == ["are"] and words[index + 1 : index + 2] == ["and"]:
            ages.append(number)  # "my kids are 4 and 7"
    return ages[:10]


def _household(words: list[str], own: bool) -> list[InsightStatement]:
    """Household size ("a family of four", "there are 4 of us", "i live alone"), cooking for one, a spouse or a
    partner ("i am married", "my wife", "i live with my boyfriend"; "divorced" and "my wife left me" end it)."""
    out: list[InsightStatement] = []
    if not (HOUSEHOLD_WORDS | {"of"}) & set(words):
        return out
    text = f" {' '.join(words)} "
    unsure = re.search(r" (not|never|used to|was|were|anymore) ", text)
    for index, word in enumerate(words):
        if word == "of" and index >= 1 and index + 1 < len(words):
            size = _number(words[index + 1]) if word == "of" and words[index - 1] in {"family", "household"} else None
            if words[index + 1] == "us" and {"there", "we"} & set(words[:index]):
                size = _number(words[index - 1])  # "there are 5 of us": the shopper among them
            elif not own:
                size = None
            if size and 1 < size < 20 and not unsure:
                out.append(_size(size))
    if not own or unsure or not HOUSEHOLD_WORDS & set(words):
        return out
    if re.search(r" (live|living|lives) (alone|by myself|on my own) ", text):
        out.append(_remember("context", "household-size", "Lives alone", details={"size": 1}))
    if re.search(r" (cook|cooking|cooks|shop|shopping|buy|buying) (just )?for (one|myself|just me|me) ", text):
        out.append(_remember("context", "cooking-for-one", "Cooks for one"))
    sized = re.search(r" (cook|cooking|shop|shopping) for (two|three|four|five|six|seven|eight) ", text)
    if sized:
        out.append(_size(NUMBERS[sized.group(2)]))
    return out


def _number(word: str) -> int | None:
    if word in {"a", "an", "couple", "both", "twins"}:
        return None
    return NUMBERS.get(word) or (int(word) if word.isdigit() else None)


def _size(size: int) -> InsightStatement:
    return _remember(
        "context", "household-size", f"A household of {WORDS.get(size, str(size))}", details={"size": size}
    )


def _partner(words: list[str], own: bool) -> list[InsightStatement]:
    if not own:
        return []
    for index, word in enumerate(words):
        before = words[max(0, index - 4) : index]
        after = words[index + 1 : index + 4]
        if word == "married" and not (
            after[:1] == ["to"]
            and (
                after[1:2] in (["it"], ["work"], ["this"], ["that"])
                or (after[1:2] == ["my"] and after[2:3] in (["job"], ["work"], ["career"], ["books"]))
            )
        ):
            # "i am married", "i married my friend from high school", "being married", "happily married"
            if {"not", "never", "un", "get", "getting", "parents"} & set(before) or _supposed_at(words, index):
                continue
            if "used" in before or not _own_at(words, index, own):
                continue
            return [_remember("context", "partner", "Married")]
        if word in {"divorced", "widowed", "widow", "widower", "separated"} and {"i", "am", "got", "recently"} & set(
            before
        ):
            if {"not", "never", "parents"} & set(before):
                continue
            return [_forget("context", "partner")]
        if (
            word in SPOUSE
            and ({"my", "our"} & set(before[-2:]))
            and not {"ex", "future", "former", "late"} & set(before)
        ):
            if _ended_after(words, index):
                return [_forget("context", "partner")]
            if _cue(words, index, PAST):
                continue
            return [_remember("context", "partner", "Married")]
        if word in PARTNER and before[-2:-1] == ["with"] and before[-1:] == ["my"] and "live" in " ".join(before):
            return [_remember("context", "partner", "Lives with a partner")]
    return []


# Words without which a clause states no goal, constraint or household figure: most clauses are passed over
# before any regular expression runs.
GOAL_WORDS = word_set(
    "prep prepping preps mealprep batch healthier healthy better clean cleaner eating weight lose losing drop dropping "
    "calories protein save saving saves budget spend spending costs bills month week weeks months days day"
)
CONSTRAINT_WORDS = word_set("oven stove kitchen kitchenette budget spend spending afford")
HOUSEHOLD_WORDS = word_set("alone cook cooking cooks shop shopping buy buying")


def _goals(words: list[str], said: str, clock: Callable[[], datetime]) -> list[InsightStatement]:
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
        out.append(_remember("goal", "meal-prep", value))
    if re.search(
        r" (eat|eating|eats) (more )?(healthier|healthy|better|clean|cleaner) | (healthier|healthy) eating |"
        r" (get|getting) healthier ",
        text,
    ):
        out.append(_remember("goal", "eat-healthier", "Wants to eat healthier"))
    pounds = re.search(r" (lose|losing|drop|dropping) (\d{1,3}) (pounds|lbs|lb|kilos|kg|kilograms) ", text)
    if pounds or re.search(
        r" (lose|losing|drop|dropping) (some |a little |a bit of |the )?weight | weight loss |"
        r" (counting|cutting) calories ",
        text,
    ):
        details = {"amount": int(pounds.group(2)), "unit": pounds.group(3)} if pounds else None
        value = f"Wants to lose {pounds.group(2)} {pounds.group(3)}" if pounds else "Wants to lose weight"
        out.append(_remember("goal", "lose-weight", value, details=details))
    if re.search(r" (more|high|higher|enough|extra) protein | protein (intake|goal|goals) ", text):
        out.append(_remember("goal", "more-protein", "Wants more protein"))
    if re.search(
        r" (save|saving|saves) (some )?money | on a (tight |strict |limited |small )?budget |"
        r" (cut|cutting) (back|down) on (my |our )?(grocery |food )?(spending|costs|bills?) |"
        r" spend less ",
        text,
    ) and not _MONEY.search(said):
        out.append(_remember("goal", "save-money", "Wants to save money"))
    until = _time_bound(words, clock)
    if until is not None:
        for diet in _diets_named(words):
            out.append(
                _remember("goal", f"diet-goal-{diet}", f"Eating {diet} until {until:%B} {until.day}", expires_at=until)
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


def _constraints(words: list[str], said: str) -> list[InsightStatement]:
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
        out.append(_remember("constraint", "no-oven", "No oven"))
    if re.search(
        r" (small|tiny|little|cramped|galley) kitchen | kitchen is (so |really |very |pretty )?(small|tiny) |"
        r" kitchenette ",
        text,
    ):
        out.append(_remember("constraint", "small-kitchen", "A small kitchen"))
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
        out.append(_remember("constraint", "budget", value, details=details))
    return out
