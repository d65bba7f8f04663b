"""The memory page's server on a real database: the seed's shoppers (Dana, the design document's example; Sam) with
passwords set as GoTrue stores them (bcrypt in auth.users.encrypted_password), and the app built exactly as
`customer-memory serve` builds it on the embedded default: connected as `authenticator`, local sign-in on."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import bcrypt
import pytest
import uvicorn
from starlette.testclient import TestClient
from starlette.types import ASGIApp

from tests.conftest import Database
from worker.client.models import Checkout, CheckoutItem
from worker.config import Settings
from worker.db import schema
from worker.prompt import calls
from worker.runtime.worker import run_until_idle
from worker.web.app import Backend, create_app
from worker.web.server import listening_socket, local_backend

DANA = uuid.UUID("d0000000-0000-4000-8000-000000000123")
SAM = uuid.UUID("d0000000-0000-4000-8000-000000000456")
RILEY = uuid.UUID("d0000000-0000-4000-8000-000000000789")
DANA_EMAIL = "dana@demo.customer-memory.dev"
SAM_EMAIL = "sam@demo.customer-memory.dev"
PASSWORD = "correct horse battery staple"  # set on Dana and Sam here; Riley keeps the seed's
SEED_PASSWORD = "grocery-demo-2026"  # supabase/seed.sql's demo password
SECRET = "local-test-secret-0123456789abcdef0123456789"
WAIT_SECONDS = 20.0


def set_password(db: Database, email: str, password: str) -> None:
    """What GoTrue stores on sign-up: a bcrypt hash ($2a$, cost 10)."""
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10, prefix=b"2a")).decode()
    with db.connect("superuser") as conn:
        conn.execute("update auth.users set encrypted_password = %s where email = %s", (hashed, email))


@pytest.fixture
def seeded(db: Database) -> Database:
    with db.connect() as conn:
        schema.apply_seed(conn)
    for email in (DANA_EMAIL, SAM_EMAIL):
        set_password(db, email, PASSWORD)
    return db


@pytest.fixture
def backend(seeded: Database) -> Iterator[Backend]:
    built = local_backend(seeded.url("authenticator"), secret=SECRET)
    yield built
    for close in built.closers:
        close()


@pytest.fixture
def client(backend: Backend) -> Iterator[TestClient]:
    with TestClient(create_app(backend)) as test_client:
        yield test_client


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    """`app` on uvicorn, as `customer-memory serve` runs it, on a free port in a thread; yields its address."""
    sock = listening_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    running = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=running.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_SECONDS
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        running.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def page_url(backend: Backend) -> Iterator[str]:
    """The page's server on the embedded default, over HTTP."""
    with serving(create_app(backend)) as url:
        yield url


def sign_in(client: TestClient, email: str = DANA_EMAIL, password: str = PASSWORD) -> str:
    response = client.post("/auth/v1/token?grant_type=password", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def memories_by_key(listing: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["memory_key"]: m for section in listing["sections"] for m in section["memories"]}


def say_in_chat(db: Database, user: uuid.UUID, message: str) -> None:
    """The real path from a chat message to memory: the message recorded as the shopper (record_message), then the
    worker reads it (the extractor, then worker_apply_stated_preferences)."""
    with db.connect() as conn:
        calls.client(conn, user).record_message(message)
    run_until_idle(Settings(), db.url())


ZONES = ("America/Chicago", "America/New_York", "Europe/Berlin", "Asia/Tokyo", "Pacific/Auckland")
CATEGORIES = ("dairy", "produce", "bakery", "meat", "frozen", "snacks", "beverages", "pantry", "baby", "household")


def random_orders(seed: int, count: int, days: int = 120) -> list[Checkout]:
    """`count` orders placed at random over the last `days` days, in assorted time zones, each with 1-6 lines of
    assorted categories (a category may repeat within an order)."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    return [
        Checkout(
            order_id=f"order-{seed}-{n}",
            placed_at=now - timedelta(seconds=rng.randint(60, days * 86400)),
            time_zone=rng.choice(ZONES),
            items=[
                CheckoutItem(sku=f"sku-{n}-{line}", category=rng.choice(CATEGORIES), price=1.5, quantity=1)
                for line in range(rng.randint(1, 6))
            ],
        )
        for n in range(count)
    ]


def record_orders(db: Database, user: uuid.UUID, orders: list[Checkout]) -> None:
    """Each order through record_checkout, as the shopper's app sends it."""
    with db.connect() as conn:
        client = calls.client(conn, user)
        for order in orders:
            client.record_checkout(order)


RILEY_EMAIL = "riley@demo.customer-memory.dev"
MILK = CheckoutItem(sku="whole-milk-1gal", name="Whole Milk, 1 gal", category="milk", price=3.48, quantity=1)
EGGS = CheckoutItem(sku="large-eggs-12", name="Large Eggs, 12 ct", category="eggs", price=2.98, quantity=1)
OTHERS = ("bananas", "bread", "pasta", "apples", "rice", "tofu", "oats", "spinach", "beans")


@pytest.fixture
def riley_buys_again(seeded: Database) -> Database:
    """Riley (the seed's shopper without memories) bought milk and eggs together every 7 days, the last time 9 days
    ago, and eggs once more 2 days ago; the worker then derived what it does from those orders. Milk is due again
    (its window opened 2 days ago), eggs are not (bought 2 days ago, due in about 5)."""
    now = datetime.now(UTC)
    weekly = [
        Checkout(
            order_id=f"riley-weekly-{n}",
            placed_at=now - timedelta(days=9 + 7 * n, hours=1),
            time_zone="America/New_York",
            items=[MILK, EGGS, CheckoutItem(sku=OTHERS[n], category="produce", price=1.0, quantity=1)],
        )
        for n in range(9)
    ]
    eggs_again = Checkout(
        order_id="riley-eggs", placed_at=now - timedelta(days=2, hours=1), time_zone="America/New_York", items=[EGGS]
    )
    record_orders(seeded, RILEY, [*weekly, eggs_again])
    run_until_idle(Settings(), seeded.url())
    return seeded
