"""mart_channel_reallocation: where the next euro of ad spend returns most, per channel.

One row per channel with ad spend in the window (the ``weeks`` x 7 days ending on the as-of date,
cut into 7-day buckets counted back from it, so every bucket is complete).

Average figures over the window, last-touch attributed (``REALLOCATION_MODEL``):
``cpa_eur = spend / conversions``, ``cac_eur = spend / new customers``,
``roi = (attributed revenue - spend) / spend``.

Marginal figures come from a diminishing-returns response curve fitted per channel by least
squares over the buckets with spend: ``conversions = a + b x ln(spend)``. At the current weekly
spend ``s`` (the mean of the last ``CURRENT_WEEKS`` buckets) one more euro brings ``b / s``
conversions, so ``marginal_cpa_eur = s / b`` and ``marginal_roi = b / s x revenue per conversion - 1``
(revenue per conversion = attributed revenue / conversions over the window). A channel needs
``MIN_CONVERSIONS`` conversions in the window, ``MIN_WEEKS`` buckets with spend whose ln(spend)
varies with a standard deviation of at least ``MIN_LOG_SPEND_SD`` (about 15 %), and a clear
slope (``|b / standard error| >= MIN_T_STAT``); otherwise, or when ``b <= 0`` (more spend did not bring
more conversions), the marginal figures are NULL.

Hint, ranked by marginal ROI (then average ROI) descending:
``increase`` when the marginal ROI is above ``+HOLD_BAND``, ``decrease`` when below ``-HOLD_BAND``
or the channel clearly shows no response to spend, ``hold`` in between, ``insufficient_data`` when
the curve cannot be fitted or its slope is not clear. This is a hint for the analyst, not an optimiser: the curve only sees the
spend levels the channel actually ran at.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from pipeline.entities import MONEY

REALLOCATION_MODEL = "last_touch"
WINDOW_WEEKS = 12
CURRENT_WEEKS = 4
MIN_WEEKS = 4
HOLD_BAND = 0.10
MIN_T_STAT = 2.0
MIN_LOG_SPEND_SD = 0.15  # weekly spend must have varied by about 15 % for a curve to mean anything
MIN_CONVERSIONS = 20.0  # fewer conversions in the window are mostly counting noise


def _weekly(ad_spend: pl.LazyFrame, attribution: pl.LazyFrame, as_of: date, weeks: int) -> pl.DataFrame:
    """Per channel and 7-day bucket (0 = the 7 days ending on as_of): spend, conversions, new customers, revenue."""
    start = as_of - timedelta(days=7 * weeks - 1)

    def bucket(day: str) -> pl.Expr:
        return ((pl.lit(as_of) - pl.col(day)).dt.total_days() // 7).alias("bucket")

    spend = (
        ad_spend.filter(pl.col("day").is_between(start, as_of))
        .group_by("channel", bucket("day"))
        .agg(pl.col("spend_eur").sum().cast(pl.Float64).alias("spend"))
    )
    sales = (
        attribution.filter((pl.col("model") == REALLOCATION_MODEL) & pl.col("order_date").is_between(start, as_of))
        .group_by("channel", bucket("order_date"))
        .agg(
            pl.col("credit").sum().alias("conversions"),
            (pl.col("credit") * pl.col("is_first_order").fill_null(False).cast(pl.Float64)).sum().alias("new_customers"),
            pl.col("revenue_eur").sum().cast(pl.Float64).alias("revenue"),
        )
    )
    return (
        spend.join(sales, on=["channel", "bucket"], how="left")
        .with_columns(pl.col("conversions", "new_customers", "revenue").fill_null(0.0))
        .sort("channel", "bucket")
        .collect()
    )


def _slope(spend: np.ndarray, conversions: np.ndarray) -> tuple[float | None, float | None]:
    """(b, t) of conversions = a + b ln(spend) by least squares, t = b / its standard error.

    (None, None) without ``MIN_WEEKS`` buckets or when ln(spend) varies by less than
    ``MIN_LOG_SPEND_SD`` (standard deviation); t is infinite for an exact fit.
    """
    n = spend.size
    if n < MIN_WEEKS:
        return None, None
    x = np.log(spend)
    centred = x - x.mean()
    sxx = float(np.sum(centred**2))
    if sxx / n < MIN_LOG_SPEND_SD**2:
        return None, None
    slope = float(np.sum(centred * (conversions - conversions.mean())) / sxx)
    residuals = conversions - conversions.mean() - slope * centred
    standard_error = float(np.sqrt(np.sum(residuals**2) / (n - 2) / sxx))
    if standard_error <= 1e-12 * max(abs(slope), 1.0):
        return slope, float(np.copysign(np.inf, slope)) if slope != 0 else 0.0
    return slope, slope / standard_error


def build_channel_reallocation(ad_spend: pl.LazyFrame, attribution: pl.LazyFrame, as_of: date,
                               weeks: int = WINDOW_WEEKS) -> pl.DataFrame:
    """One row per channel with spend in the window: average and marginal CPA and ROI, rank and hint."""
    weekly = _weekly(ad_spend, attribution, as_of, weeks)
    rows: list[dict[str, object]] = []
    for (channel,), group in weekly.group_by("channel", maintain_order=True):
        spent = group.filter(pl.col("spend") > 0)
        spend = float(group["spend"].sum())
        conversions = float(group["conversions"].sum())
        revenue = float(group["revenue"].sum())
        slope, t_stat = (_slope(spent["spend"].to_numpy(), spent["conversions"].to_numpy())
                         if conversions >= MIN_CONVERSIONS else (None, None))
        current = float(group.filter(pl.col("bucket") < CURRENT_WEEKS)["spend"].sum()) / CURRENT_WEEKS
        per_conversion = revenue / conversions if conversions > 0 else None
        clear = t_stat is not None and abs(t_stat) >= MIN_T_STAT
        marginal_cpa = current / slope if slope is not None and clear and slope > 0 and current > 0 else None
        marginal_roi = (
            slope / current * per_conversion - 1
            if marginal_cpa is not None and per_conversion is not None else None
        )
        if conversions < MIN_CONVERSIONS:
            hint, reason = "insufficient_data", f"fewer than {MIN_CONVERSIONS:g} conversions in the window"
        elif slope is None:
            hint, reason = "insufficient_data", f"fewer than {MIN_WEEKS} weeks with spend varying by {MIN_LOG_SPEND_SD:.0%}"
        elif not clear:
            hint, reason = "insufficient_data", f"no clear response to the spend changes (|t| < {MIN_T_STAT:g})"
        elif slope <= 0:
            hint, reason = "decrease", "more spend did not bring more conversions"
        elif marginal_roi is None:
            hint, reason = "insufficient_data", "no current spend or no attributed revenue"
        elif marginal_roi > HOLD_BAND:
            hint, reason = "increase", "the next euro returns more than it costs"
        elif marginal_roi < -HOLD_BAND:
            hint, reason = "decrease", "the next euro returns less than it costs"
        else:
            hint, reason = "hold", "the next euro about pays for itself"
        rows.append({
            "channel": channel,
            "weeks_with_spend": spent.height,
            "spend_eur": spend,
            "attributed_revenue_eur": revenue,
            "conversions": conversions,
            "new_customers": float(group["new_customers"].sum()),
            "weekly_spend_eur": current,
            "response_slope": slope,
            "response_t_stat": t_stat,
            "marginal_cpa_eur": marginal_cpa,
            "marginal_roi": marginal_roi,
            "hint": hint,
            "hint_reason": reason,
        })
    schema = {"channel": pl.Utf8, "weeks_with_spend": pl.Int64, "spend_eur": pl.Float64,
              "attributed_revenue_eur": pl.Float64, "conversions": pl.Float64, "new_customers": pl.Float64,
              "weekly_spend_eur": pl.Float64, "response_slope": pl.Float64, "response_t_stat": pl.Float64,
              "marginal_cpa_eur": pl.Float64,
              "marginal_roi": pl.Float64, "hint": pl.Utf8, "hint_reason": pl.Utf8}
    frame = pl.DataFrame(rows, schema=schema)

    def nonzero(column: str) -> pl.Expr:
        return pl.when(pl.col(column) != 0).then(pl.col(column))

    return (
        frame.with_columns(
            # CPA = spend / conversions; CAC = spend / new customers; ROI = (revenue - spend) / spend
            (pl.col("spend_eur") / nonzero("conversions")).alias("cpa_eur"),
            (pl.col("spend_eur") / nonzero("new_customers")).alias("cac_eur"),
            ((pl.col("attributed_revenue_eur") - pl.col("spend_eur")) / nonzero("spend_eur")).alias("roi"),
        )
        .sort(["marginal_roi", "roi"], descending=True, nulls_last=True)
        .with_row_index("rank", offset=1)
        .select(
            pl.lit(as_of).alias("as_of_date"),
            "channel",
            pl.lit(as_of - timedelta(days=7 * weeks - 1)).alias("window_start"),
            "weeks_with_spend",
            pl.col("spend_eur").round(4).cast(MONEY),
            pl.col("attributed_revenue_eur").round(4).cast(MONEY),
            "conversions",
            "new_customers",
            pl.col("cpa_eur").round(4).cast(MONEY),
            pl.col("cac_eur").round(4).cast(MONEY),
            "roi",
            pl.col("weekly_spend_eur").round(4).cast(MONEY),
            "response_slope",
            "response_t_stat",
            pl.col("marginal_cpa_eur").round(4).cast(MONEY),
            "marginal_roi",
            pl.col("rank").cast(pl.Int32),
            "hint",
            "hint_reason",
        )
    )
