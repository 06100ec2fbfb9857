"""fct_ad_spend_daily: one row per day, platform, account and campaign, with spend in EUR."""

from __future__ import annotations

import polars as pl

from pipeline.channels import PLATFORM_CHANNEL
from pipeline.fx import with_eur


def platform_channel(platform: pl.Expr) -> pl.Expr:
    """The channel of an ad platform (``PLATFORM_CHANNEL``); an unmapped platform keeps its own name.

    Keeping the name instead of NULL means spend on a platform added to the sources before the
    channel map never silently drops out of channel ROI.
    """
    return platform.replace_strict(PLATFORM_CHANNEL, default=platform, return_dtype=pl.Utf8)


def build_fct_ad_spend_daily(ad_daily: pl.LazyFrame, fx_rates: pl.LazyFrame) -> pl.LazyFrame:
    """One row per day, platform, account and campaign: spend, delivery and platform conversions.

    ``ad_daily`` is the current truth of the ``ad_daily`` entity (restated days already replaced).
    ``day`` is the ad account's own day (its time zone). Spend and platform conversion value are
    converted to EUR at the rate valid on ``day`` (NULL when the currency has no rate).
    """
    return (
        with_eur(
            ad_daily,
            fx_rates,
            amount_columns=["spend", "platform_conversion_value"],
            date_column="day",
        )
        .select(
            "day",
            "platform",
            "account_id",
            "campaign_id",
            "campaign_name",
            platform_channel(pl.col("platform")).alias("channel"),
            "currency_code",
            "spend",
            "spend_eur",
            "impressions",
            "clicks",
            "platform_conversions",
            "platform_conversion_value",
            "platform_conversion_value_eur",
        )
    )
