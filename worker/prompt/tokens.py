"""A token estimate for the prompt block, offline.

Claude's tokenizer is not published and its token-counting endpoint cannot be reached from here; tiktoken's
encodings are OpenAI's and are downloaded on first use. So this is a documented approximation that errs high:
each run of letters or of digits costs one token per 4 characters (at least one), and every other non-space
character (punctuation, brackets, hyphens) costs one token of its own. BPE tokenizers merge common words and
punctuation pairs, so real counts are expected to be lower; "[m12]" counts 4 and "milk-whole-gal" 6 here."""

from __future__ import annotations

import math
import re

_PIECE = re.compile(r"[A-Za-z]+|[0-9]+|[^\sA-Za-z0-9]")


def estimate_tokens(text: str) -> int:
    return sum(math.ceil(len(piece) / 4) if piece[0].isalnum() else 1 for piece in _PIECE.findall(text))
