"""The current truth of each entity as of a date: the newest extraction wins.

Ad platforms restate past days, so for ``ad_daily`` the unit of replacement is the whole
(platform, account, day): the newest export of that day replaces every row of the day, and a
campaign missing from it is gone. For every other entity the newest extraction of each business
key wins. Ties inside one extract date are broken by file sha256 and row number, so the result
never depends on the order files were read in.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from pipeline.entities import BUSINESS_KEYS, ENTITIES
from pipeline.fx import default_rates

DAY_REPLACED: dict[str, tuple[str, ...]] = {"ad_daily": ("platform", "account_id", "day")}


def current(extractions: pl.LazyFrame, entity: str, as_of: date) -> pl.LazyFrame:
    """One row per business key: the row from the newest extraction up to ``as_of``."""
    upto = extractions.filter(pl.col("extract_date") <= as_of)
    order = ["extract_date", "file_sha256", "row_number"]
    if entity in DAY_REPLACED:
        unit = list(DAY_REPLACED[entity])
        newest = (upto.select(*unit, "extract_date", "file_sha256")
                  .sort("extract_date", "file_sha256")
                  .group_by(unit).agg(pl.col("extract_date").last(), pl.col("file_sha256").last()))
        upto = upto.join(newest, on=[*unit, "extract_date", "file_sha256"], how="semi")
    key = list(BUSINESS_KEYS[entity])
    return (
        upto.sort(order)
        .unique(subset=key, keep="last", maintain_order=True)
        .sort(key)
        .select(list(ENTITIES[entity]))
    )


VALID_FROM, VALID_TO = "_valid_from", "_valid_to"


def versions(extractions: pl.DataFrame, entity: str, *, sort_by_key: bool = True) -> pl.DataFrame:
    """Every extracted row with the dates it is the current truth: ``[_valid_from, _valid_to)``.

    Computed once, so the truth as of any date is a filter (``as_of``) instead of a sort of the
    whole history per date: a backfill's snapshots cost a scan each, not a sort. ``as_of`` gives
    exactly what ``current`` gives. A row stops being current at the extract date of the next
    version of its business key (a later row of the same file included: the later row wins), and
    for ``ad_daily`` also when a newer export of its (platform, account, day) arrives. The result
    is sorted by business key, then extraction order; the tie-breaking lineage columns
    (``file_sha256``, ``row_number``) are dropped once used.

    ``sort_by_key=False``, for a caller that sorts the rows itself: when no business key repeats,
    every row is its key's only version, current from its extract date on, and the rows stay in
    the order given. Whether a key repeats is asked of a 64-bit hash of the key: a key whose hash
    repeats is taken as repeated and sorted as before, so the answer is exact. (The 20M touchpoints
    at medium, none repeated: 2.6 s for the hashes instead of 6.8 s for the sort.)
    """
    order = ["extract_date", "file_sha256", "row_number"]
    key = list(BUSINESS_KEYS[entity])
    if not sort_by_key and not extractions.select(pl.struct(key).hash().is_duplicated().any()).item():
        frame = extractions.with_columns(
            pl.col("extract_date").alias(VALID_FROM),
            pl.lit(None, dtype=extractions.schema["extract_date"]).alias(VALID_TO),
        )
    else:
        # the lake gives rows in extraction order (files by extract date and sha, rows by number): a stable
        # sort by the key alone then equals the sort by key and extraction order, at a third of the cost
        if _in_order(extractions, order):
            ordered = extractions.sort(key, maintain_order=True)
        else:
            ordered = extractions.sort([*key, *order])
        frame = ordered.with_columns(
            pl.col("extract_date").alias(VALID_FROM),
            _next_of_same(key, "extract_date").alias(VALID_TO),
        )
    if entity in DAY_REPLACED:
        unit = list(DAY_REPLACED[entity])
        files = (extractions.select(*unit, "extract_date", "file_sha256").unique()
                 .sort([*unit, "extract_date", "file_sha256"])
                 .with_columns(_next_of_same(unit, "extract_date").alias("_unit_valid_to")))
        frame = (frame.join(files, on=[*unit, "extract_date", "file_sha256"], how="left", maintain_order="left")
                 .with_columns(pl.min_horizontal(VALID_TO, "_unit_valid_to").alias(VALID_TO))
                 .drop("_unit_valid_to"))
    return frame.drop("file_sha256", "row_number", strict=False)


def _in_order(frame: pl.DataFrame, columns: list[str]) -> bool:
    """Whether the rows are sorted by ``columns`` (ascending, no two rows equal on all of them)."""
    if frame.height < 2:
        return True
    later = pl.lit(False)
    for name in reversed(columns):
        this, before = pl.col(name), pl.col(name).shift(1)
        later = (this > before) | ((this == before) & later)
    return bool(frame.select(later.slice(1).fill_null(False).all()).item())


def _next_of_same(key: list[str], column: str) -> pl.Expr:
    """On a frame sorted by ``key``: the next row's ``column`` when that row has the same key, else NULL.

    The same as ``shift(-1).over(key)`` (NULL keys are one group there too), without a window:
    on millions of rows the window costs a hash grouping, this a comparison with the next row.
    """
    same = pl.all_horizontal([pl.col(k).eq_missing(pl.col(k).shift(-1)) for k in key])
    return pl.when(same).then(pl.col(column).shift(-1))


def as_of(versioned: pl.DataFrame | pl.LazyFrame, entity: str, day: date) -> pl.LazyFrame:
    """One row per business key as of ``day``, from ``versions`` (or a scan of them): equal to ``current``."""
    valid = (pl.col(VALID_FROM) <= day) & (pl.col(VALID_TO).is_null() | (pl.col(VALID_TO) > day))
    frame = versioned.lazy()
    held = frame.collect_schema().names()
    return frame.filter(valid).select([c for c in ENTITIES[entity] if c in held])


def fx_rates(extractions: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """Rates from plan files, completed with the shipped defaults for currencies they do not give."""
    given = current(extractions, "fx_rate", as_of)
    defaults = default_rates().lazy()
    missing = defaults.join(given.select("currency_code").unique(), on="currency_code", how="anti")
    return pl.concat([given, missing.select(given.collect_schema().names())], how="vertical_relaxed")
