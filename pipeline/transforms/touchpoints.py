"""fct_touchpoints: one row per marketing touch, with its UTC day."""

from __future__ import annotations

import polars as pl

from pipeline.channels import ChannelRule, channel_rules_expr


def build_fct_touchpoints(touchpoints: pl.LazyFrame, channel_rules: tuple[ChannelRule, ...] = ()) -> pl.LazyFrame:
    """One row per touchpoint_id: customer, UTC timestamp and day, channel, platform, campaign, touch type.

    ``touchpoints`` is the current truth of the ``touchpoint`` entity. ``touch_date`` is the UTC
    day of ``ts``. ``channel_rules`` (the user's channel grouping, ``KOHDE_CHANNEL_RULES``)
    re-group touches: the first rule matching a touch's UTM fields, platform and silver channel
    gives its channel; a touch no rule matches keeps its silver channel. Hashed emails and raw UTM
    fields stay in silver: the channel and campaign carry what they meant.
    """
    fields = {name: pl.col(name) for name in ("utm_source", "utm_medium", "utm_campaign", "platform")}
    regrouped = channel_rules_expr(channel_rules, {**fields, "from_channel": pl.col("channel")})
    return touchpoints.with_columns(pl.coalesce(regrouped, pl.col("channel")).alias("channel")).select(
        "touchpoint_id",
        "customer_id",
        "ts",
        pl.col("ts").dt.convert_time_zone("UTC").dt.date().alias("touch_date"),
        "channel",
        "platform",
        "campaign_id",
        "touch_type",
    )
