"""The CDNOW sample (Fader, Hardie & Lee 2005) bundled with lifetimes, as kohde orders.

CDNOW_sample.txt: 6,919 purchases of 2,357 customers, 1997-01-01..1998-06-30, one line each:
master id, sample customer id, date YYYYMMDD, number of CDs, dollars. Dollars are kept as EUR so
the published figures stay as published.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import polars as pl

from pipeline.entities import MONEY, UTC_TS

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # lifetimes imports pkg_resources, deprecated
    import lifetimes.datasets

CDNOW_SAMPLE = Path(lifetimes.datasets.__file__).parent / "CDNOW_sample.txt"
DATASETS = CDNOW_SAMPLE.parent
LINE = r"^\s*(?<master_id>\d+)\s+(?<sample_id>\d+)\s+(?<yyyymmdd>\d{8})\s+(?<cds>\d+)\s+(?<dollars>[0-9.]+)\s*$"
GENERIC_ORDERS_HEADER = (
    "order_id,customer_id,email,ordered_at,currency,gross,discounts,refunds,net_revenue,status,product_category"
)


def read_cdnow_sample(path: Path = CDNOW_SAMPLE) -> pl.DataFrame:
    """One row per line of the file: row (1-based line number), sample_id, order_date, cds, dollars."""
    lines = pl.read_csv(path, has_header=False, new_columns=["line"], separator="\x1f", schema={"line": pl.Utf8})
    parsed = lines.select(
        pl.int_range(1, pl.len() + 1).alias("row"), pl.col("line").str.extract_groups(LINE).alias("fields")
    ).unnest("fields")
    assert parsed["sample_id"].null_count() == 0, "a CDNOW line did not parse"
    return parsed.select(
        "row",
        pl.col("sample_id").cast(pl.Int64),
        pl.col("yyyymmdd").str.to_date("%Y%m%d").alias("order_date"),
        pl.col("cds").cast(pl.Int64),
        pl.col("dollars").cast(MONEY),
    )


def cdnow_fct_orders(path: Path = CDNOW_SAMPLE) -> pl.DataFrame:
    """The sample in fct_orders' shape: one paid order per line, ordered at midnight UTC."""
    return read_cdnow_sample(path).select(
        pl.format("{}-{}", "sample_id", "row").alias("order_id"),
        pl.format("cdnow{}", pl.col("sample_id").cast(pl.Utf8).str.zfill(5)).alias("customer_id"),
        pl.col("order_date").cast(pl.Datetime("us")).dt.replace_time_zone("UTC").cast(UTC_TS).alias("ordered_at"),
        "order_date",
        pl.col("dollars").alias("net_revenue_eur"),
        pl.lit(True).alias("is_revenue"),
        (pl.col("row") == pl.col("row").min().over("sample_id")).alias("is_first_order"),
    )


def cdnow_as_generic_orders_csv(path: Path) -> None:
    """Write the sample as a generic orders export (header ``GENERIC_ORDERS_HEADER``) to ``path``.

    order_id ``{sample_id}-{line}``, customer_id ``cdnow{sample_id:05d}``, no email, ordered_at
    midnight UTC of the purchase date, currency EUR, gross = net_revenue = dollars (2 decimals),
    no discounts or refunds, status paid, no product category.
    """
    dollars = pl.col("dollars").cast(pl.Decimal(18, 2)).cast(pl.Utf8)
    read_cdnow_sample().select(
        pl.format("{}-{}", "sample_id", "row").alias("order_id"),
        pl.format("cdnow{}", pl.col("sample_id").cast(pl.Utf8).str.zfill(5)).alias("customer_id"),
        pl.lit(None, pl.Utf8).alias("email"),
        pl.col("order_date").dt.strftime("%Y-%m-%dT00:00:00Z").alias("ordered_at"),
        pl.lit("EUR").alias("currency"),
        dollars.alias("gross"),
        pl.lit("0.00").alias("discounts"),
        pl.lit("0.00").alias("refunds"),
        dollars.alias("net_revenue"),
        pl.lit("paid").alias("status"),
        pl.lit(None, pl.Utf8).alias("product_category"),
    ).write_csv(path)
