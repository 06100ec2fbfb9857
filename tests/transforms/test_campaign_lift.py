from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from pipeline.entities import MONEY, UTC_TS
from pipeline.transforms.campaign_lift import build_campaign_lift
from tests.transforms.ddl import assert_matches_ddl

FCT_AD_SPEND_DAILY_SCHEMA = {
    "day": pl.Date,
    "platform": pl.Utf8,
    "account_id": pl.Utf8,
    "campaign_id": pl.Utf8,
    "campaign_name": pl.Utf8,
    "channel": pl.Utf8,
    "currency_code": pl.Utf8,
    "spend": MONEY,
    "spend_eur": MONEY,
    "impressions": pl.Int64,
    "clicks": pl.Int64,
    "platform_conversions": MONEY,
    "platform_conversion_value": MONEY,
    "platform_conversion_value_eur": MONEY,
}
FCT_ORDERS_SCHEMA = {
    "order_id": pl.Utf8,
    "customer_id": pl.Utf8,
    "ordered_at": UTC_TS,
    "order_date": pl.Date,
    "net_revenue_eur": MONEY,
    "is_revenue": pl.Boolean,
    "is_first_order": pl.Boolean,
}
DDL = Path(__file__).resolve().parents[2] / "warehouse" / "tables" / "mart_campaign_lift.sql"
SQL_TYPE_OF = {
    pl.Utf8(): "TEXT",
    pl.Date(): "DATE",
    pl.Int64(): "BIGINT",
    pl.Float64(): "DOUBLE PRECISION",
    pl.Decimal(18, 4): "DECIMAL(18,4)",
    pl.Boolean(): "BOOLEAN",
}
START, END = date(2026, 9, 21), date(2026, 9, 30)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def ad_spend(rows: list[tuple[date, str, str, str, str]]) -> pl.LazyFrame:
    """Rows of (day, platform, campaign_id, campaign_name, spend EUR)."""
    records = [
        {
            "day": day,
            "platform": platform,
            "account_id": "acc-1",
            "campaign_id": campaign_id,
            "campaign_name": name,
            "channel": "paid_search" if platform == "google_ads" else "paid_social",
            "currency_code": "EUR",
            "spend": Decimal(spend),
            "spend_eur": Decimal(spend),
            "impressions": 1000,
            "clicks": 10,
            "platform_conversions": Decimal(0),
            "platform_conversion_value": Decimal(0),
            "platform_conversion_value_eur": Decimal(0),
        }
        for day, platform, campaign_id, name, spend in rows
    ]
    return pl.DataFrame(records, schema=FCT_AD_SPEND_DAILY_SCHEMA).lazy()


def fct_orders(rows: list[tuple[str, date, str, bool, bool]]) -> pl.LazyFrame:
    """Rows of (order_id, order_date, net EUR, is_revenue, is_first_order)."""
    records = [
        {
            "order_id": order_id,
            "customer_id": f"cust-{order_id}",
            "ordered_at": datetime.combine(day, time(12), tzinfo=UTC),
            "order_date": day,
            "net_revenue_eur": Decimal(net),
            "is_revenue": is_revenue,
            "is_first_order": is_first_order,
        }
        for order_id, day, net, is_revenue, is_first_order in rows
    ]
    return pl.DataFrame(records, schema=FCT_ORDERS_SCHEMA).lazy()


def expected_frame(rows: list[tuple]) -> pl.DataFrame:
    schema = {
        "platform": pl.Utf8, "campaign_id": pl.Utf8, "campaign_name": pl.Utf8, "channel": pl.Utf8,
        "period_start": pl.Date, "period_end": pl.Date, "days": pl.Int64, "before_start": pl.Date,
        "before_end": pl.Date, "before_complete": pl.Boolean, "spend_eur": pl.Utf8, "revenue_before_eur": pl.Utf8,
        "revenue_during_eur": pl.Utf8, "growth_pct": pl.Float64, "new_customers_before": pl.Int64,
        "new_customers_during": pl.Int64, "new_customers_growth_pct": pl.Float64,
        "incremental_revenue_eur": pl.Utf8, "incremental_roas": pl.Float64,
    }
    money = ["spend_eur", "revenue_before_eur", "revenue_during_eur", "incremental_revenue_eur"]
    return pl.DataFrame(rows, schema=schema, orient="row").with_columns(pl.col(money).cast(MONEY))


