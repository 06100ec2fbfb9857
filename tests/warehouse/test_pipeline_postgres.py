"""The same pipeline run loaded into DuckDB and into a real PostgreSQL gives equal tables."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline.demo import generate_demo
from pipeline.run import run_range
from pipeline.settings import Settings
from pipeline.warehouse import Warehouse
from tests.test_run import DATA_TABLES

pytestmark = pytest.mark.postgres
START = date(2026, 8, 3)
END = START + timedelta(days=3)


def _rows(url: str) -> dict[str, pl.DataFrame]:
    with Warehouse.connect(url) as warehouse:
        frames = {t: warehouse.query(f"SELECT * FROM {t}") for t in DATA_TABLES}
    return {t: f.sort(f.columns, nulls_last=True) for t, f in frames.items()}


def test_duckdb_and_postgres_hold_equal_tables(tmp_path: Path, pg_schema_url: str) -> None:
    inbox = tmp_path / "inbox"
    generate_demo(inbox, START, 4, 250, 3)
    duck = Settings.from_env({"KOHDE_HOME": str(tmp_path / "duck"), "KOHDE_INBOX": str(inbox)})
    pg = Settings.from_env({"KOHDE_HOME": str(tmp_path / "pg"), "KOHDE_INBOX": str(inbox),
                            "KOHDE_WAREHOUSE_URL": pg_schema_url})
    run_range(duck, START, END, command="backfill")
    run_range(pg, START, END, command="backfill")

    in_duckdb, in_postgres = _rows(duck.warehouse_url), _rows(pg.warehouse_url)
    for table in DATA_TABLES:
        assert in_duckdb[table].height > 0 or table == "ops_quarantine", table
        # decimals compared exactly; both engines give Decimal values for DECIMAL columns
        assert_frame_equal(in_duckdb[table], in_postgres[table], check_exact=True, check_dtypes=False)
