"""`customer-memory demo`: the main job on the embedded default.

Starts (or reuses) the local PostgreSQL in the data folder and brings it up to date (stand-in, migrations, seed);
starts the worker; then plays Riley, a real shopper of the Complete Journey data set (household 740, its last 90
days moved to end yesterday), through the memory API exactly as an app would: cart adds, checkouts, a savings
swap, chat messages. After each step it shows what the worker learned. It ends with Riley's memory as the
assistant's prompt would carry it, one memory explained by its evidence, the design document's example shopper
(Dana, from the seed) for comparison, and what each shopper can see of the other's (nothing).

Every run starts Riley afresh with clear_memories(), the shopper's own "delete everything" control.

Then it serves the shoppers' memory page (`customer-memory serve`) and prints its address, until Ctrl-C, when it
runs in a terminal; otherwise (a pipe, CI, the tests) it prints how to start the page and exits. `--serve` and
`--no-serve` decide it explicitly.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from worker.client.direct_adapter import DirectAdapter
from worker.client.memory import MAX_BATCH, MemoryClient
from worker.client.models import CartItem, Checkout, Event, SwapItem
from worker.client.seam import Identity
from worker.config import Settings
from worker.db.local import DATABASE, ensure_local_database
from worker.prompt import calls
from worker.prompt.render import render_memory_block
from worker.runtime.worker import BackgroundWorker
from worker.web.address import DEFAULT_HOST, DEFAULT_PORT, SERVER_ROLE

DANA = uuid.UUID("d0000000-0000-4000-8000-000000000123")  # the design document's "user123", from the seed
SAM = uuid.UUID("d0000000-0000-4000-8000-000000000456")
RILEY = uuid.UUID("d0000000-0000-4000-8000-000000000789")  # in the seed with no memories: the demo teaches them
RILEY_HOUSEHOLD = 740  # 15 baskets and 372 lines in its last 90 days: a weekly shopper
MESSAGES = [
    "My son is allergic to peanuts, so please keep them out of everything.",
    "I really don't like cilantro.",
    "Can you find me a quick chicken dinner recipe for tonight?",
]
WAIT_SECONDS = 60.0
MEMORY_TABLES = ("customer_preferences", "shopping_patterns", "memory_insights", "interaction_history")

Memory = tuple[str, str, str]  # (kind, type, key)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo", help="start the local database and the worker, feed a shopper's events, watch memories being learned"
    )
    parser.add_argument(
        "--serve",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="serve the memory page at the end, until Ctrl-C (default: when run in a terminal)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    started = time.monotonic()
    database = ensure_local_database(settings)
    url = database.url()
    print(f"{database.version} at {url} (data: {settings.data_dir})")
    if database.rebuilt:
        print("rebuilt the local database: its recorded migrations were not a prefix of supabase/migrations")
    if database.applied_migrations:
        print(f"applied {len(database.applied_migrations)} migration(s), up to {database.applied_migrations[-1]}")

    riley = MemoryClient(DirectAdapter.from_url(url), Identity.shopper(RILEY))
    cleared = riley.clear_memories()
    print(f"Riley starts afresh: clear_memories() removed {sum(cleared.model_dump().values())} rows")
    checkouts, cart_adds, swap = riley_events()

    with BackgroundWorker(settings, url) as worker, psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        print(f"worker started: {worker.worker.name}\n")
        known: dict[Memory, str] = {}
        steps: list[tuple[str, Callable[[], object]]] = [
            (f"{len(cart_adds)} cart adds", lambda: [riley.record_interactions(b) for b in _batches(cart_adds)]),
            (f"{len(checkouts)} checkouts", lambda: [riley.record_checkout(c) for c in checkouts]),
            ("a savings swap, accepted", lambda: riley.record_swap(*swap, accepted=True)),
            (f"{len(MESSAGES)} chat messages", lambda: [riley.record_message(m) for m in MESSAGES]),
        ]
        for title, record in steps:
            began = time.monotonic()
            record()
            if not worker.wait_idle(WAIT_SECONDS):
                print(f"the worker did not catch up within {WAIT_SECONDS:.0f} s")
                return 1
            print(f"Riley: {title}; the worker caught up in {time.monotonic() - began:.2f} s")
            known = _show_learned(_memories(conn, RILEY), known)

        context = calls.memory_context(conn, RILEY, query="what milk should I get")
        rendered = render_memory_block(context)
        print("\nRiley's memory in the assistant's prompt, for \"what milk should I get\":")
        print(rendered.text)
        if context.favorites:
            favorite = context.favorites[0]
            explained = calls.explain_memory(conn, RILEY, favorite.id)
            count = explained.evidence.get("interaction_count")
            print(
                f"\nexplain_memory({favorite.value or favorite.key}): {favorite.reason}; {count} interactions behind it"
            )

        print(f"\nRiley's default block (no query): {_served_how(conn, RILEY)}")

        print("\nDana, the design document's example shopper (from the seed):")
        print(render_memory_block(calls.memory_context(conn, DANA)).text)
        print(f"\nRows of Riley's that Dana and Sam can see: {_rows_of(conn, RILEY, seen_by=[DANA, SAM])}")
        print(f"Rows of Dana's that Riley and Sam can see: {_rows_of(conn, DANA, seen_by=[RILEY, SAM])}")
    print(f"\ndone in {time.monotonic() - started:.1f} s; the database keeps running (`customer-memory db stop`)")
    if args.serve if args.serve is not None else sys.stdout.isatty():
        from worker.web.server import serve  # only now: the page's stack is not the demo's

        print("\nRiley's, Dana's and Sam's memory pages, for them to see, explain, delete and export:")
        # The worker goes on beside the page: what a shopper says in its chat is learned within seconds.
        return serve(settings, database.running.url(SERVER_ROLE, DATABASE), DEFAULT_HOST, DEFAULT_PORT, worker_url=url)
    print(
        f"\nSee the shoppers' memory pages in a browser: `.venv/bin/customer-memory serve`, then open "
        f"http://{DEFAULT_HOST}:{DEFAULT_PORT}/ and sign in as dana@demo.customer-memory.dev."
    )
    return 0


def _served_how(conn: psycopg.Connection[Any], user_id: uuid.UUID) -> str:
    """Whether memory_context handed back the worker's precomputed document (same composition time) or composed
    one live."""
    served = calls.memory_context(conn, user_id).generated_at
    # The stored document is the shopper's data like any other: their export carries it, with when it was built.
    stored = calls.export_memories(conn, user_id).precomputed_contexts
    if stored and stored[0].get("built_at") and datetime.fromisoformat(stored[0]["built_at"]) == served:
        return f"the document the worker precomputed at {served:%H:%M:%S.%f} UTC, read from one row"
    return "composed live (the worker has not stored it yet)"


def riley_events() -> tuple[list[Checkout], list[Event], tuple[SwapItem, SwapItem]]:
    """Riley's last 90 days from the data set, moved so that the last order was placed yesterday."""
    from worker.datasets import completejourney

    data = completejourney.load()
    baskets = [payload for _, payload in completejourney.checkouts(data, [RILEY_HOUSEHOLD])]
    last = datetime.fromisoformat(baskets[-1]["placed_at"])
    shift = datetime.now(UTC) - timedelta(days=1) - last
    zone = ZoneInfo(completejourney.TIME_ZONE)
    # 89 days before the last order, which lands yesterday: all of them inside the worker's 90-day window.
    recent = [b for b in baskets if datetime.fromisoformat(b["placed_at"]) > last - timedelta(days=89)]
    checkouts = [
        Checkout.model_validate(
            {**b, "placed_at": (datetime.fromisoformat(b["placed_at"]) + shift).astimezone(zone).isoformat()}
        )
        for b in recent
    ]
    # Each line was added to the cart when its order was placed (the worker counts an add on its day).
    cart_adds = [
        Event.cart_add(CartItem.model_validate(item | {"added_at": c.placed_at}))
        for c in checkouts
        for item in c.payload()["items"]
    ]
    return checkouts, cart_adds, _swap(checkouts)


