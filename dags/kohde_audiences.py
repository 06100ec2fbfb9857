"""kohde_audiences: after each nightly load of the segments, write the retargeting audience files.

Data-aware: runs when kohde_nightly updates the mart_customer_segments asset, and exports the
audiences as of the newest segment snapshot (consent and objections as known at that moment).
Business logic lives in pipeline/audiences.py; this file only says when, with what retries and pool.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, dag, task

WAREHOUSE_POOL = "kohde_warehouse"  # writes mart_audience_sizes: one DuckDB writer at a time
SEGMENTS = Asset("kohde://warehouse/mart_customer_segments")
AUDIENCE_SIZES = Asset("kohde://warehouse/mart_audience_sizes")


def _on_failure(context):
    from pipeline.orchestration import record_failure

    record_failure(context)


@dag(
    dag_id="kohde_audiences",
    schedule=[SEGMENTS],
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/Helsinki"),
    catchup=False,
    max_active_runs=1,
    tags=["kohde", "audiences"],
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
        "on_failure_callback": _on_failure,
    },
)
def kohde_audiences():
    @task(pool=WAREHOUSE_POOL, outlets=[AUDIENCE_SIZES])
    def export() -> dict:
        from pipeline.orchestration import export_latest_audiences

        return export_latest_audiences()

    export()


kohde_audiences()
