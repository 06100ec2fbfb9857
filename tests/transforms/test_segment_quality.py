from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline.transforms.segment_migration import build_segment_migration
from pipeline.transforms.segment_quality import build_segment_quality
from pipeline.transforms.segments import SEGMENTATIONS
from tests.transforms.ddl import assert_matches_ddl
from tests.transforms.test_segments import fct_orders

AS_OF = date(2026, 6, 30)
BEFORE = date(2026, 5, 31)


def snapshot(as_of: date, rows: dict[str, dict[str, str]]) -> pl.LazyFrame:
    """mart_customer_segments-like rows: every segmentation 'x' unless given; cluster 1 unless given."""
    records = []
    for customer_id, segments in rows.items():
        record: dict[str, object] = {"as_of_date": as_of, "customer_id": customer_id}
        record.update({name: "x" for name in SEGMENTATIONS})
        record["cluster"] = 1
        record.update(segments)
        records.append(record)
    schema = {"as_of_date": pl.Date, "customer_id": pl.Utf8, **{n: pl.Utf8 for n in SEGMENTATIONS}}
    schema["cluster"] = pl.Int32
    return pl.DataFrame(records, schema=schema).lazy()


CURRENT = {
    "c1": {"rfm_segment": "A", "value_tier": "unknown", "gender": "female"},
    "c2": {"rfm_segment": "A", "value_tier": "unknown", "gender": "female"},
    "c3": {"rfm_segment": "B", "value_tier": "unknown", "gender": "female"},
    "c4": {"rfm_segment": "B", "value_tier": "unknown", "gender": "female"},
    "c5": {"rfm_segment": "B", "value_tier": "unknown", "gender": "unknown", "cluster": None},
}
PREVIOUS = {
    "c1": {"rfm_segment": "A", "value_tier": "unknown"},
    "c2": {"rfm_segment": "B", "value_tier": "unknown"},
    "c3": {"rfm_segment": "B", "value_tier": "unknown"},
    "c6": {"rfm_segment": "A", "value_tier": "unknown"},
}


def test_migration_matrix() -> None:
    out = build_segment_migration(snapshot(AS_OF, CURRENT), snapshot(BEFORE, PREVIOUS), AS_OF, BEFORE).collect()
    assert_matches_ddl(out, "mart_segment_migration")
    rfm = out.filter(pl.col("segmentation") == "rfm_segment").select("from_segment", "to_segment", "customers",
                                                                      "share_of_from_pct")
    expected = pl.DataFrame(
        [("(new)", "B", 2, 100.0), ("A", "(gone)", 1, 50.0), ("A", "A", 1, 50.0), ("B", "A", 1, 50.0),
         ("B", "B", 1, 50.0)],
        schema={"from_segment": pl.Utf8, "to_segment": pl.Utf8, "customers": pl.Int64, "share_of_from_pct": pl.Float64},
        orient="row",
    )
    assert_frame_equal(rfm, expected)
    # cluster as text, unscored for no cluster
    cluster = out.filter(pl.col("segmentation") == "cluster").select("from_segment", "to_segment", "customers")
    assert cluster.rows() == [("(new)", "1", 1), ("(new)", "unscored", 1), ("1", "(gone)", 1), ("1", "1", 3)]
    # every segmentation accounts for the 6 customers of either snapshot
    assert out.group_by("segmentation").agg(pl.col("customers").sum())["customers"].to_list() == [6] * len(
        SEGMENTATIONS
    )
    assert (out["compared_to_date"] == BEFORE).all()


def test_segment_quality_figures_and_verdicts() -> None:
    orders = fct_orders([("o1", "c1", date(2026, 6, 1), 10), ("o2", "c2", date(2026, 6, 1), 30),
                         ("o3", "c3", date(2026, 6, 1), 100), ("o4", "c4", date(2026, 6, 1), 60),
                         ("o5", "c4", date(2026, 6, 2), 40), ("o6", "c5", date(2026, 7, 1), 999)])
    current = snapshot(AS_OF, CURRENT)
    migration = build_segment_migration(current, snapshot(BEFORE, PREVIOUS), AS_OF, BEFORE)
    out = build_segment_quality(current, orders, migration, AS_OF, min_customers=1, min_share=0.3).collect()
    assert_matches_ddl(out, "mart_segment_quality")
    assert out["segmentation"].to_list() == list(SEGMENTATIONS)
    rows = {row["segmentation"]: row for row in out.iter_rows(named=True)}

    # values 10, 30, 100, 100, 0 (c5's order is after as-of); mean 48, total SS 9480
    # rfm A {10, 30}: within 200, between 2 x 28^2 = 1568; B {100, 100, 0}: between 3 x (200/3 - 48)^2 = 3136/3
    rfm = rows["rfm_segment"]
    assert (rfm["segments"], rfm["addressable_segments"], rfm["customers"], rfm["largest_segment"]) == (2, 2, 5, "B")
    assert rfm["largest_share_pct"] == pytest.approx(60.0)
    assert (rfm["missing_share_pct"], rfm["small_segments_share_pct"]) == (0.0, 0.0)
    assert rfm["concentration_hhi"] == pytest.approx(0.4**2 + 0.6**2)
    assert rfm["value_variance_explained_pct"] == pytest.approx((1568 + 3136 / 3) / 9480 * 100)
    # in both snapshots c1 (A -> A), c2 (B -> A), c3 (B -> B)
    assert (rfm["compared_to_date"], rfm["customers_in_both"]) == (BEFORE, 3)
    assert rfm["stability_pct"] == pytest.approx(200 / 3)
    assert (rfm["is_actionable"], rfm["verdict_reason"]) == (True, "ok")

    tier = rows["value_tier"]
    assert (tier["segments"], tier["addressable_segments"], tier["largest_share_pct"]) == (1, 1, 100.0)
    assert (tier["missing_share_pct"], tier["value_variance_explained_pct"], tier["stability_pct"]) == (100.0, 0.0,
                                                                                                        100.0)
    assert tier["is_actionable"] is False
    assert tier["verdict_reason"] == (
        "1 segment(s) big enough to address (min 2); largest segment 'unknown' holds 100.0 % of customers "
        "(max 95.0 %); 100.0 % of customers unknown (max 50.0 %)"
    )

    # gender: female 80 %, unknown 20 % (below the 30 % minimum share: too small, exactly the 20 % allowed)
    gender = rows["gender"]
    assert (gender["addressable_segments"], gender["missing_share_pct"]) == (1, pytest.approx(20.0))
    assert gender["small_segments_share_pct"] == pytest.approx(20.0)
    assert gender["verdict_reason"] == "1 segment(s) big enough to address (min 2)"


def test_segment_quality_without_migration_or_value_variance() -> None:
    current = snapshot(AS_OF, {"a": {"rfm_segment": "A"}, "b": {"rfm_segment": "B"}})
    empty_migration = build_segment_migration(current, current, AS_OF, BEFORE).filter(pl.lit(False))
    out = build_segment_quality(current, fct_orders([]), empty_migration, AS_OF, min_customers=1,
                                min_share=0.1).collect()
    rfm = out.row(0, named=True)
    # nobody has value: variance explained NULL, not 0; no migration rows: stability NULL
    assert rfm["value_variance_explained_pct"] is None
    assert (rfm["compared_to_date"], rfm["customers_in_both"], rfm["stability_pct"]) == (None, None, None)
    assert (rfm["is_actionable"], rfm["verdict_reason"]) == (True, "ok")
