"""Likes and dislikes: what the shopper enjoys or will not buy, by taste.

Triggers for a dislike: "hate / can't stand / don't eat / gave up / not a fan of X", "X is gross / not my thing",
"X makes me sick", "anything but X", and a word of disgust after a food; for a like: "love / like / enjoy / my
favourite is X". X is read as a list of noun phrases checked against the food vocabulary, so non-food ("I hate
traffic") is refused; a pronoun stands for the food named just before. A dislike said by the body or by exclusion
("can't have", "don't eat") is marked (`Found.effect`) for restrictions.py to read as the diet it may amount to.
"""

from __future__ import annotations

from worker.client.models import PreferenceType
from worker.extract.reading import (
    FAVOURITE,
    FOOD_OR_ALLERGEN,
    OBJECT_LEAD,
    PRONOUNS,
    Found,
    Told,
    cues_in,
    items_before,
    named_foods,
    phrase_items,
    whose,
)
from worker.extract.vocabulary import match_at, word_set

# Symptoms of disgust as much as of the body ("olives make me sick"); the others are the body's ("bloated").
QUEASY = word_set("sick ill nauseous nauseated queasy gag puke vomit")

DISLIKE_VERBS = word_set(
    "hate hates dislike dislikes detest detests loathe loathes despise despises abhor abhors hating avoid avoids "
    "avoiding"
)

NEGATED_DISLIKE = word_set(
    "like likes eat eats drink drinks enjoy enjoys want care touch stand bear stomach have do tolerate handle digest "
    "love liked eaten drank fancy dig"
)

LIKE_VERBS = word_set("love loves like likes adore adores enjoy enjoys prefer prefers crave craves craving loving dig")

GROSS = word_set("gross disgusting nasty awful terrible vile revolting horrible yuck yucky inedible overrated")

# Said on their own right after a food is named, they judge it ("they gave me a salad! yuck."). Not "ugh", which is
# as often about being full or busy.
DISGUST = word_set("yuck yuk yucky ew eww ewww gross blech bleh")

# "X makes me sick", "X gives me heartburn", "X upsets my stomach": a reason not to buy it (never an allergy: only
# the shopper's own word "allergic" makes one).
CAUSE_VERBS = word_set("make makes give gives upset upsets")

SYMPTOMS = word_set(
    "sick ill nauseous nauseated queasy gag puke vomit heartburn indigestion stomachache bellyache stomach tummy "
    "belly gut headache headaches migraine migraines bloated gassy cramps"
)

# Verbs of giving a food up: "i gave up soda", "i quit sugar", "i cut out bread", "i stopped eating meat".
GIVE_UP = {"gave": "up", "given": "up", "cut": "out", "quit": "", "stopped": ""}

# "anything / everything but X", "all fruit except bananas": what the shopper excludes.
EXCEPT = word_set("except but excluding")

EVERYTHING = word_set("anything everything all whatever")

TRAILING = word_set("lol haha though tho too honestly really to me imo anyway anyways ugh yuck ew eww yum")

TASTING_VERBS = word_set("eat eats drink drinks cook cooks have")

FONDNESS = {("fan", "of"), ("fond", "of"), ("crazy", "about"), ("keen", "on")}

# "i'm not a coffee person", "i'm not much of a beer drinker", "a big meat eater": who one is by what one takes.
TAKER = word_set("person drinker eater lover fan")

FOOD_KINDS = word_set(
    "food foods drink drinks snack snacks fruit fruits vegetable vegetables veggie veggies meal meals dish dishes "
    "dessert desserts candy beverage treat treats cereal cheese meat soup sandwich pizza topping toppings breakfast "
    "lunch dinner flavor flavour cuisine thing kind type juice beer wine tea coffee cookie cookies ice cream chips "
    "brand sauce"
)

NO_OBJECT = word_set("it that this them when how you him her me being doing going to")

CONSUME = word_set("eat drink snack have")

