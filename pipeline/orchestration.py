"""Airflow glue: the only module that imports Airflow. Tasks call these with partition keys.

Terminal kohde errors (bad input, failed expectations) become ``AirflowFailException`` so Airflow
does not retry them; transient ones (a locked DuckDB file, a lost connection) are re-raised so
the task's retries apply.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

T = TypeVar("T")

LOCAL_TZ = "Europe/Helsinki"


def logical_day(data_interval_start: datetime) -> date:
    """The inbox date a run reads: the data interval's start, as a Helsinki calendar day."""
    import pendulum

    return pendulum.instance(data_interval_start).in_timezone(LOCAL_TZ).date()


def preload() -> None:
    """Import the heavy libraries (polars, Great Expectations, the pipeline) in a long-lived parent process.

    Airflow forks each task from its executor's worker; with these already imported the task starts in
    a second instead of paying the imports (tens of seconds on a busy machine) on every try. Call it from
    ``airflow_local_settings.py`` of a worker (Celery) or of the scheduler (LocalExecutor), never in DAG
    files, which must stay light to parse.
    """
    import great_expectations  # noqa: F401

    import pipeline.run  # noqa: F401
    import pipeline.validate  # noqa: F401


def _guard(call: Callable[[], T]) -> T:
    from airflow.sdk.exceptions import AirflowFailException

    from pipeline.errors import KohdeError

    try:
        return call()
    except KohdeError as exc:
        if exc.transient:
            raise
        raise AirflowFailException(str(exc)) from None


def ingest_source(source: str, data_interval_start: datetime) -> dict[str, Any]:
    """Ingest one source folder for the run's date; returns small accounting numbers for XCom."""
    from pipeline.run import ingest_range
    from pipeline.settings import Settings

    day = logical_day(data_interval_start)
    results = _guard(lambda: ingest_range(Settings.from_env(), day, day, only_sources=[source]))
    return {
        "source": source,
        "files": len(results),
        "rows_read": sum(r.rows_read for r in results if not r.skipped),
        "rows_quarantined": sum(r.rows_quarantined for r in results if not r.skipped),
    }


def transform_and_load(data_interval_start: datetime, run_id: str) -> dict[str, int]:
    """Build gold for the run's date and load it in one transaction; record the run in ops_runs."""
    from pipeline.run import run_range
    from pipeline.settings import Settings

    day = logical_day(data_interval_start)
    # Ingest was done per source upstream; its manifest makes this second pass a no-op per file.
    report = _guard(lambda: run_range(Settings.from_env(), day, day, command="airflow"))
    return report.rows_loaded_per_table


def record_failure(context: dict[str, Any]) -> None:
    """on_failure_callback: write the failure into ops_runs (never raises)."""
    try:
        from datetime import UTC

        import polars as pl

        from pipeline.settings import Settings
        from pipeline.warehouse import TableLoad, Warehouse

        ti = context.get("task_instance")
        exception = context.get("exception")
        interval_start = context.get("data_interval_start")
        day = logical_day(interval_start) if interval_start else None
        run_id = f"airflow_failed_{getattr(ti, 'dag_id', 'kohde')}_{getattr(ti, 'task_id', 'task')}_{day}"
        row = pl.DataFrame({
            "run_id": [run_id], "command": ["airflow"], "start_date": [day], "end_date": [day],
            "started_at": [datetime.now(UTC)], "ended_at": [datetime.now(UTC)], "status": ["failed"],
            "error": [str(exception).splitlines()[0] if exception else "task failed"],
        }, schema_overrides={"started_at": pl.Datetime("us", "UTC"), "ended_at": pl.Datetime("us", "UTC")})
        with Warehouse.connect(Settings.from_env().warehouse_url) as warehouse:
            warehouse.upgrade()
            warehouse.load([TableLoad("ops_runs", row, {"run_id": [run_id]})])
    except Exception:  # noqa: BLE001 - a callback must not mask the task's own failure
        pass
