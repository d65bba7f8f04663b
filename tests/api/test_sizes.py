"""One way to refuse: every record_* entry point checks the size of its argument before writing, through one helper
(private.size_problem), and answers 22023 with a sentence naming the limit; nothing is written. record_cart_add
used to fail on the table's CHECK (23514) instead."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from tests.conftest import Database, acting_as, create_user

BIG = "x" * 300_000  # an incompressible-enough string past 256 KiB once in JSON
ITEM = {"sku": "milk-1", "name": "Milk", "category": "dairy", "brand": "Acme", "price": 1.0}

# (call, arguments, the limit its sentence must name)
OVERSIZE: list[tuple[str, tuple[Any, ...], str]] = [
    ("select public.record_cart_add(%s::jsonb)", (json.dumps({**ITEM, "note": BIG}),), "262144 (256 KiB)"),
    (
        "select public.record_checkout(%s::jsonb)",
        (
            json.dumps(
                {
                    "order_id": "o-1",
                    "placed_at": "2026-11-21T18:42:00-06:00",
                    "time_zone": "America/Chicago",
                    "items": [{**ITEM, "quantity": 1, "note": BIG}],
                }
            ),
        ),
        "262144 (256 KiB)",
    ),
    (
        "select public.record_swap(%s::jsonb, %s::jsonb, true)",
        (json.dumps({**ITEM, "note": BIG[:140_000]}), json.dumps({**ITEM, "brand": "Other"})),
        "131072 (128 KiB)",
    ),
    (
        "select public.record_swap(%s::jsonb, %s::jsonb, false, %s)",
        (json.dumps(ITEM), json.dumps({**ITEM, "brand": "Other"}), "r" * 1001),
        "at most 1000 are accepted",
    ),
    ("select public.record_message(%s)", ("m" * 10_001,), "at most 10000 are accepted"),
    (
        "select public.record_interaction('search', 'q', %s::jsonb)",
        (json.dumps({"query": BIG}),),
        "262144 (256 KiB)",
    ),
    (
        "select public.record_interactions(%s::jsonb)",
        (json.dumps([{"interaction_type": "search", "interaction_value": {"q": BIG}}]),),
        "262144 (256 KiB)",
    ),
    (
        "select public.record_interactions(%s::jsonb)",
        (
            json.dumps(
                [{"interaction_type": "search", "interaction_value": {"q": BIG[:200_000] + str(i)}} for i in range(45)]
            ),
        ),
        "8388608 (8 MiB)",
    ),
]


@pytest.mark.parametrize(
    ("call", "args", "limit"), OVERSIZE, ids=[f"{c.split('(')[0][14:]}-{i}" for i, (c, _, _) in enumerate(OVERSIZE)]
)
def test_every_oversize_record_call_answers_22023_naming_the_limit(
    db: Database, call: str, args: tuple[Any, ...], limit: str
) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        with pytest.raises(psycopg.Error) as caught, acting_as(conn, "authenticated", user):
            conn.execute(call, args)
        assert caught.value.sqlstate == "22023", caught.value
        message = str(caught.value.diag.message_primary)
        assert limit in message and message.endswith("."), message
        assert conn.execute("select count(*) as n from public.interaction_history").fetchone() == {"n": 0}


FUNCTIONS = (
    "select p.proname, pg_get_functiondef(p.oid) as body"
    " from pg_proc as p join pg_namespace as n on n.oid = p.pronamespace"
)


def test_the_one_helper_is_what_every_record_function_calls(db: Database) -> None:
    with db.connect() as conn:
        rows = conn.execute(f"{FUNCTIONS} where n.nspname = 'public' and p.proname like 'record\\_%'").fetchall()
        checked = conn.execute(f"{FUNCTIONS} where n.nspname = 'private' and p.proname = 'event_problem'").fetchone()
    assert checked is not None
    names = {r["proname"] for r in rows}
    assert names >= {"record_interaction", "record_interactions", "record_cart_add", "record_checkout", "record_swap"}
    assert "record_message" in names
    for row in rows:  # record_interaction checks its event with event_problem, which calls the helper
        body = row["body"] if row["proname"] != "record_interaction" else checked["body"]
        assert "private.size_problem(" in body, row["proname"]