def test_lift_of_a_ten_day_campaign_against_the_ten_days_before() -> None:
    # 250 EUR a day on 21..30 September = 2,500; a zero-spend day either side does not widen the run;
    # the name changed on the 25th, the latest one is kept
    spend = ad_spend(
        [(date(2026, 9, 20), "google_ads", "g1", "Brand (old)", "0")]
        + [(day, "google_ads", "g1", "Brand (old)" if day < date(2026, 9, 25) else "Brand", "250")
           for day in days(START, END)]
        + [(date(2026, 10, 1), "google_ads", "g1", "Brand", "0")]
    )
    # before (11..20 Sep): 10 orders of 1,000 = 10,000, 4 of them first orders
    # during (21..30 Sep): 15 orders of 1,000 = 15,000, 6 of them first orders
    # outside both windows or not revenue: counted nowhere
    orders = fct_orders(
        [(f"b{i}", date(2026, 9, 11 + i), "1000", True, i < 4) for i in range(10)]
        + [(f"d{i}", date(2026, 9, 21 + i % 10), "1000", True, i < 6) for i in range(15)]
        + [
            ("early", date(2026, 9, 10), "700", True, True),
            ("late", date(2026, 10, 1), "700", True, True),
            ("cancelled", date(2026, 9, 25), "999", False, True),
        ]
    )
    out = build_campaign_lift(spend, orders, as_of=date(2026, 10, 31)).collect()
    # growth = (15,000 - 10,000) / 10,000 x 100 = 50.0; incremental = 5,000; ROAS = 5,000 / 2,500 = 2.0
    # new customers: during 6 + cancelled first order (a first order even if not revenue) = 7 vs 4 -> 75.0
    expected = expected_frame(
        [
            ("google_ads", "g1", "Brand", "paid_search", START, END, 10, date(2026, 9, 11), date(2026, 9, 20),
             True, "2500", "10000", "15000", 50.0, 4, 7, 75.0, "5000", 2.0),
        ]
    )
    assert_frame_equal(out, expected)
    assert_matches_ddl(out, "mart_campaign_lift")


def test_no_revenue_before_gives_null_growth_and_a_partial_baseline() -> None:
    # spend 5..6 Sep, before window 3..4 Sep, but the order data starts on 5 Sep
    spend = ad_spend([(day, "meta_ads", "m1", "Launch", "100") for day in days(date(2026, 9, 5), date(2026, 9, 6))])
    orders = fct_orders([("o1", date(2026, 9, 5), "300", True, True), ("o2", date(2026, 9, 6), "100", True, False)])
    out = build_campaign_lift(spend, orders, as_of=date(2026, 9, 30)).collect()
    expected = expected_frame(
        [
            ("meta_ads", "m1", "Launch", "paid_social", date(2026, 9, 5), date(2026, 9, 6), 2, date(2026, 9, 3),
             date(2026, 9, 4), False, "200", "0", "400", None, 0, 1, None, "400", 2.0),
        ]
    )
    assert_frame_equal(out, expected)


def test_as_of_cuts_the_run_and_later_orders() -> None:
    spend = ad_spend([(day, "google_ads", "g1", "Brand", "250") for day in days(START, END)])
    # before 16..20 Sep: 2,000; during 21..25 Sep: 3,000; the 26th is after as-of
    orders = fct_orders(
        [
            ("b1", date(2026, 9, 16), "2000", True, False),
            ("d1", date(2026, 9, 25), "3000", True, True),
            ("after", date(2026, 9, 26), "5000", True, True),
        ]
    )
    out = build_campaign_lift(spend, orders, as_of=date(2026, 9, 25)).collect()
    # 5 days x 250 = 1,250 spend; incremental 1,000; ROAS = 1,000 / 1,250 = 0.8; growth 50.0
    expected = expected_frame(
        [
            ("google_ads", "g1", "Brand", "paid_search", START, date(2026, 9, 25), 5, date(2026, 9, 16),
             date(2026, 9, 20), True, "1250", "2000", "3000", 50.0, 0, 1, None, "1000", 0.8),
        ]
    )
    assert_frame_equal(out, expected)
    # a campaign that starts after as-of has no row
    later = ad_spend([(date(2026, 10, 5), "google_ads", "g2", "Later", "10")])
    assert build_campaign_lift(later, orders, as_of=date(2026, 9, 25)).collect().height == 0


def test_columns_and_types_match_the_table_definition() -> None:
    pattern = re.compile(r"^    (\w+) (TEXT|DATE|TIMESTAMPTZ|BIGINT|INTEGER|DOUBLE PRECISION|DECIMAL\(18,4\)|BOOLEAN)")
    declared = [m.groups() for line in DDL.read_text().splitlines() if (m := pattern.match(line))]
    schema = build_campaign_lift(ad_spend([]), fct_orders([]), as_of=START).collect_schema()
    assert [name for name, _ in declared] == schema.names()
    assert [sql_type for _, sql_type in declared] == [SQL_TYPE_OF[dtype] for dtype in schema.dtypes()]
