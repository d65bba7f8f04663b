"""Allergies and diets: what the shopper's body or beliefs rule out, the memories kept safest.

Triggers: "allergic to X", "X allergy", "X intolerant", "celiac"; "I am / follow / eat / went X" for a diet; a
condition the shopper says they have ("i have type 2 diabetes": low-sugar); an intolerance said the everyday way
("i can't have lactose", "milk makes me bloated": lactose-free) and a diet said by what is not eaten ("i don't eat
meat or fish": vegetarian). Only the shopper's own word "allergic" (or "allergy") makes an allergy.
"""

from __future__ import annotations

from dataclasses import replace

from worker.extract.language import SUBJECTS, Clause
from worker.extract.model import Statement
from worker.extract.reading import HOUSEHOLD, SOFT, Found, Told, items_before, phrase_items
from worker.extract.vocabulary import (
    ALLERGENS,
    CONDITIONS,
    DIETS_NEED_DIET,
    INTOLERANCES,
    RESTRICTION_OF,
    match_at,
    restriction_key,
    word_set,
)

ALLERGY_WORDS = word_set(
    "allergic allergy allergies intolerant intolerance intolerances sensitive sensitivity sensitivities anaphylactic "
    "anaphylaxis allergens allergen"
)

CELIAC = {"celiac", "coeliac", "celiacs", "coeliacs"}

# Words that say a food does not agree with the shopper's body rather than their taste: the diet it implies.
INTOLERANCE_WORDS = word_set("intolerant intolerance intolerances sensitive sensitivity sensitivities")

# Before a condition, words that say the shopper has it ("i have diabetes", "diagnosed with celiac", "i'm pregnant").
HAVING = word_set("have has got diagnosed suffer suffers suffering am is are being with my living live")

# After a condition, nouns that make it about something else ("diabetes medication", "a celiac friendly bakery").
CONDITION_NOUN_AFTER = word_set(
    "medication medications medicine meds test tests testing awareness research foundation walk charity clinic "
    "nurse doctor specialist educator friendly safe"
)

# What a shopper may say they cannot, or do not, eat that is a diet rather than a taste: "i don't eat meat or fish".
MEATS = frozenset({"meat", "poultry", "red meat", "chicken", "beef", "pork"})

FISH = frozenset({"fish", "seafood", "shellfish"})

ANIMAL = MEATS | FISH | frozenset({"milk", "eggs", "cheese", "animal product", "honey"})

# People a diet word may describe: "a vegan mom" is the shopper after "i am", a guest after "cooking for".
PEOPLE = HOUSEHOLD | word_set(
    "friend friends guest guests people person customer customers coworker coworkers colleague colleagues neighbor "
    "neighbors neighbour neighbours roommate roommates man men woman women guy guys lady ladies visitors students"
)

DIET_NOUN_AFTER = word_set(
    "restaurant restaurants recipe recipes option options place places menu cafe cookbook cookbooks alternative "
    "alternatives version versions dish dishes substitute substitutes friendly products product section brand brands "
    "chef meal meals food foods salt cheese burger burgers diner kitchen bakery store market deli certified snacks "
    "snack society club organization group movement festival cooking cuisine lasagna sausage sausages pizza ones "
    "stuff things items"
)

DIET_VERBS = word_set(
    "am are been become became turned went gone switched converted follow follows following followed eat eats eating "
    "keep keeps keeping kept do doing stick sticking live living on being only strict strictly is cook cooks stay "
    "staying vegan vegetarian as be ate eaten practice practise practices practicing practising becoming chose"
)

DIET_NOUNS = word_set("diet diets lifestyle lifestyles")

DIET_ALONE = word_set(
    "here btw myself too lol now household family since for though only person all forever mostly ever diet lifestyle "
    "fyi please remember so and but as well also anyway after by choice actually"
)

DIET_LEAD = SOFT - {"i", "we", "my", "our", "is"}  # what may stand between a diet and its verb


