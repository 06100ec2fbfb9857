"""mart_segment_economics: which channels bring which customers, per month, segment and model.

One row per month, segmentation, segment, channel and attribution model. Customers are grouped by
their segment as of the run's date (``SEGMENTATIONS`` of mart_customer_segments); orders of
customers outside the segment snapshot (no contact, no segment) fall in segment ``unknown``.

Measures, from fct_attribution by ``order_date`` month:
``conversions`` = sum of credit, ``new_customers`` = sum of credit of first orders,
``customers`` = distinct customers with credit, ``attributed_revenue_eur`` = sum of revenue credit,
``avg_order_eur = attributed revenue / conversions``, and
``channel_share_pct`` = the segment's share of the channel's conversions in that month and model.

Ad spend is not split by segment: the platforms report spend per campaign, not per customer
group, and any allocation (by conversions or revenue) would make CPA or ROI identical across
segments by construction. Spend, ROI and CPA stay in mart_channel_roi.
"""

from __future__ import annotations

import polars as pl

from pipeline.entities import MONEY

SEGMENTATIONS: tuple[str, ...] = ("rfm_segment", "value_tier", "persona")
UNKNOWN = "unknown"


def build_segment_economics(fct_attribution: pl.LazyFrame, segments: pl.LazyFrame) -> pl.LazyFrame:
    """One row per month, segmentation, segment, channel and model (see the module docstring)."""
    # every attribution row gets its customer's three labels in one join, and customers an integer
    # number (segmented ones by their snapshot row, the others after them) that counts faster than text
    labels = (segments.select("customer_id", *[pl.col(name).cast(pl.Utf8) for name in SEGMENTATIONS])
              .with_row_index("_customer").collect())
    credited = (
        fct_attribution.select(
            pl.col("order_date").dt.month_start().alias("month"), "customer_id", "channel", "model", "credit",
            pl.col("is_first_order").fill_null(False), "revenue_eur",
        )
        .join(labels.lazy(), on="customer_id", how="left")
        .collect()
    )
    unlabelled = (credited.filter(pl.col("_customer").is_null()).select("customer_id").unique()
                  .with_row_index("_unlabelled", offset=labels.height))
    credited = (credited.join(unlabelled, on="customer_id", how="left")
                .with_columns(pl.coalesce("_customer", "_unlabelled").alias("_customer"))
                .drop("_unlabelled", "customer_id"))
    credit = pl.col("credit")
    with_credit = pl.when(credit > 0).then(pl.col("_customer"))
    by_segment = pl.concat([
        credited.lazy()
        .group_by("month", pl.lit(name).alias("segmentation"), pl.col(name).fill_null(UNKNOWN).alias("segment"),
                  "channel", "model")
        .agg(
            credit.sum().round(9).alias("conversions"),
            pl.when(pl.col("is_first_order")).then(credit).otherwise(0.0).sum().round(9).alias("new_customers"),
            # distinct customers with credit: NULL (no credit) is not a customer
            (with_credit.n_unique() - (with_credit.null_count() > 0).cast(pl.UInt32)).cast(pl.Int64).alias("customers"),
            pl.col("revenue_eur").sum().cast(MONEY).alias("attributed_revenue_eur"),
        )
        for name in SEGMENTATIONS
    ])
    conversions = pl.col("conversions")
    return (
        by_segment.with_columns(
            # avg order = attributed revenue / conversions
            (pl.col("attributed_revenue_eur").cast(pl.Float64) / pl.when(conversions > 0).then(conversions))
            .round(4).cast(MONEY).alias("avg_order_eur"),
            # channel share = segment conversions / channel conversions x 100
            (conversions * 100 / pl.when(conversions.sum().over("month", "segmentation", "channel", "model") > 0)
             .then(conversions.sum().over("month", "segmentation", "channel", "model"))).alias("channel_share_pct"),
        )
        .select("month", "segmentation", "segment", "channel", "model", "conversions", "new_customers", "customers",
                "attributed_revenue_eur", "avg_order_eur", "channel_share_pct")
        .sort("month", "segmentation", "segment", "channel", "model")
    )
