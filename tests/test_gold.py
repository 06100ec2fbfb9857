from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import polars as pl
from polars.testing import assert_frame_equal

from pipeline.entities import conform, empty_frame
from pipeline.gold import Silver, build_snapshots
from pipeline.settings import Settings

END = date(2026, 6, 30)


def extraction(entity: str, rows: list[dict]) -> pl.DataFrame:
    """Rows of an entity as extracted on each row's extract_date."""
    frame = conform(pl.DataFrame(rows, infer_schema_length=None), entity)
    lineage = pl.DataFrame(rows, infer_schema_length=None).select(pl.col("extract_date").cast(pl.Date))
    return frame.with_columns(
        lineage["extract_date"],
        pl.lit(entity).alias("source"),
        pl.lit("generic").alias("source_format"),
        pl.lit("sha").alias("file_sha256"),
        pl.int_range(1, pl.len() + 1).cast(pl.Int64).alias("row_number"),
    ).select(empty_frame(entity, with_lineage=True).columns)


def small_silver() -> Silver:
    """A Silver over hand-made extractions: 6 customers whose orders move them between RFM segments."""
    frames = {entity: empty_frame(entity, with_lineage=True) for entity in Silver.ENTITIES}
    start = END - timedelta(days=40)
    contacts = [{"contact_id": c, "source_system": "hubspot", "customer_id": c, "extract_date": start,
                 "created_at": datetime.combine(start, time(), tzinfo=UTC)} for c in "abcdef"]
    orders = [
        {"order_id": f"{c}{k}", "source_system": "shopify", "customer_id": c, "currency_code": "EUR",
         "order_date": day, "ordered_at": datetime.combine(day, time(12), tzinfo=UTC), "extract_date": day,
         "status": "paid", "net_revenue": str(10 * (k + 1)), "gross": str(10 * (k + 1))}
        for k, (c, day) in enumerate(
            [("a", start), ("b", start + timedelta(days=5)), ("a", END - timedelta(days=20)),
             ("c", END - timedelta(days=10)), ("d", END - timedelta(days=2)), ("b", END - timedelta(days=1))]
        )
    ]
    frames["contact"] = pl.concat([frames["contact"], extraction("contact", contacts)], how="vertical_relaxed")
    frames["order"] = pl.concat([frames["order"], extraction("order", orders)], how="vertical_relaxed")
    return Silver.from_frames(frames)


def test_migration_of_a_backfill_equals_the_nightly_run() -> None:
    silver = small_silver()
    settings = Settings.from_env({"KOHDE_HOME": "/nonexistent"})
    # the backfill holds END - 30 and reuses its segments; the nightly run recomputes them from silver
    backfill = build_snapshots(silver, [END - timedelta(days=30 - i) for i in range(31)], settings)
    nightly = build_snapshots(silver, [END], settings)
    for table in ("mart_segment_migration", "mart_segment_quality", "mart_customer_segments"):
        assert_frame_equal(backfill[table].filter(pl.col("as_of_date") == END), nightly[table])
    rfm = nightly["mart_segment_migration"].filter(pl.col("segmentation") == "rfm_segment")
    # 30 days before END only a and b had bought; c and d bought since, e and f never did
    assert rfm.select(pl.col("customers").sum()).item() == 6
    assert rfm.filter(pl.col("from_segment") == "Prospects")["customers"].sum() == 4
    assert rfm.filter(pl.col("to_segment") == "Prospects")["customers"].sum() == 2
