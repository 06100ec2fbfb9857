"""mart_channel_roi: spend against attributed revenue per period, channel, campaign and model."""

from __future__ import annotations

import polars as pl

from pipeline.entities import MONEY
from pipeline.transforms.measures import CREDIT, nonzero, sum_unless_unconverted

# period_grain -> polars truncation interval; weeks start on Monday (ISO 8601).
PERIOD_GRAINS: dict[str, str] = {"day": "1d", "week": "1w", "month": "1mo", "quarter": "1q"}
ALL_CAMPAIGNS = "(all)"
KEY: tuple[str, ...] = ("period_grain", "period_start", "channel", "campaign_id", "model")
MEASURES: tuple[str, ...] = ("spend_eur", "impressions", "clicks", "attributed_revenue_eur", "conversions", "new_customers")
WON_DEAL_MEASURES: tuple[str, ...] = ("won_deals", "won_deal_value_eur")
# the measures that sum credit: decimals until the last step, then floats rounded to 9 decimals
CREDIT_MEASURES: tuple[str, ...] = ("conversions", "new_customers", "won_deals")



def _by_period(frame: pl.LazyFrame, date_column: str) -> pl.LazyFrame:
    """The frame once per period grain, with period_grain and the period_start its date falls in."""
    return pl.concat(
        [
            frame.with_columns(
                pl.lit(grain).alias("period_grain"),
                pl.col(date_column).dt.truncate(every).alias("period_start"),
            )
            for grain, every in PERIOD_GRAINS.items()
        ],
        how="vertical",
    )



