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


def fx_rates(extractions: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """Rates from plan files, completed with the shipped defaults for currencies they do not give."""
    given = current(extractions, "fx_rate", as_of)
    defaults = default_rates().lazy()
    missing = defaults.join(given.select("currency_code").unique(), on="currency_code", how="anti")
    return pl.concat([given, missing.select(given.collect_schema().names())], how="vertical_relaxed")
