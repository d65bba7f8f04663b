"""The Python client of the memory API: MemoryClient over one seam, with a PostgREST and a direct adapter."""

from worker.client.direct_adapter import DirectAdapter
from worker.client.errors import (
    Conflict,
    InvalidInput,
    MemoryApiError,
    NotAuthorized,
    NotFound,
    ServiceUnavailable,
)
from worker.client.memory import CONTRACT, MemoryClient
from worker.client.models import CartItem, Checkout, CheckoutItem, Event, SwapItem
from worker.client.seam import DatabaseFunctions, Identity

__all__ = [
    "CONTRACT",
    "CartItem",
    "Checkout",
    "CheckoutItem",
    "Conflict",
    "DatabaseFunctions",
    "DirectAdapter",
    "Event",
    "Identity",
    "InvalidInput",
    "MemoryApiError",
    "MemoryClient",
    "NotAuthorized",
    "NotFound",
    "ServiceUnavailable",
    "SwapItem",
]
