"""Fault test with a real Airflow: the load task is SIGKILLed inside its warehouse transaction, and the retry recovers.

The warehouse is PostgreSQL, not DuckDB: the test must read the warehouse while the killed task's
transaction is open and right after it died, and a DuckDB file is locked by its one writer process
(nobody else can even open it read-only meanwhile).

No hook in kohde's code holds the load still. The test holds a SHARE lock on ``ops_quarantine``, the
last table the load writes, so the task's transaction waits there after it has run the DELETE and
COPY of every other table. The test sees that wait in ``pg_locks``, finds the process on the other end
of that backend's TCP connection among the scheduler's descendants (the Airflow task runner, titled
``airflow worker -- <task instance id>``) and SIGKILLs it. The warehouse URL sets PostgreSQL's
``client_connection_check_interval`` so the orphaned backend notices its dead client while still
waiting for the lock and rolls back at once (without it, it would wait out the load's 60 s lock
timeout). The test then checks that every table is exactly as before the run, that Airflow marked
the try ``up_for_retry``, releases its lock, and waits for the retry to succeed: the warehouse then
equals that of two undisturbed ``kohde run``s of the same days (every table, row for row).
"""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import psutil
import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal

from pipeline.demo import generate_demo
from pipeline.run import run_range
from pipeline.settings import Settings
from pipeline.warehouse import Warehouse
from tests.dags.airflow_cluster import AirflowCluster, airflow_cluster
from tests.warehouse.conftest import fresh_schema

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.postgres]

DAY1 = date(2026, 8, 3)  # loaded by kohde before Airflow starts: the warehouse the killed run must leave alone
DAY2 = DAY1 + timedelta(days=1)  # the Airflow run whose load is killed, then retried
LAST_LOAD = "ops_quarantine"  # run.build_and_load writes it last
DAG, TASK = "kohde_nightly", "transform_and_load"


def _tables(url: str) -> dict[str, pl.DataFrame]:
    """Every warehouse table except ops_runs and ops_gold_state (each run writes its own ids), rows sorted."""
    with Warehouse.connect(url) as warehouse:
        names = [n for n in warehouse.table_names() if n not in ("ops_runs", "ops_gold_state")]
        frames = {n: warehouse.query(f"SELECT * FROM {n}") for n in names}
    return {n: f.sort(f.columns, nulls_last=True) for n, f in frames.items()}


def _assert_same(actual: dict[str, pl.DataFrame], expected: dict[str, pl.DataFrame]) -> None:
    assert sorted(actual) == sorted(expected)
    for table in expected:
        try:
            assert_frame_equal(actual[table], expected[table], check_exact=True)
        except AssertionError as exc:
            raise AssertionError(f"{table}: {exc}") from None


def _ops_runs(url: str) -> list[tuple]:
    with Warehouse.connect(url) as warehouse:
        return warehouse.query("SELECT command, start_date, status, ended_at IS NULL AS open FROM ops_runs "
                               "ORDER BY started_at").rows()


def _blocked_load(monitor: sa.Engine, schema: str, timeout: float, cluster: AirflowCluster) -> tuple[int, int]:
    """Wait until a backend waits for a lock on the last table; its pid and its client's TCP port."""
    deadline = time.monotonic() + timeout
    query = sa.text("SELECT a.pid, a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE NOT l.granted AND l.relation = to_regclass(:table)")
    while True:
        cluster.check_alive()
        with monitor.connect() as conn:
            row = conn.execute(query, {"table": f"{schema}.{LAST_LOAD}"}).first()
        if row is not None:
            return int(row.pid), int(row.client_port)
        if time.monotonic() > deadline:
            raise TimeoutError(f"no load waiting on {LAST_LOAD} after {timeout}s: {cluster.dag_runs(DAG)}")
        time.sleep(0.2)


