"""The deterministic extractor: what a shopper states about allergies, diets, dislikes, likes and brands.

How it reads a message (plain Python; see language.py for tokens and clauses, vocabulary.py for the words):
1. Sentences, then clauses: a comma, "and" before a new subject, or a clause word ("but", "so", "because") ends
   one, so a negation or a hedge governs its own clause only ("its not bad, i enjoy eating veggies and allergic to
   peanut products": the "not" is in another clause).
2. Triggers: "allergic to X", "X allergy", "X intolerant", "celiac"; "I am / follow / eat / went X" for a diet;
   for a dislike "hate / can't stand / don't eat / gave up / not a fan of X", "X is gross / not my thing", "X makes
   me sick", "anything but X", and a word of disgust after a food; "love / like / enjoy / my favourite is X" for a
   like; "X brand", a name that is no English word, or a person's name before a food ("Heinz ketchup") for a
   brand. X is read as a list of noun phrases, each checked against the food vocabulary, so non-food ("I hate
   traffic", "allergic to dogs") is refused and keys are canonical; a pronoun stands for the food named just
   before ("i tried oysters. they make me sick").
3. Whose and how sure (the ConText idea: a cue governs the trigger it precedes, within its clause): the nearest
   subject before the trigger ("I", "my son" = the household, "she", "you" = someone else, "the soup" = the soup);
   a negation ("not", "never", "no longer") between the subject and the trigger, or for a diet up to the diet
   word ("i am not vegan"); a hedge ("might", "thinking of", "want to"); the past ("used to", "was"); "anymore",
   "a lapsed vegetarian"; a question.
4. What becomes of it: the shopper's own statements are remembered; a household member's allergy is remembered as
   a household allergy (who is kept in `household_member`); other people's and hedged statements are dropped; a
   negated or retracted allergy or diet becomes a request to forget, which the database turns into a pending
   confirmation the shopper must accept (the extractor never removes one itself).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from worker.extract.insights import InsightReader, now_utc
from worker.extract.language import SUBJECTS, Clause, sentence_texts, sentences
from worker.extract.model import MAX_STATEMENTS, InsightStatement, PreferenceType, Said, Statement
from worker.extract.vocabulary import (
    ALLERGENS,
    CONDITIONS,
    DIETS_NEED_DIET,
    INTOLERANCES,
    LONGEST,
    RESTRICTION_OF,
    TASTES,
    english_words,
    match_at,
    person_names,
    restriction_key,
    word_set,
)

MAX_MESSAGE_CHARS = 20_000  # the part of a message that is read; record_message bounds the rest

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
# Symptoms of disgust as much as of the body ("olives make me sick"); the others are the body's ("bloated").
QUEASY = word_set("sick ill nauseous nauseated queasy gag puke vomit")
INTENSITY = word_set(
    "severe serious bad mild life threatening deadly major really very extreme extremely slight terrible known "
    "diagnosed food an a strong minor bit little pretty super awful horrible real true actual medical lifelong fatal "
    "dangerous moderate"
)
NEGATIONS = {"not", "never", "no", "none", "nor", "neither", "without"}
# Words that take a statement back on their own; "no longer", "gave up", "got over", "grew out" are read in _cues.
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
# People a diet word may describe: "a vegan mom" is the shopper after "i am", a guest after "cooking for".
PEOPLE = HOUSEHOLD | word_set(
    "friend friends guest guests people person customer customers coworker coworkers colleague colleagues neighbor "
    "neighbors neighbour neighbours roommate roommates man men woman women guy guys lady ladies visitors students"
)
DETERMINERS = word_set("some many most this that these those")
# Household members a shopper calls "the ...": "the kids", "the baby".
THE_HOUSEHOLD = word_set("kids children baby babies toddler twins boys girls wife husband hubby")
# After "my", words that keep the statement the shopper's own ("my diet is vegan", "my favorite food").
ABOUT_EATING = word_set(
    "diet diets allergy allergies favorite favourite fave fav own whole entire doctor doctors body stomach life "
    "lifestyle eating intolerance intolerances celiac coeliac severe food tummy gut skin goal goals new only usual go "
    "biggest main religion faith self guilty preference preferences choice"
)

DISLIKE_VERBS = word_set(
    "hate hates dislike dislikes detest detests loathe loathes despise despises abhor abhors hating avoid avoids "
    "avoiding"
)
NEGATED_DISLIKE = word_set(
    "like likes eat eats drink drinks enjoy enjoys want care touch stand bear stomach have do tolerate handle digest "
    "love liked eaten drank fancy dig"
)
LIKE_VERBS = word_set("love loves like likes adore adores enjoy enjoys prefer prefers crave craves craving loving dig")
BUY_VERBS = word_set("buy buys get use trust stick swear choose pick")
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
FAVOURITE = {"favorite", "favourite", "fave", "fav", "favorites", "favourites"}
FONDNESS = {("fan", "of"), ("fond", "of"), ("crazy", "about"), ("keen", "on")}
# "i'm not a coffee person", "i'm not much of a beer drinker", "a big meat eater": who one is by what one takes.
TAKER = word_set("person drinker eater lover fan")
FOOD_KINDS = word_set(
    "food foods drink drinks snack snacks fruit fruits vegetable vegetables veggie veggies meal meals dish dishes "
    "dessert desserts candy beverage treat treats cereal cheese meat soup sandwich pizza topping toppings breakfast "
    "lunch dinner flavor flavour cuisine thing kind type juice beer wine tea coffee cookie cookies ice cream chips "
    "brand sauce"
)
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
NO_OBJECT = word_set("it that this them when how you him her me being doing going to")
CONSUME = word_set("eat drink snack have")
# Heads that leave the food before them the item ("peanut products", "dairy stuff").
GENERIC_HEADS = word_set(
    "products product stuff things items foods food dishes dish flavored flavoured flavor flavour based type types "
    "kind kinds varieties brand brands lol haha though tho yum yummy anymore consumption intake"
)
# Foods that are also colours: not foods in a message about colours ("orange is my favorite color").
COLOUR_FOODS = word_set("orange lime peach plum cherry chocolate salmon mint lemon olive cream caramel tangerine")
COLOUR_WORDS = word_set("color colour colors colours colored coloured shade")
EATING = word_set("eating drinking having snacking munching sipping trying tasting chewing")


PRONOUNS = word_set("it them those these that this one ones")
FOOD_OR_ALLERGEN = frozenset({"food", "allergen"})
# After a pronoun object, words that show it is not a food ("I hate it when ...", "I love that you ...").
NOT_ANAPHORA = word_set("when how if that is was so you i we he she they because about to")


def _named(words: list[str]) -> list[str]:
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
        named = _named(words)
        if named:
            self.foods = named[-3:]
        self.previous = words
        subject = _subject(words, len(words), "self")
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


def _subject(words: list[str], before: int, inherited: str) -> str:
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


def _cues(words: list[str], start: int, stop: int) -> set[str]:
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


def _phrase_items(words: list[str], start: int, end: int, written: list[str]) -> tuple[list[tuple[str, str, int]], int]:
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
            if _brand_word(written[index], words[index], index == 0) or _maker(written, words, index, end):
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


def _brand_word(written: str, word: str, sentence_start: bool) -> bool:
    """A word that names a brand: written with a capital, not at the start, and not an English word."""
    if not written[:1].isupper() or sentence_start or len(word) < 2 or word.isdigit():
        return False
    return word not in english_words() and word not in {"i"}


def _maker(written: list[str], words: list[str], index: int, end: int) -> bool:
    """ "I prefer Heinz ketchup": a capitalised name that WordNet knows only as a person's, right before a food,
    names the food's maker (a place or a people does not: "Chicago pizza", "Italian bread")."""
    if index == 0 or not written[index][:1].isupper() or words[index] not in person_names():
        return False
    found = match_at(words, index + 1, end)
    return found is not None and found[1] == "food"


