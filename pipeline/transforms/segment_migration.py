"""Segment migration: how customers moved between the segments of each segmentation since an earlier snapshot."""

from __future__ import annotations

from datetime import date

import polars as pl

from pipeline.transforms.segments import SEGMENTATIONS, segment_labels

MIGRATION_LAG_DAYS = 30  # the earlier snapshot is as_of_date - 30 days, computed from silver as of that date
NEW = "(new)"  # not a customer in the earlier snapshot
GONE = "(gone)"  # a customer then, no longer in this snapshot (a deleted contact)
# the labels while migration counts them; named categories, let go with the frames that use them
SEGMENT_LABEL = pl.Categorical(pl.Categories("kohde_segment_labels"))


def segment_labels_of(customer_segments: pl.LazyFrame) -> pl.LazyFrame:
    """customer_id and every segmentation as text: the slim frame migration needs from a snapshot."""
    return customer_segments.select("customer_id", *segment_labels())


def _coded(labels: pl.LazyFrame) -> pl.LazyFrame:
    """The labels as categories: 4 bytes a label instead of a string each (12 per customer; 715 -> 343 MB at 1M)."""
    return labels.with_columns(pl.col(name).cast(SEGMENT_LABEL) for name in SEGMENTATIONS)


def _flag_customer_order(labels: pl.LazyFrame) -> pl.LazyFrame:
    """``labels`` collected, customer_id flagged sorted when it is (and has no NULLs), so joins on it can merge.

    Snapshots are written in customer order: joining two flagged frames skips hashing every customer_id.
    """
    frame = labels.collect()
    ids = frame["customer_id"]
    if ids.null_count() == 0 and ids.is_sorted():
        frame = frame.with_columns(ids.set_sorted())
    return frame.lazy()


def build_segment_migration(
    current: pl.LazyFrame,
    previous: pl.LazyFrame,
    as_of: date,
    compared_to: date,
) -> pl.LazyFrame:
    """One row per as_of_date, segmentation, from_segment and to_segment with customers: the migration matrix.

    ``current`` and ``previous`` are the customer segments (``mart_customer_segments`` rows or
    ``segment_labels_of`` frames) as of ``as_of`` and ``compared_to``. A customer missing from the
    earlier snapshot comes from ``(new)``, one missing from the current snapshot goes to ``(gone)``.
    Only cells with customers have rows; ``share_of_from_pct`` = customers / customers of the
    from_segment x 100, so each from_segment's row shares add up to 100.
    """
    segmentation_order = {name: i for i, name in enumerate(SEGMENTATIONS)}
    # one join of the two snapshots on customer_id, then one count per segmentation: the same cells as
    # joining the long (customer, segmentation) frames, without 12 rows per customer on either side
    before = _flag_customer_order(_coded(segment_labels_of(previous)).rename({name: f"_from_{name}" for name in SEGMENTATIONS}))
    after = _flag_customer_order(_coded(segment_labels_of(current)).rename({name: f"_to_{name}" for name in SEGMENTATIONS}))
    both = before.join(after, on="customer_id", how="full", coalesce=True).drop("customer_id").collect().lazy()
    # counted on the labels as they are, a missing side (NULL) named after: a label equal to NEW or GONE then
    # shares that name's cell, as when the NULLs are named first
    cells = (
        pl.concat([
            both.group_by(pl.col(f"_from_{name}").alias("from_segment"), pl.col(f"_to_{name}").alias("to_segment"))
            .agg(pl.len().cast(pl.Int64).alias("customers"))
            .with_columns(pl.lit(name).alias("segmentation"))
            for name in SEGMENTATIONS
        ], how="vertical")
        .with_columns(pl.col("from_segment").cast(pl.Utf8).fill_null(NEW), pl.col("to_segment").cast(pl.Utf8).fill_null(GONE))
        .group_by("segmentation", "from_segment", "to_segment")
        .agg(pl.col("customers").sum())
    )
    return (
        cells
        .select(
            pl.lit(as_of).alias("as_of_date"),
            pl.col("segmentation"),
            pl.col("from_segment"),
            pl.col("to_segment"),
            pl.lit(compared_to).alias("compared_to_date"),
            pl.col("customers"),
            # share of from = customers in the cell / customers of the from_segment x 100
            (pl.col("customers") * 100 / pl.col("customers").sum().over("segmentation", "from_segment"))
            .cast(pl.Float64)
            .alias("share_of_from_pct"),
        )
        .sort(
            pl.col("segmentation").replace_strict(segmentation_order, return_dtype=pl.Int32),
            "from_segment",
            "to_segment",
        )
    )