def _tables_written(monitor: sa.Engine, schema: str, backend: int) -> set[str]:
    """Tables of the schema on which the backend holds ROW EXCLUSIVE: the ones its DELETE/COPY touched."""
    with monitor.connect() as conn:
        return set(conn.execute(sa.text(
            "SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE l.pid = :pid AND l.granted AND l.mode = 'RowExclusiveLock' AND c.relkind = 'r' "
            "AND c.relnamespace = to_regnamespace(:schema)"), {"pid": backend, "schema": schema}).scalars())


def _process_on_port(root: int, port: int) -> psutil.Process:
    """The descendant of ``root`` with a TCP connection from local ``port`` (the warehouse client)."""
    for process in psutil.Process(root).children(recursive=True):
        try:
            if any(c.laddr and c.laddr.port == port for c in process.net_connections(kind="tcp")):
                return process
        except psutil.NoSuchProcess:
            continue
    raise AssertionError(f"no process under the scheduler (pid {root}) owns local port {port}")


def _backend_alive(monitor: sa.Engine, backend: int) -> bool:
    with monitor.connect() as conn:
        return bool(conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                                 {"pid": backend}).scalar())


def _line_of(log: Path, workload: str) -> str:
    """The supervisor's "Workload finished" line of one task instance try in the scheduler's output."""
    return next(line for line in log.read_text(errors="replace").splitlines()
                if "Workload finished" in line and f"workload_id={workload}" in line)


def _wait(condition, timeout: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} after {timeout}s")
        time.sleep(0.2)


