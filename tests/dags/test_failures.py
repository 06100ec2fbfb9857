"""Failures in Airflow: bad data fails without retry, leaves the warehouse untouched, alerts a real webhook.

The webhook is a real HTTP server on loopback (http.server in a thread); the DAG runs with dag.test().
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pendulum
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline.demo import generate_demo
from pipeline.errors import InputFileError, ValidationFailed, WarehouseBusy
from pipeline.warehouse import Warehouse

pytestmark = pytest.mark.airflow

DAY1, DAY2 = date(2026, 8, 3), date(2026, 8, 4)


class Webhook:
    """A loopback HTTP endpoint that records JSON POST bodies and answers with a chosen status."""

    def __init__(self, status: int = 204) -> None:
        self.received: list[dict] = []
        self.status = status
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.received.append({"content_type": self.headers["Content-Type"], "path": self.path,
                                      "json": json.loads(body)})
                self.send_response(hook.status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/kohde?token=s3cret"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Webhook:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    with Webhook() as hook:
        yield hook


def _tables(home: Path) -> dict[str, pl.DataFrame]:
    with Warehouse.connect(f"duckdb:///{home / 'warehouse.duckdb'}") as warehouse:
        names = [n for n in warehouse.table_names() if not n.startswith("ops_")]
        frames = {n: warehouse.query(f"SELECT * FROM {n}") for n in names}
    return {n: f.sort(f.columns, nulls_last=True) for n, f in frames.items()}


def _nightly_for(day: date) -> pendulum.DateTime:
    """dag.test's logical date for the run that reads ``day``: a manual run covers the interval ending then."""
    return pendulum.datetime(day.year, day.month, day.day, 2, tz="Europe/Helsinki").add(days=1)


def test_guard_fails_bad_data_without_retry_and_lets_transient_faults_retry():
    from airflow.sdk.exceptions import AirflowFailException

    from pipeline.orchestration import _guard

    for error in (InputFileError("empty file (0 bytes)", file="x.csv"), ValidationFailed("orders: id not unique")):
        with pytest.raises(AirflowFailException, match=re.escape(str(error))):
            _guard(lambda error=error: (_ for _ in ()).throw(error))
    with pytest.raises(WarehouseBusy):  # re-raised as is: the task's retries (exponential backoff) apply
        _guard(lambda: (_ for _ in ()).throw(WarehouseBusy("warehouse file is locked")))
    with pytest.raises(ZeroDivisionError):  # an unexpected error is not declared terminal either
        _guard(lambda: 1 / 0)


def test_a_locked_duckdb_file_is_a_transient_error(tmp_path):
    """Another process holding the DuckDB file makes the load raise WarehouseBusy, which Airflow retries."""
    import subprocess
    import sys

    path = tmp_path / "warehouse.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb, sys, time; c = duckdb.connect({str(path)!r}); "
                               "print('ready', flush=True); sys.stdin.read()"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(WarehouseBusy, match="locked"):
            with Warehouse.connect(f"duckdb:///{path}") as warehouse:
                warehouse.upgrade()
    finally:
        holder.stdin.close()
        holder.wait(30)


def test_one_line_error_hides_passwords_and_is_short():
    from pipeline.orchestration import one_line

    error = RuntimeError("cannot connect to postgresql+psycopg://kohde:hunter2@db:5432/kohde: refused\nTraceback ...")
    assert one_line(error) == "cannot connect to postgresql+psycopg://kohde:***@db:5432/kohde: refused"
    assert len(one_line("x" * 1000)) == 300


def test_webhook_that_refuses_raises(webhook):
    from pipeline.orchestration import notify_webhook

    webhook.status = 500
    with pytest.raises(OSError):
        notify_webhook(webhook.url, {"dag_id": "kohde_nightly"})
    assert webhook.received[0]["json"] == {"dag_id": "kohde_nightly"}


