"""Campaign lift: business revenue and new customers while a campaign ran against the period before it."""

from __future__ import annotations

from datetime import date

import polars as pl

from pipeline.entities import MONEY
from pipeline.transforms.measures import sum_unless_unconverted

_CAMPAIGN = ["platform", "campaign_id"]



def _growth_pct(during: pl.Expr, before: pl.Expr) -> pl.Expr:
    """(during - before) / before x 100 as a float; NULL when before is 0 or NULL (no baseline)."""
    before_float = before.cast(pl.Float64)
    return (during.cast(pl.Float64) - before_float) * 100 / pl.when(before_float != 0).then(before_float)


def build_campaign_lift(
    fct_ad_spend_daily: pl.LazyFrame,
    fct_orders: pl.LazyFrame,
    as_of: date,
) -> pl.LazyFrame:
    """One row per platform and campaign: revenue and new customers before vs during its run, growth and lift.

    A campaign's run is its first to last day with ``spend > 0`` up to as-of (campaigns without
    such a day are left out); ``days`` counts the run's days, both ends included. The before
    window is the same number of days immediately before the run's first day. ``spend_eur`` sums
    the run's ``spend_eur`` (NULL if a day has no EUR amount); ``campaign_name`` and ``channel``
    are those of the run's latest day.

    The lift is business-level, not attributed: ``revenue_*_eur`` sums ``net_revenue_eur`` of
    ALL ``is_revenue`` orders by ``order_date`` in each window, and ``new_customers_*`` counts ALL
    ``is_first_order`` orders, whatever brought them; overlapping campaigns share the same
    revenue. ``before_complete`` is False when the before window starts before the first order in
    the data (the baseline is partial, e.g. campaigns running since the data began).
    """
    orders_daily = (
        fct_orders.filter(pl.col("order_date") <= as_of)
        .group_by("order_date")
        .agg(
            pl.col("net_revenue_eur").filter(pl.col("is_revenue").fill_null(False)).sum().cast(MONEY).alias(
                "revenue_eur"
            ),
            pl.col("is_first_order").fill_null(False).sum().cast(pl.Int64).alias("new_customers"),
        )
    )
    first_order_date = fct_orders.select(pl.col("order_date").min().alias("first_order_date"))
    is_spend_day = pl.col("spend") > 0
    campaigns = (
        fct_ad_spend_daily.filter(pl.col("day") <= as_of)
        .with_columns(
            pl.col("day").filter(is_spend_day).min().over(_CAMPAIGN).alias("period_start"),
            pl.col("day").filter(is_spend_day).max().over(_CAMPAIGN).alias("period_end"),
        )
        .filter(pl.col("day").is_between(pl.col("period_start"), pl.col("period_end")))
        .group_by(_CAMPAIGN)
        .agg(
            pl.col("campaign_name").sort_by("day").last().alias("campaign_name"),
            pl.col("channel").sort_by("day").last().alias("channel"),
            pl.col("period_start").first().alias("period_start"),
            pl.col("period_end").first().alias("period_end"),
            sum_unless_unconverted(pl.col("spend_eur")).alias("spend_eur"),
        )
        .with_columns(
            ((pl.col("period_end") - pl.col("period_start")).dt.total_days() + 1).cast(pl.Int64).alias("days"),
        )
        .with_columns(
            (pl.col("period_start") - pl.duration(days=pl.col("days"))).alias("before_start"),
            (pl.col("period_start") - pl.duration(days=1)).alias("before_end"),
        )
    )
    in_before = pl.col("order_date").is_between(pl.col("before_start"), pl.col("before_end"))
    in_run = pl.col("order_date").is_between(pl.col("period_start"), pl.col("period_end"))
    windows = (
        campaigns.join_where(
            orders_daily,
            pl.col("order_date") >= pl.col("before_start"),
            pl.col("order_date") <= pl.col("period_end"),
        )
        .group_by(_CAMPAIGN)
        .agg(
            pl.col("revenue_eur").filter(in_before).sum().cast(MONEY).alias("revenue_before_eur"),
            pl.col("revenue_eur").filter(in_run).sum().cast(MONEY).alias("revenue_during_eur"),
            pl.col("new_customers").filter(in_before).sum().cast(pl.Int64).alias("new_customers_before"),
            pl.col("new_customers").filter(in_run).sum().cast(pl.Int64).alias("new_customers_during"),
        )
    )
    return (
        campaigns.join(windows, on=_CAMPAIGN, how="left")
        .join(first_order_date, how="cross")
        .with_columns(
            pl.col("revenue_before_eur", "revenue_during_eur").fill_null(pl.lit(0, MONEY)),
            pl.col("new_customers_before", "new_customers_during").fill_null(0),
        )
        .with_columns(
            # incremental revenue = revenue during - revenue before
            (pl.col("revenue_during_eur") - pl.col("revenue_before_eur")).cast(MONEY).alias(
                "incremental_revenue_eur"
            ),
        )
        .select(
            "platform",
            "campaign_id",
            "campaign_name",
            "channel",
            "period_start",
            "period_end",
            "days",
            "before_start",
            "before_end",
            # a baseline starting before the first order in the data is partial (no data, not no sales)
            (pl.col("before_start") >= pl.col("first_order_date")).fill_null(False).alias("before_complete"),
            "spend_eur",
            "revenue_before_eur",
            "revenue_during_eur",
            # growth % = (revenue during - revenue before) / revenue before x 100
            _growth_pct(pl.col("revenue_during_eur"), pl.col("revenue_before_eur")).alias("growth_pct"),
            "new_customers_before",
            "new_customers_during",
            # new-customer growth % = (during - before) / before x 100
            _growth_pct(pl.col("new_customers_during"), pl.col("new_customers_before")).alias(
                "new_customers_growth_pct"
            ),
            "incremental_revenue_eur",
            # incremental ROAS = incremental revenue / spend
            (
                pl.col("incremental_revenue_eur").cast(pl.Float64)
                / pl.when(pl.col("spend_eur") != 0).then(pl.col("spend_eur").cast(pl.Float64))
            ).alias("incremental_roas"),
        )
        .sort(_CAMPAIGN)
    )
