"""The household: children and their ages, household size, cooking for one, a partner, pets that need food.

Stores nothing for other people's facts ("my sister has two kids"), wishes ("i want a cat someday"), or the past
("we used to have a dog"); ends one (a "forget") when the shopper says it no longer holds ("our dog died", "the
kids moved out", "i don't have kids"). Whose a fact is: reading.own_at and its neighbours.
"""

from __future__ import annotations

import itertools
import re

from worker.extract.model import InsightStatement
from worker.extract.reading import (
    NUMBERS,
    OTHERS,
    forget_insight,
    has_cue,
    negated_at,
    own_at,
    remember_insight,
    supposed_at,
)
from worker.extract.vocabulary import word_set

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


WORDS = {n: w for w, n in NUMBERS.items() if w not in {"a", "an", "couple", "both", "twins", "twin"}}


PAST = word_set("used had was were grew growing childhood younger")


# The past that says a possession is over ("when i was a kid my dog ..."); "i just had my first child" is not.
LONG_AGO = word_set("used grew growing childhood younger")


ENDED = word_set("died dead passed lost")


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


def read_pets(words: list[str], inherited: bool) -> list[InsightStatement]:
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
        own = own_at(words, index, inherited)
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
        had = own and not supposed_at(words, index) and kept and words[index - 2 : index] != ["got", "to"]
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
            out.append(forget_insight("context", key))
            continue
        if has_cue(words, index, PAST if had and not possessed else LONG_AGO) or (
            negated_at(words, index) and not possessed
        ):
            continue  # "we used to have a dog", "i don't have a cat" (nothing is said to have ended)
        count = _count_before(words, index)
        label = animal.replace("-", " ")
        if count and count > 1:
            value = f"Has {WORDS.get(count, str(count))} {label}s" if label != "fish" else f"Has {count} fish"
        else:
            value = f"Has a {label}"
        out.append(remember_insight("context", key, value, details={"count": count} if count else None))
    return out


def read_children(words: list[str], inherited: bool) -> list[InsightStatement]:
    """ "i have two kids, 4 and 7", "my son", "a mom of three", "i am a stay at home dad"; "i don't have kids" and
    "the kids moved out" end it; "my sister has kids", "i want kids someday" store nothing."""
    text = " ".join(words)
    for index, word in enumerate(words):
        before = words[max(0, index - 4) : index]
        own = own_at(words, index, inherited)
        supposed = supposed_at(words, index)
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
                {"have", "had"} & set(before) and negated_at(words, index) and not {"my", "our"} & set(before)
            )
            # "i am married with two kids", "now with a 4 year old son"
            with_ = "with" in wide and bool({"am", "married", "divorced", "single", "now", "mom", "dad"} & set(wide))
            had = not supposed and (_has(words, index) or bool({"raising", "raise"} & set(wide)) or with_)
            possessed = bool({"my", "our"} & set(before[-3:]))
            if {"grand", "grandkids", "grandchildren"} & set(before):
                continue
            if words[index - 1 : index] == ["the"] and not had:
                if _ended_after(words, index):
                    return [forget_insight("context", "children")]  # "the kids moved out"
                continue
            if negated and not supposed:
                return [forget_insight("context", "children")]  # "i don't have kids", "no kids yet"
            if negated:
                continue
            if {"no", "without"} & set(before) or (negated_at(words, index) and not possessed):
                continue
            counted = counted and not supposed and own and not {"the", "those", "these", "other"} & set(before)
            if not (had or possessed or counted):
                continue  # "three beautiful children", "one son": counted, said of the shopper's own
            if has_cue(words, index, PAST if had and not possessed else LONG_AGO):
                continue
            if _ended_after(words, index):
                return [forget_insight("context", "children")]
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
    if aged and not has_cue(words, len(words), PAST):
        return [_child_value(None, _ages(words))]  # "my 5 year old loves apples"
    if "childless" in text.split():
        return [forget_insight("context", "children")]
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
    return remember_insight("context", "children", value, details=details)


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


def read_household_size(words: list[str], own: bool) -> list[InsightStatement]:
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
        out.append(remember_insight("context", "household-size", "Lives alone", details={"size": 1}))
    if re.search(r" (cook|cooking|cooks|shop|shopping|buy|buying) (just )?for (one|myself|just me|me) ", text):
        out.append(remember_insight("context", "cooking-for-one", "Cooks for one"))
    sized = re.search(r" (cook|cooking|shop|shopping) for (two|three|four|five|six|seven|eight) ", text)
    if sized:
        out.append(_size(NUMBERS[sized.group(2)]))
    return out


def _number(word: str) -> int | None:
    if word in {"a", "an", "couple", "both", "twins"}:
        return None
    return NUMBERS.get(word) or (int(word) if word.isdigit() else None)


def _size(size: int) -> InsightStatement:
    return remember_insight(
        "context", "household-size", f"A household of {WORDS.get(size, str(size))}", details={"size": size}
    )


def read_partner(words: list[str], own: bool) -> list[InsightStatement]:
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
            if {"not", "never", "un", "get", "getting", "parents"} & set(before) or supposed_at(words, index):
                continue
            if "used" in before or not own_at(words, index, own):
                continue
            return [remember_insight("context", "partner", "Married")]
        if word in {"divorced", "widowed", "widow", "widower", "separated"} and {"i", "am", "got", "recently"} & set(
            before
        ):
            if {"not", "never", "parents"} & set(before):
                continue
            return [forget_insight("context", "partner")]
        if (
            word in SPOUSE
            and ({"my", "our"} & set(before[-2:]))
            and not {"ex", "future", "former", "late"} & set(before)
        ):
            if _ended_after(words, index):
                return [forget_insight("context", "partner")]
            if has_cue(words, index, PAST):
                continue
            return [remember_insight("context", "partner", "Married")]
        if word in PARTNER and before[-2:-1] == ["with"] and before[-1:] == ["my"] and "live" in " ".join(before):
            return [remember_insight("context", "partner", "Lives with a partner")]
    return []


HOUSEHOLD_WORDS = word_set("alone cook cooking cooks shop shopping buy buying")
