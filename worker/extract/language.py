"""Tokens, sentences and clauses of a chat message, for the rule extractor.

Everything here is a single left-to-right pass with bounded look-around, so reading a message takes time linear in
its length whatever it contains (no regular expression with nested repetition runs over the text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from worker.extract.vocabulary import match_at, word_set

# A token: a word (letters and digits, with an inner apostrophe: "don't", "cow's") or one punctuation mark that
# matters. Everything else (emoji, symbols, hyphens) separates words.
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[.!?;,:()\n]")

_NOT = {
    "don't": "do",
    "doesn't": "does",
    "didn't": "did",
    "can't": "can",
    "won't": "will",
    "isn't": "is",
    "aren't": "are",
    "wasn't": "was",
    "weren't": "were",
    "haven't": "have",
    "hasn't": "has",
    "hadn't": "had",
    "couldn't": "could",
    "shouldn't": "should",
    "wouldn't": "would",
    "ain't": "am",
    "mustn't": "must",
    "dont": "do",
    "doesnt": "does",
    "didnt": "did",
    "cant": "can",
    "wont": "will",
    "isnt": "is",
    "arent": "are",
    "wasnt": "was",
    "havent": "have",
    "hasnt": "has",
    "couldnt": "could",
    "shouldnt": "should",
    "wouldnt": "would",
    "cannot": "can",
}
# Tokenised text ("don t", "i m") splits the contraction in two.
_SPLIT_NOT = word_set("don doesn didn can won isn aren wasn weren haven hasn couldn shouldn wouldn ain")
_SUFFIX = {"'m": "am", "'re": "are", "'ve": "have", "'ll": "will", "'d": "would"}
_IS_AFTER = word_set("it that he she there what who this here everything nothing")
_SHORT = {
    "im": ("i", "am"),
    "ive": ("i", "have"),
    "id": ("i", "would"),
    "youre": ("you", "are"),
    "thats": ("that", "is"),
    "its": ("it", "is"),
}
SENTENCE_END = {".", "!", "?", ";", "\n"}
CLAUSE_WORDS = word_set(
    "but though although however except whereas yet so because cause cuz since while unless if when whenever which "
    "who unlike besides plus otherwise tho"
)
SUBJECTS = word_set(
    "i we he she they you it my our his her their your this that these those there everyone everybody someone "
    "somebody nobody people anyone me us"
)
INTERJECTIONS = word_set(
    "no nope nah yes yeah yep yup well oh ok okay lol haha hi hello hey sure actually um uh wow hmm honestly btw also "
    "and but so lmao ah aw awesome cool nice great good thanks thank please right really true absolutely definitely "
    "anyway anyways"
)
# Verbs that, after a comma, start a clause of their own: a question ("..., have you tried it?") or a predicate
# with the subject left out ("i love cheese, have it daily"), never the next item of a list.
AUXILIARIES = word_set("do does did have has are is am was were can could would will")
QUESTION_OPENERS = word_set(
    "what which who whom whose where why how are is am do does did can could would will should have has was were may "
    "shall any got anything know"
)


@dataclass
class Clause:
    words: list[str]  # lower case, contractions expanded
    original: list[str]  # the same tokens as written (case kept), for brand names
    question: bool = False
    forget: bool = False  # inside a request to forget ("please forget that ...")
    subject: str | None = None  # the subject the clause passes on to the next one
    alone: bool = False  # the whole sentence ("Yuck!")


@dataclass
class Sentence:
    clauses: list[Clause] = field(default_factory=list)


def _lower(text: str) -> str:
    # Keep one character for one: str.lower() can lengthen a few characters, and spans must line up.
    text = text.replace("\u2019", "'").replace("`", "'")
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def tokens(message: str) -> list[tuple[str, str]]:
    """(word, as written) pairs, contractions expanded ("don't" -> do not, "I'm" -> i am)."""
    lowered = _lower(message)
    out: list[tuple[str, str]] = []
    for match in _TOKEN.finditer(lowered):
        word, written = match.group(), message[match.start() : match.end()]
        if word in _NOT:
            out += [(_NOT[word], written), ("not", "not")]
        elif word.endswith("n't"):
            out += [(word[:-3], written), ("not", "not")]
        elif word == "t" and out and out[-1][0] in _SPLIT_NOT:
            base = {"don": "do", "won": "will", "ain": "am", "doesn": "does", "didn": "did", "can": "can"}.get(
                out[-1][0]
            )
            out[-1] = (base or out[-1][0].removesuffix("n"), out[-1][1])
            out.append(("not", "not"))
        elif word in {"m", "ve", "re", "ll", "d", "s"} and out and out[-1][0] in {"i", "you", "we", "they", "it"}:
            out.append(({"m": "am", "ve": "have", "re": "are", "ll": "will", "d": "would", "s": "is"}[word], word))
        elif word in _SHORT:
            first, second = _SHORT[word]
            out += [(first, written), (second, written)]
        elif "'" in word:
            base, suffix = word.split("'", 1)
            suffix = "'" + suffix
            if suffix in _SUFFIX:
                out += [(base, written), (_SUFFIX[suffix], suffix)]
            elif suffix == "'s" and base in _IS_AFTER:
                out += [(base, written), ("is", "is")]
            else:
                out.append((base, written.split("'", 1)[0]))  # a possessive: "my son's" -> my son
        else:
            out.append((word, written))
    return out


def _starts_clause(words: list[str], at: int) -> bool:
    """Whether a comma or an "and" before `at` ends a clause: a new subject or clause word follows, not the next
    item of a list ("peanuts, tree nuts and sesame")."""
    if at >= len(words):
        return True
    word = words[at]
    if word in {"and", "or"} and at + 1 < len(words):
        word = words[at + 1]
        at += 1
    found = match_at(words, at, min(len(words), at + 4))
    if found is not None:
        # "..., fish is fine": a food with a verb of its own is the next clause's subject, not a list's next item.
        return words[at + found[0] : at + found[0] + 1] in (["is"], ["are"], ["was"], ["were"])
    return (
        word in SUBJECTS
        or word in CLAUSE_WORDS
        or word in INTERJECTIONS
        or word in AUXILIARIES
        or word in {"not", "no", "never"}
    )


def sentence_texts(message: str) -> list[str]:
    """The text of each sentence `sentences` finds, as written (stripped): the shopper's own words, for evidence."""
    pieces = re.split(r"[.!?;\n]", message)
    return [" ".join(piece.split()) for piece in pieces if _TOKEN.search(_lower(piece))]


