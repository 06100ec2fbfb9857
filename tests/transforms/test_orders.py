from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline.entities import MONEY, conform
from pipeline.fx import default_rates
from pipeline.transforms.orders import build_fct_orders
from tests.transforms.ddl import assert_matches_ddl


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def order(order_id: str, customer_id: str | None, ordered_at: str, status: str, currency: str = "EUR",
          gross: str = "100", discounts: str = "0", refunds: str = "0", order_date: date | None = None) -> dict:
    net = Decimal(gross) - Decimal(discounts) - Decimal(refunds)
    at = ts(ordered_at)
    return {
        "order_id": order_id, "source_system": "shopify", "customer_id": customer_id, "email_sha256": None,
        "ordered_at": at, "order_date": order_date or at.date(), "currency_code": currency,
        "gross": Decimal(gross), "discounts": Decimal(discounts), "refunds": Decimal(refunds), "net_revenue": net,
        "status": status, "product_category": "shoes", "price_tier": "mid",
        "extract_date": date(2026, 3, 31),  # a lineage column: ignored
    }


ORDERS = [
    # USD at the shipped default 0.92: gross 100.00 x 0.92 = 92.0000, net 90.00 x 0.92 = 82.8000
    order("a-1", "cust-a", "2026-03-02T10:00:00", "paid", "USD", "100.00", "10.00"),
    # customer b: an earlier failed order does not make the later paid one a repeat
    order("b-1", "cust-b", "2026-03-01T09:00:00", "failed"),
    order("b-2", "cust-b", "2026-03-05T09:00:00", "paid"),
    order("b-3", "cust-b", "2026-03-07T09:00:00", "paid"),
    # customer c: two paid orders at the same instant, the smaller order_id ("c-10" < "c-2") is first
    order("c-2", "cust-c", "2026-03-04T12:00:00", "paid"),
    order("c-10", "cust-c", "2026-03-04T12:00:00", "partially_refunded", refunds="40"),
    # customer d: only a refunded order; it counts as revenue (net 0) and is the first order
    order("d-1", "cust-d", "2026-03-06T08:00:00", "refunded", refunds="100"),
    # customer e: pending and cancelled orders are not revenue and never first orders
    order("e-1", "cust-e", "2026-03-06T08:00:00", "pending"),
    order("e-2", "cust-e", "2026-03-07T08:00:00", "cancelled"),
    # no rate for JPY: EUR amounts NULL, still a revenue and first order
    order("f-1", "cust-f", "2026-03-06T08:00:00", "paid", "JPY", "15000"),
    # no customer: never a first order
    order("g-1", None, "2026-03-06T08:00:00", "paid"),
    # Helsinki day 2026-03-03 of a UTC evening: the rate of order_date (0.90 from 03-03) applies, 50 x 0.90 = 45
    order("h-1", "cust-h", "2026-03-02T23:30:00", "paid", "USD", "50", order_date=date(2026, 3, 3)),
]


def fx_rates() -> pl.LazyFrame:
    plan = pl.DataFrame(
        {"valid_from": [date(2026, 3, 3)], "currency_code": ["USD"], "eur_per_unit": [Decimal("0.90")]},
        schema=default_rates().schema,
    )
    return pl.concat([default_rates(), plan]).lazy()


def build(*, cache: bool = True) -> pl.DataFrame:
    silver = pl.DataFrame(ORDERS).pipe(lambda f: conform(f, "order").with_columns(f["extract_date"]))
    return build_fct_orders(silver.lazy(), fx_rates(), cache=cache).collect()


@pytest.mark.parametrize("cache", [True, False])
def test_amounts_flags_and_columns(cache: bool) -> None:
    got = build(cache=cache).sort("order_id")
    d = Decimal
    expected = pl.DataFrame(
        {
            "order_id": ["a-1", "b-1", "b-2", "b-3", "c-10", "c-2", "d-1", "e-1", "e-2", "f-1", "g-1", "h-1"],
            "currency_code": ["USD", "EUR", "EUR", "EUR", "EUR", "EUR", "EUR", "EUR", "EUR", "JPY", "EUR", "USD"],
            "gross_eur": [d("92"), d(100), d(100), d(100), d(100), d(100), d(100), d(100), d(100), None, d(100), d(45)],
            "net_revenue_eur": [d("82.8"), d(100), d(100), d(100), d(60), d(100), d(0), d(100), d(100), None, d(100),
                                d(45)],
            "is_revenue": [True, False, True, True, True, True, True, False, False, True, True, True],
            "is_first_order": [True, False, True, False, True, False, True, False, False, True, False, True],
        },
        schema={"order_id": pl.Utf8, "currency_code": pl.Utf8, "gross_eur": MONEY, "net_revenue_eur": MONEY,
                "is_revenue": pl.Boolean, "is_first_order": pl.Boolean},
    )
    assert_frame_equal(got.select(expected.columns), expected)
    # native amounts pass through: a-1 net = 100.00 - 10.00 - 0 = 90.00 USD
    assert got.row(0, named=True)["net_revenue"] == Decimal("90")
    assert got.columns == [
        "order_id", "source_system", "customer_id", "ordered_at", "order_date", "currency_code", "gross",
        "discounts", "refunds", "net_revenue", "gross_eur", "net_revenue_eur", "status", "is_revenue",
        "is_first_order", "product_category", "price_tier",
    ]


def test_key_unique_not_null_and_ddl() -> None:
    got = build()
    assert got["order_id"].null_count() == 0
    assert got["order_id"].n_unique() == got.height == len(ORDERS)
    assert_matches_ddl(got, "fct_orders")


def test_one_first_order_per_customer_with_revenue() -> None:
    got = build().filter(pl.col("customer_id").is_not_null())
    per_customer = got.group_by("customer_id").agg(
        pl.col("is_first_order").sum().alias("firsts"), pl.col("is_revenue").any().alias("has_revenue")
    )
    # cust-e has no revenue order, so no first order; everyone else exactly one
    assert per_customer.filter(pl.col("firsts") != pl.col("has_revenue").cast(pl.UInt32)).height == 0
