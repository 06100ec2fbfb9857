"""Benchmark: kohde's RFM scores and named segments (polars) against the equivalent DuckDB SQL, same Parquet.

Writes a seeded orders file (``--customers`` customers, ``--orders`` orders over two years; text
customer ids, DECIMAL(18,4) net revenue in EUR, 5 % non-revenue orders) to a temporary directory, then
times, in one process and on the same file (the fastest of ``--repeat`` runs after one warm-up):

- kohde: ``build_rfm`` + ``rfm_segment_expr`` on ``pl.scan_parquet`` collected with the streaming
  engine (and, for reference, the in-memory engine);
- DuckDB: one SQL query with the same rules: the window filter, ``RANK()`` (ties share the lowest
  rank, as polars' ``rank("min")``) and ``(5 * rank + n - 1) // n`` = ceil(5 x rank / n) for the
  scores, and the segment CASE generated from ``RFM_SEGMENT_RULES``; the result fetched as Arrow.

Both results are sorted by customer_id and must be equal in every column (the script exits 1
otherwise). For reference it also reports how many customers the usual ``NTILE(5)`` quintiles would
score differently: NTILE splits tied customers between quintiles by row order, so its scores are not
a function of the data alone.

Run: ``uv run python bench/segments.py [--customers N] [--orders M] [--seed S] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.timing import best_of  # noqa: E402
from pipeline.entities import MONEY  # noqa: E402
from pipeline.transforms.segments import RFM_SEGMENT_RULES, build_rfm, rfm_segment_expr  # noqa: E402

AS_OF = date(2026, 6, 30)
WINDOW_DAYS = 365
HISTORY_DAYS = 730


def write_orders(path: Path, customers: int, orders: int, seed: int) -> None:
    """A seeded fct_orders-like Parquet file: customer_id, order_date, net_revenue_eur, is_revenue."""
    rng = np.random.default_rng(seed)
    # a few heavy buyers and many one-off ones: customer index ~ customers x U^2
    customer = np.minimum((customers * rng.random(orders) ** 2).astype(np.int64), customers - 1)
    cents = np.round(rng.gamma(2.0, 60.0, orders) * 100).astype(np.int64)
    order_date = np.datetime64(AS_OF.isoformat()) - rng.integers(0, HISTORY_DAYS, orders).astype("timedelta64[D]")
    frame = pl.DataFrame(
        {
            "customer_id": pl.Series(customer).cast(pl.Utf8).str.zfill(8).str.pad_start(9, "C"),
            "order_date": pl.Series(order_date).cast(pl.Date),
            "cents": cents,
            "is_revenue": rng.random(orders) >= 0.05,
        }
    ).select(
        "customer_id", "order_date",
        (pl.col("cents").cast(MONEY) * pl.lit(Decimal("0.01"))).cast(MONEY).alias("net_revenue_eur"),
        "is_revenue",
    )
    frame.write_parquet(path, row_group_size=1_000_000)


def kohde_query(path: Path) -> pl.LazyFrame:
    """RFM scores and named segments of the Parquet file, as kohde builds them."""
    return build_rfm(pl.scan_parquet(path), AS_OF, WINDOW_DAYS).with_columns(
        rfm_segment_expr("r_score", "f_score", "m_score").alias("rfm_segment")
    )


def segment_case_sql() -> str:
    """``RFM_SEGMENT_RULES`` as a SQL CASE over r_score, f_score, m_score (first match wins)."""
    whens = []
    for name, bounds in RFM_SEGMENT_RULES:
        condition = " AND ".join(f"{k}_score BETWEEN {low} AND {high}" for k, (low, high) in bounds.items()) or "TRUE"
        whens.append(f"WHEN {condition} THEN '{name.replace(chr(39), chr(39) * 2)}'")
    return "CASE " + " ".join(whens) + " END"


def duckdb_sql(path: Path, score: str = "rank", as_of: date = AS_OF, window_days: int = WINDOW_DAYS) -> str:
    """The DuckDB equivalent; ``score="ntile"`` gives the usual NTILE(5) quintiles instead."""
    start = as_of - timedelta(days=window_days)

    def quintile(order_by: str) -> str:
        if score == "ntile":
            return f"NTILE(5) OVER (ORDER BY {order_by})"
        # ceil(5 x min rank / n) in integers
        return f"(5 * RANK() OVER (ORDER BY {order_by}) + n - 1) // n"

    return f"""
        WITH per_customer AS (
            SELECT customer_id, DATE '{as_of}' - MAX(order_date) AS recency_days, COUNT(*) AS frequency,
                   CAST(SUM(net_revenue_eur) AS DECIMAL(18,4)) AS monetary_eur
            FROM read_parquet('{path}')
            WHERE is_revenue AND customer_id IS NOT NULL
              AND order_date > DATE '{start}' AND order_date <= DATE '{as_of}'
            GROUP BY customer_id
        ), counted AS (
            SELECT *, COUNT(*) OVER () AS n FROM per_customer
        ), scored AS (
            SELECT customer_id, recency_days, frequency, monetary_eur,
                   CAST({quintile("recency_days DESC")} AS INTEGER) AS r_score,
                   CAST({quintile("frequency")} AS INTEGER) AS f_score,
                   CAST({quintile("monetary_eur")} AS INTEGER) AS m_score
            FROM counted
        )
        SELECT *, {segment_case_sql()} AS rfm_segment FROM scored ORDER BY customer_id
    """




def main() -> int:
    """Run the benchmark; 0 when kohde and DuckDB agree on every customer, 1 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=3_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per engine; the fastest is reported")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders.parquet"
        write_orders(path, args.customers, args.orders, args.seed)
        con = duckdb.connect()
        threads = con.sql("SELECT current_setting('threads')").fetchall()[0]
        ours_s, ours = best_of(args.repeat, warm_up=True, function=lambda: kohde_query(path).collect(engine="streaming"))
        ours_memory_s, _ = best_of(args.repeat, warm_up=True, function=lambda: kohde_query(path).collect(engine="in-memory"))
        theirs_s, theirs_arrow = best_of(args.repeat, warm_up=True, function=lambda: con.sql(duckdb_sql(path)).to_arrow_table())
        ntile = pl.from_arrow(con.sql(duckdb_sql(path, "ntile")).to_arrow_table())
        size_mb = os.path.getsize(path) / 1e6

    theirs = pl.from_arrow(theirs_arrow)
    assert isinstance(theirs, pl.DataFrame) and isinstance(ntile, pl.DataFrame)
    theirs = theirs.with_columns(pl.col("recency_days").cast(pl.Int64), pl.col("frequency").cast(pl.Int64))
    columns = ours.columns
    mismatched = [c for c in columns if not ours[c].equals(theirs[c])] if ours.height == theirs.height else columns
    joined = ours.join(ntile, on="customer_id", suffix="_ntile")
    ntile_diff = {
        score: joined.filter(pl.col(score) != pl.col(f"{score}_ntile")).height / joined.height
        for score in ("r_score", "f_score", "m_score", "rfm_segment")
    }

    print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores, polars {pl.__version__}, "
          f"duckdb {duckdb.__version__} ({threads[0] if threads else '?'} threads), best of {args.repeat} after a warm-up")
    print(f"data: {args.orders:,} orders of {args.customers:,} customer ids ({size_mb:.0f} MB Parquet), "
          f"{ours.height:,} customers scored in the {WINDOW_DAYS}-day window")
    print()
    print("| step | kohde (polars, streaming) | kohde (polars, in-memory) | DuckDB SQL | kohde streaming / DuckDB |")
    print("|---|---|---|---|---|")
    print(f"| RFM scores + named segments | {ours_s:.3f} s | {ours_memory_s:.3f} s | {theirs_s:.3f} s "
          f"| {ours_s / theirs_s:.2f} |")
    print()
    print("NTILE(5) instead of the tie rule would change: " + ", ".join(
        f"{name} {share:.1%}" for name, share in ntile_diff.items()))
    if mismatched:
        print(f"FAIL: kohde and DuckDB differ in {', '.join(mismatched)}", file=sys.stderr)
        return 1
    print(f"kohde and DuckDB agree on all {ours.height:,} customers in every column")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
