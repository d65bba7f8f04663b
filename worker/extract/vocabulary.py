"""The food vocabulary the extractor checks things against, and the canonical keys it stores.

- Foods: every noun of Princeton WordNet 3.0 whose usual sense is a food or a drink (`data/foods.txt`, derived
  from Debian's `wordnet-base` by `scripts/derive-food-vocabulary`; provenance and licence in
  `data/PROVENANCE.md`), plus a few groceries WordNet 3.0 predates and minus words whose food sense is not what
  people mean ("dog").
- English words (`data/words.txt.gz`, the same source): a brand is a name that is not an English word, so
  "I like Italian" names no brand and "I like Chobani" does.
- Person names (`data/person-names.txt`, the same source): words WordNet knows only as a particular person's
  name; right before a food ("Heinz ketchup", "Kellogg cereal") such a name is the maker's brand.
- Allergens and diets: canonical keys of our own, after the major allergens of EU Regulation 1169/2011 Annex II and
  the US FALCPA list, with the names shoppers use for them.

Keys are bounded by construction: a key is a vocabulary entry (at most four words), never the rest of a sentence.
"""

from __future__ import annotations

import gzip
from functools import cache, lru_cache
from importlib import resources

Phrase = tuple[str, ...]


def word_set(text: str) -> frozenset[str]:
    """A set of words written as one string (long word lists read better so)."""
    return frozenset(text.split())


def comma_list(text: str) -> tuple[str, ...]:
    """Phrases written as one comma-separated string."""
    return tuple(phrase.strip() for phrase in text.split(","))


# Allergens: the canonical key and the phrases that name it (tokens as the tokenizer makes them: lower case,
# hyphens split). Specific nuts and fish keep their own names (an almond allergy is not every tree nut).
ALLERGENS: dict[str, tuple[str, ...]] = {
    "peanuts": ("peanut", "peanuts", "peanut butter", "groundnut", "groundnuts", "peanut products"),
    "tree-nuts": ("tree nut", "tree nuts", "treenut", "treenuts"),
    "nuts": ("nut", "nuts"),
    "milk": ("milk", "dairy", "dairy products", "cow's milk", "cows milk", "milk products", "casein", "whey"),
    "lactose": ("lactose",),
    "eggs": ("egg", "eggs"),
    "fish": ("fish", "finfish"),
    "shellfish": ("shellfish", "crustacean", "crustaceans"),
    "molluscs": ("mollusc", "molluscs", "mollusk", "mollusks"),
    "wheat": ("wheat",),
    "gluten": ("gluten", "celiac", "coeliac", "celiac disease", "coeliac disease", "celiacs", "coeliacs"),
    "soy": ("soy", "soya", "soybean", "soybeans", "soy beans", "soya beans"),
    "sesame": ("sesame", "sesame seed", "sesame seeds"),
    "mustard": ("mustard",),
    "celery": ("celery",),
    "lupin": ("lupin", "lupine"),
    "sulphites": ("sulphite", "sulphites", "sulfite", "sulfites"),
    "corn": ("corn", "maize"),
}