EATING = word_set("eating drinking having snacking munching sipping trying tasting chewing")


def read_likes_and_dislikes(words: list[str], written: list[str], told: Told) -> list[Found]:
    found: list[Found] = []
    for index, word in enumerate(words):
        before = words[index - 1] if index else ""
        kind: PreferenceType | None = None
        negative = False
        effect: str | None = None
        start = index + 1
        if word in DISLIKE_VERBS:
            kind = "dislike"
            effect = "exclusion" if word.startswith("avoid") else None
        elif (
            word == "no"
            and (items_stop := phrase_items(words, index + 1, len(words), written))[0]
            and words[items_stop[1] : items_stop[1] + 2] in (["for", "me"], ["for", "us"])
        ):
            # "no animal products for me", "no mushrooms for us please"
            found += [
                Found("dislike", key, index, True, own=True, effect="exclusion")
                for kind_, key, _ in items_stop[0]
                if kind_ in FOOD_OR_ALLERGEN
            ]
            continue
        elif word in NEGATED_DISLIKE and (
            before in {"not", "never"}
            or (
                index >= 2
                and words[index - 2] in {"not", "never"}
                and before in {"really", "even", "particularly", "usually", "ever", "much", "like"}
            )
        ):
            if word in {"stand", "bear", "stomach", "tolerate", "handle", "digest"} and "can" not in words[:index]:
                continue
            if word == "have" and "can" not in words[max(0, index - 4) : index]:
                continue
            kind, negative = "dislike", True
            able = "can" in words[max(0, index - 4) : index]
            if word in {"stomach", "tolerate", "handle", "digest"} or (word in CONSUME | {"eats", "drinks"} and able):
                effect = "inability"  # "i can't have lactose", "my stomach can't handle gluten"
            elif word in {"eat", "eats", "drink", "drinks", "touch"}:
                effect = "exclusion"  # "i don't eat meat", "i never touch dairy"
            if word == "care" and index + 1 < len(words) and words[index + 1] == "for":
                start = index + 2
        elif (word, words[index + 1] if index + 1 < len(words) else "") in FONDNESS:
            # "not a fan of", "not fond of", "not crazy about", "not keen on"; without the "not", a like.
            window = words[max(0, index - 4) : index]
            kind = "dislike" if {"not", "no", "never"} & set(window) else "favorite"
            negative = kind == "dislike"
            start = index + 2
        elif word in {"big", "into"} and words[index : index + 2] != ["big", "into"] and before in {"not", "really"}:
            if "not" not in words[max(0, index - 3) : index] or (
                word == "big" and words[index + 1 : index + 2] != ["on"]
            ):
                continue
            kind, negative, start = "dislike", True, index + 1 + (word == "big")  # "not big on", "not really into"
        elif word in TAKER and words[index + 1 : index + 2] != ["of"]:
            # "i'm not a coffee person", "not much of a beer drinker", "a big meat eater"
            takes, begin = items_before(words, index)
            negated = bool({"not", "no", "never"} & set(words[max(0, begin - 5) : begin]))
            found += [
                Found("dislike" if negated else "favorite", key, begin, negative_trigger=negated)
                for kind_, key, _ in takes
                if kind_ == "food"
            ]
            continue
        elif word == "not" and words[index + 1 : index + 3] in (["my", "thing"], ["for", "me"], ["for", "us"]):
            # "coffee is not my thing", "seafood isn't for me", "it's not for me" (the food named just before)
            if index < 1 or words[index - 1] not in {"is", "are"} or not _ends_judgement(words, index + 3):
                continue
            copula = _copula_start(words, index)
            judged = _said_of(words, copula, told, {"food"})
            found += [Found("dislike", key, copula, True, own=True) for key, _ in judged]
            continue
        elif word in {"refuse", "refuses"} and words[index + 1 : index + 2] == ["to"]:
            kind, negative, start = "dislike", True, index + 2  # "i refuse to eat liver"
        elif word in {"stay", "steer"} and index + 2 < len(words) and words[index + 1] in {"away", "clear"}:
            kind, start, effect = "dislike", index + 3, "exclusion"
        elif word in LIKE_VERBS and before not in {"would", "feel", "look", "looks", "seem", "not", "never", "to"}:
            if word in {"like", "likes"} and before not in {
                "i",
                "we",
                "really",
                "also",
                "do",
                "totally",
                "still",
                "definitely",
                "especially",
                "just",
                "kinda",
                "both",
                "all",
                "and",
                "absolutely",
                "generally",
                "sure",
            }:
                continue
            kind = "favorite"
        elif word in {"addicted", "obsessed", "hooked"} and index + 1 < len(words):
            kind, start = "favorite", index + 2
        elif word in {"weakness", "sucker"} and words[index + 1 : index + 2] == ["for"]:
            kind, start = "favorite", index + 2  # "i have a weakness for cheese", "a sucker for donuts"
        elif word == "enough" and words[index + 1 : index + 2] == ["of"] and {"not", "never"} & set(words[:index]):
            kind, negative, start = "favorite", True, index + 2  # "i can't get enough of mangoes": its "not" is its own
        elif word == "weakness" and index >= 2 and words[index - 1] == "my" and words[index - 2] in {"is", "are"}:
            subject, _ = items_before(words, _copula_start(words, index - 1))  # "donuts are my weakness"
            found += [Found("favorite", key, at, own=True) for kind_, key, at in subject if kind_ == "food"]
            continue
        elif word in {"drink", "eat"} and index + 2 < len(words) and words[index + 1] in {"a", "lots", "tons"}:
            if words[index + 1] == "a" and words[index + 2] != "lot":
                continue
            kind = "favorite"
        elif word == "mine" and told.asked and index + 1 < len(words) and words[index + 1] in {"is", "are"}:
            items, _ = phrase_items(words, index + 2, len(words), written)
            found += [Found(told.asked, key, index) for kind_, key, _ in items if kind_ in {"food", "allergen"}]
            continue
        elif word in FAVOURITE:
            found += _favourite(words, index, told)
            continue
        elif word in GROSS and index >= 2 and words[index - 2] in {"find", "finds"}:
            # "i find olives gross", "i find them disgusting" (not "i find it disgusting that ...")
            object_ = named_foods(words[index - 1 : index])
            if not object_ and before in PRONOUNS and _ends_judgement(words, index + 1):
                object_ = _antecedent(words, index - 1, told)
            found += [Found("dislike", key, index - 2) for key in object_]
            continue
        elif word == "worst" and before == "the" and index >= 2 and words[index - 2] in {"is", "are"}:
            subject, _ = items_before(words, _copula_start(words, index - 1))  # "mushrooms are the worst"
            found += [Found("dislike", key, at) for kind_, key, at in subject if kind_ == "food"]
            continue
        elif word in GROSS and before in {"is", "are", "so", "really", "just", "pretty", "taste", "tastes"}:
            copula = _copula_start(words, index)
            judged = _said_of(words, copula, told, {"food"}, pronoun=_ends_judgement(words, index + 1))
            found += [Found("dislike", key, at) for key, at in judged]
            continue
        elif word in GIVE_UP and (not GIVE_UP[word] or (index + 1 < len(words) and words[index + 1] == GIVE_UP[word])):
            # "i gave up soda", "i cut out bread", "i quit sugar", "i stopped eating meat": no longer buys it.
            kind, negative, start = "dislike", True, index + 1 + bool(GIVE_UP[word])
            if {"trying", "to", "on"} & set(words[start : start + 2]):
                continue  # "i gave up trying to bake bread", "gave up on": not the food
        elif word in CAUSE_VERBS and words[index + 1 : index + 2] in (["me"], ["us"], ["my"], ["our"]):
            felt = words[index + 2 : index + 5] if words[index + 1] in {"me", "us"} else words[index + 2 : index + 3]
            if not SYMPTOMS & set(felt):
                continue  # "makes me sick", "upsets my stomach"; not "makes my wife sick"
            # The shopper is the one it makes sick ("me"), whatever the subject: "they make me sick".
            said = "effect" if SYMPTOMS - QUEASY & set(felt) else "sick"
            found += [
                Found("dislike", key, index, True, own=True, effect=said) for key, _ in _said_of(words, index, told)
            ]
            continue
        elif word == "agree" and before == "not" and words[index + 1 : index + 3] in (["with", "me"], ["with", "us"]):
            # "dairy does not agree with me"
            found += [
                Found("dislike", key, index, True, own=True, effect="effect")
                for key, _ in _said_of(words, index - 2, told)
            ]
            continue
        if kind is None:
            continue
        # "I hate it when ...", "I love you": no food; "I like to eat X": the object follows.
        following = words[index + 1] if index + 1 < len(words) else ""
        consumed = words[index + 2] if index + 2 < len(words) else ""
        if kind == "favorite" and start < len(words) and words[start] in {"my", "our"}:
            continue  # "I love my dog", "I like my fish babies": theirs, not a taste
        if _activity(words, start):
            continue  # "I love baking cookies", "I like cooking shows": an activity, not a food
        pointed = told.antecedents(words, start) if following in PRONOUNS or start >= len(words) else []
        if following in NO_OBJECT and not (following == "to" and consumed in CONSUME) and not pointed:
            continue
        items = pointed or phrase_items(words, start, len(words), written)[0]
        for item_kind, key, _ in items:
            if item_kind == "brand":
                if kind == "favorite":
                    found.append(Found("brand", key, index))
            elif item_kind in {"food", "allergen"}:
                found.append(Found(kind, key, index, negative_trigger=negative, effect=effect))
    return found


