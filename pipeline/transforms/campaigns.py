"""dim_campaign: one row per platform and campaign, with its latest name, channel and objective."""

from __future__ import annotations

from typing import Any

import polars as pl

from pipeline.channels import PLATFORM_CHANNEL
from pipeline.transforms.ad_spend import platform_channel

# Objective from keywords in the lower-cased campaign name; the first matching rule wins, and a
# named campaign matching none is a conversion campaign.
OBJECTIVE_KEYWORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("retarget",), "retargeting"),
    (("brand",), "awareness"),
    (("webinar", "lead"), "lead_generation"),
)
DEFAULT_OBJECTIVE = "conversion"


def campaign_objective(name: pl.Expr) -> pl.Expr:
    """The campaign objective by ``OBJECTIVE_KEYWORDS`` (substring match); NULL when the name is NULL."""
    lowered = name.str.to_lowercase()
    chain: Any = pl.when(lowered.is_null()).then(pl.lit(None, pl.Utf8))
    for keywords, objective in OBJECTIVE_KEYWORDS:
        matches = pl.any_horizontal([lowered.str.contains(keyword, literal=True) for keyword in keywords])
        chain = chain.when(matches).then(pl.lit(objective))
    return chain.otherwise(pl.lit(DEFAULT_OBJECTIVE))


def build_dim_campaign(ad_daily: pl.LazyFrame, touchpoints: pl.LazyFrame) -> pl.LazyFrame:
    """One row per platform and campaign_id: latest name, channel, objective, first and last ad day.

    Campaigns come from the ad reports and from touchpoints that carry a platform and campaign id.
    ``campaign_name`` is the non-NULL name on the latest day the campaign has in the ad reports
    (ties between accounts: the larger name). ``channel`` is the platform's channel
    (``PLATFORM_CHANNEL``, an unmapped platform's own name); for a campaign seen only in
    touchpoints on a platform outside that map (e.g. an email tool) it is the touches' most
    frequent channel (ties: the smaller name).
    ``first_day`` and ``last_day`` are the first and last ad-report day. A campaign seen only in
    touchpoints has NULL name, objective, first_day and last_day.

    The touchpoints' distinct campaigns are collected here; their channels are counted only for
    the campaigns that need them (missing from the ad reports, on a platform outside the map).
    """
    from_ads = ad_daily.group_by("platform", "campaign_id").agg(
        # named rows sort last, so this is the latest name whenever the campaign has one
        pl.col("campaign_name").sort_by(pl.col("campaign_name").is_not_null(), "day", "campaign_name").last(),
        pl.col("day").min().alias("first_day"),
        pl.col("day").max().alias("last_day"),
    )
    keys = ["platform", "campaign_id"]
    campaign_touches = touchpoints.filter(pl.col("platform").is_not_null() & pl.col("campaign_id").is_not_null())
    # distinct pairs are cheap to find; counting channels per pair over every touch is not
    touch_campaigns = campaign_touches.select(keys).unique().join(from_ads, on=keys, how="anti").collect()
    unmapped = touch_campaigns.filter(~pl.col("platform").is_in(list(PLATFORM_CHANNEL)))
    touch_channels = (
        (campaign_touches if unmapped.height else touchpoints.clear())
        .join(unmapped.lazy(), on=keys, how="semi")
        .group_by(keys)
        .agg(pl.col("channel").drop_nulls().mode().min().alias("_touch_channel"))
    )
    only_in_touches = touch_campaigns.lazy().join(touch_channels, on=keys, how="left")
    return (
        pl.concat([from_ads, only_in_touches], how="diagonal_relaxed")
        .with_columns(
            pl.when(pl.col("_touch_channel").is_not_null() & ~pl.col("platform").is_in(list(PLATFORM_CHANNEL)))
            .then(pl.col("_touch_channel"))
            .otherwise(platform_channel(pl.col("platform")))
            .alias("channel"),
        )
        .select(
            "platform",
            "campaign_id",
            "campaign_name",
            "channel",
            campaign_objective(pl.col("campaign_name")).alias("objective"),
            "first_day",
            "last_day",
        )
        .sort("platform", "campaign_id")
    )

