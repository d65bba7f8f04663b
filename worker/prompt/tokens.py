"""A token estimate for the prompt block, offline.

Claude's tokenizer is not published and the token-counting endpoint cannot be reached here; tiktoken's encodings are
OpenAI's, fetched from the network on first use. So this is a documented approximation, chosen to over-count rather
than under-count: every run of letters or digits costs one token per 4 characters (at least one), every other
non-space character costs one token. On English prose it lands within about 10-20% above BPE counts (cl100k gives
about 4 characters a token); identifiers such as "milk-whole-gal" and "[m12]" are counted piece by piece."""

from __future__ import annotations

import math
import re

_PIECE = re.compile(r"[A-Za-z]+|[0-9]+|[^\sA-Za-z0-9]")


def estimate_tokens(text: str) -> int:
    return sum(math.ceil(len(piece) / 4) if piece[0].isalnum() else 1 for piece in _PIECE.findall(text))
