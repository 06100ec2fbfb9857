from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

import polars as pl
from polars.testing import assert_frame_equal

from pipeline.entities import MONEY, UTC_TS, conform
from pipeline.transforms.sales_costs import build_sales_costs
from tests.transforms.ddl import assert_matches_ddl

FCT_ORDERS_SCHEMA = {
    "order_id": pl.Utf8,
    "source_system": pl.Utf8,
    "customer_id": pl.Utf8,
    "ordered_at": UTC_TS,
    "order_date": pl.Date,
    "currency_code": pl.Utf8,
    "gross": MONEY,
    "discounts": MONEY,
    "refunds": MONEY,
    "net_revenue": MONEY,
    "gross_eur": MONEY,
    "net_revenue_eur": MONEY,
    "status": pl.Utf8,
    "is_revenue": pl.Boolean,
    "is_first_order": pl.Boolean,
    "product_category": pl.Utf8,
    "price_tier": pl.Utf8,
}




def fct_orders(rows: list[tuple]) -> pl.LazyFrame:
    """Rows of (order_id, order_date, net EUR, is_revenue, is_first_order), all in EUR."""
    records = [
        {
            "order_id": order_id,
            "source_system": "erp",
            "customer_id": f"cust-{order_id}",
            "ordered_at": datetime.combine(day, time(12), tzinfo=UTC),
            "order_date": day,
            "currency_code": "EUR",
            "gross": Decimal(net),
            "discounts": Decimal(0),
            "refunds": Decimal(0),
            "net_revenue": Decimal(net),
            "gross_eur": Decimal(net),
            "net_revenue_eur": Decimal(net),
            "status": "paid" if is_revenue else "cancelled",
            "is_revenue": is_revenue,
            "is_first_order": is_first_order,
            "product_category": "general",
            "price_tier": "mid",
        }
        for order_id, day, net, is_revenue, is_first_order in rows
    ]
    return pl.DataFrame(records, schema=FCT_ORDERS_SCHEMA).lazy()


def fx_rates() -> pl.LazyFrame:
    rows = [
        (date(2000, 1, 1), "EUR", Decimal(1)),
        (date(2026, 1, 1), "USD", Decimal("0.80")),
        (date(2026, 3, 15), "USD", Decimal("0.90")),  # mid-March: March costs still convert at 0.80
    ]
    frame = pl.DataFrame(rows, schema=["valid_from", "currency_code", "eur_per_unit"], orient="row")
    return conform(frame, "fx_rate").lazy()


def sales_costs(rows: list[tuple]) -> pl.LazyFrame:
    frame = pl.DataFrame(rows, schema=["month", "kind", "category", "currency_code", "amount"], orient="row")
    return conform(frame, "sales_cost").lazy()


def expected_frame(rows: list[tuple]) -> pl.DataFrame:
    """Rows without the last two columns (marketing spend, CAC) get NULL for both (no ad spend given)."""
    money = ["fixed_eur", "variable_eur", "total_sales_costs_eur", "revenue_eur", "cpa_eur", "marketing_spend_eur",
             "cac_eur"]
    frame = pl.DataFrame(
        [row if len(row) == 10 else (*row, None, None) for row in rows],
        schema=[
            "month", "fixed_eur", "variable_eur", "total_sales_costs_eur", "new_customers", "revenue_eur",
            "cpa_eur", "sales_cost_share_pct", "marketing_spend_eur", "cac_eur",
        ],
        orient="row",
    )
    return frame.with_columns(
        pl.col(money).cast(pl.Utf8).cast(MONEY),
        pl.col("new_customers").cast(pl.Int64),
        pl.col("sales_cost_share_pct").cast(pl.Float64),
    )


