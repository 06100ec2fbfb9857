"""Channel budgets against actual ad spend, month by month, with a run-rate projection."""

from __future__ import annotations

from datetime import date

import polars as pl

from pipeline.entities import MONEY
from pipeline.fx import with_eur
from pipeline.transforms.measures import sum_unless_unconverted


def build_budget_vs_actual(
    budgets: pl.LazyFrame,
    fct_ad_spend_daily: pl.LazyFrame,
    fx_rates: pl.LazyFrame,
    as_of: date,
) -> pl.LazyFrame:
    """One row per month and channel: budget, actual spend up to as-of, variance and projection.

    Months are those with a budget or spend, up to as-of's month. Budgets are converted at the
    rate valid on the month's first day; ``actual_eur`` sums ``spend_eur`` of days up to as-of (0
    when the channel spent nothing that month; NULL if a day's spend has no EUR amount).
    ``budget_eur`` is NULL when the month and channel have no budget, and so are the variances.
    For as-of's month ``days_elapsed`` is as-of's day of month (day as-of counts as complete) and
    ``projected_eur`` extrapolates the run rate to the whole month; past months are complete.
    """
    as_of_month = as_of.replace(day=1)
    budget = (
        with_eur(
            budgets.with_columns(pl.col("month").dt.month_start().alias("month")),
            fx_rates,
            amount_columns=["amount"],
            date_column="month",
        )
        .group_by("month", "channel")
        .agg(sum_unless_unconverted(pl.col("amount_eur")).alias("budget_eur"))
    )
    actual = (
        fct_ad_spend_daily.filter(pl.col("day") <= as_of)
        .with_columns(pl.col("day").dt.month_start().alias("month"))
        .group_by("month", "channel")
        .agg(sum_unless_unconverted(pl.col("spend_eur")).alias("actual_eur"), pl.lit(True).alias("_has_spend"))
    )
    is_current = pl.col("month") == as_of_month
    return (
        budget.join(actual, on=["month", "channel"], how="full", coalesce=True)
        .filter(pl.col("month") <= as_of_month)
        .with_columns(
            pl.when(pl.col("_has_spend").is_null())
            .then(pl.lit(0, MONEY))
            .otherwise(pl.col("actual_eur"))
            .alias("actual_eur"),
            pl.col("month").dt.days_in_month().cast(pl.Int32).alias("days_in_month"),
        )
        .with_columns(
            pl.when(is_current).then(pl.lit(as_of.day, pl.Int32)).otherwise(pl.col("days_in_month")).alias(
                "days_elapsed"
            ),
            # variance = actual - budget
            (pl.col("actual_eur") - pl.col("budget_eur")).cast(MONEY).alias("variance_eur"),
        )
        .select(
            "month",
            "channel",
            "budget_eur",
            "actual_eur",
            "variance_eur",
            # variance % = variance / budget x 100
            (
                pl.col("variance_eur").cast(pl.Float64)
                * 100
                / pl.when(pl.col("budget_eur") != 0).then(pl.col("budget_eur").cast(pl.Float64))
            ).alias("variance_pct"),
            "days_elapsed",
            "days_in_month",
            # projection = actual / days elapsed x days in month (multiplied first to keep precision)
            pl.when(is_current)
            .then(pl.col("actual_eur") * pl.col("days_in_month") / pl.col("days_elapsed"))
            .otherwise(pl.col("actual_eur"))
            .round(4)
            .cast(MONEY)
            .alias("projected_eur"),
        )
        .sort("month", "channel")
    )
