"""Every size has a stated bound (issue 12): the sections memory_context always includes are capped and say how
many more exist, the whole document stays under 64 KiB, a shopper's volume is limited with a clear 22023 error,
and the export pages so that it works at any size the limits allow."""

from __future__ import annotations

import json
import secrets
from typing import Any
from uuid import UUID

import psycopg
import pytest

from tests.conftest import Database, acting_as, create_user


def _as_shopper(conn: psycopg.Connection[Any], user: UUID, query: str, *params: Any) -> Any:
    with acting_as(conn, "authenticated", user):
        row = conn.execute(query, params).fetchone()
    assert row is not None
    return next(iter(row.values()))


def _refusal(conn: psycopg.Connection[Any], user: UUID, query: str, *params: Any) -> tuple[str | None, str]:
    with pytest.raises(psycopg.Error) as caught, acting_as(conn, "authenticated", user):
        conn.execute(query, params)
    return caught.value.sqlstate, str(caught.value.diag.message_primary)


def _stated(conn: psycopg.Connection[Any], user: UUID, kind: str, n: int, *, long: bool = False) -> None:
    """`n` explicit preferences of `kind`, written straight into the table (as past the API's limit)."""
    conn.execute(
        "insert into public.customer_preferences (user_id, preference_type, preference_key, preference_value,"
        " confidence, reason, source) select %s, %s, %s || k || repeat('k', %s), repeat('v', %s), 1.00,"
        " repeat('r', %s), 'explicit' from generate_series(1, %s) as k",
        (user, kind, f"{kind} ", 240 if long else 0, 2000 if long else 0, 1000 if long else 0, n),
    )


def test_the_always_included_sections_are_capped_and_say_how_many_more_exist(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        _stated(conn, user, "allergy", 2000, long=True)
        _stated(conn, user, "dietary", 40, long=True)
        _stated(conn, user, "dislike", 100, long=True)
        for query in (None, "peanut allergy dinner"):
            document = _as_shopper(conn, user, "select public.memory_context(0.7, %s)", query)
            assert (len(document["allergies"]), len(document["dietary"])) == (25, 10)
            assert document["omitted"]["allergies"] == 1975 and document["omitted"]["dietary"] == 30
            size = len(json.dumps(document).encode())
            assert size < 64 * 1024, size
            assert all(len(item["value"]) <= 300 and len(item["reason"]) <= 300 for item in document["allergies"])


def test_stated_preferences_are_limited_to_500_with_a_sentence(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        _stated(conn, user, "allergy", 500)
        state, message = _refusal(conn, user, "select public.remember_preference('allergy', 'sesame')")
        assert (state, message) == (
            "22023",
            "This shopper has stated 500 preferences, the most kept; forget one before adding another.",
        )
        # Confirming something already stated is always possible.
        assert _as_shopper(conn, user, "select public.remember_preference('allergy', 'allergy 7') is not null")


def test_a_shoppers_event_history_is_limited_and_a_refused_call_writes_nothing(db: Database) -> None:
    with db.connect() as conn:
        user, other = create_user(conn), create_user(conn)
        conn.execute(
            "insert into public.interaction_history (user_id, interaction_type, interaction_key)"
            " select %s, 'search', 'milk' from generate_series(1, 100000)",
            (user,),
        )
        state, message = _refusal(conn, user, "select public.record_interaction('search', 'eggs')")
        assert state == "22023"
        assert message.startswith("This shopper's history is full: it holds at most 100000 events and 64 MiB")
        assert conn.execute(
            "select count(*) as n from public.interaction_history where user_id = %s", (user,)
        ).fetchone() == {"n": 100000}
        # Deleting evidence makes room again; another shopper is not affected.
        conn.execute(
            "delete from public.interaction_history where id in"
            " (select id from public.interaction_history where user_id = %s limit 10)",
            (user,),
        )
        assert _as_shopper(conn, user, "select public.record_interaction('search', 'eggs') is not null")
        assert _as_shopper(conn, other, "select public.record_interaction('search', 'eggs') is not null")
        conn.execute(  # 349 events of about 192 KB: about 100 KB short of 64 MiB
            "insert into public.interaction_history (user_id, interaction_type, interaction_key, interaction_value)"
            " select %s, 'search', 'milk', jsonb_build_object('blob', (select string_agg(md5(k::text || g::text), '')"
            " from generate_series(1, 6000) as g)) from generate_series(1, 349) as k",
            (other,),
        )
        room = (
            64 * 1024 * 1024
            - conn.execute("select event_bytes from private.shopper_volume where user_id = %s", (other,)).fetchone()[
                "event_bytes"
            ]
        )  # type: ignore[index]
        assert 0 < room < 200_000
        big = {"blob": secrets.token_hex(room // 2 + 1000)}
        state, message = _refusal(
            conn, other, "select public.record_interaction('search', 'eggs', %s::jsonb)", json.dumps(big)
        )
        assert state == "22023" and "64 MiB" in message


def test_the_export_pages_through_everything_export_memories_returns(db: Database) -> None:
    with db.connect() as conn:
        user = create_user(conn)
        _stated(conn, user, "allergy", 7)
        conn.execute(
            "insert into public.interaction_history (user_id, interaction_type, interaction_key, created_at)"
            " select %s, 'search', 'milk ' || k, now() - k * interval '1 minute' from generate_series(1, 23) as k",
            (user,),
        )
        conn.execute(
            "insert into private.memory_suppressions (user_id, memory_kind, memory_type, memory_key)"
            " select %s, 'preference', 'favorite', 'sku-' || k from generate_series(1, 5) as k",
            (user,),
        )
        whole = _as_shopper(conn, user, "select public.export_memories()")
        sections: dict[str, list[Any]] = {}
        after, pages = None, 0
        while True:
            page = _as_shopper(conn, user, "select public.export_memories_page(%s, 4)", after)
            pages += 1
            assert len(page["rows"]) <= 4
            sections.setdefault(page["section"], []).extend(page["rows"])
            after = page["next"]
            if after is None:
                break
        key = lambda row: json.dumps(row, sort_keys=True)  # noqa: E731
        for section in ("preferences", "interactions", "suppressions", "patterns", "insights", "precomputed_contexts"):
            assert sorted(map(key, sections[section])) == sorted(map(key, whole[section])), section
        assert (len(sections["preferences"]), len(sections["interactions"])) == (7, 23)
        assert pages == 2 + 6 + 2 + 1 + 1 + 1 + 1  # 7 and 23 rows by 4, 5 suppressions, the rest one page each
        state, message = _refusal(conn, user, 'select public.export_memories_page(\'{"section": "secrets"}\')')
        assert state == "22023" and message.startswith("after must be the next value of the previous page")