def test_cpa_and_sales_cost_share_by_month() -> None:
    costs = sales_costs(
        [
            # March: 30,000 fixed; 10,000 EUR + 12,500 USD x 0.80 = 20,000 variable
            (date(2026, 3, 1), "fixed", "salaries", "EUR", Decimal("30000")),
            (date(2026, 3, 1), "variable", "commissions", "EUR", Decimal("10000")),
            (date(2026, 3, 1), "variable", "agency", "USD", Decimal("12500")),
            # April: only fixed, 1,000 USD x 0.90 = 900 EUR; no orders
            (date(2026, 4, 1), "fixed", "tools", "USD", Decimal("1000")),
            # June: SEK has no rate -> the month's fixed costs are unknown
            (date(2026, 6, 1), "fixed", "tools", "SEK", Decimal("5000")),
        ]
    )
    # March: 500 first orders of 380 EUR (190,000) + 50 repeat orders of 200 (10,000) = 200,000 revenue,
    # plus a cancelled order that counts for nothing; May: one first order of 100 and no costs
    orders = fct_orders(
        [(f"n{i}", date(2026, 3, 1 + i % 31), "380", True, True) for i in range(500)]
        + [(f"r{i}", date(2026, 3, 31), "200", True, False) for i in range(50)]
        + [("x1", date(2026, 3, 10), "999", False, False), ("m1", date(2026, 5, 2), "100", True, True)]
    )
    out = build_sales_costs(costs, orders, fx_rates()).collect()
    # March: total 30,000 + 20,000 = 50,000; CPA = 50,000 / 500 = 100.0000; share = 50,000 / 200,000 x 100 = 25.0
    # April: no new customers and no revenue -> CPA and share NULL, never 0
    # May: no cost rows -> costs unknown (NULL)
    # June: fixed NULL (no SEK rate), variable 0 (no rows of that kind), total NULL
    expected = expected_frame(
        [
            (date(2026, 3, 1), "30000", "20000", "50000", 500, "200000", "100", 25.0),
            (date(2026, 4, 1), "900", "0", "900", 0, "0", None, None),
            (date(2026, 5, 1), None, None, None, 1, "100", None, None),
            (date(2026, 6, 1), None, "0", None, 0, "0", None, None),
        ]
    )
    assert_frame_equal(out, expected)
    assert out.filter(pl.col("month") == date(2026, 3, 1))["cpa_eur"].to_list() == [Decimal("100.0000")]
    assert_matches_ddl(out, "mart_sales_costs")


def test_cpa_rounds_to_four_decimals() -> None:
    costs = sales_costs([(date(2026, 3, 1), "fixed", "salaries", "EUR", Decimal("1000"))])
    orders = fct_orders([(f"n{i}", date(2026, 3, 2), "10", True, True) for i in range(3)])
    out = build_sales_costs(costs, orders, fx_rates()).collect()
    # CPA = 1,000 / 3 = 333.3333...; share = 1,000 / 30 x 100 = 3333.33...
    assert out["cpa_eur"].to_list() == [Decimal("333.3333")]
    assert out["sales_cost_share_pct"].to_list() == [100_000 / 30]


def test_fully_loaded_cac_adds_marketing_spend() -> None:
    costs = sales_costs([(date(2026, 3, 1), "fixed", "salaries", "EUR", Decimal("50000"))])
    orders = fct_orders([(f"n{i}", date(2026, 3, 2), "10", True, True) for i in range(500)]
                        + [("a1", date(2026, 4, 2), "10", True, True)])
    spend = pl.DataFrame(
        {"day": [date(2026, 3, 1), date(2026, 3, 31), date(2026, 4, 1), date(2026, 5, 1)],
         "spend_eur": [Decimal("20000"), Decimal("5000"), None, Decimal("100")]},
        schema={"day": pl.Date, "spend_eur": MONEY},
    )
    out = build_sales_costs(costs, orders, fx_rates(), spend.lazy()).collect()
    # March: (25,000 marketing + 50,000 sales costs) / 500 new customers = 150 EUR; CPA stays 50,000 / 500 = 100
    # April: a spend day without EUR -> marketing spend unknown -> CAC NULL; May: spend, no costs -> CAC NULL
    expected = expected_frame(
        [
            (date(2026, 3, 1), "50000", "0", "50000", 500, "5000", "100", 1000.0, "25000", "150"),
            (date(2026, 4, 1), None, None, None, 1, "10", None, None, None, None),
            (date(2026, 5, 1), None, None, None, 0, "0", None, None, "100", None),
        ]
    )
    assert_frame_equal(out, expected)
    assert_matches_ddl(out, "mart_sales_costs")
