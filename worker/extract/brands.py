"""Brands: which makers the shopper sticks to.

A brand is named where a noun phrase is read (reading.phrase_items): "X brand", a capitalised name that is no
English word ("Chobani yogurt"), or a person's name before a food ("Heinz ketchup"); the name tests are in
vocabulary.py. A like of a brand ("I love Chobani") is read with the other likes (tastes.py); this module reads
the shopper saying what they buy ("I only buy Heinz", "we always use Kerrygold").
"""

from __future__ import annotations

from worker.extract.reading import Found, phrase_items
from worker.extract.vocabulary import word_set

BUY_VERBS = word_set("buy buys get use trust stick swear choose pick")
# Before a verb of buying, the words that make it the shopper's habit ("i buy", "we only use").
BUYERS = {"i", "we", "only", "always", "usually", "just", "mostly"}


def read_brands(words: list[str], written: list[str]) -> list[Found]:
    found: list[Found] = []
    for index, word in enumerate(words):
        before = words[index - 1] if index else ""
        if word in BUY_VERBS and before in BUYERS:
            items, _ = phrase_items(words, index + 1, len(words), written)
            found += [Found("brand", key, index) for kind_, key, _ in items if kind_ == "brand"]
    return found
