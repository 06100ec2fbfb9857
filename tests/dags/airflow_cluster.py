"""A real Airflow on loopback for tests: scheduler, DAG processor and API server as subprocesses.

Each component runs in its own process group (``start_new_session``) so that stopping it also stops
the executor's workers and the task processes they fork, even when the test fails half-way.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AirflowCluster:
    """A throwaway Airflow installation: its home, environment, components and REST client."""

    def __init__(self, home: Path, kohde_home: Path, extra_env: dict[str, str] | None = None) -> None:
        self.home = home
        # The scheduler forks LocalExecutor workers, which fork the task processes: preload the heavy
        # imports there once (pipeline.orchestration.preload) instead of in every task.
        (home / "config").mkdir(parents=True, exist_ok=True)
        (home / "config" / "airflow_local_settings.py").write_text(
            "import sys\n"
            "if sys.argv[1:2] == ['scheduler']:\n"
            "    from pipeline.orchestration import preload\n"
            "    preload()\n"
        )
        # SQLite allows one writer; five processes share it here. Wait for the lock instead of failing in 5 s.
        (home / "config" / "kohde_sqlite.py").write_text("CONNECT_ARGS = {'timeout': 120}\n")
        self.port = free_port()
        self.processes: dict[str, subprocess.Popen] = {}
        self._token: str | None = None
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "KOHDE_"))}
        env.update({
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "2",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{self.port}",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "3600",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "600",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS": "kohde_sqlite.CONNECT_ARGS",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC": "kohde_sqlite.CONNECT_ARGS",
            "KOHDE_HOME": str(kohde_home),
            "GX_ANALYTICS_ENABLED": "False",
            "PYTHONPATH": f"{REPO}{os.pathsep}{home / 'config'}",
        })
        env.update(extra_env or {})
        self.env = env

    # --- commands -------------------------------------------------------------------------------------

    def cli(self, *args: str, timeout: float = 120) -> str:
        """Run an ``airflow`` CLI command; raise with its output when it fails."""
        done = subprocess.run([sys.executable, "-m", "airflow", *args], env=self.env, capture_output=True,
                              text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def start(self, component: str, *args: str, env: dict[str, str] | None = None) -> None:
        """Start ``airflow <component>`` in its own process group, output to a log file."""
        log = open(self.home / f"{component}.out", "ab")  # noqa: SIM115 - closed with the process
        self.processes[component] = subprocess.Popen(
            [sys.executable, "-m", "airflow", component, *args], env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        log.close()

    def stop(self, component: str, grace: float = 10) -> None:
        """SIGTERM the component's process group, then SIGKILL whatever is left of it."""
        process = self.processes.pop(component, None)
        if process is None:
            return
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(wait)
            except subprocess.TimeoutExpired:
                continue
            # the leader is gone; kill stragglers of its group (workers, task processes)
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            break

    def stop_all(self) -> None:
        for component in list(self.processes):
            self.stop(component)

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"airflow {name} exited with {process.returncode}")

    # --- REST API -------------------------------------------------------------------------------------

    def api(self, path: str, method: str = "GET", body: dict[str, Any] | None = None, **params: Any) -> Any:
        """Call the REST API (``/api/v2/...``) and decode its JSON answer."""
        if self._token is None:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/auth/token", timeout=10) as response:
                self._token = json.loads(response.read())["access_token"]
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}{query}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self._token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def wait_for_api(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v2/monitor/health", timeout=5):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"API server not up after {timeout}s") from None
                time.sleep(1)

    def wait_for_dags(self, dag_ids: set[str], timeout: float) -> None:
        """Wait until the DAG processor has serialized the DAGs into the metadata DB."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            dags = {d["dag_id"] for d in self.api("/api/v2/dags")["dags"]}
            if dag_ids <= dags:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{sorted(dag_ids - dags)} not parsed after {timeout}s; import errors: "
                                   f"{self.api('/api/v2/importErrors')}")
            time.sleep(1)

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self.api(f"/api/v2/dags/{dag_id}", method="PATCH", body={"is_paused": paused})

    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        return self.api(f"/api/v2/dags/{dag_id}/dagRuns", order_by="logical_date", limit=100)["dag_runs"]

    def wait_for_runs(self, dag_id: str, count: int, timeout: float) -> list[dict[str, Any]]:
        """Wait until ``count`` runs of the DAG have finished; return them (any final state)."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            try:
                runs = self.dag_runs(dag_id)
            except OSError:  # a busy API server (SQLite is single-writer): ask again
                time.sleep(2)
                continue
            finished = [r for r in runs if r["state"] in ("success", "failed")]
            if len(finished) >= count or any(r["state"] == "failed" for r in runs):
                return runs
            if time.monotonic() > deadline:
                raise TimeoutError(f"{dag_id}: runs not finished after {timeout}s: "
                                   f"{[(r['dag_run_id'], r['state']) for r in runs]}")
            time.sleep(2)

    def create_backfill(self, dag_id: str, from_date: str, to_date: str) -> str:
        """``airflow backfill create`` (one run at a time), again if SQLite refused the write before anything was kept.

        SQLite answers "database is locked" at once (without waiting for the busy timeout) when a read
        transaction must become a write while another process writes: a deadlock it breaks by failing one
        side. The command's transaction then rolled back, which the API confirms before trying again.
        """
        for attempt in range(4):
            try:
                return self.cli("backfill", "create", "--dag-id", dag_id, "--from-date", from_date,
                                "--to-date", to_date, "--max-active-runs", "1")
            except RuntimeError as exc:
                kept = self.api("/api/v2/backfills", dag_id=dag_id)["total_entries"]
                if "database is locked" not in str(exc) or kept or attempt == 3:
                    raise
                time.sleep(2 + attempt)
        raise AssertionError("unreachable")

    def task_tries(self, dag_id: str, run_id: str, task_id: str) -> list[dict[str, Any]]:
        """Every try of one (unmapped) task instance, oldest first: ``try_number``, ``state`` ..."""
        run = urllib.parse.quote(run_id, safe="")
        tries = self.api(f"/api/v2/dags/{dag_id}/dagRuns/{run}/taskInstances/{task_id}/tries")["task_instances"]
        return sorted(tries, key=lambda t: t["try_number"])

    def diagnostics(self, lines: int = 60) -> str:
        """Tails of the component logs and of every task log, for a failing test's output."""
        parts = []
        for path in sorted(self.home.glob("*.out")) + sorted((self.home / "logs").rglob("*.log")):
            text = [line for line in path.read_text(errors="replace").splitlines() if "great_expectations._docs" not in line]
            parts.append(f"===== {path.relative_to(self.home)} (last {lines} lines)\n" + "\n".join(text[-lines:]))
        return "\n".join(parts)


@contextmanager
def airflow_cluster(home: Path, kohde_home: Path, extra_env: dict[str, str] | None = None) -> Iterator[AirflowCluster]:
    """A migrated Airflow with the warehouse pool; its components are stopped however the block ends."""
    cluster = AirflowCluster(home, kohde_home, extra_env)
    try:
        yield cluster
    except BaseException:
        print(cluster.diagnostics(), file=sys.stderr)
        raise
    finally:
        cluster.stop_all()