def test_load_killed_in_its_transaction_leaves_the_warehouse_and_the_retry_completes(tmp_path: Path, postgres_url: str) -> None:
    began = time.monotonic()

    def phase(name: str) -> None:
        print(f"[{time.monotonic() - began:6.1f}s] {name}", flush=True)

    inbox = tmp_path / "inbox"
    generate_demo(inbox, DAY1, 2, 60, 11)
    with fresh_schema(postgres_url) as airflow_url, fresh_schema(postgres_url) as reference_url:
        schema = sa.make_url(airflow_url).query["options"].removeprefix("-csearch_path=")
        # the orphaned backend checks every 0.5 s whether its client is still there
        options = f"-csearch_path={schema} -cclient_connection_check_interval=500"
        warehouse_url = sa.make_url(airflow_url).update_query_dict({"options": options}).render_as_string(hide_password=False)
        kohde_home = tmp_path / "kohde_airflow"
        settings = Settings.from_env({"KOHDE_HOME": str(kohde_home), "KOHDE_INBOX": str(inbox),
                                      "KOHDE_WAREHOUSE_URL": warehouse_url})
        reference = Settings.from_env({"KOHDE_HOME": str(tmp_path / "kohde_cli"), "KOHDE_INBOX": str(inbox),
                                       "KOHDE_WAREHOUSE_URL": reference_url})
        monitor = sa.create_engine(sa.make_url(postgres_url).set(drivername="postgresql+psycopg"), poolclass=sa.pool.NullPool)
        holder = sa.create_engine(sa.make_url(warehouse_url), poolclass=sa.pool.NullPool).connect()
        airflow_home = tmp_path / "airflow"
        airflow_home.mkdir()
        extra = {"KOHDE_INBOX": str(inbox), "KOHDE_WAREHOUSE_URL": warehouse_url,
                 "KOHDE_RETRY_DELAY_SECONDS": "1",  # the retry 1-2 s after the kill, not 2-4 min
                 "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False"}  # only the backfill's run
        background = ThreadPoolExecutor(1)
        try:
            with airflow_cluster(airflow_home, kohde_home, extra) as cluster:
                migrated = background.submit(cluster.cli, "db", "migrate")
                run_range(settings, DAY1, DAY1, command="run")
                before, runs_before = _tables(warehouse_url), _ops_runs(warehouse_url)
                assert runs_before == [("run", DAY1, "succeeded", False)]
                assert before["mart_segment_summary"]["as_of_date"].unique().to_list() == [DAY1]
                phase("day 1 loaded")
                migrated.result()
                cluster.start("api-server")
                cluster.start("dag-processor")
                cluster.start("scheduler", "--skip-serve-logs")
                # two undisturbed nightly runs to compare with, while Airflow starts
                undisturbed = background.submit(lambda: [run_range(reference, day, day, command="run") for day in (DAY1, DAY2)])
                cluster.cli("pools", "set", "kohde_warehouse", "1", "one loader at a time")
                cluster.wait_for_api(120)
                cluster.wait_for_dags({DAG}, 120)
                phase("airflow up")

                # SHARE conflicts with the load's DELETE (ROW EXCLUSIVE) but lets readers, views and upgrade() through.
                holder.exec_driver_sql(f"LOCK TABLE {LAST_LOAD} IN SHARE MODE")
                cluster.set_paused(DAG, False)
                cluster.create_backfill(DAG, f"{DAY2}T02:00:00+03:00", f"{DAY2}T02:00:00+03:00")
                backend, client_port = _blocked_load(monitor, schema, 240, cluster)
                written = _tables_written(monitor, schema, backend)
                phase(f"load waits on {LAST_LOAD}; its transaction wrote {len(written)} tables")
                [run] = cluster.dag_runs(DAG)
                task_instance = cluster.api(f"/api/v2/dags/{DAG}/dagRuns/{run['dag_run_id']}/taskInstances/{TASK}")
                assert (task_instance["state"], task_instance["try_number"]) == ("running", 1)

                victim = _process_on_port(cluster.processes["scheduler"].pid, client_port)
                title = " ".join(victim.cmdline()).strip()
                assert title == f"airflow worker -- {task_instance['id']}"  # the task runner (the supervisor is its parent)
                os.kill(victim.pid, signal.SIGKILL)
                phase(f"SIGKILLed pid {victim.pid}: {title}")

                _wait(lambda: not _backend_alive(monitor, backend), 30, "the killed task's backend still open")
                phase("its backend rolled back and exited")
                # Nothing of the killed try is visible: every table as before the run. ops_runs holds the
                # try's "running" row, written in its own transaction when the run began and never closed.
                _assert_same(_tables(warehouse_url), before)
                assert _ops_runs(warehouse_url) == [*runs_before, ("airflow", DAY2, "running", True)]
                phase("warehouse as before")
                holder.rollback()  # let the retry through

                [run] = cluster.wait_for_runs(DAG, 1, 240)
                phase("run finished")
                tries = cluster.task_tries(DAG, run["dag_run_id"], TASK)
                assert run["state"] == "success", cluster.diagnostics()
                # Airflow keeps a retried try in its history as "failed"; the supervisor reported it up_for_retry
                assert [(t["try_number"], t["state"]) for t in tries] == [(1, "failed"), (2, "success")]
                assert "final_state=up_for_retry" in _line_of(airflow_home / "scheduler.out", task_instance["id"])
                attempt_1 = airflow_home / "logs" / f"dag_id={DAG}" / f"run_id={run['dag_run_id']}" / f"task_id={TASK}" / "attempt=1.log"
                assert '"signal_name":"SIGKILL"' in attempt_1.read_text().splitlines()[-1]
                loaded = cluster.api(f"/api/v2/dags/{DAG}/dagRuns/{run['dag_run_id']}/taskInstances/{TASK}"
                                     "/xcomEntries/return_value")["value"]
        finally:
            background.shutdown(wait=True)
            holder.close()
            monitor.dispose()
        # the killed try was inside the load: it had replaced every table the load writes but the last
        assert written == set(loaded) - {LAST_LOAD}, (sorted(written), sorted(loaded))

        undisturbed.result()
        after = _tables(warehouse_url)
        assert after["mart_segment_summary"]["as_of_date"].unique().sort().to_list() == [DAY1, DAY2]
        _assert_same(after, _tables(reference_url))
        # the retry closed the killed try's row: it never ended and never will
        assert [(c, d, s) for c, d, s, _ in _ops_runs(warehouse_url)] == [
            ("run", DAY1, "succeeded"), ("airflow", DAY2, "interrupted"), ("airflow", DAY2, "succeeded")]
    phase("done")
