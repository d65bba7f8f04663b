"""Whose a statement is and how sure it is said, and what its object names: the reading every rule shares.

The extractor's readers (restrictions.py, tastes.py, brands.py, forget.py) find a trigger and hand what follows it to
this module: the noun phrases of its object (`phrase_items`, `items_before`), the subject that governs it (`whose`:
the ConText idea, a cue governs the trigger it precedes within its clause: "I", "my son" = the household, "she",
"you" = someone else, "the soup" = the soup) and the cues between them (`cues_in`: a negation, a hedge, the past,
"used to", "anymore", "a lapsed vegetarian"). `Told` carries what a later clause may point back to ("i tried
oysters. they make me sick"). The insight readers (household.py, goals.py) share its last section: whose an
insight is (a yes or no, `is_own`, `own_at`) and how it is built (`remember_insight`, `forget_insight`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from worker.client.models import InsightType, PreferenceType
from worker.extract.language import SUBJECTS
from worker.extract.model import InsightStatement
from worker.extract.vocabulary import LONGEST, TASTES, brand_word, maker_name, match_at, word_set

INTENSITY = word_set(
    "severe serious bad mild life threatening deadly major really very extreme extremely slight terrible known "
    "diagnosed food an a strong minor bit little pretty super awful horrible real true actual medical lifelong fatal "
    "dangerous moderate"
)

NEGATIONS = {"not", "never", "no", "none", "nor", "neither", "without"}

# Words that take a statement back on their own; "no longer", "gave up", "got over", "grew out" are read in cues_in.
RETRACTIONS = word_set("anymore stopped quit outgrew outgrown outgrow cured formerly")

FORMER = word_set("former lapsed ex")

HEDGES = word_set(
    "maybe might may perhaps possibly probably think thinking considering consider want wanna wants wanted trying try "
    "tries plan planning hope hoping should could would if whether wonder wondering tested testing suspect unsure "
    "sure going gonna go someday eventually tempted wish pretend pretending supposed guess seems seem sometimes "
    "occasionally kinda considered trial experiment experimenting attempt attempting like wonders imagine cheat"
)

# Hedges that govern their whole clause, wherever they stand ("maybe I'm allergic to kiwi").
STRONG_HEDGES = word_set(
    "maybe might perhaps possibly probably think thinking considering wonder wondering unsure tested testing suspect "
    "guess whether if"
)

PAST = word_set("was were had did used once childhood kid child younger")

# Words a subject, a trigger and its cues may be separated by without another subject in between.
SOFT = word_set(
    "and also even still just really am are is be been being have has do does totally absolutely always actually "
    "honestly now currently very so too pretty quite definitely certainly a an the all both severely extremely "
    "deathly highly mildly slightly super seriously kind sort of lol but because since though then yes yeah no well "
    "oh okay ok to got get having with diagnosed found out turns turned realized discovered learned own personally "
    "myself ourselves strict strictly fully full complete completely lifelong proud practicing practising ethical "
    "committed mostly mainly basically raised born grew up as for years year months life whole entire my our i we in "
    "fact hi hello hey haha not never longer anymore considered technically please remember note that forget about "
    "delete remove says said told you mention mentioned fyi btw heads quick reminder thanks thank again usually "
    "generally tend"
)

HOUSEHOLD = word_set(
    "son sons daughter daughters kid kids child children baby babies toddler husband wife partner spouse boyfriend "
    "girlfriend fiance fiancee mom mum mother dad father parents brother sister family household grandson "
    "granddaughter grandma grandpa sibling siblings brothers sisters grandmother grandfather twins boy girl boys "
    "girls stepson stepdaughter youngest oldest eldest little one ones hubby roommate home house everyone"
)

OTHER_PEOPLE = word_set(
    "he she they you someone somebody people everybody nobody anyone friend friends boss coworker coworkers colleague "
    "neighbor neighbour cousin aunt uncle teacher doctor guest guests dog cat pet it this that these those there "
    "everything nothing cafeteria restaurant recipe place him them who which what many most some lots"
)

WEAK_OTHER = {"his", "her", "their", "your", "its"}

DETERMINERS = word_set("some many most this that these those")

# Household members a shopper calls "the ...": "the kids", "the baby".
THE_HOUSEHOLD = word_set("kids children baby babies toddler twins boys girls wife husband hubby")

# After "my", words that keep the statement the shopper's own ("my diet is vegan", "my favorite food").
ABOUT_EATING = word_set(
    "diet diets allergy allergies favorite favourite fave fav own whole entire doctor doctors body stomach life "
    "lifestyle eating intolerance intolerances celiac coeliac severe food tummy gut skin goal goals new only usual go "
    "biggest main religion faith self guilty preference preferences choice"
)

FAVOURITE = {"favorite", "favourite", "fave", "fav", "favorites", "favourites"}

# Words that lead into the object of a verb without being it ("the taste of", "eating", "any").
OBJECT_LEAD = word_set(
    "the a an any all most some much many eating drinking having trying taste smell texture of kinds kind types type "
    "sorts sort anything things foods food stuff products with containing that contain contains really to eat drink "
    "have snack snacking on good fresh certain different lots lot plenty tons more even pretty very just especially "
    "too mostly only always usually raw cooked like including particularly in it"
)

# Words that end a noun phrase in an object.
PHRASE_END = word_set(
    "and or nor , on in at with without for from to about as than when while if unless except until after before "
    "during too anymore either though very much lol haha now also really i you we he she they it my your our his her "
    "their is are was were be been am do does did not so but because that this which who like unlike instead anyway "
    "all more any every by into over under thanks please since the a an tho then again today tonight lately daily "
    "always forever sometimes usually often everyday recently yesterday tomorrow ever either one ones myself "
    "ourselves yourself how what why where whose personally honestly anyway anyways whatsoever yuck ew eww gross last "
    "next ago"
)

# Heads that leave the food before them the item ("peanut products", "dairy stuff").
GENERIC_HEADS = word_set(
    "products product stuff things items foods food dishes dish flavored flavoured flavor flavour based type types "
    "kind kinds varieties brand brands lol haha though tho yum yummy anymore consumption intake"
)

# Foods that are also colours: not foods in a message about colours ("orange is my favorite color").
COLOUR_FOODS = word_set("orange lime peach plum cherry chocolate salmon mint lemon olive cream caramel tangerine")

COLOUR_WORDS = word_set("color colour colors colours colored coloured shade")

PRONOUNS = word_set("it them those these that this one ones")

FOOD_OR_ALLERGEN = frozenset({"food", "allergen"})

# After a pronoun object, words that show it is not a food ("I hate it when ...", "I love that you ...").
NOT_ANAPHORA = word_set("when how if that is was so you i we he she they because about to")


def named_foods(words: list[str]) -> list[str]:
    """The foods and allergens a clause names, in order ("brussels sprouts" once, not "sprout" too)."""
    named: list[str] = []
    index = 0
    while index < len(words):
        found = match_at(words, index, len(words))
        if found is not None and found[1] != "diet":
            named.append(found[2])
        index += found[0] if found is not None else 1
    return named


@dataclass
class Told:
    """What the message has said so far that a later clause may point back to: the foods of the last clause that
    named any ("do you like cheese? i hate it"), and the household member named last ("my wife can't eat
    shellfish, she's allergic")."""

    foods: list[str] = field(default_factory=list)
    member: str | None = None
    asked: PreferenceType | None = None  # "what's your (least) favorite food?": what "mine is X" answers
    colours: bool = False
    plural_food: bool = True  # the last plural noun named was a food (or there was none)
    previous: list[str] = field(default_factory=list)  # the clause before, for what follows on from it

    def update(self, words: list[str], question: bool) -> None:
        # "them" stands for the last plural noun: "i feed meat to my cats. i love them" points at the cats.
        plural = next((w for w in reversed(words) if len(w) > 3 and w.endswith("s") and w.isalpha()), None)
        self.plural_food = plural is None or match_at([plural], 0, 1) is not None
        self.colours = self.colours or bool(COLOUR_WORDS & set(words))
        if question and FAVOURITE & set(words):
            self.asked = "dislike" if "least" in words else "favorite"
        named = named_foods(words)
        if named:
            self.foods = named[-3:]
        self.previous = words
        subject = whose(words, len(words), "self")
        if subject.startswith("household:"):
            self.member = subject.split(":", 1)[1]

    def resolve(self, who: str) -> str:
        """ "he", "she" and "they" are the household member named before, if any."""
        if who == "pronoun":
            return f"household:{self.member}" if self.member else "other"
        return who

    def antecedents(self, words: list[str], at: int) -> list[tuple[str, str, int]]:
        """The foods a pronoun at `at` (or a relative clause's missing object) stands for."""
        after = words[at + 1] if at + 1 < len(words) else ""
        if at < len(words) and (words[at] not in PRONOUNS or after in NOT_ANAPHORA):
            return []
        if at < len(words) and words[at] in {"them", "those", "these", "ones"} and not self.plural_food:
            return []
        return [("food", key, at) for key in self.foods]


@dataclass
class Found:
    """One statement found in a clause, before it is turned into a Statement."""

    kind: PreferenceType
    key: str
    at: int  # where its trigger starts in the clause
    negative_trigger: bool = False  # a trigger that carries its own negation ("don't eat")
    own: bool = False  # the shopper's by its form ("as a vegan"), whatever the subject before
    cues_from: int | None = None  # where its cues start, when not at its subject ("vegan is not my diet")
    cues_to: int | None = None  # where they end, when not at the trigger: a diet's word ("i am not vegan")
    # How a dislike was said, when not by taste: "inability" ("can't have"), "effect" ("makes me bloated"),
    # "sick" ("makes me sick"), "exclusion" ("i don't eat", "i avoid", "no X for me").
    effect: str | None = None
    restriction: bool = False  # a diet the shopper's body or a medical need imposes: the sentence is its evidence
    own_only: bool = False  # a condition or a diet ("i have diabetes", "i don't eat meat"): the shopper's own only


def whose(words: list[str], before: int, inherited: str) -> str:
    """Whose statement a trigger at `before` is: "self", "household:<member>" or "other": the nearest subject
    before it in the clause ("my son is allergic", "she is vegan"), else the clause before's ("i ride horses and
    follow a vegan diet": "i" governs both verbs). A noun before a copula is a subject too: "the food is vegan"."""
    weak = None
    copula = before < len(words) and words[before] in {"is", "are", "was", "were"}  # the trigger's own verb
    for index in range(before - 1, -1, -1):
        word = words[index]
        if word in {"i", "we", "me", "myself", "us"}:
            return "self"
        if word in {"my", "our"}:
            # "my son": the household; "my peanut allergy", "my diet": the shopper; "my friend", "my cat": not.
            following = words[index + 1 : index + 4]
            member = next((w for w in following if w in HOUSEHOLD and w not in {"little", "one", "ones"}), None)
            if member is not None:
                return f"household:{member}"
            if not following or following[0] in ABOUT_EATING or match_at(words, index + 1, index + 4) is not None:
                return "self"
            return "other"
        if word == "the" and index + 1 < before and words[index + 1] in THE_HOUSEHOLD:
            return f"household:{words[index + 1]}"  # "the kids are allergic to eggs": ours, as "my kids"
        if word in {"he", "she", "they"}:
            return "pronoun"
        if word in DETERMINERS and match_at(words, index + 1, index + 1 + LONGEST) is not None:
            continue  # "i had some bacon", "we like most fruit": a determiner of the food, not a subject
        if word in OTHER_PEOPLE:
            return "other"
        if word in WEAK_OTHER and weak is None:
            weak = "other"
        if word in {"is", "are", "was", "were", "seems", "looks", "tastes"}:
            copula = True
        elif copula and word not in SOFT | NEGATIONS | HEDGES | HOUSEHOLD:
            if word in ABOUT_EATING and {"my", "our"} & set(words[max(0, index - 3) : index]):
                continue  # "my diet is vegan", "our whole diet is kosher"
            return "other"
    return weak or inherited


def cues_in(words: list[str], start: int, stop: int) -> set[str]:
    """The cues in words[start:stop], as categories: negation, retraction ("anymore", "no longer", "outgrew"),
    used_to, past, hedge."""
    cues: set[str] = set()
    for index in range(max(0, start), stop):
        word = words[index]
        before = words[index - 1] if index else ""
        after = words[index + 1] if index + 1 < len(words) else ""
        if word in NEGATIONS and not (word == "no" and after in {"i", "we", ",", "no"}):
            cues.add("negation")
        if word in FORMER and index >= stop - 2:
            cues.add("former")  # "a lapsed vegetarian", "an ex vegan": right before what it qualifies
        if word == "used" and after == "to":
            cues.add("used_to")
        elif word in PAST:
            cues.add("past")
        if (
            (word == "longer" and before == "no")
            or (word == "more" and before in {"any", "no"})
            or word in RETRACTIONS
            or (word == "gave" and after == "up")
            or (word == "over" and before == "got")
            or (word == "grew" and after == "out")
        ):
            cues.add("retraction")
        if (
            word in HEDGES
            and not (word == "like" and before not in {"would", "d"})
            and not (word == "sure" and before != "not")
            and not (word in {"would", "could"} and after == "never")  # "i would never eat liver": no hedge
        ):
            cues.add("hedge")
    return cues


def phrase_items(words: list[str], start: int, end: int, written: list[str]) -> tuple[list[tuple[str, str, int]], int]:
    """The items of the object list starting at `start`: (kind, key, position) for each noun phrase that is a
    food, an allergen or a diet ("brand" with the name when it names a brand), and where the list ends."""
    items: list[tuple[str, str, int]] = []
    index = start
    steps = 0
    while index < end and words[index] in OBJECT_LEAD and steps < 6:
        index += 1
        steps += 1
    while index < end:
        phrase_start = index
        best: tuple[str, str, int] | None = None
        brand: list[str] = []
        modifier = False  # a food followed by a noun of its own ("sushi joint", "pizza hut"): not the food
        while index < end and (index == phrase_start or words[index] not in PHRASE_END) and index - phrase_start < 6:
            found = match_at(words, index, end)
            if found is not None:
                length, kind, key = found
                best, modifier = (kind, key, index), False
                index += length
                continue
            if best is None and words[index] in TASTES and _ends_phrase(words, index + 1, end):
                best = ("food", TASTES[words[index]], index)  # "i do not like sweet (stuff)": sweets
                index += 1
                continue
            if best is not None and words[index].isalpha() and words[index] not in GENERIC_HEADS:
                modifier = True
            if words[index] in {"brand", "brands"} and index > phrase_start:
                # "Great Value brand": the words before "brand" name it, English or not.
                name = [w for w in written[max(phrase_start, index - 3) : index] if w.lower() not in OBJECT_LEAD]
                if name:
                    best = ("brand", " ".join(name), phrase_start)
                index += 1
                break
            if brand_word(written[index], words[index], index == 0) or maker_name(written, words, index, end):
                brand.append(written[index])
            elif words[index] not in OBJECT_LEAD:
                brand = []
            index += 1
        if modifier and best is not None and best[0] != "brand":
            best = None
        if brand and (best is None or best[0] == "food"):
            best = ("brand", " ".join(brand[:3]), phrase_start)  # "Chobani yogurt": the brand is what they like
        if best is not None:
            items.append(best)
        if index < end and words[index] in {"and", "or", "nor", ",", "&"}:
            index += 1
            while index < end and words[index] in {"and", "or", "also", "even", "the", "a", "an", "some"}:
                index += 1
            continue
        break
    return items, index


def _ends_phrase(words: list[str], at: int, end: int) -> bool:
    return at >= end or words[at] in PHRASE_END or words[at] in GENERIC_HEADS


def items_before(words: list[str], end: int) -> tuple[list[tuple[str, str, int]], int]:
    """The allergens or foods named right before a word ("severe peanut and tree nut allergy")."""
    items: list[tuple[str, str, int]] = []
    index = end
    while index > 0:
        while index > 0 and words[index - 1] in INTENSITY | {"and", "or", ",", "&"} and not items and index < end:
            index -= 1
        matched = None
        for length in range(min(4, index), 0, -1):
            found = match_at(words, index - length, index)
            if found is not None and found[0] == length and found[1] in {"allergen", "food"}:
                matched = (found[1], found[2], index - length)
                break
        if matched is None and index > 0 and words[index - 1] in INTENSITY and not items:
            index -= 1  # "a severe peanut allergy"; but "spicy food" is a food of its own
            continue
        if matched is None:
            break
        items.insert(0, matched)
        index = matched[2]
        if index > 0 and words[index - 1] in {"and", "or", ",", "&"}:
            index -= 1
            continue
        break
    return items, index


def cue_start(words: list[str], at: int) -> int:
    """Cues count from the subject nearest before the trigger (a "no" before "I" is an interjection), and not
    across an "and" that starts another predicate ("i do not eat meat and am vegan": the "not" is eat's)."""
    for index in range(at - 1, -1, -1):
        if words[index] in {"i", "we", "my", "our", "me", "us"}:
            return index
        if words[index] in {"and", "but"} and match_at(words, index + 1, index + 2) is None:
            return index + 1
    return 0


def describes_self(words: list[str]) -> bool:
    """Whether a clause says what the shopper is ("i am a mom", "i'm just a person"), so that a "who" after it
    stands for the shopper."""
    for index, word in enumerate(words[:-2]):
        if word in {"i", "we"} and words[index + 1] in {"am", "are"}:
            rest = [w for w in words[index + 2 :] if w not in {"just", "only", "really", "a", "an", "the", "one"}]
            return len(rest) <= 2 and not any(w in SUBJECTS or match_at([w], 0, 1) for w in rest)
    return False


# Insights (household, goals: insights.py) ------------------------------------------------------------------------
# An insight's owner is a yes or no (the shopper's, or nobody's to store): no household member keeps one.

NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "couple": 2, "both": 2, "twins": 2, "twin": 2,
}  # fmt: skip


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


