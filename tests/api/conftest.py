"""Fixtures for the memory API tests: a shopper (or two) in a fresh database, and MemoryClients over the
direct adapter, which opens its own connection per call exactly as a deployed client would."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import pytest

from tests.conftest import Database, create_user
from worker.client import DirectAdapter, Identity, MemoryClient


@pytest.fixture
def direct(db: Database) -> DirectAdapter:
    return DirectAdapter.from_url(db.url("postgres"))


@pytest.fixture
def new_shopper(db: Database) -> Callable[[], UUID]:
    def make() -> UUID:
        with db.connect() as conn:
            return create_user(conn)

    return make


@pytest.fixture
def alice(new_shopper: Callable[[], UUID]) -> UUID:
    return new_shopper()


@pytest.fixture
def memory(direct: DirectAdapter, alice: UUID) -> MemoryClient:
    """Alice's memory API, over the direct adapter."""
    return MemoryClient(direct, Identity.shopper(alice))
