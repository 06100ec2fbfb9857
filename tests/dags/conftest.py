"""A migrated Airflow metadata DB (SQLite, in the throwaway AIRFLOW_HOME of tests/conftest.py) and a DagBag."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.warehouse.conftest import postgres_url  # noqa: F401 - the killed-load test loads into PostgreSQL


@pytest.fixture(scope="session")
def airflow_db():
    """A migrated SQLite metadata database in the throwaway AIRFLOW_HOME, with the warehouse pool."""
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "airflow", "pools", "set", "kohde_warehouse", "1", "DuckDB writer"],
                   check=True, capture_output=True)


@pytest.fixture(scope="session")
def dagbag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"], known_pools={"default_pool", "kohde_warehouse"})