def _antecedent(words: list[str], pronoun: int, told: Told) -> list[str]:
    """What a pronoun subject of a judgement stands for ("i had bacon, it is my favorite", "alcohol, its nasty"):
    the food named last, in its clause or the one before ("they" only when the last plural named was a food: "the
    animals on the farm, the chicken. they are my favorite" are the animals)."""
    if words[pronoun] not in {"it", "they", "them", "these", "those"}:
        return []  # "that is my fave" after "my job is in a cereal factory" is the job
    if words[pronoun] != "it" and not told.plural_food:
        return []
    return (named_foods(words[:pronoun]) or named_foods(told.previous))[-1:]


def _ends_judgement(words: list[str], at: int) -> bool:
    """Whether a judgement ("it's gross") ends at `at`, so that a pronoun before it can only be the food named
    before: "it's gross outside" and "i find it disgusting that ..." are about something else."""
    return all(w in TRAILING for w in words[at:])


def _said_of(
    words: list[str], end: int, told: Told, kinds: frozenset[str] | set[str] = FOOD_OR_ALLERGEN, *, pronoun: bool = True
) -> list[tuple[str, int]]:
    """What a judgement or an effect whose subject ends at `end` is said of, as (key, where): the items of `kinds`
    named right before it ("olives are gross", "dairy makes me sick"), else, where `pronoun` allows, the food a
    pronoun there stands for ("i tried oysters. they make me sick")."""
    subject, _ = items_before(words, end)
    if subject:
        return [(key, at) for kind, key, at in subject if kind in kinds]
    if end and pronoun:
        return [(key, end - 1) for key in _antecedent(words, end - 1, told)]
    return []


