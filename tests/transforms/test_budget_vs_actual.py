from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import polars as pl
from polars.testing import assert_frame_equal

from pipeline.entities import MONEY, conform
from pipeline.transforms.budget_vs_actual import build_budget_vs_actual
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
AS_OF = date(2026, 6, 10)




def ad_spend(rows: list[tuple[date, str, str]]) -> pl.LazyFrame:
    """Rows of (day, channel, spend EUR)."""
    records = [
        {
            "day": day,
            "platform": "google_ads",
            "account_id": "123-456-7890",
            "campaign_id": "42",
            "campaign_name": "Brand",
            "channel": channel,
            "currency_code": "EUR",
            "spend": Decimal(spend),
            "spend_eur": Decimal(spend),
            "impressions": 1000,
            "clicks": 10,
            "platform_conversions": Decimal(1),
            "platform_conversion_value": Decimal(100),
            "platform_conversion_value_eur": Decimal(100),
        }
        for day, channel, spend in rows
    ]
    return pl.DataFrame(records, schema=FCT_AD_SPEND_DAILY_SCHEMA).lazy()


def budgets(rows: list[tuple[date, str, str, str]]) -> pl.LazyFrame:
    frame = pl.DataFrame(
        [(month, channel, ccy, Decimal(amount)) for month, channel, ccy, amount in rows],
        schema=["month", "channel", "currency_code", "amount"],
        orient="row",
    )
    return conform(frame, "budget").lazy()


def fx_rates() -> pl.LazyFrame:
    frame = pl.DataFrame(
        [(date(2000, 1, 1), "EUR", Decimal(1)), (date(2026, 1, 1), "USD", Decimal("0.80"))],
        schema=["valid_from", "currency_code", "eur_per_unit"],
        orient="row",
    )
    return conform(frame, "fx_rate").lazy()


def test_budget_vs_actual_with_projection() -> None:
    plan = budgets(
        [
            (date(2026, 5, 1), "paid_search", "EUR", "2000"),
            (date(2026, 5, 1), "paid_social", "USD", "1000"),  # 1,000 x 0.80 = 800 EUR
            (date(2026, 6, 1), "paid_search", "EUR", "3000"),
            (date(2026, 6, 1), "email", "EUR", "0"),
            (date(2026, 7, 1), "paid_search", "EUR", "3000"),  # after as-of's month
        ]
    )
    spend = ad_spend(
        [(date(2026, 6, 1) + timedelta(days=i), "paid_search", "150") for i in range(10)]  # June 1-10: 1,500
        + [(date(2026, 6, 11), "paid_search", "999")]  # after as-of
        + [(date(2026, 5, 3), "paid_search", "1000"), (date(2026, 5, 31), "paid_search", "1500")]
        + [(date(2026, 6, 4), "linkedin", "300")]
    )
    out = build_budget_vs_actual(plan, spend, fx_rates(), AS_OF).collect()
    # May paid_search: 2,500 - 2,000 = 500, 500 / 2,000 x 100 = 25 %; complete month: projected = actual
    # May paid_social: no spend -> actual 0, variance -800, -100 %
    # June paid_search: 1,500 by day 10 of 30: variance -1,500 (-50 %), projected 1,500 / 10 x 30 = 4,500
    # June email: budget 0 -> variance % NULL, never a division by zero
    # June linkedin: no budget -> budget, variance and variance % NULL; projected 300 / 10 x 30 = 900
    expected = pl.DataFrame(
        [
            (date(2026, 5, 1), "paid_search", "2000", "2500", "500", 25.0, 31, 31, "2500"),
            (date(2026, 5, 1), "paid_social", "800", "0", "-800", -100.0, 31, 31, "0"),
            (date(2026, 6, 1), "email", "0", "0", "0", None, 10, 30, "0"),
            (date(2026, 6, 1), "linkedin", None, "300", None, None, 10, 30, "900"),
            (date(2026, 6, 1), "paid_search", "3000", "1500", "-1500", -50.0, 10, 30, "4500"),
        ],
        schema=[
            "month", "channel", "budget_eur", "actual_eur", "variance_eur", "variance_pct", "days_elapsed",
            "days_in_month", "projected_eur",
        ],
        orient="row",
    ).with_columns(
        pl.col("budget_eur", "actual_eur", "variance_eur", "projected_eur").cast(MONEY),
        pl.col("variance_pct").cast(pl.Float64),
        pl.col("days_elapsed", "days_in_month").cast(pl.Int32),
    )
    assert_frame_equal(out, expected)
    assert_matches_ddl(out, "mart_budget_vs_actual")


def test_spend_without_eur_amount_makes_actual_unknown() -> None:
    spend = ad_spend([(date(2026, 6, 1), "paid_search", "100"), (date(2026, 6, 2), "paid_search", "100")])
    spend = spend.with_columns(
        pl.when(pl.col("day") == date(2026, 6, 2)).then(None).otherwise(pl.col("spend_eur")).alias("spend_eur")
    )
    plan = budgets([(date(2026, 6, 1), "paid_search", "EUR", "3000")])
    out = build_budget_vs_actual(plan, spend, fx_rates(), AS_OF).collect()
    # 100 + unknown is unknown: a partial sum would understate the spend
    assert out.select("actual_eur", "variance_eur", "projected_eur").row(0) == (None, None, None)
