"""What every kohde DAG shares: the warehouse pool, retries with backoff and the failure callback.

Import-free (no Airflow, no pipeline modules at import time) so DAG files stay fast to parse.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

WAREHOUSE_POOL = "kohde_warehouse"  # one slot: DuckDB allows one writer process


def on_failure(context: dict[str, Any]) -> None:
    """Record the failed task in ops_runs and alert the configured webhook (pipeline.orchestration)."""
    from pipeline.orchestration import record_failure

    record_failure(context)


# Transient faults (a locked DuckDB file, a lost connection) retry after 2, 4, 8 ... up to 30
# minutes; bad data fails at once (pipeline.orchestration raises AirflowFailException for it).
DEFAULT_ARGS: dict[str, Any] = {
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
    "on_failure_callback": on_failure,
}
