"""kohde_report_refresh: rewrite the run summary whenever the nightly DAG has reloaded the marts it reads.

Data-aware: scheduled on the Assets kohde_nightly publishes, so it runs after a nightly run or a backfill
updated them. Several updates before it starts collapse into one run, which reports the newest snapshot
date in the warehouse (see pipeline.orchestration.refresh_report). Output: $KOHDE_HOME/reports/<date>.txt.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

from pipeline.dag_defaults import DEFAULT_ARGS, WAREHOUSE_POOL

REPORT_INPUTS = [Asset(f"kohde://warehouse/{name}") for name in (
    "mart_channel_roi", "mart_sales_costs", "mart_segment_summary", "mart_goal_tracking",
)]


@dag(
    dag_id="kohde_report_refresh",
    schedule=REPORT_INPUTS,
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/Helsinki"),
    catchup=False,
    max_active_runs=1,
    tags=["kohde", "report"],
    default_args=DEFAULT_ARGS,
)
def kohde_report_refresh():
    @task(pool=WAREHOUSE_POOL)
    def write_report(triggering_asset_events=None) -> str:
        from datetime import date

        from pipeline.orchestration import refresh_report

        days = {
            date.fromisoformat(event.extra["as_of_date"])
            for events in (triggering_asset_events or {}).values() for event in events
            if (event.extra or {}).get("as_of_date")
        }
        return refresh_report(sorted(days))

    write_report()


kohde_report_refresh()
