"""The token estimate errs high, piece by piece, as its docstring says."""

from __future__ import annotations

from worker.prompt.tokens import estimate_tokens


def test_identifiers_and_references_are_counted_piece_by_piece() -> None:
    assert estimate_tokens("[m12]") == 4
    assert estimate_tokens("milk-whole-gal") == 6
    assert estimate_tokens("") == 0


def test_prose_is_never_counted_below_four_characters_a_token() -> None:
    text = "- vegetarian: Never orders meat products (confidence: 0.95) [m1]\n"
    assert estimate_tokens(text) >= len(text.replace(" ", "")) / 4
    assert estimate_tokens(text * 10) == 10 * estimate_tokens(text)