TIMES = word_set("month week year morning evening weekend time summer winter spring fall")


def remember_insight(kind: InsightType, key: str, value: str, **extra: object) -> InsightStatement:
    details = extra.get("details")
    return InsightStatement(
        action="remember",
        insight_type=kind,
        insight_key=key,
        insight_value=value,
        details=details if isinstance(details, dict) and details else None,
        expires_at=extra.get("expires_at"),  # type: ignore[arg-type]
    )


def forget_insight(kind: InsightType, key: str) -> InsightStatement:
    return InsightStatement(action="forget", insight_type=kind, insight_key=key)


def names_subject(words: list[str]) -> bool:
    return bool((FIRST_PERSON | OTHERS | {"it", "this", "that", "there"}) & set(words[:3]))


def own_at(words: list[str], index: int, inherited: bool) -> bool:
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


def supposed_at(words: list[str], index: int) -> bool:
    """A wish, a plan or a supposition before `index` in its clause: "i want a cat", "if i had kids"."""
    return bool(HYPOTHETICAL & set(words[:index]))


def negated_at(words: list[str], index: int) -> bool:
    """ "no dogs", "i don't have a cat", "never had kids"; not across a "but" ("i don't have kids, but 3 horses")."""
    window = words[max(0, index - 6) : index]
    if "but" in window:
        window = window[len(window) - window[::-1].index("but") :]
    return window[-1:] == ["no"] or bool({"not", "never"} & set(window))


def is_own(words: list[str], inherited: bool) -> bool:
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


def has_cue(words: list[str], stop: int, cues: frozenset[str]) -> bool:
    return bool(cues & set(words[max(0, stop - 6) : stop]))
