"""End to end with a real Airflow: a three-day ``airflow backfill create`` equals ``kohde backfill``.

The test starts the scheduler (without its log server: task logs are local files), the DAG processor
and the API server on loopback (127.0.0.1, a free port) with a throwaway
AIRFLOW_HOME (SQLite metadata DB, LocalExecutor), backfills kohde_nightly over three demo days through
Airflow's own command, waits for the runs through the REST API and compares every warehouse table
(except ops_*) with ``run_range(..., command="backfill")`` over the same days in a second KOHDE_HOME.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline.demo import generate_demo
from pipeline.orchestration import logical_day
from pipeline.run import run_range
from pipeline.settings import Settings
from pipeline.warehouse import Warehouse
from tests.dags.airflow_cluster import airflow_cluster

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

START = date(2026, 8, 3)
DAYS = 3
END = START + timedelta(days=DAYS - 1)
EMPTY_ALLOWED = {"mart_audience_sizes"}  # loaded by kohde audiences, not by the nightly runs
REPORT_MARTS = ("mart_channel_roi", "mart_sales_costs", "mart_segment_summary", "mart_goal_tracking")


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
    reference_settings = Settings.from_env({"KOHDE_HOME": str(tmp_path / "kohde_cli"), "KOHDE_INBOX": str(inbox)})
    extra = {"KOHDE_INBOX": str(inbox), "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False"}
    def phase(name: str) -> None:
        print(f"[{time.monotonic() - began:6.1f}s] {name}", flush=True)

    with airflow_cluster(airflow_home, kohde_home, extra) as cluster:
        cluster.cli("db", "migrate")
        phase("migrated")
        cluster.start("api-server")
        cluster.start("dag-processor")
        cluster.start("scheduler", "--skip-serve-logs")
        cluster.cli("pools", "set", "kohde_warehouse", "1", "DuckDB writer: one process at a time")
        phase("pool set")
        cluster.wait_for_api(120)
        phase("api up")
        cluster.wait_for_dags({"kohde_nightly", "kohde_report_refresh"}, 120)
        phase("dags parsed")
        cluster.set_paused("kohde_nightly", False)
        cluster.set_paused("kohde_report_refresh", False)  # asset events queue runs only for unpaused consumers
        out = cluster.create_backfill("kohde_nightly", _helsinki_02(START), _helsinki_02(END))
        phase("backfill created")
        print(out)
        runs = cluster.wait_for_runs("kohde_nightly", DAYS, 240)
        phase("nightly runs finished")
        assert [r["state"] for r in runs] == ["success"] * DAYS, cluster.diagnostics()
        assert [r["run_type"] for r in runs] == ["backfill"] * DAYS
        # data intervals start at 02:00 Helsinki (23:00 UTC the day before): the runs read the three demo days
        days = [logical_day(datetime.fromisoformat(r["data_interval_start"].replace("Z", "+00:00"))) for r in runs]
        assert days == [START + timedelta(days=i) for i in range(DAYS)]

        # The kohde backfill to compare with runs meanwhile (own KOHDE_HOME, same inbox).
        reference = ThreadPoolExecutor(1).submit(run_range, reference_settings, START, END, command="backfill")

        # Phase 2, data-aware scheduling: the nightly runs updated the mart Assets, which queued a run of
        # kohde_report_refresh. Let the scheduler create scheduled/asset-triggered runs now, with the
        # nightly DAG paused so that it does not also get a run for the latest real-world interval.
        cluster.set_paused("kohde_nightly", True)
        cluster.stop("scheduler")
        cluster.start("scheduler", "--skip-serve-logs", env={"AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "True"})
        report_runs = cluster.wait_for_runs("kohde_report_refresh", 1, 180)
        phase("report run finished")
        assert [(r["state"], r["run_type"]) for r in report_runs] == [("success", "asset_triggered")], cluster.diagnostics()
        events = cluster.api(f"/api/v2/dags/kohde_report_refresh/dagRuns/{report_runs[0]['dag_run_id']}/upstreamAssetEvents")
        # The three nightly runs collapsed into one downstream run. Airflow hands it the events up to the
        # first queued one (the first day's update of each of the four marts it consumes), not all three
        # days: that is why the report task asks the warehouse how far it is loaded.
        assert {e["extra"]["as_of_date"] for e in events["asset_events"]} == {str(START)}
        assert {e["uri"] for e in events["asset_events"]} == {f"kohde://warehouse/{m}" for m in REPORT_MARTS}
        reference.result()
    print(f"airflow part took {time.monotonic() - began:.0f}s")

    report = (kohde_home / "reports" / f"{END.isoformat()}.txt").read_text(encoding="utf-8")
    assert f"RFM segments as of {END}" in report and f"Goals as of {END}" in report

    airflow_settings = Settings.from_env({"KOHDE_HOME": str(kohde_home), "KOHDE_INBOX": str(inbox)})
    via_airflow, via_cli = _tables(airflow_settings.warehouse_url), _tables(reference_settings.warehouse_url)
    assert sorted(via_airflow) == sorted(via_cli)
    print({t: f.height for t, f in via_cli.items()})
    for table in via_cli:
        assert via_cli[table].height > 0 or table in EMPTY_ALLOWED, table
        try:
            assert_frame_equal(via_airflow[table], via_cli[table], check_exact=True)
        except AssertionError as exc:
            raise AssertionError(f"{table}: {exc}") from None
    print(f"e2e took {time.monotonic() - began:.0f}s")
