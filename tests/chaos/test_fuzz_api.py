"""Chaos: fuzzed payloads for every API function a shopper calls (hypothesis, a bounded number of examples each).

Each call runs as PostgREST runs it: one committed transaction as the signed-in shopper. Whatever the payload,
the answer is a result or one of the SQLSTATEs the API documents (22023 bad input with a sentence, 23505 an order
recorded with other contents, PT404 no such memory); and a refused call leaves every row stored about the shopper
exactly as it was (0 partial writes). Text and JSON strings carry no NUL character: PostgreSQL's text and jsonb
cannot hold one, so PostgREST refuses such a request before any function runs; nor NaN, which JSON cannot carry.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Database, create_user
from worker.db.request import set_request_context, shopper_claims

# Examples per function: 25 in every run (about 5 s in all on an idle machine), more on demand.
EXAMPLES = int(os.environ.get("CMS_CHAOS_EXAMPLES", "25"))
DOCUMENTED = {"22023", "23505", "PT404"}

text = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=300)
scalars = st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    scalars | text, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(text, inner, max_size=5), max_leaves=20
)
GOOD_ITEM: dict[str, Any] = {
    "sku": "milk-1", "name": "Milk", "category": "dairy", "brand": "Horizon", "price": 4.99, "quantity": 2,
    "tags": ["organic"],
}  # fmt: skip


def _mutated(base: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Near-valid objects: a good one with some fields replaced by anything, or dropped."""
    return st.builds(
        lambda changes, dropped: {k: v for k, v in {**base, **changes}.items() if k not in dropped},
        st.dictionaries(st.sampled_from([*sorted(base), "extra"]), json_values, max_size=3),
        st.sets(st.sampled_from(sorted(base)), max_size=2),
    )


items = _mutated(GOOD_ITEM) | json_values
checkouts = _mutated(
    {"order_id": "F-1", "placed_at": "2026-11-21T18:42:00-06:00", "time_zone": "America/Chicago", "items": [GOOD_ITEM]}
) | st.builds(
    lambda lines, total: {"order_id": "F-2", "placed_at": "2026-11-21T18:42:00Z", "items": lines, "total": total},
    st.lists(items, max_size=4),
    json_values,
)
events = (
    st.lists(_mutated({"interaction_type": "search", "interaction_key": "milk", "interaction_value": {}}), max_size=4)
    | json_values
)
uuids = st.uuids() | st.just(UUID(int=0))
confidences = (
    st.none() | st.decimals(allow_nan=False, allow_infinity=False, places=3) | st.sampled_from([Decimal("0.7")])
)
types = st.sampled_from(["dietary", "allergy", "dislike", "favorite", "brand", "Allergy", "", "x" * 300]) | text

# Every function a shopper calls: its SQL (named arguments, cast as PostgREST would) and how to fuzz its arguments.
FUNCTIONS: dict[str, tuple[str, st.SearchStrategy[tuple[Any, ...]]]] = {
    "record_interaction": (
        "select public.record_interaction(interaction_type => %s, interaction_key => %s,"
        " interaction_value => %s::jsonb, session_id => %s::uuid, message_id => %s)",
        st.tuples(
            st.sampled_from(["search", "question", "cart_add", "checkout", "view_item"]) | text,
            st.none() | text,
            st.none() | json_values.map(json.dumps),
            st.none() | uuids,
            st.none() | text,
        ),
    ),
    "record_interactions": (
        "select public.record_interactions(events => %s::jsonb)",
        st.tuples(events.map(json.dumps)),
    ),
    "record_cart_add": (
        "select public.record_cart_add(item => %s::jsonb, session_id => %s::uuid)",
        st.tuples(items.map(json.dumps), st.none() | uuids),
    ),
    "record_checkout": ("select public.record_checkout(checkout => %s::jsonb)", st.tuples(checkouts.map(json.dumps))),
    "record_swap": (
        "select public.record_swap(original => %s::jsonb, replacement => %s::jsonb, accepted => %s, reason => %s)",
        st.tuples(items.map(json.dumps), items.map(json.dumps), st.none() | st.booleans(), st.none() | text),
    ),
    "record_message": (
        "select public.record_message(content => %s, session_id => %s::uuid, message_id => %s)",
        st.tuples(text, st.none() | uuids, st.none() | text),
    ),
    "remember_preference": (
        "select public.remember_preference(preference_type => %s, preference_key => %s, preference_value => %s,"
        " reason => %s)",
        st.tuples(types, text, st.none() | text, st.none() | text),
    ),
    "memory_context": (
        "select public.memory_context(min_confidence => %s::numeric, query => %s)",
        st.tuples(confidences, st.none() | text),
    ),
    "explain_memory": ("select public.explain_memory(memory_id => %s::uuid)", st.tuples(uuids)),
    "forget_memory": ("select public.forget_memory(memory_id => %s::uuid)", st.tuples(uuids)),
    "export_memories_page": (
        "select public.export_memories_page(after => %s, max_rows => %s)",
        st.tuples(st.none() | text | json_values.map(json.dumps), st.none() | st.integers(-5, 20000)),
    ),
    "clear_memories": ("select public.clear_memories()", st.just(())),
    "export_memories": ("select public.export_memories()", st.just(())),
}

# Everything stored about one shopper, as one fingerprint.
STATE = """
select md5(concat_ws('|',
  (select string_agg(t::text, ',' order by t.id) from public.interaction_history as t where t.user_id = %(u)s),
  (select string_agg(t::text, ',' order by t.id) from public.customer_preferences as t where t.user_id = %(u)s),
  (select string_agg(t::text, ',' order by t.id) from public.shopping_patterns as t where t.user_id = %(u)s),
  (select string_agg(t::text, ',' order by t.id) from public.memory_insights as t where t.user_id = %(u)s),
  (select string_agg(t::text, ',' order by t.memory_key) from private.memory_suppressions as t where t.user_id = %(u)s),
  (select string_agg(t::text, ',' order by t.id) from private.jobs as t where t.user_id = %(u)s),
  (select t::text from private.shopper_volume as t where t.user_id = %(u)s))) as state
"""


@pytest.fixture(scope="module")
def shopper(server: Any, templates: dict[str, str]) -> Iterator[tuple[Database, UUID]]:
    from tests.conftest import _database_copy

    with _database_copy(server, templates, "current") as db, db.connect() as conn:
        yield db, create_user(conn)


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_fuzzed_payloads_get_a_result_or_a_documented_error_and_never_a_partial_write(
    shopper: tuple[Database, UUID], function: str
) -> None:
    db, user = shopper
    query, arguments = FUNCTIONS[function]
    seen: dict[str, int] = {}

    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(arguments)
    def call(args: tuple[Any, ...]) -> None:
        with db.connect() as conn:
            before = conn.execute(STATE, {"u": user}).fetchone()
            try:
                with conn.transaction():
                    set_request_context(conn, "authenticated", shopper_claims(user))
                    conn.execute(query, args)
                seen["ok"] = seen.get("ok", 0) + 1
            except psycopg.Error as error:
                seen[str(error.sqlstate)] = seen.get(str(error.sqlstate), 0) + 1
                assert error.sqlstate in DOCUMENTED, f"{function}{args!r}: {error.sqlstate} {error}"
                assert conn.execute(STATE, {"u": user}).fetchone() == before, f"{function}{args!r}: partial write"

    call()
    print(f"fuzz {function}: {dict(sorted(seen.items()))}")  # the figures for benchmarks/RESULTS.md (pytest -s)
    assert sum(seen.values()) >= (EXAMPLES // 2 if "%s" in query else 1)  # hypothesis stops early on a constant
