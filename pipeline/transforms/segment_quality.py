"""Segmentation quality: is each segmentation good enough to act on, and why not.

Per segmentation of the ``as_of`` snapshot (value = a customer's net revenue of revenue orders up to
as-of, 0 without orders):

- size: ``segments``, ``addressable_segments`` (size_ok: at least ``min_customers`` and
  ``min_share`` of the snapshot, as in ``mart_segment_summary``), ``largest_segment`` and its share;
- distribution adequacy: ``missing_share_pct`` (customers in ``unknown`` bands), the share of
  customers in segments too small to address, and the concentration ``concentration_hhi`` = sum of
  squared shares (1 = everyone in one segment, 1/n = n equal segments);
- separation of value: ``value_variance_explained_pct`` = between-segment sum of squares / total
  sum of squares of the value x 100 (eta squared; NULL when every customer has the same value);
  it and ``concentration_hhi`` are computed exactly from integer sums (value in 1e-4 EUR) and
  rounded once, so they do not depend on the order of the rows;
- stability: from the migration matrix, the share of the customers present in both snapshots who
  kept their segment.

Verdict: ``is_actionable`` when all of these hold, else ``verdict_reason`` lists every failed check:
at least ``MIN_ADDRESSABLE_SEGMENTS`` addressable segments; the largest segment at most
``MAX_LARGEST_SHARE_PCT`` of customers; at most ``MAX_MISSING_SHARE_PCT`` unknown; at most
``MAX_SMALL_SEGMENT_SHARE_PCT`` of customers in segments too small to address. Separation of value
and stability are reported, not judged: a demographic dimension can be worth targeting without
explaining value, and RFM segments are meant to move.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import polars as pl

from pipeline.transforms.customer_orders import CustomerOrders, customer_revenue
from pipeline.transforms.segment_migration import GONE, NEW
from pipeline.transforms.segments import (
    SEGMENTATIONS,
    SQUARE_SPLIT,
    by_snapshot_row,
    money_squares,
    segment_labels,
    sums_by_segment,
)

MISSING_SEGMENTS: tuple[str, ...] = ("unknown", "unknown unknown", "unknown/unknown")
MIN_ADDRESSABLE_SEGMENTS = 2
MAX_LARGEST_SHARE_PCT = 95.0
MAX_MISSING_SHARE_PCT = 50.0
MAX_SMALL_SEGMENT_SHARE_PCT = 20.0


def _pct(expr: pl.Expr) -> pl.Expr:
    return expr.round(1).cast(pl.Utf8)


def _exact_figures(segments: list[tuple[int, int, int, int]]) -> tuple[float, float | None]:
    """concentration_hhi and value_variance_explained_pct of one segmentation, each rounded once.

    ``segments`` holds per segment (customers n, sum of values s, and the sum of squared values as
    hi x 2^30 + lo). HHI = sum(n^2) / N^2; with T = sum(s) and Q = sum of squares over all customers,
    between SS = sum(s^2 / n) - T^2 / N and total SS = Q - T^2 / N.
    """
    customers = sum(n for n, _, _, _ in segments)
    total = sum(s for _, s, _, _ in segments)
    squares = sum(hi * SQUARE_SPLIT + lo for _, _, hi, lo in segments)
    hhi = sum(n * n for n, _, _, _ in segments) / (customers * customers)
    overall = Fraction(total * total, customers)
    total_ss = squares - overall
    if total_ss <= 0:
        return hhi, None
    between_ss = sum((Fraction(s * s, n) for n, s, _, _ in segments), Fraction(0)) - overall
    return hhi, float(between_ss * 100 / total_ss)


def build_segment_quality(
    customer_segments: pl.LazyFrame,
    fct_orders: pl.LazyFrame,
    migration: pl.LazyFrame,
    as_of: date,
    min_customers: int = 30,
    min_share: float = 0.02,
    customer_orders: CustomerOrders | None = None,
) -> pl.LazyFrame:
    """One row per as_of_date and segmentation: size, distribution, value separation, stability and verdict.

    ``customer_segments`` holds the ``as_of`` snapshot (other dates are ignored), ``migration`` the
    ``mart_segment_migration`` rows of that date (or none: stability is then NULL). Rules in the
    module docstring. Customers are counted and their values summed once per pair of
    segmentations, each segmentation's segments then from the pair's cells. ``customer_orders``: the
    orders grouped by customer (``customer_orders``) when the caller has them.
    """
    segmentation_order = {name: i for i, name in enumerate(SEGMENTATIONS)}
    snapshot = customer_segments.filter(pl.col("as_of_date") == as_of).select("customer_id", *segment_labels()).collect()
    # customer_revenue has one row per customer: joined to the snapshot's row numbers and put back in their
    # order, its values line up with the snapshot's rows
    values = (
        by_snapshot_row(snapshot, customer_revenue(fct_orders, as_of, customer_orders))
        .sort("_row")
        .select(pl.col("revenue_eur").to_physical().fill_null(0).alias("_value"))
        .with_columns(money_squares(pl.col("_value")))
        .collect()
    )
    customers = pl.concat([snapshot.select(SEGMENTATIONS), values], how="horizontal")
    sums = [pl.len().alias("customers"), pl.col("_value").sum(), pl.col("_sq_hi").sum(), pl.col("_sq_lo").sum()]
    by_segment = (
        sums_by_segment(customers.lazy(), sums)
        .with_columns(
            pl.col("customers").cast(pl.UInt32),
            pl.col("customers").sum().over("segmentation").cast(pl.UInt32).alias("_all"),
        )
        .with_columns(
            # share = customers in the segment x (1 / customers in the snapshot), rounded as polars rounds a
            # division by a single number
            (pl.col("customers") * (1 / pl.col("_all"))).alias("_share"),
        )
        .with_columns(((pl.col("customers") >= min_customers) & (pl.col("_share") >= min_share)).alias("_size_ok"))
        .collect()
    )
    segment_sums: dict[str, list[tuple[int, int, int, int]]] = {}
    for name, *sums_of_segment in by_segment.select(
        "segmentation", "customers", "_value", "_sq_hi", "_sq_lo"
    ).iter_rows():
        segment_sums.setdefault(name, []).append(tuple(sums_of_segment))
    exact = pl.DataFrame(
        [(name, *_exact_figures(segments)) for name, segments in segment_sums.items()],
        schema={"segmentation": pl.Utf8, "concentration_hhi": pl.Float64,
                "value_variance_explained_pct": pl.Float64},
        orient="row",
    )
    largest = (
        by_segment.lazy().sort(["segmentation", "customers", "segment"], descending=[False, True, False])
        .group_by("segmentation", maintain_order=True)
        .first()
        .select("segmentation", pl.col("segment").alias("largest_segment"))
    )
    stayed = pl.col("from_segment") == pl.col("to_segment")
    in_both = (pl.col("from_segment") != NEW) & (pl.col("to_segment") != GONE)
    stability = (
        migration.filter(pl.col("as_of_date") == as_of)
        .group_by("segmentation")
        .agg(
            pl.col("compared_to_date").first().alias("compared_to_date"),
            pl.col("customers").filter(in_both).sum().cast(pl.Int64).alias("customers_in_both"),
            pl.col("customers").filter(in_both & stayed).sum().alias("_stayed"),
        )
    )
    checks = [
        (
            pl.col("addressable_segments") < MIN_ADDRESSABLE_SEGMENTS,
            pl.format("{} segment(s) big enough to address (min {})", pl.col("addressable_segments"),
                      pl.lit(MIN_ADDRESSABLE_SEGMENTS)),
        ),
        (
            pl.col("largest_share_pct") > MAX_LARGEST_SHARE_PCT,
            pl.format("largest segment '{}' holds {} % of customers (max {} %)", pl.col("largest_segment"),
                      _pct(pl.col("largest_share_pct")), pl.lit(MAX_LARGEST_SHARE_PCT)),
        ),
        (
            pl.col("missing_share_pct") > MAX_MISSING_SHARE_PCT,
            pl.format("{} % of customers unknown (max {} %)", _pct(pl.col("missing_share_pct")),
                      pl.lit(MAX_MISSING_SHARE_PCT)),
        ),
        (
            pl.col("small_segments_share_pct") > MAX_SMALL_SEGMENT_SHARE_PCT,
            pl.format("{} % of customers in segments too small to address (max {} %)",
                      _pct(pl.col("small_segments_share_pct")), pl.lit(MAX_SMALL_SEGMENT_SHARE_PCT)),
        ),
    ]
    failed = pl.concat_str([pl.when(test).then(text) for test, text in checks], separator="; ", ignore_nulls=True)
    return (
        by_segment.lazy().group_by("segmentation")
        .agg(
            pl.len().cast(pl.Int64).alias("segments"),
            pl.col("_size_ok").sum().cast(pl.Int64).alias("addressable_segments"),
            pl.col("customers").sum().cast(pl.Int64).alias("customers"),
            (pl.col("_share").max() * 100).alias("largest_share_pct"),
            # shares from integer counts: a float sum's last bit depends on the summation order and
            # would flip the rounding of the verdict text between runs
            (pl.col("customers").filter(pl.col("segment").is_in(list(MISSING_SEGMENTS))).sum() * 100
             / pl.col("_all").first()).alias("missing_share_pct"),
            (pl.col("customers").filter(~pl.col("_size_ok")).sum() * 100 / pl.col("_all").first()).alias(
                "small_segments_share_pct"
            ),
        )
        .join(exact.lazy(), on="segmentation", how="left")
        .join(largest, on="segmentation", how="left")
        .join(stability, on="segmentation", how="left")
        .with_columns(failed.alias("_failed"))
        .select(
            pl.lit(as_of).alias("as_of_date"),
            pl.col("segmentation"),
            pl.col("segments"),
            pl.col("addressable_segments"),
            pl.col("customers"),
            pl.col("largest_segment"),
            pl.col("largest_share_pct"),
            pl.col("missing_share_pct"),
            pl.col("small_segments_share_pct"),
            pl.col("concentration_hhi"),
            # variance explained = between-segment SS / total SS x 100
            pl.col("value_variance_explained_pct"),
            pl.col("compared_to_date"),
            pl.col("customers_in_both"),
            # stability = customers who kept their segment / customers in both snapshots x 100
            (pl.col("_stayed") * 100 / pl.when(pl.col("customers_in_both") > 0).then(pl.col("customers_in_both")))
            .cast(pl.Float64)
            .alias("stability_pct"),
            (pl.col("_failed") == "").alias("is_actionable"),
            pl.when(pl.col("_failed") == "").then(pl.lit("ok")).otherwise(pl.col("_failed")).alias("verdict_reason"),
        )
        .sort(pl.col("segmentation").replace_strict(segmentation_order, return_dtype=pl.Int32))
    )
