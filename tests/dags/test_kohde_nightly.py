"""The nightly DAG: parsed like Airflow's own example DAGs, then run for real with dag.test()."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pendulum
import pytest

from pipeline.demo import generate_demo

pytestmark = pytest.mark.airflow


def test_dags_import_without_errors_and_fast(dagbag):
    assert dagbag.import_errors == {}
    assert {"kohde_nightly", "kohde_report_refresh"} <= set(dagbag.dags)
    stats = {s.file.rsplit("/", 1)[-1]: s for s in dagbag.dagbag_stats}
    assert stats["kohde_nightly.py"].duration.total_seconds() < 1.0
    assert stats["kohde_report_refresh.py"].duration.total_seconds() < 1.0


def test_dag_parse_imports_no_heavy_libraries():
    code = (
        "import sys, os\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        "DagBag(dag_folder=os.environ['AIRFLOW__CORE__DAGS_FOLDER'])\n"
        "print(sorted(m for m in ('polars', 'great_expectations', 'duckdb', 'pandas.core.frame') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    heavy = out.stdout.strip().splitlines()[-1]
    assert "polars" not in heavy and "great_expectations" not in heavy and "duckdb" not in heavy


def test_structure_timetable_pool_retries(dagbag):
    from airflow.sdk import CronDataIntervalTimetable

    dag = dagbag.dags["kohde_nightly"]
    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert dag.catchup is False
    assert set(dag.tags) >= {"kohde", "nightly"}
    ingest, load = dag.get_task("ingest"), dag.get_task("transform_and_load")
    assert load.pool == "kohde_warehouse"
    assert ingest.downstream_task_ids == {"transform_and_load"}
    assert ingest.retries == 2 and load.retries == 2
    assert {o.uri for o in load.outlets} >= {"kohde://warehouse/mart_channel_roi"}
    assert load.max_retry_delay == pendulum.duration(minutes=30) and load.retry_exponential_backoff


def test_the_load_publishes_an_asset_for_every_gold_table(dagbag):
    from pathlib import Path

    tables = {p.stem for p in (Path(__file__).resolve().parents[2] / "warehouse" / "tables").glob("*.sql")}
    gold = {t for t in tables if not t.startswith("ops_")} - {"mart_audience_sizes"}  # kohde_audiences writes it
    published = {o.uri for o in dagbag.dags["kohde_nightly"].get_task("transform_and_load").outlets}
    assert published == {f"kohde://warehouse/{t}" for t in gold}


def test_report_dag_is_scheduled_on_assets_the_nightly_dag_publishes(dagbag):
    nightly, report = dagbag.dags["kohde_nightly"], dagbag.dags["kohde_report_refresh"]
    published = {o.uri for o in nightly.get_task("transform_and_load").outlets}
    consumed = {a.uri for a in report.timetable.asset_condition.objects}
    assert type(report.timetable).__name__ == "AssetTriggeredTimetable"
    assert consumed == {"kohde://warehouse/mart_channel_roi", "kohde://warehouse/mart_sales_costs",
                        "kohde://warehouse/mart_segment_summary", "kohde://warehouse/mart_goal_tracking"}
    assert consumed <= published
    assert report.get_task("write_report").pool == "kohde_warehouse"


def test_data_interval_is_one_day_and_maps_to_the_inbox_date(dagbag):
    from pipeline.orchestration import logical_day

    dag = dagbag.dags["kohde_nightly"]
    start = pendulum.datetime(2026, 8, 5, 2, tz="Europe/Helsinki")
    from airflow.timetables.interval import CronDataIntervalTimetable as CoreTimetable

    # the scheduler's own timetable for the DAG's declared expression and zone
    core = CoreTimetable(dag.timetable.expression, dag.timetable.timezone)
    interval = core.infer_manual_data_interval(run_after=start)
    assert interval.end - interval.start == pendulum.duration(days=1)
    assert logical_day(interval.start) == date(2026, 8, 4)


@pytest.mark.slow
def test_dag_test_runs_a_demo_date_into_the_warehouse(tmp_path, monkeypatch, dagbag):
    home = tmp_path / "kohde"
    monkeypatch.setenv("KOHDE_HOME", str(home))
    generate_demo(home / "inbox", date(2026, 8, 3), 3, 200, 7)
    from airflow.utils.state import DagRunState

    from pipeline.warehouse import Warehouse

    dag = dagbag.dags["kohde_nightly"]
    # A manual run at 2026-08-04 02:00 Helsinki covers the last complete interval, [08-03 02:00, 08-04 02:00),
    # so it reads inbox/<source>/2026-08-03/ (the demo's first day, with the CRM backlog).
    run = dag.test(logical_date=pendulum.datetime(2026, 8, 4, 2, tz="Europe/Helsinki"))
    assert run.state == DagRunState.SUCCESS
    with Warehouse.connect(f"duckdb:///{home / 'warehouse.duckdb'}") as warehouse:
        runs = warehouse.query("SELECT status, start_date FROM ops_runs WHERE command = 'airflow'")
        spend_days = warehouse.query("SELECT DISTINCT day FROM fct_ad_spend_daily ORDER BY day")
        segments = warehouse.query("SELECT DISTINCT as_of_date FROM mart_customer_segments")
    assert runs.rows() == [("succeeded", date(2026, 8, 3))]
    assert spend_days["day"].to_list() == [date(2026, 8, 3)]
    assert segments["as_of_date"].to_list() == [date(2026, 8, 3)]
