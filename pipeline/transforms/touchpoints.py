"""fct_touchpoints: one row per marketing touch, with its UTC day."""

from __future__ import annotations

import polars as pl


def build_fct_touchpoints(touchpoints: pl.LazyFrame) -> pl.LazyFrame:
    """One row per touchpoint_id: customer, UTC timestamp and day, channel, platform, campaign, touch type.

    ``touchpoints`` is the current truth of the ``touchpoint`` entity. ``touch_date`` is the UTC
    day of ``ts``. Hashed emails and raw UTM fields stay in silver: the channel and campaign carry
    what they meant.
    """
    return touchpoints.select(
        "touchpoint_id",
        "customer_id",
        "ts",
        pl.col("ts").dt.convert_time_zone("UTC").dt.date().alias("touch_date"),
        "channel",
        "platform",
        "campaign_id",
        "touch_type",
    )