def _backward_items(words: list[str], end: int) -> tuple[list[tuple[str, str, int]], int]:
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
                    forget = _forget_request(clause)
                clause.forget = forget
                found += self._clause(clause, inherited, told, said)
                inherited = clause.subject or inherited
                told.update(clause.words, clause.question)
            said_insights = self.insights.read(sentence, said)
            # "this month i'm doing keto": a goal for a while (it expires), not a restriction.
            for_now = {i.insight_key.removeprefix("diet-goal-") for i in said_insights if i.insight_type == "goal"}
            for statement in _pescatarian(found, sentence.clauses):
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
        if words[:1] == ["who"] and _describes_self(told.previous):
            words = ["i", *words[1:]]  # "i am just a person who is vegan": the relative pronoun is the shopper
        found = _restrictions(
            [
                *_allergies(words, told),
                *_diets(words),
                *_conditions(words),
                *_dislikes_and_likes(words, clause.original, told),
                *_exceptions(words, told),
                *(_disgust(words, told) if clause.alone else []),
            ],
            words,
        )
        clause.subject = told.resolve(_subject(words, len(words), inherited))
        out: list[Statement] = []
        for item in found:
            who = "self" if item.own else told.resolve(_subject(words, item.at, inherited))
            if clause.question and not clause.forget:
                continue
            # Negation and the past from the trigger's subject on; hedges ("maybe i'm ...") and retractions
            # ("i outgrew my egg allergy", "... anymore") anywhere in its clause.
            start = _cue_start(words, item.at) if item.cues_from is None else item.cues_from
            cues = _cues(words, start, item.at if item.cues_to is None else item.cues_to)
            cues |= _cues(words, 0, len(words)) & {"retraction"}
            if STRONG_HEDGES & set(words):
                cues.add("hedge")
            statement = _decide(item, who, cues, clause.forget, said)
            if statement is not None:
                out.append(statement)
        return out


