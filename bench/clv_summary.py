"""Benchmark: the night's CLV summary from the kept customer groups against the equivalent DuckDB SQL over every order.

Writes a seeded fct_orders-like Parquet file (``--customers`` customers, ``--orders`` orders over
three years up to the night's date D; text customer ids, DECIMAL(18,4) net revenue in EUR, 5 %
non-revenue orders, 3 % refunds that can bring a day's total to 0 or below) under ``--dir``, then
times, in one process and on the same file:

- kohde's first grouping: ``customer_orders`` of every order up to D - 1, written as the state
  keeps it (what a first run pays once);
- kohde's night: ``regrouped`` from those groups (the customers with an order on D grouped
  again), written as the night keeps it, then ``summary_of`` the groups: the CLV summary that
  ``build_clv`` fits;
- kohde without a state: ``rfm_summary`` of every order (one grouping by customer and day, then
  by customer);
- DuckDB: the same summary in one SQL query over every order (days, then customers), fetched as
  Arrow: what a pipeline without kept groups runs each night.

The night's summary must equal DuckDB's in every column, recency and T within 1e-12 relative (polars
divides by a scalar as a product with its inverse), else the script exits 1.

Run: ``uv run python bench/clv_summary.py [--customers N] [--orders M] [--seed S] [--dir DIR]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TypeVar

import duckdb
import numpy as np
import polars as pl
from polars.testing import assert_frame_equal

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.timing import reset_peak, step_peak_mb  # noqa: E402
from pipeline.entities import MONEY  # noqa: E402
from pipeline.transforms.clv import rfm_summary, summary_of  # noqa: E402
from pipeline.transforms.customer_orders import customer_orders, regrouped  # noqa: E402

NIGHT = date(2026, 10, 31)
HISTORY_DAYS = 1095
WINDOW_DAYS = 365
T = TypeVar("T")

SUMMARY_SQL = """
WITH days AS (
    SELECT customer_id, order_date, SUM(net_revenue_eur) AS day_total
    FROM read_parquet($orders)
    WHERE is_revenue AND customer_id IS NOT NULL AND net_revenue_eur IS NOT NULL AND order_date <= $night
    GROUP BY customer_id, order_date
), customers AS (
    SELECT customer_id,
           COUNT(*) FILTER (WHERE day_total > 0) AS purchase_days,
           MIN(order_date) FILTER (WHERE day_total > 0) AS first_day,
           MAX(order_date) FILTER (WHERE day_total > 0) AS last_day,
           SUM(day_total) FILTER (WHERE day_total > 0)
               - arg_min(day_total, order_date) FILTER (WHERE day_total > 0) AS repeat_total,
           SUM(day_total) AS historical
    FROM days
    GROUP BY customer_id
)
SELECT customer_id,
       purchase_days - 1 AS frequency,
       CAST(date_diff('day', first_day, last_day) AS DOUBLE) / 7 AS recency,
       CAST(date_diff('day', first_day, $night) AS DOUBLE) / 7 AS "T",
       CASE WHEN purchase_days > 1 THEN CAST(repeat_total AS DOUBLE) / (purchase_days - 1) ELSE 0.0 END
           AS monetary_value,
       CAST(historical AS DECIMAL(18, 4)) AS historical_value_eur
FROM customers
WHERE purchase_days > 0
"""


def write_orders(path: Path, customers: int, orders: int, seed: int) -> None:
    """The seeded orders: customer_id, order_date, is_revenue, net_revenue_eur, price_tier."""
    rng = np.random.default_rng(seed)
    # a few heavy buyers and many one-off ones: customer index ~ customers x U^2
    customer = np.minimum((customers * rng.random(orders) ** 2).astype(np.int64), customers - 1)
    cents = np.round(rng.gamma(2.0, 60.0, orders) * 100).astype(np.int64)
    cents[rng.random(orders) < 0.03] *= -1  # refunds: some days net to 0 or below
    order_date = np.datetime64(NIGHT.isoformat()) - rng.integers(0, HISTORY_DAYS, orders).astype("timedelta64[D]")
    pl.DataFrame({
        "customer_id": pl.Series(customer).cast(pl.Utf8).str.zfill(9).str.pad_start(10, "C"),
        "order_date": pl.Series(order_date).cast(pl.Date),
        "is_revenue": rng.random(orders) >= 0.05,
        "net_revenue_eur": (pl.Series(cents).cast(pl.Decimal(18, 0)) / 100).cast(MONEY),
        "price_tier": pl.Series(rng.choice(["entry", "mid", "luxury"], orders)),
    }).write_parquet(path)


def timed(name: str, function: Callable[[], T]) -> T:
    """Run ``function`` once, print its wall and CPU seconds and its peak memory, return its result."""
    reset_peak()
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    print(f"  {name}: {time.perf_counter() - wall:.2f} s wall, {time.process_time() - cpu:.2f} s CPU, "
          f"peak {step_peak_mb():,.0f} MB", flush=True)
    return result


def main() -> int:
    """Write the orders if absent, time each path once, and compare the night's summary with DuckDB's (exit 1 if not equal)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000_000)
    parser.add_argument("--orders", type=int, default=30_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/kohde-clv-summary"))
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    source = args.dir / f"orders-{args.customers}-{args.orders}-{args.seed}.parquet"
    if not source.exists():
        print(f"writing {args.orders:,} orders of {args.customers:,} customers to {source}", flush=True)
        write_orders(source, args.customers, args.orders, args.seed)
    print(f"machine: {os.cpu_count()} cores, python {platform.python_version()}, polars {pl.__version__}, "
          f"duckdb {duckdb.__version__}, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    orders, before = pl.scan_parquet(source), NIGHT - timedelta(days=1)
    day = pl.col("order_date")
    state, night = args.dir / "groups-before.parquet", args.dir / "groups-night.parquet"

    timed("kohde first grouping of every order up to D - 1, written",
          lambda: customer_orders(orders.filter(day <= before), before, WINDOW_DAYS).rows.sink_parquet(state))

    def the_night() -> pl.DataFrame:
        conversions = orders.filter((day <= before) & pl.col("is_revenue")).select("customer_id", "order_date")
        regrouped(pl.scan_parquet(state), before, orders, NIGHT, WINDOW_DAYS, NIGHT, conversions).rows.sink_parquet(night)
        return summary_of(pl.scan_parquet(night), NIGHT).collect()

    ours = timed("kohde night: regrouped from the kept groups, written, then summary_of", the_night)
    timed("kohde without a state: rfm_summary of every order", lambda: rfm_summary(orders, NIGHT).collect())
    with duckdb.connect() as connection:
        connection.execute("SET threads = 2")
        theirs = timed("DuckDB SQL: the summary of every order", lambda: pl.from_arrow(connection.sql(
            SUMMARY_SQL, params={"orders": str(source), "night": NIGHT}).to_arrow_table()))
    assert isinstance(theirs, pl.DataFrame)
    ours, theirs = ours.sort("customer_id"), theirs.cast(dict(ours.schema)).sort("customer_id")
    try:  # recency and T to the last bit or so: polars divides by a scalar as a product with its inverse
        assert_frame_equal(ours, theirs, rel_tol=1e-12, abs_tol=0)
        same = True
    except AssertionError as error:
        print(error, flush=True)
        same = False
    print(f"  {ours.height:,} customers with a purchase day: {'same' if same else 'DIFFERENT'} summary", flush=True)
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
