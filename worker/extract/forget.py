"""Requests to forget: "forget that I'm vegan", "please delete my peanut allergy", "stop remembering that".

A sentence that opens with one makes every statement in it a request to forget (the database turns an allergy's
or a diet's into a pending confirmation the shopper must accept; the extractor never removes one itself).
"""

from __future__ import annotations

from worker.extract.language import Clause


def is_forget_request(clause: Clause) -> bool:
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