# Diets: the canonical key and the phrases that name it. Those in DIETS_NEED_DIET name a diet only as
# "<word> diet" ("a mediterranean diet", not "I love mediterranean food").
DIETS: dict[str, tuple[str, ...]] = {
    "vegetarian": (
        "vegetarian",
        "vegetarians",
        "veggie",
        "veggy",
        "lacto ovo vegetarian",
        "ovo vegetarian",
        "lacto vegetarian",
        "vegetarianism",
        "veg",
    ),
    "vegan": ("vegan", "vegans", "veganism"),
    "plant-based": ("plant based", "plantbased"),
    "pescatarian": ("pescatarian", "pescetarian", "pescatarians", "pescetarians"),
    "kosher": ("kosher",),
    "halal": ("halal",),
    "keto": ("keto", "ketogenic"),
    "paleo": ("paleo",),
    "gluten-free": ("gluten free", "glutenfree"),
    "dairy-free": ("dairy free",),
    "lactose-free": ("lactose free",),
    "low-carb": ("low carb", "low carbohydrate", "atkins"),
    "low-sodium": ("low sodium", "low salt"),
    "low-fat": ("low fat",),
    "sugar-free": ("sugar free", "no sugar"),
    "low-sugar": ("low sugar", "diabetic", "diabetics"),
    "egg-free": ("egg free",),
    "nut-free": ("nut free",),
    "peanut-free": ("peanut free",),
    "tree-nut-free": ("tree nut free",),
    "soy-free": ("soy free",),
    "wheat-free": ("wheat free",),
    "fish-free": ("fish free",),
    "shellfish-free": ("shellfish free",),
    "sesame-free": ("sesame free",),
    "low-fodmap": ("low fodmap",),
    "low-fructose": ("low fructose", "fructose free"),
    "low-histamine": ("low histamine",),
    "caffeine-free": ("caffeine free",),
    "alcohol-free": ("alcohol free",),
    "renal": ("renal",),
    "pregnancy": ("pregnancy",),
    "whole30": ("whole30", "whole 30"),
    "low-purine": ("low purine",),
    "mediterranean": ("mediterranean",),
    "raw-food": ("raw food", "raw vegan"),
}
DIETS_NEED_DIET = frozenset(
    {"mediterranean", "raw-food", "low-fat", "sugar-free", "whole30", "renal", "pregnancy", "low-histamine"}
)

# Restrictions: what an intolerance or an inability ("lactose intolerant", "I can't have gluten", "dairy doesn't
# agree with me") means for the basket, as the diet it implies. An allergen not listed is "<allergen>-free".
RESTRICTION_OF: dict[str, str] = {
    "lactose": "lactose-free",
    "milk": "dairy-free",
    "gluten": "gluten-free",
    "wheat": "wheat-free",
    "eggs": "egg-free",
    "peanuts": "peanut-free",
    "tree-nuts": "tree-nut-free",
    "nuts": "nut-free",
    "fructose": "low-fructose",
    "histamine": "low-histamine",
    "fodmap": "low-fodmap",
    "sugar": "low-sugar",
    "salt": "low-sodium",
    "sodium": "low-sodium",
    "caffeine": "caffeine-free",
    "alcohol": "alcohol-free",
}
# Substances people are intolerant of rather than averse to: however it is said that they do not agree with the
# shopper ("makes me sick", "I can't have", "I don't eat"), it is the restriction, never a taste.
INTOLERANCES = frozenset({"lactose", "gluten", "wheat", "fructose", "histamine", "fodmap"})
# Medical conditions that imply a diet, said of the shopper ("I have diabetes", "I'm pregnant"): the diet's key.
CONDITIONS: dict[Phrase, str] = {
    ("diabetes",): "low-sugar",
    ("prediabetes",): "low-sugar",
    ("prediabetic",): "low-sugar",
    ("celiac",): "gluten-free",
    ("coeliac",): "gluten-free",
    ("celiacs",): "gluten-free",
    ("coeliacs",): "gluten-free",
    ("high", "blood", "pressure"): "low-sodium",
    ("hypertension",): "low-sodium",
    ("kidney", "disease"): "renal",
    ("kidney", "failure"): "renal",
    ("renal", "failure"): "renal",
    ("ckd",): "renal",
    ("dialysis",): "renal",
    ("pregnant",): "pregnancy",
    ("gout",): "low-purine",
}

