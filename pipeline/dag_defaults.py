"""What every kohde DAG shares: the warehouse pool, retries with backoff and the failure callback.

Import-free (no Airflow, no pipeline modules at import time) so DAG files stay fast to parse.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

WAREHOUSE_POOL = "kohde_warehouse"  # one slot: DuckDB allows one writer process


def on_failure(context: dict[str, Any]) -> None:
    """Record the failed task in ops_runs and alert the configured webhook (pipeline.orchestration)."""
    from pipeline.orchestration import record_failure

    record_failure(context)


RETRY_DELAY_ENV = "KOHDE_RETRY_DELAY_SECONDS"


def retry_delay(env: dict[str, str] | None = None) -> timedelta:
    """The first retry's base delay: 2 minutes, or ``KOHDE_RETRY_DELAY_SECONDS`` where the DAGs are parsed.

    Airflow waits between one and two times this before the first retry (its per-task jitter),
    doubling for each further try. The fault test in tests/dags sets 1 s.
    """
    text = (os.environ if env is None else env).get(RETRY_DELAY_ENV, "").strip()
    if not text:
        return timedelta(minutes=2)
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 3600:
        raise ValueError(f"{RETRY_DELAY_ENV} must be a number of seconds above 0 and at most 3600, got {text!r}")
    return timedelta(seconds=seconds)


# Transient faults (a locked DuckDB file, a lost connection, a killed task process) retry after 2, 4,
# 8 ... up to 30 minutes; bad data fails at once (pipeline.orchestration raises AirflowFailException for it).
DEFAULT_ARGS: dict[str, Any] = {
    "retries": 2,
    "retry_delay": retry_delay(),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
    "on_failure_callback": on_failure,
}