def read_allergies(words: list[str], told: Told) -> list[Found]:
    found: list[Found] = []
    for index, word in enumerate(words):
        if word not in ALLERGY_WORDS:
            continue
        items: list[tuple[str, str, int]] = []
        start = index
        if index + 1 < len(words) and words[index + 1] in {"to", "with"}:
            after, _ = phrase_items(words, index + 2, len(words), words)
            items += [i for i in after if i[0] in {"allergen", "food"}] or told.antecedents(words, index + 2)
        before, begin = items_before(words, index)
        if before:
            items = before + items
            start = begin
        if not items and index + 1 == len(words):
            items = told.antecedents(words, len(words))  # "my wife can't eat shellfish, she's allergic"
        for _, key, _ in items:
            if word not in INTOLERANCE_WORDS:
                found.append(Found("allergy", key, start))
            elif word.startswith("intoleran") or key in ALLERGENS or key in RESTRICTION_OF:
                # "lactose intolerant", "sensitive to gluten": the diet it imposes, not an allergy unless said so.
                found.append(Found("dietary", restriction_key(key), start, restriction=True))
            else:
                found.append(Found("dislike", key, start))  # "sensitive to spicy food": a reason not to buy it
    return found


def read_conditions(words: list[str]) -> list[Found]:
    """A medical condition the shopper says they have, as the diet it implies: "i have type 2 diabetes" (low-sugar),
    "diagnosed with celiac disease" (gluten-free), "i have high blood pressure" (low-sodium), "kidney disease"
    (renal), "i'm pregnant". Not "diabetes medication", "a celiac friendly bakery", nor another person's."""
    found: list[Found] = []
    index = 0
    while index < len(words):
        hit = next(
            (
                (n, CONDITIONS[tuple(words[index : index + n])])
                for n in (3, 2, 1)
                if tuple(words[index : index + n]) in CONDITIONS
            ),
            None,
        )
        if hit is None:
            index += 1
            continue
        length, key = hit
        window = words[max(0, index - 4) : index]
        after = words[index + length] if index + length < len(words) else ""
        if after == "disease" and words[index] in CELIAC:
            after = words[index + length + 1] if index + length + 1 < len(words) else ""
        if (words[index] in CELIAC or HAVING & set(window)) and after not in CONDITION_NOUN_AFTER | DIET_NOUN_AFTER:
            # Cues run from the subject to the condition; "i was diagnosed with" is no past: they still have it.
            diagnosed = max((i for i in range(index) if words[i] == "diagnosed"), default=None)
            found.append(
                Found(
                    "dietary",
                    key,
                    index,
                    restriction=True,
                    own_only=words[index] not in CELIAC,
                    cues_from=None if diagnosed is None else diagnosed + 1,
                    cues_to=index,
                )
            )
        index += length
    return found


def read_restrictions(found: list[Found], words: list[str]) -> list[Found]:
    """What the shopper cannot or does not eat, read for what it means: an intolerance said the everyday way ("i
    can't have lactose", "dairy doesn't agree with me", "milk makes me bloated") is the diet it imposes
    (lactose-free, dairy-free); a diet said by what is not eaten ("i don't eat meat or fish", "no animal products
    for me") is that diet. A taste ("i hate olives") and an uncertain avoidance (hedged: nothing) are left alone."""
    excluded = {f.key for f in found if f.kind == "dislike" and f.effect == "exclusion"}
    diet = _exclusion_diet(excluded, words)
    out: list[Found] = []
    for item in found:
        if item.kind != "dislike" or item.effect is None:
            out.append(item)
            continue
        if diet is not None and item.effect == "exclusion" and item.key in ANIMAL:
            continue  # said by the diet it amounts to
        key = item.key
        core = key in INTOLERANCES or (key == "milk" and (item.effect != "exclusion" or "dairy" in words))
        bodily = key in ALLERGENS or key in RESTRICTION_OF
        if core or (bodily and item.effect in {"inability", "effect"}):
            out.append(replace(item, kind="dietary", key=restriction_key(key), restriction=True))
        else:
            out.append(item)
    if diet is not None:
        first = min(f.at for f in found if f.kind == "dislike" and f.effect == "exclusion")
        out.append(Found("dietary", diet, first, negative_trigger=True, restriction=True, own_only=True))
    return out


def _exclusion_diet(excluded: set[str], words: list[str]) -> str | None:
    """The diet that not eating `excluded` amounts to: meat (and fish) -> vegetarian; meat, dairy and eggs, or
    animal products -> vegan. Not when the clause names the diet itself ("i do not eat meat and am vegan")."""
    if "animal product" in excluded or ({"meat", "eggs"} <= excluded and {"milk", "cheese"} & excluded):
        return "vegan"
    if "meat" in excluded and not {"vegan", "vegetarian", "pescatarian", "red"} & set(words):
        return "vegetarian"
    return None


