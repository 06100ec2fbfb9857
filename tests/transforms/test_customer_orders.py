from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline.transforms.customer_orders import customer_orders, customer_revenue
from pipeline.transforms.customers import build_dim_customer
from pipeline.transforms.segment_migration import build_segment_migration
from pipeline.transforms.segment_quality import build_segment_quality
from pipeline.transforms.segments import build_customer_segments, build_segment_summary
from tests.transforms.test_segments import AS_OF, fct_orders, world_contacts, world_orders, world_touchpoints


def orders() -> pl.LazyFrame:
    rows = fct_orders([
        ("a1", "a", date(2026, 6, 1), 100, True, "Luxury"),  # in the window; luxury in any case
        ("a2", "a", date(2025, 1, 10), 40, True, "mid"),  # revenue, before the 365-day window
        ("a3", "a", date(2026, 6, 2), 999, False),  # not revenue
        ("a4", "a", date(2026, 7, 1), 70),  # after as-of
        ("b1", "b", date(2026, 5, 5), 20, False),  # b has no revenue order: a customer of dim_customer only
        ("c1", "c", date(2026, 6, 20), 1),  # no EUR amount (set below)
        ("c2", "c", date(2026, 6, 21), 30),
        ("x1", None, date(2026, 6, 1), 5),  # no customer
    ])
    return rows.with_columns(
        pl.when(pl.col("order_id") == "c1").then(None).otherwise(pl.col("net_revenue_eur")).alias("net_revenue_eur"))


def test_customer_orders_figures() -> None:
    got = customer_orders(orders(), AS_OF, 365).of(AS_OF, 365).collect().sort("customer_id")
    d, eur = date, Decimal
    assert got.select("customer_id", "orders", "first_order_date", "last_order_date", "net_revenue_eur",
                      "eur_missing", "luxury_orders").rows() == [
        # a: 100 + 40 (the cancelled and the July orders do not count)
        ("a", 2, d(2025, 1, 10), d(2026, 6, 1), eur("140.0000"), False, 1),
        ("b", 0, None, None, eur("0.0000"), False, 0),
        # c: 30, and the order without an EUR amount is flagged
        ("c", 2, d(2026, 6, 20), d(2026, 6, 21), eur("30.0000"), True, 0),
    ]
    # the RFM window (2025-06-30, 2026-06-30]: a's January 2025 order is outside it
    assert got.select("customer_id", "window_orders", "window_last_order_date", "window_revenue_eur").rows() == [
        ("a", 1, d(2026, 6, 1), eur("100.0000")),
        ("b", 0, None, eur("0.0000")),
        ("c", 2, d(2026, 6, 21), eur("30.0000")),
    ]
    revenue = customer_revenue(orders(), AS_OF).collect().sort("customer_id")
    assert revenue.rows() == [("a", eur("140.0000"), 2), ("c", eur("30.0000"), 2)]


def test_customer_orders_refuse_another_date_or_window() -> None:
    grouped = customer_orders(orders(), AS_OF, 365)
    with pytest.raises(ValueError, match="asked for 2026-07-01"):
        grouped.of(date(2026, 7, 1))
    with pytest.raises(ValueError, match="over 90 days"):
        grouped.of(AS_OF, 90)
    with pytest.raises(ValueError, match="over 90 days"):
        build_customer_segments(world_orders(), world_contacts(), world_touchpoints(), AS_OF, window_days=90,
                                customer_orders=customer_orders(world_orders(), AS_OF, 365)).collect()


def test_grouped_once_or_by_each_builder_the_tables_are_the_same() -> None:
    grouped = customer_orders(world_orders(), AS_OF, 365)
    earlier = date(2026, 5, 31)

    def segments(given: bool, as_of: date = AS_OF) -> pl.LazyFrame:
        return build_customer_segments(world_orders(), world_contacts(), world_touchpoints(), as_of,
                                       customer_orders=grouped if given and as_of == AS_OF else None)

    assert_frame_equal(segments(True).collect(), segments(False).collect())
    current = segments(False)
    assert_frame_equal(
        build_dim_customer(world_contacts(), world_orders(), current, AS_OF, grouped).collect().sort("customer_id"),
        build_dim_customer(world_contacts(), world_orders(), current, AS_OF).collect().sort("customer_id"),
    )
    assert_frame_equal(
        build_segment_summary(current, world_orders(), AS_OF, min_customers=1, customer_orders=grouped).collect(),
        build_segment_summary(current, world_orders(), AS_OF, min_customers=1).collect(),
    )
    migration = build_segment_migration(current, segments(False, earlier), AS_OF, earlier)
    assert_frame_equal(
        build_segment_quality(current, world_orders(), migration, AS_OF, min_customers=1,
                              customer_orders=grouped).collect(),
        build_segment_quality(current, world_orders(), migration, AS_OF, min_customers=1).collect(),
    )