def _cue_start(words: list[str], at: int) -> int:
    """Cues count from the subject nearest before the trigger (a "no" before "I" is an interjection), and not
    across an "and" that starts another predicate ("i do not eat meat and am vegan": the "not" is eat's)."""
    for index in range(at - 1, -1, -1):
        if words[index] in {"i", "we", "my", "our", "me", "us"}:
            return index
        if words[index] in {"and", "but"} and match_at(words, index + 1, index + 2) is None:
            return index + 1
    return 0


def _forget_request(clause: Clause) -> bool:
    words = clause.words[:8]
    for index, word in enumerate(words):
        if word in {"forget", "delete", "remove", "erase", "drop", "clear", "unlearn"}:
            return all(
                w
                in {
                    "please",
                    "can",
                    "could",
                    "would",
                    "you",
                    "go",
                    "ahead",
                    "and",
                    "just",
                    "kindly",
                    "ok",
                    "okay",
                    "also",
                    "actually",
                    "hey",
                    "oh",
                    "so",
                }
                for w in words[:index]
            )
        if word == "remember" and index >= 1 and words[index - 1] in {"not", "stop"}:
            return True
        if word == "remembering" and index >= 1 and words[index - 1] == "stop":
            return True
    return False


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


def _allergies(words: list[str], told: Told) -> list[Found]:
    found: list[Found] = []
    for index, word in enumerate(words):
        if word not in ALLERGY_WORDS:
            continue
        items: list[tuple[str, str, int]] = []
        start = index
        if index + 1 < len(words) and words[index + 1] in {"to", "with"}:
            after, _ = _phrase_items(words, index + 2, len(words), words)
            items += [i for i in after if i[0] in {"allergen", "food"}] or told.antecedents(words, index + 2)
        before, begin = _backward_items(words, index)
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


def _conditions(words: list[str]) -> list[Found]:
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


def _restrictions(found: list[Found], words: list[str]) -> list[Found]:
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


def _pescatarian(statements: list[Statement], clauses: list[Clause]) -> list[Statement]:
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


def _diets(words: list[str]) -> list[Found]:
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


