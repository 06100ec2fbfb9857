"""Airflow glue: the only module that imports Airflow. Tasks call these with partition keys.

Terminal kohde errors (bad input, failed expectations) become ``AirflowFailException`` so Airflow
does not retry them; transient ones (a locked DuckDB file, a lost connection) are re-raised so
the task's retries apply.
"""

from __future__ import annotations

import json
import re
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


def export_latest_audiences() -> dict[str, Any]:
    """Write the audience files as of the newest segment snapshot in the warehouse; small numbers for XCom."""
    from pipeline.audiences import export_audiences
    from pipeline.errors import KohdeError
    from pipeline.settings import Settings
    from pipeline.warehouse import Warehouse

    def export() -> dict[str, Any]:
        settings = Settings.from_env()
        with Warehouse.connect(settings.warehouse_url) as warehouse:
            warehouse.upgrade()
            newest = warehouse.query("SELECT MAX(as_of_date) AS as_of FROM mart_customer_segments")["as_of"].item()
        if newest is None:
            raise KohdeError("no segment snapshot in the warehouse yet: run the nightly DAG first")
        sizes = export_audiences(settings, newest).sizes
        return {"as_of_date": newest.isoformat(),
                "members": {row["file_name"]: row["members"] for row in sizes.iter_rows(named=True)}}

    return _guard(export)


def refresh_report(triggered_dates: list[date]) -> str:
    """Write the run summary (pipeline.report) for the newest snapshot date the warehouse holds.

    The asset-triggered report DAG calls this after kohde_nightly updated the marts. It does not report
    only the dates its triggering asset events carry: several nightly runs collapse into one downstream
    run, and Airflow 3 hands that run only the events up to the first queued one (later events of the
    same burst are not in ``triggering_asset_events``). The warehouse itself says how far it is loaded.
    Returns the path written.
    """
    import logging

    from pipeline.report import summary
    from pipeline.settings import Settings
    from pipeline.warehouse import Warehouse

    settings = Settings.from_env()
    if triggered_dates:
        logging.getLogger(__name__).info("triggered by mart updates for %s", ", ".join(map(str, triggered_dates)))

    def write() -> str:
        with Warehouse.connect(settings.warehouse_url) as warehouse:
            day = warehouse.query("SELECT MAX(as_of_date) AS d FROM mart_segment_summary")["d"][0]
            if day is None:
                from pipeline.errors import KohdeError

                raise KohdeError("the warehouse holds no mart snapshot yet; run kohde_nightly first")
            text = summary(warehouse, day)
        path = settings.home / "reports" / f"{day.isoformat()}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text + "\n", encoding="utf-8")
        tmp.replace(path)
        return str(path)

    return _guard(write)


ALERT_WEBHOOK_ENV = "KOHDE_ALERT_WEBHOOK_URL"
_CREDENTIALS_IN_URL = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+@", re.IGNORECASE)


def one_line(error: object, limit: int = 300) -> str:
    """The first line of an error, with any password in a URL replaced, cut to ``limit`` characters."""
    text = str(error).strip()
    line = text.splitlines()[0] if text else (type(error).__name__ if isinstance(error, BaseException) else "task failed")
    line = _CREDENTIALS_IN_URL.sub(r"\1***@", line)
    return line if len(line) <= limit else line[: limit - 3] + "..."


def failure_payload(context: dict[str, Any]) -> dict[str, Any]:
    """What a failure alert says: which DAG, run, task and date, and the one-line error. No secrets, no URLs."""
    ti = context.get("task_instance") or context.get("ti")
    interval_start = context.get("data_interval_start")
    logical_date = context.get("logical_date")
    exception = context.get("exception")
    return {
        "dag_id": getattr(ti, "dag_id", None),
        "run_id": context.get("run_id") or getattr(ti, "run_id", None),
        "task_id": getattr(ti, "task_id", None),
        "map_index": getattr(ti, "map_index", None),
        "try_number": getattr(ti, "try_number", None),
        "logical_date": logical_date.isoformat() if logical_date else None,
        "inbox_date": logical_day(interval_start).isoformat() if interval_start else None,
        "error": one_line(exception) if exception else "task failed",
    }


def notify_webhook(url: str, payload: dict[str, Any], timeout: float = 10.0) -> None:
    """POST the payload as JSON; raise OSError when the endpoint cannot be reached or refuses it."""
    import json
    import urllib.request

    request = urllib.request.Request(url, data=json.dumps(payload).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "kohde-alert"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - operator-configured URL
        if response.status >= 300:
            raise OSError(f"webhook answered HTTP {response.status}")


def record_failure(context: dict[str, Any]) -> None:
    """on_failure_callback: write the failure into ops_runs and POST it to the alert webhook if one is set.

    Never raises: a callback must not mask the task's own failure. The webhook URL (which often embeds a
    token) is never logged.
    """
    import logging
    import os

    log = logging.getLogger(__name__)
    payload = failure_payload(context)
    try:
        _record_failure_row(payload, context.get("data_interval_start"))
    except Exception as exc:  # noqa: BLE001
        log.warning("could not record the failure in ops_runs: %s", one_line(exc))
    url = os.environ.get(ALERT_WEBHOOK_ENV, "").strip()
    if url:
        try:
            notify_webhook(url, payload)
        except Exception as exc:  # noqa: BLE001
            log.warning("could not notify the alert webhook (%s): %s", ALERT_WEBHOOK_ENV, type(exc).__name__)


def _record_failure_row(payload: dict[str, Any], interval_start: datetime | None) -> None:
    from datetime import UTC

    import polars as pl

    from pipeline.settings import Settings
    from pipeline.warehouse import TableLoad, Warehouse

    day = logical_day(interval_start) if interval_start else None
    task = payload["task_id"] or "task"
    if payload["map_index"] is not None and payload["map_index"] >= 0:
        task = f"{task}[{payload['map_index']}]"
    run_id = f"airflow_failed_{payload['dag_id'] or 'kohde'}_{task}_{day}"
    now = datetime.now(UTC)
    row = pl.DataFrame({
        "run_id": [run_id], "command": ["airflow"], "start_date": [day], "end_date": [day],
        "started_at": [now], "ended_at": [now], "status": ["failed"], "error": [payload["error"]],
        "steps_json": [json.dumps({"airflow": payload}, sort_keys=True)],
    }, schema_overrides={"started_at": pl.Datetime("us", "UTC"), "ended_at": pl.Datetime("us", "UTC"),
                         "start_date": pl.Date, "end_date": pl.Date})
    with Warehouse.connect(Settings.from_env().warehouse_url) as warehouse:
        warehouse.upgrade()
        warehouse.load([TableLoad("ops_runs", row, {"run_id": [run_id]})])
