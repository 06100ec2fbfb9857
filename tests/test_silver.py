"""Silver as of a date: the versioned filter (``versions`` + ``as_of``) equals ``current`` on every date."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline.entities import ENTITIES
from pipeline.silver import as_of, current, versions

START = date(2026, 3, 1)


def _extractions(entity: str, rows: int, seed: int) -> pl.DataFrame:
    """Random rows of the entity with few keys, so keys are restated, duplicated in a file and dropped."""
    rng = np.random.default_rng(seed)
    schema = ENTITIES[entity]
    frame = pl.DataFrame({name: pl.Series(name, [None] * rows, dtype=dtype) for name, dtype in schema.items()})
    extract = [START + timedelta(days=int(d)) for d in rng.integers(0, 12, rows)]
    files = [f"sha{int(f)}" for f in rng.integers(0, 3, rows)]  # several files on one extract date
    common = {
        "extract_date": pl.Series(extract, dtype=pl.Date),
        "file_sha256": pl.Series(files),
        "row_number": pl.Series(rng.integers(1, 50, rows), dtype=pl.Int64),
    }
    if entity == "ad_daily":
        keyed = {
            "platform": pl.Series(rng.choice(["google_ads", "meta_ads"], rows)),
            "account_id": pl.Series(rng.choice(["a1", "a2"], rows)),
            "day": pl.Series([START + timedelta(days=int(d)) for d in rng.integers(0, 4, rows)], dtype=pl.Date),
            "campaign_id": pl.Series(rng.choice(["c1", "c2", "c3"], rows)),
        }
    else:
        keyed = {"source_system": pl.Series(rng.choice(["shopify", "stripe", None], rows)),
                 "order_id": pl.Series(rng.choice([f"o{i}" for i in range(8)], rows))}
    payload = {"net_revenue": pl.Series(rng.integers(0, 1000, rows)).cast(schema["net_revenue"])} \
        if entity == "order" else {"spend": pl.Series(rng.integers(0, 1000, rows)).cast(schema["spend"])}
    frame = frame.with_columns(*(v.alias(k) for k, v in {**keyed, **payload}.items()))
    # unique lineage per row, as files give it
    return frame.with_columns(*(v.alias(k) for k, v in common.items())).unique(
        subset=["file_sha256", "row_number", "extract_date"], keep="first", maintain_order=True)


@pytest.mark.parametrize("entity", ["order", "ad_daily"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_versioned_as_of_equals_current_on_every_date(entity: str, seed: int) -> None:
    extractions = _extractions(entity, 400, seed)
    versioned = versions(extractions, entity)
    assert versioned.height == extractions.height
    compared = 0
    for offset in range(-1, 14):
        day = START + timedelta(days=offset)
        expected = current(extractions.lazy(), entity, day).collect()
        got = as_of(versioned, entity, day).collect()
        assert_frame_equal(got, expected)
        compared += expected.height
    assert compared > 100  # the dates compared held rows


def test_restated_ad_day_drops_a_campaign_missing_from_the_newer_export() -> None:
    rows = [
        # (extract, file, row, campaign, spend): day 1 exported on the 2nd with c1 and c2, re-exported on the 4th with c1 only
        (date(2026, 3, 2), "f1", 1, "c1", 10), (date(2026, 3, 2), "f1", 2, "c2", 20),
        (date(2026, 3, 4), "f2", 1, "c1", 11),
    ]
    base = pl.DataFrame({name: pl.Series(name, [None] * 3, dtype=dtype) for name, dtype in ENTITIES["ad_daily"].items()})
    frame = base.with_columns(
        pl.Series("extract_date", [r[0] for r in rows], dtype=pl.Date), pl.Series("file_sha256", [r[1] for r in rows]),
        pl.Series("row_number", [r[2] for r in rows], dtype=pl.Int64), pl.Series("campaign_id", [r[3] for r in rows]),
        pl.Series("spend", [r[4] for r in rows]).cast(ENTITIES["ad_daily"]["spend"]),
        pl.lit("google_ads").alias("platform"), pl.lit("a1").alias("account_id"), pl.lit(date(2026, 3, 1)).alias("day"),
    )
    versioned = versions(frame, "ad_daily")
    on_3rd = as_of(versioned, "ad_daily", date(2026, 3, 3)).collect()
    on_4th = as_of(versioned, "ad_daily", date(2026, 3, 4)).collect()
    assert on_3rd.select("campaign_id", pl.col("spend").cast(pl.Int64)).rows() == [("c1", 10), ("c2", 20)]
    assert on_4th.select("campaign_id", pl.col("spend").cast(pl.Int64)).rows() == [("c1", 11)]


def test_next_version_without_a_window_equals_the_window() -> None:
    """``_next_of_same`` on a key-sorted frame equals ``shift(-1).over(key)``, NULL keys included."""
    from pipeline.silver import _next_of_same
    rng = np.random.default_rng(3)
    n = 20_000
    frame = pl.DataFrame({
        "a": pl.Series(rng.integers(0, 50, n)).cast(pl.Utf8).replace("7", None),
        "b": pl.Series(rng.integers(0, 3, n)).replace(2, None),
        "d": rng.integers(0, 1000, n),
    }).sort("a", "b", "d")
    got = frame.select(_next_of_same(["a", "b"], "d"))["d"]
    expected = frame.select(pl.col("d").shift(-1).over(["a", "b"]))["d"]
    assert got.null_count() > 100
    assert got.equals(expected, null_equal=True)


@pytest.mark.parametrize("entity", ["order", "ad_daily"])
def test_versions_of_rows_in_extraction_order_equal_versions_of_shuffled_rows(entity: str) -> None:
    """The lake gives rows in extraction order, where versions sorts by key alone; any other order is sorted in full."""
    from pipeline.silver import _in_order
    shuffled = _extractions(entity, 400, 5)
    if entity == "order":  # numpy gives the key column as objects, which a single-column sort refuses
        shuffled = shuffled.with_columns(pl.Series("source_system", shuffled["source_system"].to_list(), dtype=pl.Utf8))
    in_order = shuffled.sort("extract_date", "file_sha256", "row_number")
    assert not _in_order(shuffled, ["extract_date", "file_sha256", "row_number"])
    assert _in_order(in_order, ["extract_date", "file_sha256", "row_number"])
    assert_frame_equal(versions(in_order, entity), versions(shuffled, entity))
    # a repeated (extract_date, file, row) is not "in order": the full sort decides
    assert not _in_order(pl.concat([in_order.head(3), in_order.head(3)]), ["extract_date", "file_sha256", "row_number"])


@pytest.mark.parametrize("entity", ["order", "ad_daily"])
@pytest.mark.parametrize("repeated", [True, False])
def test_versions_not_sorted_by_key_are_the_same_rows(entity: str, repeated: bool) -> None:
    """``sort_by_key=False`` keeps the given order when no key repeats, and gives the same versions either way."""
    extractions = _extractions(entity, 400, 7)
    if entity == "order":  # numpy gives the key column as objects, which a sort refuses
        extractions = extractions.with_columns(
            pl.Series("source_system", extractions["source_system"].to_list(), dtype=pl.Utf8))
    key = ["platform", "account_id", "day", "campaign_id"] if entity == "ad_daily" else ["source_system", "order_id"]
    if not repeated:  # each key once: its only version is current from its extract date on
        extractions = extractions.unique(subset=key, keep="first", maintain_order=True)
        assert extractions.height >= 8
    sorted_by_key = versions(extractions, entity)
    unsorted = versions(extractions, entity, sort_by_key=False)
    assert_frame_equal(unsorted.sort(pl.all()), sorted_by_key.sort(pl.all()))
    if not repeated:
        assert unsorted.select(key).equals(extractions.select(key))  # the order given
        if entity == "order":  # ad_daily's newer export of a day can still end a version
            assert unsorted["_valid_to"].null_count() == unsorted.height
    for offset in range(-1, 14):
        day = START + timedelta(days=offset)
        assert_frame_equal(as_of(unsorted, entity, day).collect().sort(pl.all()),
                           current(extractions.lazy(), entity, day).collect().sort(pl.all()))