def _dislikes_and_likes(words: list[str], written: list[str], told: Told) -> list[Found]:
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
            and (items_stop := _phrase_items(words, index + 1, len(words), written))[0]
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
            takes, begin = _backward_items(words, index)
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
            subject, _ = _backward_items(words, _copula_start(words, index - 1))  # "donuts are my weakness"
            found += [Found("favorite", key, at, own=True) for kind_, key, at in subject if kind_ == "food"]
            continue
        elif word in {"drink", "eat"} and index + 2 < len(words) and words[index + 1] in {"a", "lots", "tons"}:
            if words[index + 1] == "a" and words[index + 2] != "lot":
                continue
            kind = "favorite"
        elif word == "mine" and told.asked and index + 1 < len(words) and words[index + 1] in {"is", "are"}:
            items, _ = _phrase_items(words, index + 2, len(words), written)
            found += [Found(told.asked, key, index) for kind_, key, _ in items if kind_ in {"food", "allergen"}]
            continue
        elif word in FAVOURITE:
            found += _favourite(words, index, told)
            continue
        elif word in GROSS and index >= 2 and words[index - 2] in {"find", "finds"}:
            # "i find olives gross", "i find them disgusting" (not "i find it disgusting that ...")
            object_ = _named(words[index - 1 : index])
            if not object_ and before in PRONOUNS and _ends_judgement(words, index + 1):
                object_ = _antecedent(words, index - 1, told)
            found += [Found("dislike", key, index - 2) for key in object_]
            continue
        elif word == "worst" and before == "the" and index >= 2 and words[index - 2] in {"is", "are"}:
            subject, _ = _backward_items(words, _copula_start(words, index - 1))  # "mushrooms are the worst"
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
        elif word in BUY_VERBS and before in {"i", "we", "only", "always", "usually", "just", "mostly"}:
            items, _ = _phrase_items(words, index + 1, len(words), written)
            found += [Found("brand", key, index) for kind_, key, _ in items if kind_ == "brand"]
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
        items = pointed or _phrase_items(words, start, len(words), written)[0]
        for item_kind, key, _ in items:
            if item_kind == "brand":
                if kind == "favorite":
                    found.append(Found("brand", key, index))
            elif item_kind in {"food", "allergen"}:
                found.append(Found(kind, key, index, negative_trigger=negative, effect=effect))
    return found


def _describes_self(words: list[str]) -> bool:
    """Whether a clause says what the shopper is ("i am a mom", "i'm just a person"), so that a "who" after it
    stands for the shopper."""
    for index, word in enumerate(words[:-2]):
        if word in {"i", "we"} and words[index + 1] in {"am", "are"}:
            rest = [w for w in words[index + 2 :] if w not in {"just", "only", "really", "a", "an", "the", "one"}]
            return len(rest) <= 2 and not any(w in SUBJECTS or match_at([w], 0, 1) for w in rest)
    return False


def _antecedent(words: list[str], pronoun: int, told: Told) -> list[str]:
    """What a pronoun subject of a judgement stands for ("i had bacon, it is my favorite", "alcohol, its nasty"):
    the food named last, in its clause or the one before ("they" only when the last plural named was a food: "the
    animals on the farm, the chicken. they are my favorite" are the animals)."""
    if words[pronoun] not in {"it", "they", "them", "these", "those"}:
        return []  # "that is my fave" after "my job is in a cereal factory" is the job
    if words[pronoun] != "it" and not told.plural_food:
        return []
    return (_named(words[:pronoun]) or _named(told.previous))[-1:]


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
    subject, _ = _backward_items(words, end)
    if subject:
        return [(key, at) for kind, key, at in subject if kind in kinds]
    if end and pronoun:
        return [(key, end - 1) for key in _antecedent(words, end - 1, told)]
    return []


def _exceptions(words: list[str], told: Told) -> list[Found]:
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
    if _cues(previous, 0, len(previous)) & {"negation", "hedge", "past", "used_to"}:
        return []
    if verb is not None and _subject(previous, verb, "self") != "self":
        return []  # "my son eats everything but fish": his
    items, stop = _phrase_items(words, start, len(words), words)
    if {"i", "we", "you", "he", "she", "they", "my"} & set(words[stop:]):
        return []  # the clause goes on to say something else: "but fish i love"
    return [Found("dislike", key, 0, True, own=True) for kind, key, _ in items if kind in {"food", "allergen"}]


def _disgust(words: list[str], told: Told) -> list[Found]:
    """ "they gave me a salad! yuck.": a word of disgust as a sentence of its own, right after a clause that names a
    food ("I ordered pizza. Gross, it came cold" is about that pizza)."""
    if not words or not DISGUST & set(words) or any(w not in DISGUST | {"so", "just", "lol", "!"} for w in words):
        return []
    return [Found("dislike", key, 0) for key in _named(told.previous)[-2:]]


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
            items, _ = _phrase_items(words, after, len(words), words)
            found += [Found(kind, key, owner, own=True) for item, key, _ in items if item in {"food", "allergen"}]
        copula = owner - 1
        while copula > 0 and words[copula] in {"definitely", "probably", "totally", "absolutely", "still", "always"}:
            copula -= 1
        if copula >= 1 and words[copula] in {"is", "are"}:
            start = _copula_start(words, copula + 1)
            judged = _said_of(words, start, told, pronoun=_ends_judgement(words, after))
            found += [Found(kind, key, at, own=True) for key, at in judged]
    return found
