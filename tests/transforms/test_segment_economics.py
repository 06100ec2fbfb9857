"""mart_segment_economics: attributed conversions and revenue per segment and channel, by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from pipeline.entities import MONEY
from pipeline.transforms import measures
from pipeline.transforms.segment_economics import build_segment_economics
from pipeline.transforms.segments import by_snapshot_row
from tests.transforms.ddl import assert_matches_ddl


def attribution() -> pl.LazyFrame:
    rows = [
        # March, last touch: linkedin brings c1 (Champions, first order) and c2 (At Risk); paid search c1 again
        ("o1", "last_touch", "linkedin", "c1", date(2026, 3, 2), True, 1.0, "3000"),
        ("o2", "last_touch", "linkedin", "c2", date(2026, 3, 5), False, 1.0, "1000"),
        ("o3", "last_touch", "paid_search", "c1", date(2026, 3, 9), False, 1.0, "500"),
        # linear: o1 split between linkedin and email
        ("o1", "linear", "linkedin", "c1", date(2026, 3, 2), True, 0.5, "1500"),
        ("o1", "linear", "email", "c1", date(2026, 3, 2), True, 0.5, "1500"),
        # April: a customer without a segment row
        ("o4", "last_touch", "linkedin", "c9", date(2026, 4, 1), True, 1.0, "200"),
    ]
    return pl.DataFrame(
        rows, schema=["order_id", "model", "channel", "customer_id", "order_date", "is_first_order", "credit", "revenue_eur"],
        orient="row",
    ).with_columns(pl.col("revenue_eur").cast(MONEY)).lazy()


def segments() -> pl.LazyFrame:
    return pl.LazyFrame({
        "customer_id": ["c1", "c2"],
        "rfm_segment": ["Champions", "At Risk"],
        "value_tier": ["top", "top"],
        "persona": ["Tech innovator", None],
    })


def test_conversions_revenue_and_channel_share_per_segment() -> None:
    out = build_segment_economics(attribution(), segments()).collect()
    key = ["month", "segmentation", "segment", "channel", "model"]

    def row(*values: object) -> tuple:
        found = out.filter(pl.all_horizontal(pl.col(k) == v for k, v in zip(key, values, strict=True)))
        assert found.height == 1
        return found.select("conversions", "new_customers", "customers", "attributed_revenue_eur", "avg_order_eur",
                            "channel_share_pct").row(0)

    march = date(2026, 3, 1)
    # linkedin, last touch, March: Champions 1 of 2 conversions (3,000), At Risk the other (1,000)
    assert row(march, "rfm_segment", "Champions", "linkedin", "last_touch") == (1.0, 1.0, 1, Decimal("3000"),
                                                                                  Decimal("3000"), 50.0)
    assert row(march, "rfm_segment", "At Risk", "linkedin", "last_touch") == (1.0, 0.0, 1, Decimal("1000"),
                                                                                Decimal("1000"), 50.0)
    # both customers are in the top value tier: 2 conversions, 4,000, average 2,000, the whole channel
    assert row(march, "value_tier", "top", "linkedin", "last_touch") == (2.0, 1.0, 2, Decimal("4000"),
                                                                          Decimal("2000"), 100.0)
    # c2 has no persona: unknown
    assert row(march, "persona", "unknown", "linkedin", "last_touch")[:2] == (1.0, 0.0)
    # linear halves
    assert row(march, "rfm_segment", "Champions", "email", "linear") == (0.5, 0.5, 1, Decimal("1500"),
                                                                          Decimal("3000"), 100.0)
    # April: c9 is in no segment snapshot
    assert row(date(2026, 4, 1), "rfm_segment", "unknown", "linkedin", "last_touch")[:4] == (1.0, 1.0, 1, Decimal("200"))


def test_each_segmentation_adds_up_to_the_attribution() -> None:
    out = build_segment_economics(attribution(), segments()).collect()
    totals = out.group_by("segmentation", "model").agg(pl.col("conversions").sum(), pl.col("attributed_revenue_eur").sum())
    for row in totals.iter_rows(named=True):
        expected = {"last_touch": (4.0, Decimal("4700")), "linear": (1.0, Decimal("3000"))}[row["model"]]
        assert (row["conversions"], row["attributed_revenue_eur"]) == (pytest.approx(expected[0]), expected[1])
    assert out.select("month", "segmentation", "segment", "channel", "model").is_unique().all()
    assert_matches_ddl(out, "mart_segment_economics")


def test_unknown_segment_counts_segmented_and_unsegmented_customers_apart() -> None:
    """c2 (in the snapshot, no persona), c9 and c8 (no snapshot row) in one 'unknown' persona group: three customers.

    The segmented customers are numbered by their snapshot row and the others after them, so no
    unsegmented customer can be counted as the same person as a segmented one.
    """
    extra = pl.DataFrame(
        [("o5", "last_touch", "linkedin", "c9", date(2026, 3, 20), True, 1.0, "100"),
         ("o6", "last_touch", "linkedin", "c8", date(2026, 3, 21), True, 1.0, "100"),
         ("o7", "last_touch", "linkedin", "c8", date(2026, 3, 22), False, 1.0, "100")],
        schema=["order_id", "model", "channel", "customer_id", "order_date", "is_first_order", "credit", "revenue_eur"],
        orient="row",
    ).with_columns(pl.col("revenue_eur").cast(MONEY))
    out = build_segment_economics(pl.concat([attribution().collect(), extra]).lazy(), segments()).collect()
    unknown = out.filter((pl.col("month") == date(2026, 3, 1)) & (pl.col("segmentation") == "persona")
                         & (pl.col("segment") == "unknown") & (pl.col("channel") == "linkedin")
                         & (pl.col("model") == "last_touch"))
    assert unknown.select("conversions", "new_customers", "customers", "attributed_revenue_eur").row(0) == (
        4.0, 2.0, 3, Decimal("1300"))


def test_colliding_customer_hashes_fall_back_to_the_text_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every customer with one hash: the joins on ``snapshot_key`` take the id instead, and give the same rows."""
    expected = build_segment_economics(attribution(), segments()).collect()
    revenue = pl.LazyFrame({"customer_id": ["c2", "c9"], "revenue_eur": [5, 7]})
    expected_rows = by_snapshot_row(segments().collect(), revenue).sort("_row").collect()
    assert expected_rows["revenue_eur"].to_list() == [None, 5]
    monkeypatch.setattr(measures, "customer_hash", lambda alias="customer_id": pl.lit(0, pl.UInt64).alias(alias))
    assert measures.snapshot_key(segments().collect()).meta.root_names() == ["customer_id"]
    assert build_segment_economics(attribution(), segments()).collect().equals(expected)
    assert by_snapshot_row(segments().collect(), revenue).sort("_row").collect().equals(expected_rows)
