"""The page's charts are drawn from the shopper's own orders (my_order_figures), not from stored patterns: plain
counts of the last 90 days by hour and weekday in each order's own time zone, and by category. Checked here
against the same counts made in Python from the orders as they were sent (record_checkout), on every PostgreSQL
major the suite runs on; supabase/tests/database/context/my_order_figures.test.sql checks the edges (a retried
order, the bound, other shoppers, grants)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from starlette.testclient import TestClient

from tests.conftest import Database
from tests.web.conftest import DANA, SAM, SAM_EMAIL, bearer, random_orders, record_orders, sign_in
from worker.client.models import Checkout


def _expected(orders: list[Checkout]) -> dict[str, object]:
    """The figures worked out independently: local time from Python's zoneinfo, the window from now."""
    recent = [o for o in orders if o.placed_at > datetime.now(UTC) - timedelta(days=90)]
    local = [o.placed_at.astimezone(ZoneInfo(o.time_zone or "UTC")) for o in recent]
    hours, days = Counter(t.hour for t in local), Counter(t.isoweekday() for t in local)
    categories = Counter(c for o in recent for c in {item.category for item in o.items})
    top = sorted(categories.items(), key=lambda kv: (-kv[1], kv[0]))[:8]
    return {
        "window_days": 90,
        "orders": len(recent),
        "by_hour": [hours[h] for h in range(24)],
        "by_weekday": [days[d] for d in range(1, 8)],
        "categories": [{"category": c, "orders": n} for c, n in top],
    }


def test_the_figures_are_the_shoppers_orders_counted_in_their_own_time_zones(
    client: TestClient, seeded: Database
) -> None:
    with seeded.connect("superuser") as conn:  # these orders alone, without the seed's
        conn.execute(
            "delete from public.interaction_history where user_id = %s and interaction_type = 'checkout'", (DANA,)
        )
    orders = random_orders(seed=13, count=80)
    record_orders(seeded, DANA, orders)
    record_orders(seeded, SAM, random_orders(seed=14, count=10))
    response = client.get("/api/user/order-figures", headers=bearer(sign_in(client)))
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    figures = response.json()
    assert {k: v for k, v in figures.items() if k != "since"} == _expected(orders)
    assert 40 < figures["orders"] < 80, "the sample has orders on both sides of the window"
    since = datetime.fromisoformat(figures["since"])
    assert abs((datetime.now(UTC) - timedelta(days=90) - since).total_seconds()) < 60


def test_a_shopper_without_orders_gets_zeros_and_no_categories(client: TestClient) -> None:
    figures = client.get("/api/user/order-figures", headers=bearer(sign_in(client, SAM_EMAIL))).json()
    assert (figures["orders"], figures["by_hour"], figures["by_weekday"], figures["categories"]) == (
        0,
        [0] * 24,
        [0] * 7,
        [],
    )


def test_figures_need_a_signed_in_shopper(client: TestClient) -> None:
    response = client.get("/api/user/order-figures")
    assert response.status_code == 401 and response.json()["code"] == "invalid_token"