# Groceries that WordNet 3.0 (2006) lacks or files under another usual sense.
GROCERY_ADDITIONS = comma_list(
    "kale, quinoa, kombucha, sriracha, edamame, tempeh, seitan, acai, chia, chia seeds, oat milk, almond milk, soy "
    "milk, coconut milk, greek yogurt, hot sauce, energy drink, energy drinks, sparkling water, water, bottled "
    "water, seafood, sweets, junk food, fast food, spicy food, salty food, fried food, greasy food, dark chocolate, "
    "protein shake, tex mex, cilantro, mac and cheese, "
    "chicken wing, chicken wings, hot wings, buffalo wings, fructose, histamine, caffeine, sodium, fodmap, "
    "animal product"
)
# Tastes that, standing as a noun phrase of their own, name the foods that have them ("i do not like sweet",
# "anything spicy", "salty stuff"), and the key they are kept under.
TASTES = {
    "sweet": "sweets",
    "sugary": "sweets",
    "spicy": "spicy food",
    "salty": "salty food",
    "fried": "fried food",
    "greasy": "greasy food",
}
GENERIC_TASTE = frozenset({"stuff", "things", "food", "foods"})
# Words WordNet files as a food whose usual meaning is not one, and heads too general to be a preference.
NOT_FOOD = word_set(
    "a b c d e dog dogs bird rabbit hare jack mess side must port rose stock mix mixer tuck hay feed grass cud "
    "chuck mould mold eater eats sour swill zombi zombie chyme manna seder diet java grub slop slops kiss crack "
    "dope joint pot weed date host round special plate course board table cup stick scratch game heart brain leg "
    "neck tongue shoulder dish fare nosh treat treats snack snacks meal meals food foods drink drinks beverage "
    "lunch dinner breakfast supper brunch nutriment nourishment produce ingredient foodstuff grocery groceries "
    "stuff leftovers fast party picnic feast banquet buffet menu starter coke speed smack ice pop shot sub hero "
    "wrap roll cobbler scrag offal army horse vintage dressing cooky sweet"
)


def _phrase(text: str) -> Phrase:
    return tuple(text.replace("-", " ").split())


@cache
def foods() -> frozenset[Phrase]:
    """Every food phrase, as token tuples."""
    listed = resources.files("worker.extract").joinpath("data/foods.txt").read_text(encoding="utf-8").splitlines()
    phrases = {_phrase(w) for w in (*listed, *GROCERY_ADDITIONS) if w}
    # WordNet files diets under food ("gluten-free diet", "vegetarian diet"); here a diet is a diet, not a food.
    return frozenset(p for p in phrases if " ".join(p) not in NOT_FOOD and p[-1] not in {"diet", "diets"})


