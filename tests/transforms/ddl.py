"""One check for every transform: its output matches its table definition in warehouse/tables."""

from __future__ import annotations

import duckdb
import polars as pl

from pipeline.warehouse.schema import tables

SQL_TYPES: dict[pl.DataType, str] = {
    pl.Utf8(): "TEXT",
    pl.Date(): "DATE",
    pl.Datetime("us", "UTC"): "TIMESTAMPTZ",
    pl.Int64(): "BIGINT",
    pl.Int32(): "INTEGER",
    pl.Float64(): "DOUBLE PRECISION",
    pl.Decimal(18, 4): "DECIMAL(18,4)",
    pl.Decimal(18, 8): "DECIMAL(18,8)",
    pl.Boolean(): "BOOLEAN",
}


def assert_matches_ddl(frame: pl.DataFrame, table: str) -> None:
    """Columns (names, order, types) equal the table's, and the frame loads into DuckDB under its key."""
    definition = tables()[table]
    assert definition.grain.startswith("One row per ")
    assert definition.column_names == frame.columns
    assert [c.sql_type for c in definition.columns] == [SQL_TYPES[dtype] for dtype in frame.dtypes]
    con = duckdb.connect()
    con.execute(definition.ddl)
    con.register("frame", frame.to_arrow())
    con.execute(f"INSERT INTO {table} SELECT * FROM frame")
    assert con.execute(f"SELECT count(*) FROM {table}").fetchone() == (frame.height,)