def as_pescatarian(statements: list[Statement], clauses: list[Clause]) -> list[Statement]:
    """ "i don't eat meat, but i do eat fish", "fish is fine though": a vegetarian by exclusion who says they eat
    fish is a pescatarian."""
    eats_fish = any(
        not {"not", "never", "no"} & set(clause.words)
        and bool({"eat", "eats", "have", "ok", "okay", "fine"} & set(clause.words))
        and bool(FISH & set(clause.words))
        for clause in clauses
    )
    if not eats_fish:
        return statements
    return [
        s.model_copy(update={"preference_key": "pescatarian", "preference_value": "pescatarian"})
        if s.preference_type == "dietary"
        and s.preference_key == "vegetarian"
        and s.reason
        and s.reason.startswith("You told us: ")
        else s
        for s in statements
    ]


def read_diets(words: list[str]) -> list[Found]:
    """ "I am (a strict) vegan", "I follow a keto diet", "vegan here", "as a vegan", "we vegans", "my kosher
    meals", "vegan is my diet"; not "vegan cheese" or "a vegetarian restaurant" (a diet word before another noun
    describes that noun)."""
    found: list[Found] = []
    index = 0
    while index < len(words):
        match = match_at(words, index, len(words))
        if match is None or match[1] != "diet":
            index += 1
            continue
        length, _, key = match
        after = words[index + length] if index + length < len(words) else ""
        rest = words[index + length : index + length + 6]
        if after in DIET_NOUNS:
            stated = True
        elif key in DIETS_NEED_DIET:
            stated = False
        elif after in {"food", "foods", "meals", "only"} and "only" in words and ({"eat", "cook", "buy"} & set(words)):
            stated = True  # "i only eat kosher foods", "i cook kosher foods only"
        elif after == "is" and ({"my", "the"} & set(rest)) and (DIET_NOUNS | {"way", "life"}) & set(rest):
            # "vegan is my diet", "vegan is the diet i follow": the shopper's by its form, whoever was named before;
            # its cues are those between the diet and "diet" ("vegan is not my diet").
            noun = next(i for i in range(index + length, len(words)) if words[i] in DIET_NOUNS | {"way", "life"})
            found.append(Found("dietary", key, noun, own=True, cues_from=index))
            stated = False
        elif index and words[index - 1] in {"my", "our"} and after in {"food", "foods", "meal", "meals"}:
            stated = True  # "i eat my kosher meals"
        elif after in {"kitchen", "home", "house", "household"} and {"keep", "keeps", "kept"} & set(words[:index]):
            stated = True  # "we keep a kosher kitchen"
        else:
            stated = after not in DIET_NOUN_AFTER and match_at(words, index + length, index + length + 1) is None
        if stated:
            lead, unknown = index - 1, 0
            while lead >= 0 and words[lead] not in DIET_VERBS and words[lead] not in {"i", "we", "my", "our", "us"}:
                # Degree words and adjectives may stand between ("a pretty diehard vegetarian", "100 vegan").
                if words[lead] not in DIET_LEAD:
                    unknown += 1
                    if unknown > 2 or words[lead] in SUBJECTS or match_at(words, lead, lead + 1) is not None:
                        break
                lead -= 1
            before = words[lead] if lead >= 0 else ""
            if after in PEOPLE and any(
                w in {"for", "with", "to", "about", "at", "of"} or w.endswith("ing") for w in words[lead + 1 : index]
            ):
                index += length
                continue  # "i'm cooking for a vegan friend", "we're hosting vegetarian guests": theirs
            alone = lead < 0 and unknown == 0 and all(w in DIET_ALONE for w in words[index + length :])
            owned = before in {"my", "our"} and after in DIET_NOUNS | {"food", "meal", "meals"}
            we = before in {"we", "us"} and words[index + length - 1].endswith("s")  # "we vegans"
            if before == "as" and lead + 1 < index and words[lead + 1] in {"a", "an"}:
                found.append(Found("dietary", key, lead, own=True))  # "as a vegan, i ..."
            elif (
                (before in DIET_VERBS and unknown <= 2)
                or owned
                or we
                or (before in {"i", "we"} and after in DIET_NOUNS)
            ):
                # The trigger starts at its verb ("am", "follow"), or after "my" / "I" so that they are its subject;
                # its cues run to the diet ("i am not vegetarian", "i am trying to go vegan").
                at = lead + 1 if before in {"i", "we", "my", "our", "us"} else lead
                found.append(Found("dietary", key, at, cues_to=index))
            elif alone:
                found.append(Found("dietary", key, 0, cues_to=index))  # "vegan here"; "not vegan though"
        index += length
    return found