def read_exceptions(words: list[str], told: Told) -> list[Found]:
    """What a shopper excepts from what they eat or like: "anything but chicken", "i eat everything except
    broccoli", "i like fruit but not bananas". The clause starts with the exception; the one before says what it
    is excepted from, and is neither negated, hedged nor in the past ("i don't eat anything but pizza" is no dislike
    of pizza)."""
    previous = told.previous
    if not words or words[0] not in EXCEPT or not previous:
        return []
    start = 1 + (len(words) > 1 and words[1] == "for")
    negated = start < len(words) and words[start] == "not"
    start += negated
    if start < len(words) and words[start] == "with":
        return []  # "i like rum but not with soda": what it goes with, not what is liked
    everything = previous[-1] in EVERYTHING or (words[0] != "but" and bool(EVERYTHING & set(previous)))
    verb = next((i for i, w in enumerate(previous) if w in LIKE_VERBS or w in TASTING_VERBS), None)
    if not (everything or ((negated or words[0] != "but") and verb is not None)):
        return []
    if cues_in(previous, 0, len(previous)) & {"negation", "hedge", "past", "used_to"}:
        return []
    if verb is not None and whose(previous, verb, "self") != "self":
        return []  # "my son eats everything but fish": his
    items, stop = phrase_items(words, start, len(words), words)
    if {"i", "we", "you", "he", "she", "they", "my"} & set(words[stop:]):
        return []  # the clause goes on to say something else: "but fish i love"
    return [Found("dislike", key, 0, True, own=True) for kind, key, _ in items if kind in {"food", "allergen"}]