def sentences(message: str) -> list[Sentence]:
    pairs = tokens(message)
    result: list[Sentence] = []
    start = 0
    for index in range(len(pairs) + 1):
        if index == len(pairs) or pairs[index][0] in SENTENCE_END:
            if index > start:
                result.append(_sentence(pairs[start:index], index < len(pairs) and pairs[index][0] == "?"))
            start = index + 1
    return result


def _sentence(pairs: list[tuple[str, str]], asked: bool) -> Sentence:
    words = [w for w, _ in pairs]
    sentence = Sentence()
    start = 0
    for index, word in enumerate([*words, "."]):
        if index == len(words):
            boundary, skip = True, 1
        elif word in {",", ":", "(", ")"}:
            boundary, skip = _starts_clause(words, index + 1), 1
        elif word in CLAUSE_WORDS:
            # "it makes me so bloated": "so" after the one it makes feel something is a degree, not a clause word.
            intensifier = word == "so" and index > 0 and words[index - 1] in {"me", "us"}
            boundary, skip = index > start and not intensifier, 0
        elif word in {"and", "or"} and index + 1 < len(words):
            after = words[index + 1]
            new_subject = after in SUBJECTS and (
                after not in {"my", "our"} or match_at(words, index + 2, min(len(words), index + 6)) is None
            )
            boundary, skip = index > start and new_subject, 0
        else:
            continue
        if not boundary:
            continue
        # Commas inside a clause separate the items of a list; other punctuation goes.
        piece = [p for p in pairs[start:index] if p[0] not in {":", "(", ")"}]
        while piece and piece[0][0] == ",":
            piece = piece[1:]
        if piece:
            sentence.clauses.append(Clause([w for w, _ in piece], [o for _, o in piece]))
        start = index + skip
    if len(sentence.clauses) == 1:
        sentence.clauses[0].alone = True
    for position, clause in enumerate(sentence.clauses):
        first = next((w for w in clause.words if w not in INTERJECTIONS), "")
        opener = first in QUESTION_OPENERS and not (first in {"any", "got", "know"} and not asked)
        last = position == len(sentence.clauses) - 1
        clause.question = (
            (opener and asked)
            or (first in {"what", "which", "how", "why", "where", "whose"} and position == 0)
            or (last and asked and not ({"i", "we", "my", "our"} & set(clause.words)))
        )
    return sentence