def build_channel_roi(fct_attribution: pl.LazyFrame, fct_ad_spend_daily: pl.LazyFrame) -> pl.LazyFrame:
    """One row per period_grain, period_start, channel, campaign_id and model: spend, revenue, ROI.

    Periods are days, ISO weeks (starting Monday) and calendar months: spend by the ad account's
    ``day``, attributed revenue by the order's ``order_date``. Spend joins attribution on channel
    and campaign_id, and every spending campaign appears for every model present in
    ``fct_attribution``. Each period, channel and model also gets a roll-up row with campaign_id
    ``(all)``. ``spend_eur`` is 0 where no spend was reported (unpaid channels, paused campaigns)
    and NULL if a day's spend has no EUR amount; ``attributed_revenue_eur`` is 0 without credit.
    ``conversions`` sums credit and ``new_customers`` sums credit of first orders; ``impressions``
    and ``clicks`` are the platforms' figures (0 when the roll-up's campaigns reported none, NULL
    for a campaign without ad data). Ratios over a
    zero or NULL denominator are NULL; so are CPA and CAC without spend, since a channel with no
    reported spend (email, direct) did not get its customers for free.

    Revenue, conversions, ROI, ROAS, CPA and CAC count orders only (``conversion_type`` ``order``;
    a frame without the column is all orders). Won deals (``won_deal``) are mostly paid through
    orders as well, so their value would count the same money twice: it gets its own columns,
    ``won_deals`` (summed credit) and ``won_deal_value_eur`` (summed revenue_eur), by close date.
    """
    # one row per conversion day, channel, campaign and model first, collected once (three branches
    # read it): the period grains below repeat a frame 40x smaller than fct_attribution
    # credit (12 decimals in fct_attribution) is summed as decimals, exact in any order, and rounded to 9
    # decimals once at the end: float sums differed in their last bits between runs of the same night
    kinds = ["conversion_type"] if "conversion_type" in fct_attribution.collect_schema().names() else []
    credit = pl.col("credit").cast(CREDIT)
    daily = fct_attribution.group_by(*kinds, "order_date", "channel", "campaign_id", "model").agg(
        sum_unless_unconverted(pl.col("revenue_eur")).alias("revenue_eur"),
        credit.sum().alias("credit"),
        # a sum over the group, not a filter per group: zeros add nothing
        pl.when(pl.col("is_first_order").fill_null(False)).then(credit).otherwise(pl.lit(0, CREDIT)).sum()
        .alias("first_order_credit"),
    ).collect().lazy()
    if kinds:
        won = daily.filter(pl.col("conversion_type") == "won_deal")
        daily = daily.filter(pl.col("conversion_type") == "order")
    else:
        won = daily.clear()
    won_deals = (
        _by_period(won, "order_date")
        .group_by(*KEY)
        .agg(
            pl.col("credit").sum().alias("won_deals"),
            sum_unless_unconverted(pl.col("revenue_eur")).alias("won_deal_value_eur"),
            pl.lit(True).alias("_has_won"),
        )
    )
    attributed = (
        _by_period(daily, "order_date")
        .group_by(*KEY)
        .agg(
            sum_unless_unconverted(pl.col("revenue_eur")).alias("attributed_revenue_eur"),
            pl.col("credit").sum().alias("conversions"),
            pl.col("first_order_credit").sum().alias("new_customers"),
        )
    )
    spend = (
        _by_period(fct_ad_spend_daily, "day")
        .group_by("period_grain", "period_start", "channel", "campaign_id")
        .agg(
            sum_unless_unconverted(pl.col("spend_eur")).alias("spend_eur"),
            pl.col("impressions").sum().cast(pl.Int64),
            pl.col("clicks").sum().cast(pl.Int64),
            pl.lit(True).alias("_has_spend"),
        )
        .join(pl.concat([daily.select("model"), won.select("model")]).unique(), how="cross")
    )
    by_campaign = (
        spend.join(attributed, on=list(KEY), how="full", coalesce=True)
        .join(won_deals, on=list(KEY), how="full", coalesce=True)
        .with_columns(
            pl.when(pl.col("_has_spend").is_null()).then(pl.lit(0, MONEY)).otherwise(pl.col("spend_eur")).alias(
                "spend_eur"
            ),
            pl.col("attributed_revenue_eur").fill_null(pl.lit(0, MONEY)),
            *(pl.col(name).fill_null(pl.lit(0, CREDIT)) for name in CREDIT_MEASURES),
            # 0 where no deal was won; a sum with a deal lacking a EUR amount stays NULL
            pl.when(pl.col("_has_won").is_null()).then(pl.lit(0, MONEY)).otherwise(pl.col("won_deal_value_eur"))
            .alias("won_deal_value_eur"),
        )
        .select(*KEY, *MEASURES, *WON_DEAL_MEASURES)
    )
    by_channel = (
        by_campaign.group_by("period_grain", "period_start", "channel", "model")
        .agg(
            sum_unless_unconverted(pl.col("spend_eur")).alias("spend_eur"),
            pl.col("impressions").sum().cast(pl.Int64),
            pl.col("clicks").sum().cast(pl.Int64),
            sum_unless_unconverted(pl.col("attributed_revenue_eur")).alias("attributed_revenue_eur"),
            *(pl.col(name).sum() for name in CREDIT_MEASURES),
            sum_unless_unconverted(pl.col("won_deal_value_eur")).alias("won_deal_value_eur"),
        )
        .with_columns(pl.lit(ALL_CAMPAIGNS).alias("campaign_id"))
        .select(*KEY, *MEASURES, *WON_DEAL_MEASURES)
    )
    spend_eur = pl.col("spend_eur")
    revenue_eur = pl.col("attributed_revenue_eur").cast(pl.Float64)
    return (
        pl.concat([by_campaign, by_channel], how="vertical")
        .with_columns(pl.col(name).cast(pl.Float64).round(9) for name in CREDIT_MEASURES)
        .select(
            *KEY,
            *MEASURES,
            # ROI = (attributed revenue - spend) / spend
            ((revenue_eur - spend_eur.cast(pl.Float64)) / nonzero(spend_eur)).alias("roi"),
            # ROAS = attributed revenue / spend
            (revenue_eur / nonzero(spend_eur)).alias("roas"),
            # CTR = clicks / impressions x 100
            (pl.col("clicks") * 100 / nonzero(pl.col("impressions"))).alias("ctr_pct"),
            # conversion rate = conversions / clicks x 100
            (pl.col("conversions") * 100 / nonzero(pl.col("clicks"))).alias("conversion_rate_pct"),
            # CPA = spend / conversions (attributed credit)
            (nonzero(spend_eur) / nonzero(pl.col("conversions"))).round(4).cast(MONEY).alias("cpa_eur"),
            # CAC = spend / new customers (attributed credit of first orders)
            (nonzero(spend_eur) / nonzero(pl.col("new_customers"))).round(4).cast(MONEY).alias("cac_eur"),
            *WON_DEAL_MEASURES,
        )
        .sort(*KEY)
    )
