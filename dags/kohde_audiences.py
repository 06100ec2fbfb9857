"""kohde_audiences: after each nightly load of the segments, write the retargeting audience files.

Data-aware: runs when kohde_nightly updates the mart_customer_segments asset, and exports the
audiences as of the newest segment snapshot (consent and objections as known at that moment).
Business logic lives in pipeline/audiences.py; this file only says when, with what retries and pool.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

from pipeline.dag_defaults import DEFAULT_ARGS, WAREHOUSE_POOL

SEGMENTS = Asset("kohde://warehouse/mart_customer_segments")
AUDIENCE_SIZES = Asset("kohde://warehouse/mart_audience_sizes")


@dag(
    dag_id="kohde_audiences",
    schedule=[SEGMENTS],
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/Helsinki"),
    catchup=False,
    max_active_runs=1,
    tags=["kohde", "audiences"],
    default_args=DEFAULT_ARGS,
)
def kohde_audiences():
    @task(pool=WAREHOUSE_POOL, outlets=[AUDIENCE_SIZES])
    def export() -> dict:
        from pipeline.orchestration import export_latest_audiences

        return export_latest_audiences()

    export()


kohde_audiences()
