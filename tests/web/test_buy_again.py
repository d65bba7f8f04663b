"""A favourite's buy-again timing on the page's list (GET /api/user/memories): the words of the prompt's line, from
the favourite's evidence record as the worker derived it from the shopper's orders, and whether it is due now."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from tests.conftest import Database
from tests.web.conftest import (
    EGGS,
    MILK,
    RILEY,
    RILEY_EMAIL,
    SEED_PASSWORD,
    bearer,
    memories_by_key,
    sign_in,
)
from worker.prompt import calls
from worker.prompt.render import render_memory_block


def test_each_favourite_carries_its_timing_in_the_prompts_words_and_whether_it_is_due(
    client: TestClient, riley_buys_again: Database
) -> None:
    listing = client.get("/api/user/memories", headers=bearer(sign_in(client, RILEY_EMAIL, SEED_PASSWORD))).json()
    memories = memories_by_key(listing)
    milk, eggs = memories[MILK.sku], memories[EGGS.sku]
    # Every 7 days by her own gaps, drawn a little toward the population's interval.
    assert re.fullmatch(r"about every [78] days, last bought 9 days ago \(due now\)", milk["timing_words"])
    assert re.fullmatch(r"about every [78] days, last bought 2 days ago", eggs["timing_words"])
    assert milk["due_now"] is True and eggs["due_now"] is False
    # The same words as the prompt's line for each.
    with riley_buys_again.connect() as conn:
        block = render_memory_block(calls.memory_context(conn, RILEY)).text
    assert f"{MILK.name}, sku {MILK.sku}, {milk['timing_words']} (" in block
    assert f"{EGGS.name}, sku {EGGS.sku}, {eggs['timing_words']} (" in block


def test_a_memory_without_buy_again_timing_says_none(client: TestClient) -> None:
    listing = client.get("/api/user/memories", headers=bearer(sign_in(client))).json()
    for section in listing["sections"]:
        for memory in section["memories"]:
            if memory["memory_type"] != "favorite":
                assert memory["timing_words"] is None and memory["due_now"] is False