@cache
def english_words() -> frozenset[str]:
    data = resources.files("worker.extract").joinpath("data/words.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode().split())


@cache
def person_names() -> frozenset[str]:
    text = resources.files("worker.extract").joinpath("data/person-names.txt").read_text(encoding="utf-8")
    return frozenset(text.split())


def _index(table: dict[str, tuple[str, ...]]) -> dict[Phrase, str]:
    return {_phrase(name): key for key, names in table.items() for name in names}


ALLERGEN_PHRASES: dict[Phrase, str] = _index(ALLERGENS)
DIET_PHRASES: dict[Phrase, str] = _index(DIETS)
LONGEST = 4


def plural_bases(word: str) -> list[str]:
    """What a plural noun may be the plural of, most likely first (WordNet's morphy suffixes for nouns):
    cookies -> cookie, berries -> berry, tomatoes -> tomato, loaves -> loaf."""
    if len(word) < 4 or word.endswith("ss") or not word.endswith("s"):
        return []
    bases = [word[:-1]]
    if word.endswith("es"):
        bases.append(word[:-2])
    if word.endswith("ies"):
        bases.append(word[:-3] + "y")
    if word.endswith("ves"):
        bases += [word[:-3] + "f", word[:-3] + "fe"]
    return bases


def food_key(phrase: Phrase) -> str | None:
    """The canonical key of a food phrase (its vocabulary form, singular where the plural was said), or None."""
    known = foods()
    if phrase in known:
        return " ".join(phrase)
    for head in plural_bases(phrase[-1]) if phrase else []:
        candidate = (*phrase[:-1], head)
        if candidate in known:
            return " ".join(candidate)
    return None


def match_at(tokens: list[str], start: int, end: int) -> tuple[int, str, str] | None:
    """The longest vocabulary phrase starting at `start` (and ending before `end`): (its length, its kind
    ("allergen", "diet" or "food") and its canonical key); allergens win over foods of the same length."""
    end = min(end, len(tokens))
    if start >= end or not _may_start(tokens[start]):
        return None
    for length in range(min(LONGEST, end - start), 0, -1):
        found = _lookup(tuple(tokens[start : start + length]))
        if found is not None:
            return length, *found
    return None


@lru_cache(maxsize=1 << 16)
def _lookup(phrase: Phrase) -> tuple[str, str] | None:
    if phrase in ALLERGEN_PHRASES:
        return "allergen", ALLERGEN_PHRASES[phrase]
    if phrase in DIET_PHRASES:
        return "diet", DIET_PHRASES[phrase]
    key = food_key(phrase)
    return None if key is None else ("food", key)


@lru_cache(maxsize=1 << 16)
def _may_start(word: str) -> bool:
    """Whether any vocabulary phrase starts with `word` (or, for one word, with its singular): most words are
    ruled out here at the cost of one set lookup."""
    return word in _first_words() or any(base in _first_words() for base in plural_bases(word))


@cache
def _first_words() -> frozenset[str]:
    return frozenset(p[0] for p in (*foods(), *ALLERGEN_PHRASES, *DIET_PHRASES))


def restriction_key(key: str) -> str:
    """The diet an intolerance of `key` (an allergen or a food key) implies: "lactose" -> "lactose-free"."""
    return RESTRICTION_OF.get(key) or f"{key.replace(' ', '-')}-free"


def canonical_key(preference_type: str, key: str) -> str | None:
    """The canonical key for what an extractor returned (Claude's "Tree Nuts" -> "tree-nuts", "olives" ->
    "olive"), or None when it is not one this type may hold (a non-food dislike, an unknown diet, a sentence)."""
    words = key.lower().replace("-", " ").replace("'s", "").split()
    if not words or len(words) > LONGEST:
        return None
    if preference_type == "brand":
        return " ".join(key.split()) if len(key) <= 60 else None
    phrase = tuple(words)
    if preference_type == "dietary":
        if phrase in DIET_PHRASES:
            return DIET_PHRASES[phrase]
        if phrase in CONDITIONS:
            return CONDITIONS[phrase]  # Claude may name the condition: "diabetes" -> low-sugar
        if len(phrase) > 1 and phrase[-1] == "free":  # "onion free": an intolerance of a food
            base = ALLERGEN_PHRASES.get(phrase[:-1]) or food_key(phrase[:-1])
            return None if base is None else restriction_key(base)
        return None
    if preference_type == "allergy" and phrase in ALLERGEN_PHRASES:
        return ALLERGEN_PHRASES[phrase]
    if preference_type in {"dislike", "favorite"} and phrase[0] in TASTES and set(phrase[1:]) <= GENERIC_TASTE:
        return TASTES[phrase[0]]  # "sweet stuff" -> sweets, as the rules keep it
    return food_key(phrase)


def brand_word(written: str, word: str, sentence_start: bool) -> bool:
    """A word that names a brand: written with a capital, not at the start, and not an English word."""
    if not written[:1].isupper() or sentence_start or len(word) < 2 or word.isdigit():
        return False
    return word not in english_words() and word not in {"i"}


def maker_name(written: list[str], words: list[str], index: int, end: int) -> bool:
    """ "I prefer Heinz ketchup": a capitalised name that WordNet knows only as a person's, right before a food,
    names the food's maker (a place or a people does not: "Chicago pizza", "Italian bread")."""
    if index == 0 or not written[index][:1].isupper() or words[index] not in person_names():
        return False
    found = match_at(words, index + 1, end)
    return found is not None and found[1] == "food"
