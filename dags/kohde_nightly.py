"""kohde_nightly: every night at 02:00 Helsinki, ingest each source, then transform and load.

The data interval is explicit (CronDataIntervalTimetable): the run for interval
[D 02:00, D+1 02:00) reads inbox/<source>/D/. Business logic lives in pipeline/; this file only
says when, in what order, with what retries and pools.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, CronDataIntervalTimetable, dag, task

from pipeline.dag_defaults import DEFAULT_ARGS, WAREHOUSE_POOL
from pipeline.source_folders import SOURCES

# Every gold table the load replaces (mart_audience_sizes is kohde_audiences' own): a downstream DAG
# can wait on exactly the tables it reads.
MARTS = [Asset(f"kohde://warehouse/{name}") for name in (
    "fct_orders", "fct_ad_spend_daily", "fct_touchpoints", "fct_attribution", "dim_customer", "dim_campaign",
    "mart_channel_roi", "mart_sales_costs", "mart_budget_vs_actual", "mart_campaign_lift", "mart_retargeting",
    "mart_customer_segments", "mart_segment_summary", "mart_goal_tracking", "mart_clv", "mart_clv_model",
    "mart_ltv_cac", "mart_intent_conversion", "mart_segment_migration", "mart_segment_quality",
    "mart_channel_reallocation", "mart_segment_economics",
)]


@dag(
    dag_id="kohde_nightly",
    schedule=CronDataIntervalTimetable("0 2 * * *", timezone="Europe/Helsinki"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/Helsinki"),
    catchup=False,
    max_active_runs=1,
    tags=["kohde", "nightly"],
    default_args=DEFAULT_ARGS,
)
def kohde_nightly():
    @task(max_active_tis_per_dagrun=2)
    def ingest(source: str, data_interval_start=None) -> dict:
        from pipeline.orchestration import ingest_source

        return ingest_source(source, data_interval_start)

    @task(pool=WAREHOUSE_POOL, outlets=MARTS)
    def transform_and_load(ingested: list, data_interval_start=None, run_id=None, outlet_events=None) -> dict:
        from pipeline.orchestration import logical_day
        from pipeline.orchestration import transform_and_load as run

        rows = run(data_interval_start, run_id)
        # downstream DAGs learn which day the marts now hold (several runs may collapse into one trigger)
        for mart in MARTS:
            outlet_events[mart].extra = {"as_of_date": logical_day(data_interval_start).isoformat()}
        return rows

    transform_and_load(ingest.expand(source=list(SOURCES)))


kohde_nightly()