@pytest.mark.slow
def test_bad_file_fails_one_source_leaves_the_date_unloaded_alerts_and_a_rerun_after_the_fix_succeeds(
        tmp_path, monkeypatch, dagbag, webhook):
    from airflow.utils.state import DagRunState, TaskInstanceState

    from pipeline.run import run_range
    from pipeline.settings import Settings

    home = tmp_path / "kohde"
    inbox = tmp_path / "inbox"
    generate_demo(inbox, DAY1, 2, 60, 5)
    monkeypatch.setenv("KOHDE_HOME", str(home))
    monkeypatch.setenv("KOHDE_INBOX", str(inbox))
    monkeypatch.setenv("KOHDE_ALERT_WEBHOOK_URL", webhook.url)
    dag = dagbag.dags["kohde_nightly"]

    assert dag.test(logical_date=_nightly_for(DAY1)).state == DagRunState.SUCCESS
    after_day1 = _tables(home)

    # A truncated-to-nothing export for one source on DAY2: that source's ingest fails, nothing is loaded.
    bad = next((inbox / "meta_ads" / DAY2.isoformat()).glob("*.csv"))
    good_bytes = bad.read_bytes()
    bad.write_bytes(b"")
    reason = f"inbox/meta_ads/2026-08-04/{bad.name}: empty file (0 bytes); an export with no data still has a header"
    run = dag.test(logical_date=_nightly_for(DAY2))
    assert run.state == DagRunState.FAILED
    tis = {(ti.task_id, ti.map_index): ti for ti in run.get_task_instances()}
    meta = tis[("ingest", 1)]
    assert meta.state == TaskInstanceState.FAILED and meta.try_number == 1  # bad data: no retry
    assert tis[("ingest", 0)].state == TaskInstanceState.SUCCESS  # google_ads went into the lake
    assert tis[("transform_and_load", -1)].state == TaskInstanceState.UPSTREAM_FAILED
    after_failure = _tables(home)
    assert sorted(after_failure) == sorted(after_day1)
    for table, frame in after_day1.items():  # no half-updated marts: DAY2 left the warehouse as it was
        assert_frame_equal(after_failure[table], frame, check_exact=True)

    # the failure callback: a row in ops_runs and one JSON POST without secrets
    with Warehouse.connect(f"duckdb:///{home / 'warehouse.duckdb'}") as warehouse:
        failed = warehouse.query("SELECT run_id, command, start_date, status, error FROM ops_runs WHERE status = 'failed'")
    assert failed.rows() == [("airflow_failed_kohde_nightly_ingest[1]_2026-08-04", "airflow", DAY2, "failed", reason)]
    assert len(webhook.received) == 1
    alert = webhook.received[0]
    assert alert["content_type"] == "application/json" and alert["path"] == "/hooks/kohde?token=s3cret"
    payload = alert["json"]
    assert payload["dag_id"] == "kohde_nightly" and payload["task_id"] == "ingest" and payload["map_index"] == 1
    assert payload["inbox_date"] == "2026-08-04" and payload["run_id"] == run.run_id
    assert payload["error"] == reason
    assert "s3cret" not in json.dumps(payload) and str(home) not in json.dumps(payload)

    # Fix the file and run DAY2 again: it succeeds and equals a kohde backfill of both days.
    bad.write_bytes(good_bytes)
    assert dag.test(logical_date=_nightly_for(DAY2)).state == DagRunState.SUCCESS
    reference = Settings.from_env({"KOHDE_HOME": str(tmp_path / "reference"), "KOHDE_INBOX": str(inbox)})
    run_range(reference, DAY1, DAY2, command="backfill")
    fixed, expected = _tables(home), _tables(tmp_path / "reference")
    assert sorted(fixed) == sorted(expected)
    for table, frame in expected.items():
        assert_frame_equal(fixed[table], frame, check_exact=True)
    assert len(webhook.received) == 1  # successes do not alert

    # The report DAG (asset-scheduled; here a manual run) writes the summary for the newest loaded date.
    report_run = dagbag.dags["kohde_report_refresh"].test()
    assert report_run.state == DagRunState.SUCCESS
    text = (home / "reports" / "2026-08-04.txt").read_text(encoding="utf-8")
    assert "RFM segments as of 2026-08-04" in text and "Goals as of 2026-08-04" in text
