"""Sales costs per month and what they bought: CPA and the sales-cost share of revenue."""

from __future__ import annotations

import polars as pl

from pipeline.entities import MONEY
from pipeline.fx import with_eur
from pipeline.transforms.measures import sum_unless_unconverted


def build_sales_costs(
    sales_costs: pl.LazyFrame,
    fct_orders: pl.LazyFrame,
    fx_rates: pl.LazyFrame,
    fct_ad_spend_daily: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """One row per month: fixed and variable sales costs in EUR, new customers, revenue, CPA, cost share, CAC.

    Months are those present in either input. Costs are converted at the rate valid on the
    month's first day; a month with a cost that has no rate gets NULL costs. A month without any
    cost row has NULL costs (unknown, not free); a month with cost rows of only one kind has 0 for
    the other. Kinds other than ``fixed`` and ``variable`` are not counted. ``new_customers``
    counts ``is_first_order`` orders and ``revenue_eur`` sums ``net_revenue_eur`` of ``is_revenue``
    orders, both by ``order_date`` month (0 when the month has no orders). ``marketing_spend_eur``
    sums the month's ad spend (0 without spend rows, NULL if a day has no EUR amount or no ad
    spend was given) and ``cac_eur`` = (marketing spend + total sales costs) / new customers.
    """
    costs = (
        with_eur(
            sales_costs.with_columns(pl.col("month").dt.month_start().alias("month")),
            fx_rates,
            amount_columns=["amount"],
            date_column="month",
        )
        .group_by("month")
        .agg(
            sum_unless_unconverted(pl.col("amount_eur").filter(pl.col("kind") == "fixed")).alias("fixed_eur"),
            sum_unless_unconverted(pl.col("amount_eur").filter(pl.col("kind") == "variable")).alias(
                "variable_eur"
            ),
        )
    )
    orders = (
        fct_orders.with_columns(pl.col("order_date").dt.month_start().alias("month"))
        .group_by("month")
        .agg(
            pl.col("is_first_order").fill_null(False).sum().cast(pl.Int64).alias("new_customers"),
            pl.col("net_revenue_eur").filter(pl.col("is_revenue").fill_null(False)).sum().cast(MONEY).alias(
                "revenue_eur"
            ),
        )
    )
    if fct_ad_spend_daily is None:
        spend = pl.LazyFrame(schema={"month": pl.Date, "marketing_spend_eur": MONEY, "_has_spend": pl.Boolean})
    else:
        spend = (
            fct_ad_spend_daily.with_columns(pl.col("day").dt.month_start().alias("month"))
            .group_by("month")
            .agg(sum_unless_unconverted(pl.col("spend_eur")).alias("marketing_spend_eur"), pl.lit(True).alias("_has_spend"))
        )
    return (
        costs.join(orders, on="month", how="full", coalesce=True)
        .join(spend, on="month", how="full", coalesce=True)
        .with_columns(
            # total sales costs = fixed + variable
            (pl.col("fixed_eur") + pl.col("variable_eur")).cast(MONEY).alias("total_sales_costs_eur"),
            pl.col("new_customers").fill_null(0),
            pl.col("revenue_eur").fill_null(pl.lit(0, MONEY)),
            pl.when(pl.col("_has_spend").is_null() & pl.lit(fct_ad_spend_daily is not None))
            .then(pl.lit(0, MONEY))
            .otherwise(pl.col("marketing_spend_eur"))
            .alias("marketing_spend_eur"),
        )
        .select(
            "month",
            "fixed_eur",
            "variable_eur",
            "total_sales_costs_eur",
            "new_customers",
            "revenue_eur",
            # CPA = total sales costs / new customers
            (
                pl.col("total_sales_costs_eur")
                / pl.when(pl.col("new_customers") > 0).then(pl.col("new_customers"))
            )
            .round(4)
            .cast(MONEY)
            .alias("cpa_eur"),
            # sales-cost share = total sales costs / revenue x 100
            (
                pl.col("total_sales_costs_eur").cast(pl.Float64)
                * 100
                / pl.when(pl.col("revenue_eur") != 0).then(pl.col("revenue_eur").cast(pl.Float64))
            ).alias("sales_cost_share_pct"),
            "marketing_spend_eur",
            # CAC = (marketing spend + total sales costs) / new customers
            (
                (pl.col("marketing_spend_eur") + pl.col("total_sales_costs_eur"))
                / pl.when(pl.col("new_customers") > 0).then(pl.col("new_customers"))
            )
            .round(4)
            .cast(MONEY)
            .alias("cac_eur"),
        )
        .sort("month")
    )
