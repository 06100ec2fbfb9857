from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline.entities import MONEY
from pipeline.incremental import changed_since, month_digests
from pipeline.transforms.customer_orders import customer_orders, customer_revenue, regrouped
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
    # the purchase days (revenue adding up to more than 0 on the day) for the CLV summary: a's two, c's of
    # 2026-06-21 (the day before had no EUR amount: not a purchase day, and not its first)
    assert got.select("customer_id", "purchase_days", "first_purchase_date", "last_purchase_date",
                      "repeat_purchase_eur").rows() == [
        ("a", 2, d(2025, 1, 10), d(2026, 6, 1), eur("100.0000")),
        ("b", 0, None, None, eur("0.0000")),
        ("c", 1, d(2026, 6, 21), d(2026, 6, 21), eur("0.0000")),
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


def random_orders(rng: random.Random, count: int, first: date, days: int, customers: int) -> pl.DataFrame:
    """fct_orders' columns that customer_orders reads, of ``count`` random orders from ``first`` on."""
    return pl.DataFrame({
        "order_id": [f"o{rng.getrandbits(40)}" for _ in range(count)],
        "customer_id": [None if rng.random() < 0.03 else f"c{rng.randrange(customers)}" for _ in range(count)],
        "order_date": [first + timedelta(days=rng.randrange(days)) for _ in range(count)],
        "is_revenue": [rng.random() < 0.8 for _ in range(count)],
        "net_revenue_eur": [None if rng.random() < 0.05 else Decimal(rng.randrange(1, 50_000)) / 100
                            for _ in range(count)],
        "price_tier": [rng.choice(["mid", "luxury", "Luxury", None]) for _ in range(count)],
    }, schema_overrides={"net_revenue_eur": MONEY})


@pytest.mark.parametrize("seed", range(12))
def test_regrouped_from_the_previous_nights_rows_equals_grouping_every_order(seed: int) -> None:
    # the night's orders: the previous night's, some of the changed months' altered (status, customer, amount,
    # gone), new ones; a night one to four days later, an RFM window of 30 days so orders leave it
    rng = random.Random(seed)
    window, previous_as_of = 30, date(2026, 6, 27)
    as_of = previous_as_of + timedelta(days=rng.randrange(1, 5))
    before = random_orders(rng, 600, date(2026, 1, 1), 190, 80)  # some dated after either as-of
    since = date(2026, 6, 1) if seed % 3 else date(2026, 5, 1)
    changed = before.filter(pl.col("order_date") >= since).sample(fraction=0.3, seed=seed)
    altered = changed.with_columns(
        pl.when(pl.int_range(pl.len()) % 3 == 0).then(~pl.col("is_revenue")).otherwise(pl.col("is_revenue"))
        .alias("is_revenue"),
        pl.when(pl.int_range(pl.len()) % 3 == 1).then(pl.lit(f"c{rng.randrange(90)}")).otherwise(pl.col("customer_id"))
        .alias("customer_id"),
        (pl.col("net_revenue_eur") + Decimal("1.5")).cast(MONEY),
    ).filter(pl.int_range(pl.len()) % 5 != 4)  # a fifth gone
    new = random_orders(rng, 40, since, (as_of - since).days + 3, 95)
    after = pl.concat([before.join(changed, on="order_id", how="anti"), altered, new])
    found = changed_since(month_digests(before, "order_date"), month_digests(after, "order_date"))
    assert found is not None and not isinstance(found, str) and found <= since
    previous = customer_orders(before.lazy(), previous_as_of, window).rows.collect()
    conversions = before.lazy().filter(pl.col("is_revenue"))  # the previous night's revenue orders (the state's)
    got = regrouped(previous.lazy(), previous_as_of, after.lazy(), as_of, window, found, conversions)
    assert (got.as_of, got.window_days) == (as_of, window)
    expected = customer_orders(after.lazy(), as_of, window).rows.collect().sort("customer_id")
    assert_frame_equal(got.rows.collect().sort("customer_id"), expected)


def test_regrouped_with_no_changed_month_follows_the_window_and_the_as_of_date_only() -> None:
    d = date
    before = pl.DataFrame({
        "order_id": ["a1", "a2", "b1", "c1"], "customer_id": ["a", "a", "b", "c"],
        "order_date": [d(2026, 5, 31), d(2026, 6, 20), d(2026, 7, 1), d(2026, 6, 1)],
        "is_revenue": [True, True, True, False], "net_revenue_eur": [10, 20, 30, 40], "price_tier": [None] * 4,
    }, schema_overrides={"net_revenue_eur": MONEY, "price_tier": pl.Utf8})
    previous = customer_orders(before.lazy(), d(2026, 6, 30), 30).rows  # window (2026-05-31, 2026-06-30]
    got = regrouped(previous, d(2026, 6, 30), before.lazy(), d(2026, 7, 1), 30, None,
                    before.lazy().clear()).rows.collect().sort("customer_id")
    # a: the order of 2026-05-31 was before the window already; b's order of 2026-07-01 now counts
    assert got.select("customer_id", "orders", "window_orders", "window_revenue_eur").rows() == [
        ("a", 2, 1, Decimal("20.0000")), ("b", 1, 1, Decimal("30.0000")), ("c", 0, 0, Decimal("0.0000"))]
    assert_frame_equal(got, customer_orders(before.lazy(), d(2026, 7, 1), 30).rows.collect().sort("customer_id"))


def test_regrouped_drops_the_row_of_a_customer_whose_only_order_was_not_revenue_and_moved() -> None:
    d = date
    before = pl.DataFrame({
        "order_id": ["a1", "c1"], "customer_id": ["a", "c"], "order_date": [d(2026, 5, 2), d(2026, 6, 1)],
        "is_revenue": [True, False], "net_revenue_eur": [10, 40], "price_tier": [None, None],
    }, schema_overrides={"net_revenue_eur": MONEY, "price_tier": pl.Utf8})
    after = before.with_columns(customer_id=pl.Series(["a", "a"]))  # c1 was a's: c has no order now
    previous = customer_orders(before.lazy(), d(2026, 6, 30), 30).rows
    conversions = before.lazy().filter(pl.col("is_revenue"))  # a1 only: c1 is not revenue
    got = regrouped(previous, d(2026, 6, 30), after.lazy(), d(2026, 7, 1), 30, d(2026, 6, 1), conversions)
    assert got.rows.collect().select("customer_id", "orders").rows() == [("a", 1)]
