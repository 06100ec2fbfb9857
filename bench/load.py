"""Warehouse load speed: kohde's Warehouse.load against the engine's own native bulk path, same rows, same run.

    uv run python bench/load.py [--rows 10000000] [--pg postgresql+psycopg://user@127.0.0.1:5432/db]

DuckDB: native = ``INSERT INTO t SELECT * FROM arrow_table`` on a raw duckdb connection.
PostgreSQL (when --pg or KOHDE_BENCH_PG_URL is given): native = psycopg 3 ``COPY t FROM STDIN`` of the
same rows as CSV into an empty twin table (same columns and key). Rows are fct_touchpoints-shaped.
Prints one Markdown row per engine; fails if a loaded row count differs.
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.csv as pacsv

from pipeline.warehouse import TableLoad, Warehouse
from pipeline.warehouse.schema import tables

CHANNELS = ["paid_search", "paid_social", "linkedin", "display_retargeting", "email", "webinar", "organic_search"]


def touchpoints(rows: int, seed: int = 0) -> pl.DataFrame:
    """fct_touchpoints-shaped rows in the table's column order."""
    rng = np.random.default_rng(seed)
    start = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp() * 1_000_000)
    ts = start + rng.integers(0, 3 * 365 * 86_400_000_000, rows)
    frame = pl.DataFrame({
        "touchpoint_id": pl.int_range(rows, eager=True).cast(pl.Utf8).str.pad_start(12, "0"),
        "customer_id": pl.Series(rng.integers(0, 1_000_000, rows)).cast(pl.Utf8).str.pad_start(16, "0"),
        "ts": pl.Series(ts).cast(pl.Datetime("us", "UTC")),
        "channel": pl.Series(np.array(CHANNELS)[rng.integers(0, len(CHANNELS), rows)]),
        "platform": "google_ads",
        "campaign_id": pl.Series(rng.integers(0, 200, rows)).cast(pl.Utf8),
        "touch_type": "click",
    }).with_columns(pl.col("ts").dt.date().alias("touch_date"))
    return frame.select(tables()["fct_touchpoints"].column_names)


def timed(action) -> float:
    """Seconds one call of ``action`` takes."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def bench_duckdb(frame: pl.DataFrame) -> tuple[float, float]:
    """(kohde seconds, native seconds) for loading the frame into a fresh DuckDB file."""
    import duckdb

    with tempfile.TemporaryDirectory() as folder:
        url = f"duckdb:///{Path(folder) / 'bench.duckdb'}"
        with Warehouse.connect(url) as warehouse:
            warehouse.upgrade()
            kohde = timed(lambda: warehouse.load([TableLoad("fct_touchpoints", frame, "all")]))
            count = warehouse.query("SELECT COUNT(*) AS n FROM fct_touchpoints")["n"][0]
        assert count == frame.height, count
        con = duckdb.connect(str(Path(folder) / "native.duckdb"))
        con.register("arrow_table", frame.to_arrow())
        con.execute("CREATE TABLE fct_touchpoints AS SELECT * FROM arrow_table LIMIT 0")
        native = timed(lambda: con.execute("INSERT INTO fct_touchpoints SELECT * FROM arrow_table"))
        assert con.execute("SELECT COUNT(*) FROM fct_touchpoints").fetchone() == (frame.height,)
        con.close()
    return kohde, native


def bench_postgres(frame: pl.DataFrame, url: str) -> tuple[float, float]:
    """(kohde seconds, native COPY seconds) for loading the frame into PostgreSQL at ``url``."""
    import psycopg

    with Warehouse.connect(url) as warehouse:
        warehouse.upgrade()
        kohde = timed(lambda: warehouse.load([TableLoad("fct_touchpoints", frame, "all")]))
        count = warehouse.query("SELECT COUNT(*) AS n FROM fct_touchpoints")["n"][0]
    assert count == frame.height, count
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    columns = ", ".join(frame.columns)

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS native_touchpoints")
        conn.execute("CREATE TABLE native_touchpoints (LIKE fct_touchpoints INCLUDING ALL)")

    def native_copy() -> None:
        buffer = io.BytesIO()
        pacsv.write_csv(frame.to_arrow(), buffer, pacsv.WriteOptions(include_header=False))
        with psycopg.connect(dsn) as conn, conn.cursor() as cursor:
            with cursor.copy(f"COPY native_touchpoints ({columns}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(buffer.getvalue())

    native = timed(native_copy)
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert conn.execute("SELECT COUNT(*) FROM native_touchpoints").fetchone() == (frame.height,)
        conn.execute("DROP TABLE native_touchpoints")
    return kohde, native


def main() -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--pg", default=os.environ.get("KOHDE_BENCH_PG_URL"))
    args = parser.parse_args()
    frame = touchpoints(args.rows)
    print("| engine | rows | kohde Warehouse.load | native bulk path | kohde / native | rows/s (kohde) |")
    print("|---|---|---|---|---|---|")
    results = [("DuckDB", *bench_duckdb(frame))]
    if args.pg:
        results.append(("PostgreSQL", *bench_postgres(frame, args.pg)))
    for engine, kohde, native in results:
        print(f"| {engine} | {frame.height:,} | {kohde:.2f} s | {native:.2f} s | {kohde / native:.2f} | "
              f"{frame.height / kohde:,.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
