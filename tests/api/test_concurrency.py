"""Many connections recording the same SKU or brand at once: never a unique-key failure, never a lost
increment. Real parallel connections (one thread and one psycopg connection per call, all released together by
a barrier), and exact expected counts."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from uuid import UUID

from tests.conftest import Database
from worker.client import CartItem, DirectAdapter, Event, Identity, MemoryClient, SwapItem

THREADS = 12
CALLS_PER_THREAD = 8


def _in_parallel(work: Callable[[int], object]) -> None:
    """Run work(thread_number) CALLS_PER_THREAD times in each of THREADS threads, all starting at once."""
    barrier = threading.Barrier(THREADS)

    def run(thread_number: int) -> None:
        barrier.wait()
        for _ in range(CALLS_PER_THREAD):
            work(thread_number)

    with ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(run, n) for n in range(THREADS)]:
            future.result()  # re-raises any failure, a unique violation included


def _preference(db: Database, user_id: UUID, preference_type: str, key: str) -> dict[str, object]:
    with db.connect() as conn:
        row = conn.execute(
            "select confidence, times_confirmed, reason from public.customer_preferences"
            " where user_id = %s and preference_type = %s and preference_key = %s",
            (user_id, preference_type, key),
        ).fetchone()
    assert row is not None
    return row


def _count(db: Database, sql: str, *params: object) -> int:
    with db.connect() as conn:
        row = conn.execute(sql, params).fetchone()
    assert row is not None
    return int(next(iter(row.values())))


def test_parallel_cart_adds_of_one_sku_count_every_add(db: Database, direct: DirectAdapter, alice: UUID) -> None:
    memory = MemoryClient(direct, Identity.shopper(alice))
    _in_parallel(lambda _: memory.record_cart_add(CartItem(sku="milk-1")))
    total = THREADS * CALLS_PER_THREAD
    assert _count(db, "select count(*) from public.interaction_history where interaction_key = 'milk-1'") == total
    favorite = _preference(db, alice, "favorite", "milk-1")
    assert favorite == {
        "confidence": Decimal("0.95"),
        "times_confirmed": total,
        "reason": f"Added to cart {total} times",
    }


def test_parallel_batches_and_single_adds_of_one_sku_count_every_add(
    db: Database, direct: DirectAdapter, alice: UUID
) -> None:
    memory = MemoryClient(direct, Identity.shopper(alice))
    batch = [Event.cart_add(CartItem(sku="tea-1"))] * 3

    def work(thread_number: int) -> None:
        if thread_number % 2:
            memory.record_interactions(batch)
        else:
            memory.record_cart_add(CartItem(sku="tea-1"))

    _in_parallel(work)
    total = (THREADS // 2) * CALLS_PER_THREAD * (3 + 1)
    assert _preference(db, alice, "favorite", "tea-1")["times_confirmed"] == total


def test_parallel_swaps_of_one_brand_lose_no_increment(db: Database, direct: DirectAdapter, alice: UUID) -> None:
    memory = MemoryClient(direct, Identity.shopper(alice))
    tide, great_value = SwapItem(sku="tide-1", brand="Tide"), SwapItem(sku="gv-1", brand="Great Value")
    _in_parallel(lambda n: memory.record_swap(tide, great_value, accepted=bool(n % 2)))
    half = THREADS // 2 * CALLS_PER_THREAD
    # Every swap confirmed its brand once: the brand rows were created once and incremented by all the others.
    assert _preference(db, alice, "brand", "Great Value")["times_confirmed"] == half
    assert _preference(db, alice, "brand", "Tide")["times_confirmed"] == half
    assert _count(db, "select count(*) from public.interaction_history where interaction_type = 'swap'") == 2 * half


def test_parallel_swaps_below_the_cap_add_up_exactly(db: Database, direct: DirectAdapter, alice: UUID) -> None:
    """Four simultaneous accepted swaps of a new brand: 0.50 + 4 * 0.10, right only if none is lost."""
    memory = MemoryClient(direct, Identity.shopper(alice))
    barrier = threading.Barrier(4)

    def swap() -> None:
        barrier.wait()
        memory.record_swap(SwapItem(sku="a", brand="Heinz"), SwapItem(sku="b", brand="Hunt's"), accepted=True)

    with ThreadPoolExecutor(4) as pool:
        for future in [pool.submit(swap) for _ in range(4)]:
            future.result()
    assert _preference(db, alice, "brand", "Hunt's")["confidence"] == Decimal("0.90")


def test_parallel_shoppers_do_not_wait_on_or_disturb_each_other(
    db: Database, direct: DirectAdapter, new_shopper: Callable[[], UUID]
) -> None:
    shoppers = [new_shopper() for _ in range(THREADS)]
    _in_parallel(lambda n: MemoryClient(direct, Identity.shopper(shoppers[n])).record_cart_add(CartItem(sku="x")))
    for shopper in shoppers:
        assert _preference(db, shopper, "favorite", "x")["times_confirmed"] == CALLS_PER_THREAD