def _swap(checkouts: list[Checkout]) -> tuple[SwapItem, SwapItem]:
    """Riley's most bought national-brand item, swapped for a store-brand item of the same category."""
    items = [item for c in checkouts for item in c.payload()["items"]]
    national = [i for i in items if "store_brand" not in i.get("tags", []) and i.get("category")]
    original = max(national, key=lambda i: sum(1 for j in national if j["sku"] == i["sku"]))
    store = [i for i in items if "store_brand" in i.get("tags", []) and i.get("category") == original["category"]]
    replacement = store[0] if store else {**original, "sku": f"store-{original['sku']}", "brand": "store-brand"}
    fields = ("sku", "name", "category", "brand", "price", "tags")
    return (
        SwapItem.model_validate({k: original[k] for k in fields if k in original}),
        SwapItem.model_validate({k: replacement[k] for k in fields if k in replacement}),
    )


def _batches(events: list[Event]) -> Iterator[list[Event]]:
    for start in range(0, len(events), MAX_BATCH):
        yield events[start : start + MAX_BATCH]


def _memories(conn: psycopg.Connection[Any], shopper: uuid.UUID) -> dict[Memory, str]:
    """What the shopper can see of their memory (my_memories, read as them): each with a one-line summary."""
    return {
        (str(row.memory_kind), str(row.memory_type), str(row.memory_key)): (
            f"{row.confidence or 0:.2f}  {row.reason or row.summary}"
        )
        for row in calls.my_memories(conn, shopper)
    }


def _show_learned(now: dict[Memory, str], before: dict[Memory, str], limit: int = 8) -> dict[Memory, str]:
    new = [m for m in now if m not in before]
    changed = [m for m in now if m in before and now[m] != before[m]]
    gone = [m for m in before if m not in now]
    print(f"  learned {len(new)}, updated {len(changed)}, dropped {len(gone)}; {len(now)} memories in all")
    for memory in (new + changed)[:limit]:
        kind, kind_type, key = memory
        print(f"    {'+' if memory in new else '~'} {kind:<10} {kind_type:<19} {key:<28} {now[memory]}"[:150])
    if len(new) + len(changed) > limit:
        print(f"    ... and {len(new) + len(changed) - limit} more")
    return now


def _rows_of(conn: psycopg.Connection[Any], owner: uuid.UUID, seen_by: Iterable[uuid.UUID]) -> int:
    """How many of `owner`'s rows the others can read from the memory tables, each reading as themselves (a
    PostgREST request with their JWT: row-level security decides)."""
    tables = DirectAdapter(lambda: nullcontext(conn))
    return sum(
        len(tables.select(table, {"user_id": owner}, Identity.shopper(other)))
        for other in seen_by
        for table in MEMORY_TABLES
    )