def read_disgust(words: list[str], told: Told) -> list[Found]:
    """ "they gave me a salad! yuck.": a word of disgust as a sentence of its own, right after a clause that names a
    food ("I ordered pizza. Gross, it came cold" is about that pizza)."""
    if not words or not DISGUST & set(words) or any(w not in DISGUST | {"so", "just", "lol", "!"} for w in words):
        return []
    return [Found("dislike", key, 0) for key in named_foods(told.previous)[-2:]]


def _activity(words: list[str], start: int) -> bool:
    """Whether the object starting at `start` is an activity: a gerund other than eating or drinking."""
    for word in words[start : start + 3]:
        if word in {"really", "just", "also", "especially", "to", "something", "everything"} or word in OBJECT_LEAD:
            continue  # "anything sweet" is no activity
        return word.endswith("ing") and word not in EATING and match_at(words, start, start + 1) is None
    return False


def _copula_start(words: list[str], index: int) -> int:
    while index > 0 and words[index - 1] in {
        "is",
        "are",
        "so",
        "really",
        "just",
        "pretty",
        "taste",
        "tastes",
        "always",
        "kinda",
        "too",
        "very",
        "totally",
    }:
        index -= 1
    return index


def _favourite(words: list[str], index: int, told: Told) -> list[Found]:
    """ "my favorite (food) is X", "X is (definitely) my favorite (drink)", "i had bacon, it is my favorite": the
    shopper's by "my", whoever was named before."""
    found: list[Found] = []
    after = index + 1
    while after < len(words) and (words[after] in FOOD_KINDS or words[after] in {"all", "time"}):
        after += 1
    least = index >= 2 and words[index - 1] == "least"
    kind: PreferenceType = "dislike" if least else "favorite"
    owner = index - 2 if least else index - 1
    if owner >= 0 and words[owner] in {"my", "our"}:
        if after < len(words) and words[after] in {"is", "are", "has", "would", "will", "must", "being"}:
            after += 1
            while after < len(words) and words[after] in {"to", "be", "definitely", "probably", "got", "gotta"}:
                after += 1
            items, _ = phrase_items(words, after, len(words), words)
            found += [Found(kind, key, owner, own=True) for item, key, _ in items if item in {"food", "allergen"}]
        copula = owner - 1
        while copula > 0 and words[copula] in {"definitely", "probably", "totally", "absolutely", "still", "always"}:
            copula -= 1
        if copula >= 1 and words[copula] in {"is", "are"}:
            start = _copula_start(words, copula + 1)
            judged = _said_of(words, start, told, pronoun=_ends_judgement(words, after))
            found += [Found(kind, key, at, own=True) for key, at in judged]
    return found
