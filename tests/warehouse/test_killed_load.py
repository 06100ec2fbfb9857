"""A load killed with SIGKILL between its DELETE and its COMMIT leaves the previous data, and a retry completes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from pipeline.warehouse import TableLoad, Warehouse

# The child runs kohde's own Warehouse.load, paused right after the partition's DELETE has run.
CHILD = textwrap.dedent(
    """
    import sys, time
    from datetime import date
    from decimal import Decimal
    import polars as pl
    from pipeline.warehouse import TableLoad, Warehouse
    from pipeline.warehouse import engine

    original = engine.Warehouse._insert

    def paused_insert(self, *args, **kwargs):
        print("deleted", flush=True)
        time.sleep(120)
        return original(self, *args, **kwargs)

    engine.Warehouse._insert = paused_insert
    frame = pl.DataFrame({"month": [date(2026, 6, 1)], "fixed_eur": [Decimal("99999.0000")]},
                         schema={"month": pl.Date, "fixed_eur": pl.Decimal(18, 4)})
    with Warehouse.connect(sys.argv[1]) as warehouse:
        warehouse.load([TableLoad("mart_sales_costs", frame, "all")])
    """
)


def _june(url: str) -> list[tuple]:
    with Warehouse.connect(url) as warehouse:
        return warehouse.query("SELECT month, fixed_eur FROM mart_sales_costs ORDER BY month").rows()


def _seed(url: str) -> None:
    frame = pl.DataFrame({"month": [date(2026, 6, 1)], "fixed_eur": [Decimal("30000.0000")]},
                         schema={"month": pl.Date, "fixed_eur": pl.Decimal(18, 4)})
    with Warehouse.connect(url) as warehouse:
        warehouse.upgrade()
        warehouse.load([TableLoad("mart_sales_costs", frame, "all")])


def _kill_mid_load(url: str) -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD, url], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "deleted"
    finally:
        child.kill()  # SIGKILL: no cleanup, no rollback by the client
        child.wait(timeout=30)


@pytest.mark.parametrize("engine_name", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_killed_load_leaves_previous_data_and_retry_completes(engine_name, request, tmp_path):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}" if engine_name == "duckdb" else request.getfixturevalue("pg_schema_url")
    _seed(url)
    _kill_mid_load(url)
    assert _june(url) == [(date(2026, 6, 1), Decimal("30000.0000"))]
    frame = pl.DataFrame({"month": [date(2026, 6, 1)], "fixed_eur": [Decimal("99999.0000")]},
                         schema={"month": pl.Date, "fixed_eur": pl.Decimal(18, 4)})
    with Warehouse.connect(url) as warehouse:
        warehouse.load([TableLoad("mart_sales_costs", frame, "all")])
    assert _june(url) == [(date(2026, 6, 1), Decimal("99999.0000"))]
