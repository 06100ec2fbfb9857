"""End to end with a real Airflow: a three-day ``airflow backfill create`` equals ``kohde backfill``.

The test starts the scheduler, the DAG processor and the API server on loopback with a throwaway
AIRFLOW_HOME (SQLite metadata DB, LocalExecutor), backfills kohde_nightly over three demo days through
Airflow's own command, waits for the runs through the REST API and compares every warehouse table
(except ops_*) with ``run_range(..., command="backfill")`` over the same days in a second KOHDE_HOME.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline.demo import generate_demo
from pipeline.run import run_range
from pipeline.settings import Settings
from pipeline.warehouse import Warehouse
from tests.dags.airflow_cluster import airflow_cluster

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

START = date(2026, 8, 3)
DAYS = 3
END = START + timedelta(days=DAYS - 1)
EMPTY_ALLOWED: set[str] = set()


def _helsinki_02(day: date) -> str:
    """The logical date (data interval start) of the nightly run that reads ``day``: 02:00 Helsinki (UTC+3 in August)."""
    return f"{day.isoformat()}T02:00:00+03:00"


def _tables(url: str) -> dict[str, pl.DataFrame]:
    """Every warehouse table except ops_*, rows sorted."""
    with Warehouse.connect(url) as warehouse:
        names = [n for n in warehouse.table_names() if not n.startswith("ops_")]
        frames = {n: warehouse.query(f"SELECT * FROM {n}") for n in names}
    return {n: f.sort(f.columns, nulls_last=True) for n, f in frames.items()}


def test_airflow_backfill_equals_kohde_backfill(tmp_path: Path) -> None:
    began = time.monotonic()
    inbox = tmp_path / "inbox"
    generate_demo(inbox, START, DAYS, 60, 11)
    airflow_home, kohde_home = tmp_path / "airflow", tmp_path / "kohde_airflow"
    airflow_home.mkdir()
    extra = {"KOHDE_INBOX": str(inbox), "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False"}
    def phase(name: str) -> None:
        print(f"[{time.monotonic() - began:6.1f}s] {name}", flush=True)

    with airflow_cluster(airflow_home, kohde_home, extra) as cluster:
        cluster.cli("db", "migrate")
        phase("migrated")
        cluster.start("api-server")
        cluster.start("dag-processor")
        cluster.start("scheduler")
        cluster.cli("pools", "set", "kohde_warehouse", "1", "DuckDB writer: one process at a time")
        phase("pool set")
        cluster.wait_for_api(120)
        phase("api up")
        cluster.wait_for_dag("kohde_nightly", 120)
        phase("dag parsed")
        cluster.api("/api/v2/dags/kohde_nightly", method="PATCH", body={"is_paused": False})
        out = cluster.cli("backfill", "create", "--dag-id", "kohde_nightly", "--from-date", _helsinki_02(START),
                          "--to-date", _helsinki_02(END), "--max-active-runs", "1")
        phase("backfill created")
        print(out)
        runs = cluster.wait_for_runs("kohde_nightly", DAYS, 240)
        phase("runs finished")
        assert [r["state"] for r in runs] == ["success"] * DAYS, cluster.diagnostics()
        print(f"airflow part took {time.monotonic() - began:.0f}s")

    reference = Settings.from_env({"KOHDE_HOME": str(tmp_path / "kohde_cli"), "KOHDE_INBOX": str(inbox)})
    run_range(reference, START, END, command="backfill")
    airflow_settings = Settings.from_env({"KOHDE_HOME": str(kohde_home), "KOHDE_INBOX": str(inbox)})
    via_airflow, via_cli = _tables(airflow_settings.warehouse_url), _tables(reference.warehouse_url)
    assert sorted(via_airflow) == sorted(via_cli)
    print({t: f.height for t, f in via_cli.items()})
    for table in via_cli:
        assert via_cli[table].height > 0 or table in EMPTY_ALLOWED, table
        try:
            assert_frame_equal(via_airflow[table], via_cli[table], check_exact=True)
        except AssertionError as exc:
            raise AssertionError(f"{table}: {exc}") from None
    print(f"e2e took {time.monotonic() - began:.0f}s")
