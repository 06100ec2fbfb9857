"""mart_retargeting: conversion of retargeted site visitors against comparable visitors who were not retargeted."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from pipeline.entities import MONEY
from pipeline.errors import ConfigError
from pipeline.transforms.measures import customer_hash, nonzero, sum_unless_unconverted

RETARGETING_CHANNEL = "display_retargeting"
# Touches that show a person reached the site: what puts them in a retargeting audience.
QUALIFYING_TOUCH_TYPES: tuple[str, ...] = ("click", "email_click", "visit", "pricing_visit")
_CAMPAIGN = ["platform", "campaign_id"]


def build_retargeting(
    fct_touchpoints: pl.LazyFrame,
    fct_orders: pl.LazyFrame,
    fct_ad_spend_daily: pl.LazyFrame,
    as_of: date,
    window_days: int = 90,
) -> pl.LazyFrame:
    """One row per retargeting campaign (platform, campaign_id) as of ``as_of``: retargeted vs comparable visitors.

    ``as_of_date`` is ``as_of``: mart_retargeting is a snapshot table, one snapshot per date, each
    from the data as of that date only, so a backfill leaves the snapshots nightly runs leave.

    A retargeting campaign is one with channel ``display_retargeting`` in the ad reports or the
    touchpoints; it ran from its first to its last day with spend, impressions or a touch, up to
    ``as_of``. A campaign's *visitors* are the customers with a qualifying engagement (a touch of a
    type in ``QUALIFYING_TOUCH_TYPES`` on a channel other than retargeting) on a day the campaign
    ran; each visitor's *anchor* is their first such engagement up to ``as_of``. Over the
    ``window_days`` after the anchor (anchor < ts <= anchor + window_days):

    - *retargeted* visitors had a touch (impression or click) of this campaign;
    - *comparable* visitors (the control group) had no touch of any retargeting campaign, neither
      in that window nor in the ``window_days`` before the anchor;
    - the others (reached only by other retargeting campaigns, or only before the anchor) are in
      neither group.

    A visitor *converted* with a revenue order in the same window; ``*_revenue_eur`` sums those
    orders' net revenue. Both groups are anchored and measured the same way, so the control group
    is the same kind of people (site visitors of the same days) who happened not to be reached:
    the comparison is causal only if who gets reached is as good as random (as it is in the demo).
    Exposure anywhere in the window counts, also after a conversion.

    From the ad reports up to ``as_of``: impressions, clicks, CTR, spend; cost per conversion =
    spend / retargeted converters; cost per incremental conversion = spend / incremental
    conversions, NULL when the campaign added none.
    """
    if window_days < 1:
        raise ConfigError(f"retargeting window_days must be at least 1, got {window_days}")
    window = timedelta(days=window_days)
    spend = (
        fct_ad_spend_daily.filter((pl.col("channel") == RETARGETING_CHANNEL) & (pl.col("day") <= as_of))
        .group_by(_CAMPAIGN)
        .agg(
            pl.col("campaign_name").sort_by("day").drop_nulls().last().alias("campaign_name"),
            pl.col("day").filter((pl.col("spend") > 0) | (pl.col("impressions") > 0)).min().alias("_spend_start"),
            pl.col("day").filter((pl.col("spend") > 0) | (pl.col("impressions") > 0)).max().alias("_spend_end"),
            pl.col("impressions").sum().cast(pl.Int64).alias("impressions"),
            pl.col("clicks").sum().cast(pl.Int64).alias("clicks"),
            sum_unless_unconverted(pl.col("spend_eur")).alias("spend_eur"),
        )
    )
    # customers by their hash while joined and grouped (958 -> 679 MB at medium, as categories were; 0.2 s for 11M
    # touches, where a cast to categories took 4 s): only counts per campaign come out
    customer = customer_hash()
    touches = (fct_touchpoints.filter(pl.col("customer_id").is_not_null() & (pl.col("touch_date") <= as_of))
               .with_columns(customer))
    # Collected where read more than once (polars would compute them again): the retargeting touches (for the
    # campaigns' periods and for exposure), the campaigns (a few rows every step below reads) and the anchors.
    retargeting_touches = (
        touches.filter(pl.col("channel") == RETARGETING_CHANNEL)
        .select("customer_id", "ts", "touch_date", *_CAMPAIGN)
        .collect()
        .lazy()
    )
    touched = (
        retargeting_touches.filter(pl.col("campaign_id").is_not_null())
        .group_by(_CAMPAIGN)
        .agg(pl.col("touch_date").min().alias("_touch_start"), pl.col("touch_date").max().alias("_touch_end"))
    )
    campaigns = (
        spend.join(touched, on=_CAMPAIGN, how="full", coalesce=True)
        .with_columns(
            pl.min_horizontal("_spend_start", "_touch_start").alias("period_start"),
            pl.max_horizontal("_spend_end", "_touch_end").alias("period_end"),
        )
        .filter(pl.col("period_start").is_not_null())
        .drop("_spend_start", "_spend_end", "_touch_start", "_touch_end")
        .collect()
        .lazy()
    )
    # Campaigns that ran over the same days have the same visitors and anchors: each visitor is anchored and
    # measured once per distinct period (_period), and only then counted per campaign (_campaign). A campaign with
    # a NULL in its key matches no visitor (as in a join on the key) and gets no figures.
    keyed = (
        campaigns.filter(pl.col("platform").is_not_null() & pl.col("campaign_id").is_not_null())
        .select(*_CAMPAIGN, "period_start", "period_end")
        .with_columns(
            pl.struct(*_CAMPAIGN).rank("dense").alias("_campaign"),
            pl.struct("period_start", "period_end").rank("dense").alias("_period"),
        )
    )
    # one pass over the qualifying touches, grouped by customer, with each period's first engagement as a
    # column: a cross join with the periods held every touch once per period (medium: 411 -> 314 MB here). Each
    # first engagement is the minimum of a masked column (NULL outside the period), cheaper than a filter inside
    # the aggregation
    periods = keyed.select("_period", "period_start", "period_end").unique().sort("_period").collect()
    firsts = (
        touches.filter(pl.col("touch_type").is_in(list(QUALIFYING_TOUCH_TYPES))
                       & (pl.col("channel").fill_null("") != RETARGETING_CHANNEL))
        .group_by("customer_id")
        .agg(pl.when(pl.col("touch_date").is_between(start, end)).then(pl.col("ts")).min().alias(str(period))
             for period, start, end in periods.iter_rows())
    )
    anchors = (
        firsts.unpivot(index="customer_id", variable_name="_period", value_name="anchor")
        .drop_nulls("anchor")
        .select(pl.col("_period").cast(periods.schema["_period"]), "customer_id", "anchor")
        .with_row_index("_visitor")  # a number per visitor and period: what follows groups and joins by it
        .collect()
        .lazy()
    ) if periods.height else pl.LazyFrame(schema={"_visitor": pl.UInt32, "_period": periods.schema["_period"],
                                                  "customer_id": touches.collect_schema()["customer_id"],
                                                  "anchor": touches.collect_schema()["ts"]})
    # a visitor's retargeting touches and revenue orders, in one frame for one join with the anchors
    events = pl.concat(
        [
            retargeting_touches.join(keyed.select(*_CAMPAIGN, "_campaign", pl.col("_period").alias("_campaign_period")),
                                     on=_CAMPAIGN, how="left")
            .select("customer_id", "ts", "_campaign", "_campaign_period", pl.lit(False).alias("_is_order")),
            fct_orders.filter(pl.col("is_revenue").fill_null(False) & (pl.col("order_date") <= as_of))
            .select(customer, pl.col("ordered_at").alias("ts"), "net_revenue_eur", pl.lit(True).alias("_is_order")),
        ],
        how="diagonal_relaxed",
    )
    is_order = pl.col("_is_order")
    after_anchor = pl.col("ts") > pl.col("anchor")
    # exposure: retargeting touches with anchor - window < ts <= anchor + window; outcome: revenue orders with
    # anchor < ordered_at <= anchor + window; one row per visitor with either, with the campaigns (of the
    # visitor's period) that touched them after the anchor
    reached = (
        anchors.join(events, on="customer_id", how="inner")
        .filter((pl.col("ts") <= pl.col("anchor") + window)
                & (after_anchor | (~is_order & (pl.col("ts") > pl.col("anchor") - window))))
        .group_by("_visitor")
        .agg(
            (~is_order).any().alias("any_retargeting"),
            pl.col("_campaign").filter(~is_order & after_anchor & (pl.col("_campaign_period") == pl.col("_period")))
            .unique().alias("_retargeted_by"),
            is_order.any().alias("converted"),
            sum_unless_unconverted(pl.col("net_revenue_eur").filter(is_order)).alias("revenue_eur"),
        )
    )
    # one row per campaign and visitor of its period; the others (reached only by other campaigns, or only
    # before the anchor) are in neither group
    visitors = (
        anchors.join(reached, on="_visitor", how="left")
        .join(keyed.select("_period", "_campaign"), on="_period")
        .with_columns(
            pl.when(pl.col("_retargeted_by").list.contains(pl.col("_campaign")).fill_null(False))
            .then(pl.lit("retargeted"))
            .when(~pl.col("any_retargeting").fill_null(False)).then(pl.lit("control"))
            .alias("group"),
            pl.col("converted").fill_null(False),
            pl.col("revenue_eur").fill_null(pl.lit(0, MONEY)),
        )
        .filter(pl.col("group").is_not_null())
    )

    def group_figures(group: str) -> list[pl.Expr]:
        member = pl.col("group") == group
        return [
            member.sum().cast(pl.Int64).alias(f"{group}_customers"),
            (member & pl.col("converted")).sum().cast(pl.Int64).alias(f"{group}_converters"),
            sum_unless_unconverted(pl.col("revenue_eur").filter(member)).alias(f"{group}_revenue_eur"),
        ]

    by_campaign = (
        visitors.group_by("_campaign").agg(*group_figures("retargeted"), *group_figures("control"))
        .join(keyed.select(*_CAMPAIGN, "_campaign"), on="_campaign")
        .drop("_campaign")
    )
    retargeted_rate = pl.col("retargeted_converters") / nonzero(pl.col("retargeted_customers"))
    control_rate = pl.col("control_converters") / nonzero(pl.col("control_customers"))
    incremental = (retargeted_rate - control_rate) * pl.col("retargeted_customers")
    spend_eur = pl.col("spend_eur")
    return (
        campaigns.join(by_campaign, on=_CAMPAIGN, how="left")
        .with_columns(
            pl.col(c).fill_null(0) for c in ("retargeted_customers", "retargeted_converters", "control_customers",
                                             "control_converters", "impressions", "clicks")
        )
        .with_columns(
            pl.col(c).fill_null(pl.lit(0, MONEY)) for c in ("retargeted_revenue_eur", "control_revenue_eur")
        )
        .select(
            pl.lit(as_of, pl.Date).alias("as_of_date"),
            *_CAMPAIGN,
            "campaign_name",
            "period_start",
            "period_end",
            pl.lit(window_days, pl.Int64).alias("window_days"),
            "retargeted_customers",
            "retargeted_converters",
            # conversion rate = converters / customers x 100
            (retargeted_rate * 100).alias("retargeted_conversion_rate_pct"),
            "retargeted_revenue_eur",
            (pl.col("retargeted_revenue_eur").cast(pl.Float64) / nonzero(pl.col("retargeted_customers")))
            .round(4).cast(MONEY).alias("retargeted_revenue_per_customer_eur"),
            "control_customers",
            "control_converters",
            (control_rate * 100).alias("control_conversion_rate_pct"),
            "control_revenue_eur",
            (pl.col("control_revenue_eur").cast(pl.Float64) / nonzero(pl.col("control_customers")))
            .round(4).cast(MONEY).alias("control_revenue_per_customer_eur"),
            # lift = (retargeted rate - control rate) / control rate x 100
            ((retargeted_rate - control_rate) / pl.when(control_rate != 0).then(control_rate) * 100)
            .alias("conversion_lift_pct"),
            # incremental conversions = (retargeted rate - control rate) x retargeted customers
            incremental.round(9).alias("incremental_conversions"),
            "impressions",
            "clicks",
            # CTR = clicks / impressions x 100
            (pl.col("clicks") / nonzero(pl.col("impressions")) * 100).alias("ctr_pct"),
            "spend_eur",
            # cost per conversion = spend / retargeted converters
            (spend_eur.cast(pl.Float64) / nonzero(pl.col("retargeted_converters"))).round(4).cast(MONEY)
            .alias("cost_per_conversion_eur"),
            # cost per incremental conversion = spend / incremental conversions, NULL when none were added
            (spend_eur.cast(pl.Float64) / pl.when(incremental > 0).then(incremental)).round(4).cast(MONEY)
            .alias("cost_per_incremental_conversion_eur"),
        )
        .sort(*_CAMPAIGN)
    )
